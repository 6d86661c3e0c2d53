"""The pipeline model: a CI file with its local includes, `extends`, `!reference` and
`default:` resolved the way GitLab resolves them, plus the jobs and stages that result.

Problems found while building it (a missing include, an `extends` cycle...) become
findings that the matching rules report.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cifab.diagnostics import Finding, Rule
from cifab.files import Refused, read_limited
from cifab.gitlab import (
    BRIDGE_KEYS,
    DEFAULT_KEYS,
    DEFAULT_STAGES,
    INCLUDE_KINDS,
    LEGACY_GLOBALS,
    MAX_EXTENDS_LEVELS,
    MAX_FILE_BYTES,
    MAX_INCLUDES,
    MAX_PARSED_NODES,
    MAX_REFERENCE_DEPTH,
    YAML_EXTENSION,
    deep_merge,
    is_job_name,
)
from cifab.lint import recorded as rules
from cifab.lint.inputs import interpolate
from cifab.pipeline.patterns import include_wildcard
from cifab.schemaerrors import suggest
from cifab.yamlpos import LoadedFile, Mark, Reference, YamlError, YList, YMap, load_bytes


class Job:
    __slots__ = ("config", "hidden", "mark", "name", "partial", "unread_references")

    def __init__(self, name: str, mark: Mark, config: Any, hidden: bool, partial: bool = False,
                 unread_references: bool = False) -> None:
        self.name = name
        self.mark = mark  # where the job's key is
        self.config = config  # after includes, extends, !reference and default:
        self.hidden = hidden
        # It extends a template from an include cifab cannot read: what it lacks as written
        # (its stage, its needs, its rules) may come from there, so none of it is guessed.
        self.partial = partial
        # A `!reference` in it names a template no file cifab read defines: the key holding
        # it (its rules, say) is not known either.
        self.unread_references = unread_references

    @property
    def uncertain(self) -> bool:
        """Some of it comes from an include cifab cannot read."""
        return self.partial or self.unread_references

    def value_mark(self, key: str) -> Mark:
        if isinstance(self.config, YMap) and key in self.config:
            return self.config.value_mark(key)
        return self.mark

    def key_mark(self, key: str) -> Mark:
        if isinstance(self.config, YMap) and key in self.config:
            return self.config.key_mark(key)
        return self.mark

    def get(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default) if isinstance(self.config, dict) else default


class Pipeline:
    def __init__(self, root: LoadedFile, files: list[LoadedFile], config: YMap, jobs: dict[str, Job],
                 stages: list[str], findings: list[Finding], incomplete: bool = False) -> None:
        self.root = root
        self.files = files
        self.config = config
        self.jobs = jobs
        self.stages = stages
        self.findings = findings
        # True while any include could not be read offline: its jobs, stages and anchors
        # are unknown, so nothing may be called undefined.
        self.incomplete = incomplete

    @property
    def visible_jobs(self) -> list[Job]:
        return [j for j in self.jobs.values() if not j.hidden]

    def texts(self) -> list[tuple[str, str]]:
        return [(f.src, f.text) for f in self.files]

    def stage_of(self, job: Job) -> str | None:
        """The job's stage: GitLab's default `test` when it names none, unknown (None) when
        an unread template may name it."""
        stage = job.get("stage")
        if stage is None:
            return None if job.partial else "test"
        return stage if isinstance(stage, str) else "test"


# ---------------------------------------------------------------- merging


def merge(base: Any, over: Any) -> Any:
    """GitLab's deep merge, keeping every key's position."""
    return deep_merge(base, over, new=_new_map, keep=_copy_marks)


def _new_map(base: Any, over: Any) -> YMap:
    return _copy_map(over if isinstance(over, YMap) else base)


def _copy_map(like: Any) -> YMap:
    if isinstance(like, YMap):
        return YMap(like.src, like.start)
    return YMap("<merged>", ("<merged>", 0, 0))


def _copy_marks(out: YMap, source: Any, key: Any) -> None:
    if isinstance(source, YMap) and key in source.keymarks:
        out.keymarks[key] = source.keymarks[key]
        out.valmarks[key] = source.value_mark(key)


# ---------------------------------------------------------------- includes


class _IncludeState:
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


def _include_entries(value: Any) -> list[tuple[Any, Mark | None]]:
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


def _expand(state: _IncludeState, data: YMap, depth: int) -> YMap:
    """The file's content with its includes merged under it (the file's own keys win)."""
    if "include" not in data:
        return data
    merged: Any = YMap(data.src, data.start)
    for entry, mark in _include_entries(data["include"]):
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
            state.findings.append(rules.INCLUDE_INVALID.finding(
                mark, f"Included file `{unnamed}` does not have YAML extension!",
                "GitLab includes only files whose names end in .yml or .yaml"))
            continue
        kind = _unresolvable_kind(entry)
        if kind is not None:
            state.unresolved.append(kind)
            state.findings.append(rules.INCLUDE_UNRESOLVED.finding(
                mark,
                f"include {kind} cannot be read offline; its jobs and stages are not checked",
                "run `cifab lint --remote` to let GitLab resolve it"))
            continue
        path = _local_path(entry)
        if path is None:
            if isinstance(entry, dict) and not any(k in entry for k in INCLUDE_KINDS):
                text = json.dumps(entry, default=str, separators=(",", ":"))
                state.findings.append(rules.INCLUDE_INVALID.finding(
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
            _copy_marks(without, data, key)
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


def _load_local(state: _IncludeState, path: str, mark: Mark, depth: int, inputs: dict[str, Any] | None = None,
                component: dict[str, str] | None = None) -> list[YMap]:
    if "$" in path:
        # GitLab expands the pipeline's variables in include paths when it creates the
        # pipeline; offline they are unknown, so the file is too.
        state.unresolved.append(f"local {path}")
        state.findings.append(rules.INCLUDE_UNRESOLVED.finding(
            mark, f"include local {path} names a variable, known only when GitLab creates the pipeline; "
                  "its jobs and stages are not checked", "run `cifab lint --remote` to let GitLab resolve it"))
        return []
    if state.root is None:
        state.findings.append(rules.INCLUDE_MISSING.finding(
            mark, f"Local file `{path}` does not have project!",
            hint="lint a file on disk (not stdin) so that local includes can be read"))
        return []
    rel = path.lstrip("/")
    if "\0" in rel:
        state.findings.append(rules.INCLUDE_MISSING.finding(mark, f"Local file `{path!r}` does not exist!"))
        return []
    if "*" in rel:  # GitLab expands `*` and `**` only; `?` and `[` are part of the name
        matches = glob_in(state.root, rel)
        targets = [m for m in matches if YAML_EXTENSION.match(m)]
        if not targets:
            state.findings.append(rules.INCLUDE_MISSING.finding(
                mark, f"Included file `{path}` does not have any match!"))
    else:
        targets = [rel]
    out: list[YMap] = []
    for target in targets:
        state.count += 1
        if state.count > MAX_INCLUDES:
            state.findings.append(rules.INCLUDE_LIMIT.finding(
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
            state.findings.append(rules.INCLUDE_MISSING.finding(
                mark, f"Local file `{path if target == rel else target}` does not exist!",
                f"it {exc}: cifab reads local includes from the repository, as GitLab does"))
            continue
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            shown = path if target == rel else target
            if state.verified:
                state.findings.append(rules.INCLUDE_MISSING.finding(mark, f"Local file `{shown}` does not exist!"))
            else:
                state.unresolved.append(f"local {shown}")
                state.findings.append(rules.INCLUDE_UNRESOLVED.finding(
                    mark,
                    f"include local {shown} was not found under {state.root}, which is not a git "
                    "checkout, so its jobs and stages are not checked",
                    "lint inside the repository, or name its root with --root"))
            continue
        try:
            loaded = load_bytes(raw, target)
        except YamlError as exc:
            state.findings.append(rules.SYNTAX.at(exc.src, exc.line, exc.col,
                                                  f"Included file `{target}` does not have valid YAML syntax! "
                                                  f"{exc.message}"))
            continue
        state.files.append(loaded)
        data = _interpolated(state, loaded, inputs, mark, component, shown=path if target == rel else target)
        if data is None:
            continue
        if isinstance(data, YMap):
            out.append(_expand(state, data, depth + 1))
        elif loaded.data is not None:
            state.findings.append(rules.FORMAT.finding(
                (target, 1, 1), f"Included file `{target}` does not have valid YAML syntax!"))
    return out


def _interpolated(state: _IncludeState, loaded: LoadedFile, args: dict[str, Any] | None, mark: Mark,
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
        state.findings.append(rules.INPUTS.finding(where, prefix + message))
    state.unresolved.append(f"inputs of {shown or loaded.src}")  # nothing cascades from a refused file
    return None


# ---------------------------------------------------------------- extends


class _Extends:
    def __init__(self, config: YMap, findings: list[Finding], incomplete: bool) -> None:
        self.config = config
        self.findings = findings
        self.incomplete = incomplete
        self.done: dict[str, Any] = {}
        self.height: dict[str, int] = {}  # length of the longest extends chain above a job
        self.failed: set[str] = set()
        self.too_deep = False
        self.partial: set[str] = set()  # jobs with an ancestor no file cifab read defines

    def parents(self, job: Any) -> list[str]:
        ext = job.get("extends") if isinstance(job, dict) else None
        if isinstance(ext, str):
            return [ext]
        if isinstance(ext, list):
            return [e for e in ext if isinstance(e, str)]
        return []

    def resolve(self, name: str, chain: tuple[str, ...] = ()) -> Any:
        if name in self.done:
            return self.done[name]
        job = self.config[name]
        parents = self.parents(job)
        if len(chain) > MAX_EXTENDS_LEVELS:
            # GitLab stops at 11 levels; a chain of thousands must not exhaust the stack.
            if not self.too_deep:
                self.too_deep = True
                self.fail(chain[0], rules.EXTENDS_DEEP, f"{chain[0]}: nesting too deep in `extends`")
            return job
        if name in chain:
            top = chain[0]
            self.fail(top, rules.EXTENDS_CIRCULAR, f"{top}: circular dependency detected in `extends`")
            return job
        missing = [p for p in parents if not isinstance(self.config.get(p), dict)]
        if missing and not self.incomplete:
            near = suggest(missing[0], [k for k, v in self.config.items() if isinstance(v, dict)])
            self.fail(name, rules.EXTENDS_UNKNOWN, f"{name}: unknown keys in `extends` ({', '.join(missing)})",
                      f"did you mean `{near}`?" if near else None)
        if missing and self.incomplete:
            self.partial.add(name)
        base: Any = None
        height = 0
        for parent in parents:
            if parent in missing:
                continue
            resolved = self.resolve(parent, (*chain, name))
            if parent in self.partial:
                self.partial.add(name)
            height = max(height, self.height.get(parent, 0) + 1)
            base = resolved if base is None else merge(base, resolved)
        self.height[name] = height
        if height > MAX_EXTENDS_LEVELS and not self.too_deep:
            self.too_deep = True  # GitLab stops at the first job that nests too deep
            self.fail(name, rules.EXTENDS_DEEP, f"{name}: nesting too deep in `extends`")
        result = job if base is None else merge(base, job)
        self.done[name] = result
        return result

    def fail(self, name: str, rule: Rule, message: str, hint: str | None = None) -> None:
        if name in self.failed:
            return
        self.failed.add(name)
        job = self.config.get(name)
        mark = job.value_mark("extends") if isinstance(job, YMap) else self.config.key_mark(name)
        self.findings.append(rule.finding(mark, message, hint))


# ---------------------------------------------------------------- !reference


def _format_reference(ref: list[Any]) -> str:
    return "!reference [" + ", ".join(json.dumps(str(p)) for p in ref) + "]"


class _References:
    """Resolves every `!reference` once: a key's value is memoised with its expanded size and
    its height (the longest chain of references below it), so eight references per level
    over ten levels cost eighty lookups, not eight to the tenth, and a reference reached
    again from deeper down is still measured against the depth limit. The expanded size is
    what later rules walk, so it is bounded like an alias bomb."""

    def __init__(self, config: YMap, findings: list[Finding], incomplete: bool) -> None:
        self.config = config
        self.findings = findings
        self.incomplete = incomplete
        self.reported: set[tuple[str, ...]] = set()
        self.memo: dict[tuple[str, ...], tuple[Any, int, int]] = {}
        self.too_big = False
        # References an unread include may define, counted so that the jobs holding them
        # (directly or through another reference) are known to be partial.
        self.misses = 0
        self.missed_keys: set[tuple[str, ...]] = set()

    def resolve(self, value: Any) -> Any:
        return self.resolve_value(value, ())[0]

    def resolve_config(self, config: YMap) -> tuple[YMap, set[str]]:
        """The configuration with its references replaced, and the top-level keys holding a
        reference that no file cifab read defines."""
        out = YMap(config.src, config.start)
        partial: set[str] = set()
        for key, value in config.items():
            before = self.misses
            out[key] = self.resolve_value(value, ())[0]
            _copy_marks(out, config, key)
            if self.misses != before:
                partial.add(key)
        return out, partial

    def resolve_value(self, value: Any, chain: tuple[tuple[str, ...], ...]) -> tuple[Any, int, int]:
        """The value with its references replaced, its size in nodes once expanded, and the
        height of the references below it."""
        if isinstance(value, Reference):
            return self.follow(value, chain)
        if isinstance(value, YMap):
            size, height = 1, 0
            changed = {}
            for k, v in value.items():
                changed[k], n, h = self.resolve_value(v, chain)
                size, height = size + n, max(height, h)
            if all(changed[k] is value[k] for k in value):
                return value, size, height
            out = YMap(value.src, value.start)
            for k in value:
                out[k] = changed[k]
                _copy_marks(out, value, k)
            return out, size, height
        if isinstance(value, YList):
            size, height = 1, 0
            items = []
            for v in value:
                item, n, h = self.resolve_value(v, chain)
                items.append(item)
                size, height = size + n, max(height, h)
            if all(a is b for a, b in zip(items, value, strict=True)):
                return value, size, height
            out_list = YList(value.src, value.start)
            out_list.extend(items)
            out_list.marks = list(value.marks)
            return out_list, size, height
        return value, 1, 0

    def follow(self, ref: Reference, chain: tuple[tuple[str, ...], ...]) -> tuple[Any, int, int]:
        key = tuple(str(p) for p in ref)
        mark = ref.start
        empty = YList(ref.src, ref.start), 1, 0
        if not key:
            self.report(key, mark, rules.REFERENCE_MISSING, "!reference [] names no job or key")
            return empty
        if key in chain:
            self.report(key, mark, rules.REFERENCE_CIRCULAR, f"{_format_reference(ref)} is part of a circular chain")
            return empty
        hit = self.memo.get(key)
        if hit is None:
            target: Any = self.config
            for part in key:
                if isinstance(target, dict) and part in target:
                    target = target[part]
                else:
                    if not self.incomplete:
                        self.report(key, mark, rules.REFERENCE_MISSING, f"{_format_reference(ref)} could not be found")
                    self.misses += 1
                    return empty
            before = self.misses
            value, size, height = self.resolve_value(target, (*chain, key))
            hit = self.memo[key] = (value, size, height + 1)
            if self.misses != before:
                self.missed_keys.add(key)
        elif key in self.missed_keys:
            self.misses += 1
        if len(chain) + hit[2] > MAX_REFERENCE_DEPTH:
            self.report(key, mark, rules.REFERENCE_CIRCULAR,
                        f"{_format_reference(ref)} is nested more than {MAX_REFERENCE_DEPTH} levels deep")
            return empty
        if hit[1] > MAX_PARSED_NODES:
            if not self.too_big:
                self.too_big = True
                self.findings.append(rules.SYNTAX.finding(
                    mark, f"The parsed YAML is too big: {_format_reference(ref)} expands to more than "
                    f"{MAX_PARSED_NODES:,} values"))
            return empty
        return hit

    def report(self, key: tuple[str, ...], mark: Mark, rule: Rule, message: str) -> None:
        if key not in self.reported:
            self.reported.add(key)
            self.findings.append(rule.finding(mark, message))


# ---------------------------------------------------------------- default: and stages


def _inherits_default(job: Any, key: str) -> bool:
    inherit = job.get("inherit") if isinstance(job, dict) else None
    if not isinstance(inherit, dict) or "default" not in inherit:
        return True
    setting = inherit["default"]
    if isinstance(setting, bool):
        return setting
    return isinstance(setting, list) and key in setting


def _apply_default(job: Any, defaults: dict[str, Any]) -> Any:
    if not isinstance(job, YMap) or not defaults:
        return job
    bridge = "trigger" in job and "script" not in job and "run" not in job
    missing = [k for k in DEFAULT_KEYS if k in defaults and k not in job and _inherits_default(job, k)
               and (not bridge or k in BRIDGE_KEYS)]
    if not missing:
        return job
    out = YMap(job.src, job.start)
    for k, v in job.items():
        out[k] = v
        _copy_marks(out, job, k)
    for k in missing:
        out[k] = defaults[k]
    return out


def flat_rules(value: Any) -> list[Any]:
    """A `rules:` list as GitLab reads it: Entry::Rules#value is `[super].flatten`, so the
    lists that `!reference [.template, rules]` puts inside it are spliced in place. A
    reference left unresolved stays one item."""
    if not isinstance(value, list):
        return []
    return [r for item in value
            for r in (flat_rules(item) if isinstance(item, list) and not isinstance(item, Reference) else [item])]


def rule_mark(rule: Any, fallback: Mark) -> Mark:
    """Where a rule is written: its own mapping's start, wherever a reference brought it from."""
    return rule.start if isinstance(rule, YMap) else fallback


def flatten_stages(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [s for item in value for s in flatten_stages(item)]
    return [value]


def _stages(config: YMap) -> list[str]:
    raw = config.get("stages", config.get("types"))
    declared = [s for s in flatten_stages(raw) if isinstance(s, str)] if raw is not None else list(
        DEFAULT_STAGES)
    middle = [s for s in dict.fromkeys(declared) if s not in (".pre", ".post")]
    return [".pre", *middle, ".post"]


# ---------------------------------------------------------------- build


def build_pipeline(loaded: LoadedFile, root: Path | None, root_verified: bool = True) -> Pipeline:
    files = [loaded]
    findings: list[Finding] = []
    data = loaded.data
    if not isinstance(data, YMap):
        empty = YMap(loaded.src, (loaded.src, 1, 1))
        return Pipeline(loaded, files, empty, {}, _stages(empty), findings)
    state = _IncludeState(root, root_verified, files, findings)
    interpolated = _interpolated(state, loaded, {}, (loaded.src, 1, 1)) if loaded.header is not None else data
    if not isinstance(interpolated, YMap):
        empty = YMap(loaded.src, (loaded.src, 1, 1))
        return Pipeline(loaded, files, empty, {}, _stages(empty), findings, incomplete=True)
    config = _expand(state, interpolated, 0)
    incomplete = bool(state.unresolved)
    job_names = [k for k in config if is_job_name(k)]
    is_job = set(job_names)
    extender = _Extends(config, findings, incomplete)
    extended = YMap(config.src, config.start)
    for key, value in config.items():
        extended[key] = extender.resolve(key) if key in is_job and isinstance(value, dict) else value
        _copy_marks(extended, config, key)
    # Walking every value for tags costs a tenth of a second on a large file: skip it
    # when no file has one.
    unread: set[str] = set()
    if any(f.has_references for f in files):
        resolved, unread = _References(extended, findings, incomplete).resolve_config(extended)
    else:
        resolved = extended
    defaults: dict[str, Any] = {k: resolved[k] for k in LEGACY_GLOBALS if k in resolved}
    if isinstance(resolved.get("default"), dict):
        defaults.update(resolved["default"])
    jobs = {}
    for name in job_names:
        value = resolved[name]
        hidden = name.startswith(".")
        jobs[name] = Job(name, resolved.key_mark(name),
                         value if hidden else _apply_default(value, defaults), hidden, name in extender.partial,
                         name in unread)
    return Pipeline(loaded, files, resolved, jobs, _stages(resolved), findings, incomplete)
