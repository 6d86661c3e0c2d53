"""The project's pre-commit hooks (.pre-commit-config.yaml): each hook's version, arguments,
file scope and extra dependencies, as pre-commit itself reads them
(https://pre-commit.com/#pre-commit-configyaml---hooks).

A hook's `files` and `exclude` are Python regexes matched against each path with `search`.
Jobs pass paths to their tools, so the common shapes of those regexes (a folder, a few
folders, a verbose `(?x)` list) become paths and exclusions; any other shape is reported
as one cifab cannot follow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cifab.declared.yamlfile import load, mapping, strings

CONFIG = ".pre-commit-config.yaml"


@dataclass(frozen=True)
class Hook:
    id: str
    repo: str
    rev: str  # as written, a leading v dropped
    args: tuple[str, ...]
    files: str  # the regex pre-commit selects files with ("" selects all)
    exclude: tuple[str, ...]  # the regexes it leaves files out with: the config's, then the hook's
    additional_dependencies: tuple[str, ...]

    @property
    def source(self) -> str:
        return f"{CONFIG}, hook {self.id}" + (f" {self.rev}" if self.rev else "")


def hooks(repo: Path) -> list[Hook]:
    """Every hook of the config, in its order; none when there is no config."""
    config = mapping(load(repo / CONFIG))
    top_files = str(config.get("files") or "")
    top_exclude = str(config.get("exclude") or "")
    out: list[Hook] = []
    for entry in config.get("repos") or [] if isinstance(config.get("repos"), list) else []:
        entry = mapping(entry)
        rev = str(entry.get("rev") or "").removeprefix("v")
        for hook in entry.get("hooks") or [] if isinstance(entry.get("hooks"), list) else []:
            hook = mapping(hook)
            if not isinstance(hook.get("id"), str):
                continue
            files = str(hook.get("files") or "")
            exclude = tuple(p for p in (top_exclude, str(hook.get("exclude") or "")) if p)
            # Both must select a file; the hook's own scope is the narrower one in practice.
            out.append(Hook(hook["id"], str(entry.get("repo") or ""), rev, tuple(strings(hook.get("args"))),
                            files or top_files, exclude, tuple(strings(hook.get("additional_dependencies")))))
    return out


def find(found: list[Hook], *ids: str) -> Hook | None:
    """The first hook with one of these ids."""
    return next((h for h in found if h.id in ids), None)


# One alternative of a path regex: a literal path (escaped dots allowed), then what may follow.
_LITERAL = r"(?:[\w.-]|\\[.\-/])+(?:/(?:[\w.-]|\\[.\-/])+)*"
_ALTERNATIVE = re.compile(rf"^(?P<path>{_LITERAL})?(?P<rest>/?(?:\.\*|\.\+)?(?:\\\.pyi?)?\$?|/)$")


def _alternatives(regex: str) -> list[str] | None:
    """The top-level alternatives of `^(a|b)`, `^a/`, `(?x)^(\\n a/.*|\\n b\\.py\\n)$`..."""
    text = regex.strip()
    if text.startswith("(?x)"):
        text = re.sub(r"\s+|#[^\n]*", "", text[4:])
    text = text.removeprefix("^")
    if text.endswith("$") and not text.endswith("\\$"):
        text = text[:-1]
    while text.startswith("(") and _closing(text) == len(text) - 1:
        text = text[3:-1] if text.startswith("(?:") else text[1:-1]
    suffix = ""
    if text.startswith("(") and not text.startswith("(?!") and 0 < _closing(text) < len(text) - 1:
        # `(src|tests)/`: the group's alternatives, each with what follows it
        end = _closing(text)
        text, suffix = text[3:end] if text.startswith("(?:") else text[1:end], text[end + 1:]
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p + suffix for p in parts] if all(parts) else None


def _closing(text: str) -> int:
    depth = 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0:
            return i
    return -1


def excluded(hook: Hook) -> list[str] | None:
    """The paths every exclude regex of the hook names; None when one is not paths."""
    out: list[str] = []
    for regex in hook.exclude:
        found = paths(regex)
        if found is None:
            return None
        out += [p for p in found if p not in out]
    return out


def paths(regex: str) -> list[str] | None:
    """The paths a `files` or `exclude` regex selects, when it names folders or files
    (`^src/`, `^(src|tests)/`, `(?x)^(docs/.*|setup\\.py)$`); None for any other shape."""
    if not regex.strip():
        return []
    if not regex.lstrip().startswith(("^", "(?x)", "(")):
        return None  # search() finds a match anywhere: `tests/` also matches `a/tests/x`
    found = []
    for part in _alternatives(regex) or []:
        match = _ALTERNATIVE.match(part.replace("\\/", "/"))
        if not match or not match.group("path"):
            return None
        found.append(re.sub(r"\\(.)", r"\1", match.group("path")))
    return found or None
