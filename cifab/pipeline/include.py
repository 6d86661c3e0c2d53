"""`include:`, read as GitLab reads it offline: local files (wildcards expanded as GitLab
expands them), this project's own components, each file's `spec:inputs` interpolated before
it is merged under the file that includes it. Remote, project, template and component
includes of other projects cannot be read here: the pipeline is then incomplete, and nothing
it lacks is called missing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cifab.diagnostics import Finding, Mark, Rule, Severity
from cifab.files import Refused, read_limited
from cifab.gitlab import INCLUDE_KINDS, MAX_FILE_BYTES, MAX_INCLUDES, YAML_EXTENSION
from cifab.pipeline.inputs import INPUTS, interpolate
from cifab.pipeline.known_templates import OUTLINE_SOURCE, outline
from cifab.pipeline.merge import copy_marks, merge
from cifab.pipeline.patterns import include_wildcard
from cifab.pipeline.yamlpos import SYNTAX, LoadedFile, YamlError, YList, YMap, load_bytes


class IncludeState:
    def __init__(self, root: Path | None, verified: bool, files: list[LoadedFile],
                 findings: list[Finding]) -> None:
        self.root = root
        # True when root is known to be the repository root (a git checkout, or --root):
        # only then can a missing local include be called missing.
        self.verified = verified
        self.files = files
        self.findings = findings
        self.seen: set[str] = set()
        self.count = 0
        self.unresolved: list[str] = []
        # Included files whose content is not a mapping: the configuration reports them
        # (config-format), whose rule lives with the model.
        self.not_mappings: list[str] = []
        # Each outline of a GitLab template read in its place (known_templates), by its source
        # name, and the include entry that named it: what it makes wrong is reported there.
        self.outlines: dict[str, Mark] = {}


def include_entries(value: Any) -> list[tuple[Any, Mark | None]]:
    """The entries of an `include:` value, each with where it is written when known."""
    if isinstance(value, YList):
        return [(v, value.item_mark(i)) for i, v in enumerate(value)]
    if isinstance(value, list):
        return [(v, None) for v in value]
    return [(value, None)]


def _local_path(entry: Any) -> str | None:
    if isinstance(entry, str):
        return None if entry.startswith(("http://", "https://")) else entry
    if isinstance(entry, dict) and isinstance(entry.get("local"), str):
        return str(entry["local"])
    return None


def _without_yaml_extension(entry: Any) -> str | None:
    """The first file an include names whose name GitLab refuses (validate_location!);
    components are named otherwise, and a name with a variable is known only once GitLab
    has expanded it."""
    if isinstance(entry, str):
        names: list[Any] = [entry]
    elif isinstance(entry, dict) and "component" not in entry:
        names = [entry.get(k) for k in ("local", "remote", "template")]
        files = entry.get("file") if "project" in entry else None
        names += files if isinstance(files, list) else [files]
    else:
        return None
    for name in names:
        if isinstance(name, str) and "$" not in name and not YAML_EXTENSION.match(name):
            return name
    return None


def _unresolvable_kind(entry: Any) -> str | None:
    if isinstance(entry, str) and entry.startswith(("http://", "https://")):
        return f"remote {entry}"
    if isinstance(entry, dict):
        for kind in ("remote", "project", "template", "component"):
            if kind in entry:
                return f"{kind} {entry[kind]}"
    return None


def expand(state: IncludeState, data: YMap, depth: int) -> YMap:
    """The file's content with its includes merged under it (the file's own keys win)."""
    if "include" not in data:
        return data
    merged: Any = YMap(data.src, data.start)
    for entry, mark in include_entries(data["include"]):
        mark = mark or data.value_mark("include")
        own = own_component(entry) if state.root is not None else None
        if own is not None:
            found = _own_component_file(state.root, own[0]) if state.root is not None else None
            if found is not None:
                component = {"name": own[0], "reference": own[1], "version": own[1], "sha": own[1]}
                for content in _load_local(state, found, mark, depth, _inputs_of(entry), component):
                    merged = merge(merged, content)
                continue
        unnamed = _without_yaml_extension(entry)
        if unnamed is not None:
            state.findings.append(INCLUDE_INVALID.finding(
                mark, f"Included file `{unnamed}` does not have YAML extension!",
                "GitLab includes only files whose names end in .yml or .yaml"))
            continue
        known = outline(entry)
        if known is not None:
            # GitLab's security templates: their outline stands in for the text (known_templates).
            loaded = load_bytes(known[1].encode(), OUTLINE_SOURCE.format(known[0]))
            state.files.append(loaded)
            state.outlines.setdefault(loaded.src, mark)
            if isinstance(loaded.data, YMap):
                merged = merge(merged, expand(state, loaded.data, depth + 1))
            continue
        kind = _unresolvable_kind(entry)
        if kind is not None:
            state.unresolved.append(kind)
            state.findings.append(INCLUDE_UNRESOLVED.finding(
                mark,
                f"include {kind} cannot be read offline; its jobs and stages are not checked",
                "run `cifab lint --remote` to let GitLab resolve it"))
            continue
        path = _local_path(entry)
        if path is None:
            if isinstance(entry, dict) and not any(k in entry for k in INCLUDE_KINDS):
                text = json.dumps(entry, default=str, separators=(",", ":"))
                state.findings.append(INCLUDE_INVALID.finding(
                    mark,
                    f"Include `{text}` does not have a valid subkey for include. Valid subkeys are: "
                    + ", ".join(f"`{k}`" for k in INCLUDE_KINDS)))
            continue  # other malformed entries: the schema rule reports them
        for content in _load_local(state, path, mark, depth, _inputs_of(entry)):
            merged = merge(merged, content)
    without = YMap(data.src, data.start)
    for key, value in data.items():
        if key != "include":
            without[key] = value
            copy_marks(without, data, key)
    result: YMap = merge(merged, without)
    return result


# This project's own components: `$CI_SERVER_FQDN/$CI_PROJECT_PATH/NAME@VERSION` (or
# $CI_SERVER_HOST, with or without braces) names templates/NAME.yml or
# templates/NAME/template.yml of this repository, which can be read offline.
_OWN_COMPONENT = re.compile(
    r"^\$\{?CI_SERVER_(?:FQDN|HOST)\}?/\$\{?CI_PROJECT_PATH\}?/(?P<name>[\w.-]+)@(?P<version>\S+)$")


def own_component(entry: Any) -> tuple[str, str] | None:
    """(name, version) of an include of one of this project's own components."""
    target = entry.get("component") if isinstance(entry, dict) else None
    found = _OWN_COMPONENT.match(target) if isinstance(target, str) else None
    return (found["name"], found["version"]) if found else None


def _own_component_file(root: Path, name: str) -> str | None:
    for candidate in (f"templates/{name}.yml", f"templates/{name}/template.yml"):
        if (root / candidate).is_file():
            return candidate
    return None


def _inputs_of(entry: Any) -> dict[str, Any]:
    inputs = entry.get("inputs") if isinstance(entry, dict) else None
    return inputs if isinstance(inputs, dict) else {}


MAX_GLOB_ENTRIES = 100_000  # folders and files a wildcard include may visit


def glob_in(root: Path, pattern: str) -> list[str]:
    """Repository paths (relative, with /) that a wildcard include matches, as GitLab
    matches them (cifab.pipeline.patterns.include_wildcard). The walk never follows a
    symlinked folder (a loop would never end, and it may leave the repository), and visits
    a bounded number of entries."""
    import os

    regex = include_wildcard(pattern)
    found: list[str] = []
    seen = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        seen += len(dirs) + len(files)
        if seen > MAX_GLOB_ENTRIES:
            break
        base = Path(folder).relative_to(root).as_posix()
        for name in files:
            rel = name if base == "." else f"{base}/{name}"
            if regex.fullmatch(rel):
                found.append(rel)
    return sorted(found)


def _load_local(state: IncludeState, path: str, mark: Mark, depth: int, inputs: dict[str, Any] | None = None,
                component: dict[str, str] | None = None) -> list[YMap]:
    if "$" in path:
        # GitLab expands the pipeline's variables in include paths when it creates the
        # pipeline; offline they are unknown, so the file is too.
        state.unresolved.append(f"local {path}")
        state.findings.append(INCLUDE_UNRESOLVED.finding(
            mark, f"include local {path} names a variable, known only when GitLab creates the pipeline; "
                  "its jobs and stages are not checked", "run `cifab lint --remote` to let GitLab resolve it"))
        return []
    if state.root is None:
        state.findings.append(INCLUDE_MISSING.finding(
            mark, f"Local file `{path}` does not have project!",
            hint="lint a file on disk (not stdin) so that local includes can be read"))
        return []
    rel = path.lstrip("/")
    if "\0" in rel:
        state.findings.append(INCLUDE_MISSING.finding(mark, f"Local file `{path!r}` does not exist!"))
        return []
    if "*" in rel:  # GitLab expands `*` and `**` only; `?` and `[` are part of the name
        matches = glob_in(state.root, rel)
        targets = [m for m in matches if YAML_EXTENSION.match(m)]
        if not targets:
            state.findings.append(INCLUDE_MISSING.finding(
                mark, f"Included file `{path}` does not have any match!"))
    else:
        targets = [rel]
    out: list[YMap] = []
    for target in targets:
        state.count += 1
        if state.count > MAX_INCLUDES:
            state.findings.append(INCLUDE_LIMIT.finding(
                mark, f"Maximum of {MAX_INCLUDES} nested includes are allowed!"))
            return out
        full = state.root / target
        # The same file with other inputs is other content (a component used twice).
        key = str(full.resolve()) + (json.dumps(inputs, sort_keys=True, default=str) if inputs else "")
        if key in state.seen:
            continue  # included twice: GitLab merges the same content again, a no-op
        state.seen.add(key)
        try:
            raw = read_limited(full, MAX_FILE_BYTES, inside=state.root)
        except Refused as exc:
            state.findings.append(INCLUDE_MISSING.finding(
                mark, f"Local file `{path if target == rel else target}` does not exist!",
                f"it {exc}: cifab reads local includes from the repository, as GitLab does"))
            continue
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            shown = path if target == rel else target
            if state.verified:
                state.findings.append(INCLUDE_MISSING.finding(mark, f"Local file `{shown}` does not exist!"))
            else:
                state.unresolved.append(f"local {shown}")
                state.findings.append(INCLUDE_UNRESOLVED.finding(
                    mark,
                    f"include local {shown} was not found under {state.root}, which is not a git "
                    "checkout, so its jobs and stages are not checked",
                    "lint inside the repository, or name its root with --root"))
            continue
        try:
            loaded = load_bytes(raw, target)
        except YamlError as exc:
            state.findings.append(SYNTAX.at(exc.src, exc.line, exc.col,
                                                  f"Included file `{target}` does not have valid YAML syntax! "
                                                  f"{exc.message}"))
            continue
        state.files.append(loaded)
        data = interpolated(state, loaded, inputs, mark, component, shown=path if target == rel else target)
        if data is None:
            continue
        if isinstance(data, YMap):
            out.append(expand(state, data, depth + 1))
        elif loaded.data is not None:
            state.not_mappings.append(target)
    return out


def interpolated(state: IncludeState, loaded: LoadedFile, args: dict[str, Any] | None, mark: Mark,
                  component: dict[str, str] | None = None, shown: str | None = None) -> Any:
    """The file's content after its spec:inputs are interpolated; None when GitLab would
    refuse the file, whose errors are then reported. Included files' errors carry their
    location first, as GitLab words them."""
    outcome = interpolate(loaded.data, loaded.header, args, mark, component)
    if not outcome.errors:
        loaded.data = outcome.data  # what GitLab validates is the interpolated content
        return outcome.data
    loaded.refused = True
    prefix = f"`{shown}`: " if shown is not None else ""
    for message, where in outcome.errors[:3]:  # GitLab surfaces at most three
        state.findings.append(INPUTS.finding(where, prefix + message))
    state.unresolved.append(f"inputs of {shown or loaded.src}")  # nothing cascades from a refused file
    return None


INCLUDE_MISSING = Rule(
    "include-missing", Severity.ERROR, "local includes must exist",
    "A `local` include (or a bare path) is read from the repository. A path that does not "
    "exist, or a glob that matches nothing, fails the pipeline.",
    bad="include: ci/missing.yml\n\ntest:\n  script: make test\n",
    good="test:\n  script: make test\n",
)

INCLUDE_INVALID = Rule(
    "include-invalid", Severity.ERROR,
    "each include names one kind: local, project, remote, template or component",
    "An include entry that is a mapping must say what it includes with one of GitLab's subkeys.",
    bad="include:\n  - file: ci/build.yml\n\ntest:\n  script: make test\n",
    good="include:\n  - local: ci/build.yml\n\ntest:\n  script: make test\n",
)

INCLUDE_LIMIT = Rule(
    "include-limit", Severity.ERROR, f"at most {MAX_INCLUDES} includes",
    f"GitLab reads at most {MAX_INCLUDES} included files per pipeline, nested includes included.",
    bad="include:\n" + "".join(f"  - ci/part-{i}.yml\n" for i in range(151)) + "\ntest:\n  script: make test\n",
    good="include:\n  - ci/part-0.yml\n\ntest:\n  script: make test\n",
)

INCLUDE_UNRESOLVED = Rule(
    "include-unresolved", Severity.INFO, "remote, project, template and component includes are not read offline",
    "cifab cannot fetch includes from other projects, URLs, GitLab's templates or the CI/CD "
    "catalog. It says so, and while any are unread it does not claim that a job, stage or "
    "`extends` target is missing. `cifab lint --remote` asks GitLab, which reads them. GitLab's "
    "security templates (Secret Detection, SAST, Container Scanning), which cifab's pipelines "
    "include, are read from cifab's outline of their jobs and stages instead.",
    bad="include:\n  - template: Jobs/Code-Quality.gitlab-ci.yml\n\ntest:\n  script: make test\n",
    good="test:\n  script: make test\n",
)
