"""YAML loading that remembers where every key and value came from.

We compose with libyaml (a node tree whose nodes carry marks) and walk that tree into
plain dicts and lists that also carry their positions. This is about twice as fast as a
full PyYAML load, and the result validates as ordinary JSON data.

The walk applies GitLab's (Psych's) YAML semantics where they differ from PyYAML's:
several `<<` merge keys in one mapping, the last duplicate key wins, the `!reference`
tag, and the size and depth limits GitLab enforces before it builds anything.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cifab.diagnostics import Mark, Rule, Severity
from cifab.gitlab import MAX_FILE_BYTES, MAX_PARSED_NODES, MAX_YAML_DEPTH

MAX_BYTES = MAX_FILE_BYTES
MAX_DEPTH = MAX_YAML_DEPTH
# Expanded node count after aliases. This also bounds what schema validation holds: each
# failing node costs about a kilobyte of error context there.
MAX_NODES = MAX_PARSED_NODES

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"
REFERENCE_TAG = "!reference"

try:  # the C composer is several times faster; fall back where libyaml is missing
    _Loader: Any = yaml.CBaseLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.BaseLoader


# Positions are kept as libyaml's own mark objects (line and column from 0) until someone
# asks: a large file has a hundred thousand of them and few are ever read. Marks copied from
# elsewhere, or made up, are Mark tuples already.
_RawMark = Any


def _position(src: str, mark: _RawMark) -> Mark:
    return mark if mark.__class__ is tuple else (src, mark.line + 1, mark.column + 1)


class YMap(dict[Any, Any]):
    """A mapping whose keys and values know their source positions."""

    __slots__ = ("_start", "keymarks", "src", "valmarks")

    def __init__(self, src: str, start: Mark | _RawMark) -> None:
        super().__init__()
        self.src = src
        self._start = start
        self.keymarks: dict[Any, Mark | _RawMark] = {}
        self.valmarks: dict[Any, Mark | _RawMark] = {}

    @property
    def start(self) -> Mark:
        return _position(self.src, self._start)

    def key_mark(self, key: Any) -> Mark:
        mark = self.keymarks.get(key)
        return self.start if mark is None else _position(self.src, mark)

    def value_mark(self, key: Any) -> Mark:
        mark = self.valmarks.get(key)
        return self.key_mark(key) if mark is None else _position(self.src, mark)


class YList(list[Any]):
    """A sequence whose items know their source positions."""

    __slots__ = ("_start", "marks", "src")

    def __init__(self, src: str, start: Mark | _RawMark) -> None:
        super().__init__()
        self.src = src
        self._start = start
        self.marks: list[Mark | _RawMark] = []

    @property
    def start(self) -> Mark:
        return _position(self.src, self._start)

    def item_mark(self, index: int) -> Mark:
        return _position(self.src, self.marks[index]) if 0 <= index < len(self.marks) else self.start


class Reference(YList):
    """A `!reference [job, key, ...]` tag, resolved later by the pipeline model."""

    __slots__ = ()


class YamlError(Exception):
    """A problem that stops loading, with the position where it was found."""

    def __init__(self, message: str, src: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.src = src
        self.line = line
        self.col = col

    def __str__(self) -> str:
        return f"{self.src}:{self.line}:{self.col}: {self.message}"


class LoadedFile:
    """A parsed YAML file: the content document and, for components, its `spec:` header."""

    __slots__ = ("data", "duplicates", "has_references", "header", "refused", "src", "text")

    def __init__(self, src: str, text: str, data: Any, header: Any = None,
                 duplicates: list[tuple[str, Mark]] | None = None, has_references: bool = False) -> None:
        self.src = src
        self.text = text
        self.data = data
        self.header = header
        # Keys given twice in one mapping (the last one wins, as in GitLab): (key, where).
        self.duplicates = duplicates or []
        self.has_references = has_references
        # True when GitLab would refuse the file before reading its content (its inputs do
        # not interpolate): rules leave its content alone, whose errors would only cascade.
        self.refused = False


def _mark(src: str, node: Node) -> Mark:
    m = node.start_mark
    return (src, m.line + 1, m.column + 1)


def decode(raw: bytes, src: str) -> str:
    """Bytes to text, refusing binary and non-UTF-8 input with a precise message."""
    if b"\0" in raw[:8192]:
        raise YamlError("the file looks binary (it contains NUL bytes), not YAML", src)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise YamlError(f"the file is not valid UTF-8 (byte 0x{bad})", src, line, col) from None
    return text.removeprefix("\ufeff")


class _FastLoader(_Loader):  # type: ignore[misc]
    """libyaml's parser and composer without PyYAML's per-scalar Python resolver: the
    walker resolves plain scalars itself, only where their first character can start
    something other than a string."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        return _DEFAULT_TAGS[kind]


_DEFAULT_TAGS = {ScalarNode: STR_TAG, SequenceNode: "tag:yaml.org,2002:seq",
                 MappingNode: "tag:yaml.org,2002:map"}
# Psych and PyYAML both implement YAML 1.1's implicit types (true, 1.5, ~, <<...).
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers


class _Walker:
    """Turns composed nodes into YMap/YList trees, enforcing GitLab's limits."""

    def __init__(self, src: str, max_nodes: int, max_depth: int) -> None:
        self.src = src
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.count = 0
        # Aliased nodes are converted once and shared; their expanded size still counts.
        self.memo: dict[int, tuple[Any, int]] = {}
        self.ctor = SafeConstructor()
        self.duplicates: list[tuple[str, Mark]] = []
        self.references = False

    def error(self, message: str, node: Node) -> YamlError:
        _, line, col = _mark(self.src, node)
        return YamlError(message, self.src, line, col)

    def too_big(self, node: Node, why: str) -> YamlError:
        return self.error(f"The parsed YAML is too big ({why})", node)

    def walk(self, node: Node, depth: int = 0) -> Any:
        if node.__class__ is ScalarNode:
            self.count += 1
            return self.scalar(node)
        if depth > self.max_depth:
            raise self.too_big(node, f"nesting is deeper than {self.max_depth} levels")
        key = id(node)
        hit = self.memo.get(key)
        if hit is not None:
            value, size = hit
            self.count += size
            if self.count > self.max_nodes:
                raise self.too_big(node, f"more than {self.max_nodes:,} nodes after expanding aliases")
            return value
        before = self.count
        self.count += 1
        if isinstance(node, SequenceNode):
            value = self.sequence(node, depth)
        elif isinstance(node, MappingNode):
            value = self.mapping(node, depth)
        else:  # pragma: no cover - the composer produces only these three
            raise self.error(f"unexpected YAML node {type(node).__name__}", node)
        if self.count > self.max_nodes:
            raise self.too_big(node, f"more than {self.max_nodes:,} nodes after expanding aliases")
        self.memo[key] = (value, self.count - before)
        return value

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        value = node.value
        if tag == STR_TAG:
            # Plain (libyaml says '', PyYAML None) may be another type, if its first
            # character can start one.
            if not node.style and value[:1] in _IMPLICIT:
                return self.implicit(node, value)
            return value
        if tag == REFERENCE_TAG:
            raise self.error("!reference must be a sequence, like !reference [job, script]", node)
        if not tag.startswith("tag:yaml.org,2002:") or tag == "tag:yaml.org,2002:timestamp":
            return value  # unknown local tags are ignored; dates stay text (JSON has none)
        try:
            found = self.construct(ScalarNode(tag, value), value)
        except (ValueError, KeyError, TypeError):  # `!!int x`, `!!bool maybe`
            raise self.error(f"the value {value!r} cannot be read as !!{tag.rsplit(':', 1)[-1]}", node) from None
        if isinstance(found, bytes):  # !!binary: Psych makes a String of the decoded bytes
            return found.decode("utf-8", "replace")
        return found

    def implicit(self, node: ScalarNode, value: str) -> Any:
        for tag, regexp in _IMPLICIT.get(value[:1] if value else "", ()):
            if regexp.match(value):
                if tag in (STR_TAG, MERGE_TAG, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"):
                    return value
                return self.construct(ScalarNode(tag, value), value)
        return value

    def construct(self, node: ScalarNode, value: str) -> Any:
        try:
            return self.ctor.construct_object(node, deep=True)
        except yaml.YAMLError:
            return value

    def sequence(self, node: SequenceNode, depth: int) -> YList:
        src = self.src
        if node.tag == REFERENCE_TAG:
            self.references = True
            out: YList = Reference(src, node.start_mark)
        else:
            out = YList(src, node.start_mark)
        marks = out.marks
        walk, scalar = self.walk, self.scalar
        for item in node.value:
            if item.__class__ is ScalarNode:  # most items: skip walk's dispatch
                self.count += 1
                out.append(scalar(item))
            else:
                out.append(walk(item, depth + 1))
            marks.append(item.start_mark)
        return out

    def mapping(self, node: MappingNode, depth: int) -> YMap:
        src = self.src
        out = YMap(src, node.start_mark)
        keymarks, valmarks = out.keymarks, out.valmarks
        # Keys written in this mapping itself. A key that only a `<<: *anchor` merge brought
        # in may be overridden: that is what merge keys are for, not a duplicate.
        literal: set[Any] = set()
        for knode, vnode in node.value:
            if knode.__class__ is ScalarNode:
                self.count += 1
                if knode.value == "<<" and not knode.style and knode.tag == STR_TAG:
                    self.merge(out, vnode, depth)
                    continue
                key = self.scalar(knode)
            else:
                key = self.walk(knode, depth + 1)
                if isinstance(key, (dict, list)):
                    raise self.error("a mapping key must be a scalar", knode)
            if not isinstance(key, str):
                key = _key_text(key, knode)
            if vnode.__class__ is ScalarNode:  # most values: skip walk's dispatch
                self.count += 1
                value = self.scalar(vnode)
            else:
                value = self.walk(vnode, depth + 1)
            if key in literal:
                self.duplicates.append((key, _position(src, knode.start_mark)))
            literal.add(key)
            out[key] = value
            keymarks[key] = knode.start_mark
            valmarks[key] = vnode.start_mark
        return out

    def merge(self, out: YMap, vnode: Node, depth: int) -> None:
        """`<<: *a` or `<<: [*a, *b]`; Psych merges in document order, later keys win."""
        value = self.walk(vnode, depth + 1)
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in sources):
            raise self.error("a merge key (<<) needs a mapping or a list of mappings", vnode)
        # In a list, earlier mappings take precedence over later ones.
        for source in reversed(sources):
            for k, v in source.items():
                out[k] = v
                if isinstance(source, YMap):
                    out.keymarks[k] = source.key_mark(k)
                    out.valmarks[k] = source.value_mark(k)


def _key_text(key: Any, knode: Node) -> str:
    # Psych keeps non-string keys; GitLab then reports them by their text, so do we.
    if isinstance(knode, ScalarNode):
        return str(knode.value)
    return str(key)


def load_text(
    text: str,
    src: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_nodes: int = MAX_NODES,
    max_depth: int = MAX_DEPTH,
) -> LoadedFile:
    """Parse one GitLab CI YAML file. Raises YamlError with a position on any problem."""
    check_size(len(text.encode("utf-8", "surrogatepass")), src, max_bytes)
    with no_gc():
        return _parse(text, src, max_nodes, max_depth)


@contextmanager
def no_gc() -> Iterator[None]:
    """Parsing and resolving allocate hundreds of thousands of objects and no cycles; the
    cyclic collector would rescan them again and again (a third of the time on a large
    file), so it pauses meanwhile."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _parse(text: str, src: str, max_nodes: int, max_depth: int) -> LoadedFile:
    try:
        nodes = list(yaml.compose_all(text, Loader=_FastLoader))
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, src, text) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML syntax error: {exc}", src) from None
    except RecursionError:
        raise YamlError("The parsed YAML is too big (nesting is too deep)", src) from None
    walker = _Walker(src, max_nodes, max_depth)
    docs = [walker.walk(n) for n in nodes if n is not None]
    header = None
    data: Any = docs[0] if docs else None
    # A component file: a `spec:` header document, then the configuration.
    if len(docs) >= 2 and isinstance(docs[0], dict) and "spec" in docs[0]:
        header, data = docs[0], docs[1]
    return LoadedFile(src=src, text=text, data=data, header=header, duplicates=walker.duplicates,
                      has_references=walker.references)


def check_size(size: int, src: str, max_bytes: int) -> None:
    """Readers stop one byte past the limit, so a size just above it means "at least"."""
    if size > max_bytes:
        amount = f"more than {max_bytes:,} bytes" if size == max_bytes + 1 else f"{size:,} bytes"
        raise YamlError(f"The parsed YAML is too big: the file is {amount} and GitLab's limit is {max_bytes:,}",
                        src)


def load_bytes(raw: bytes, src: str, **limits: int) -> LoadedFile:
    # Refuse a huge file before decoding it, so that it costs nothing.
    check_size(len(raw), src, limits.get("max_bytes", MAX_BYTES))
    return load_text(decode(raw, src), src, **limits)


def _syntax_error(exc: yaml.MarkedYAMLError, src: str, text: str) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    opened = exc.context_mark
    if opened is not None and mark is not None and mark.index >= len(text.rstrip()):
        # The file ended inside a flow sequence or mapping: point at its opening bracket,
        # where the mistake is, not past the last line.
        mark, opened = opened, None
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    at = text[mark.index : mark.index + 200] if mark else ""
    problem = exc.problem or "syntax error"
    if problem.startswith("found undefined alias"):
        # libyaml does not name the alias; GitLab (Psych) says "Unknown alias: NAME".
        name = re.match(r"\*?([^\s,\[\]{}]*)", at)
        return YamlError(f"Unknown alias: {name.group(1) if name else '?'}", src, line, col)
    if at.startswith("\t"):
        problem += " (a tab: YAML does not allow tabs for indentation)"
    context = f" {exc.context}" if exc.context else ""
    if opened is not None and opened.line != mark.line:  # type: ignore[union-attr]
        context += f" that opens at {opened.line + 1}:{opened.column + 1}"
    elif exc.context_mark is not None and mark is exc.context_mark:
        context += " that opens here and is never closed"
    return YamlError(f"YAML syntax error: {problem}{context}".rstrip(), src, line, col)


def plain(node: Any) -> Any:
    """Position-carrying (or ruamel) containers to plain dicts and lists."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


SYNTAX = Rule(
    "yaml-syntax", Severity.ERROR, "the file must be valid YAML",
    "GitLab parses the file with a YAML 1.1 parser before anything else. Syntax errors, "
    f"undefined aliases, tabs used for indentation, files larger than {MAX_FILE_BYTES // (1024 * 1024)} MB and "
    f"nesting deeper than {MAX_YAML_DEPTH} levels are all rejected.",
    bad="test:\n  script: echo: hello: world\n",
    good="test:\n  script: 'echo: hello: world'\n",
)

DUPLICATE_KEY = Rule(
    "yaml-duplicate-key", Severity.WARNING, "a mapping should not repeat a key",
    "YAML parsers used by GitLab keep the last of two equal keys without a word, so the first "
    "one is silently ignored.",
    bad="test:\n  script: make test\n  script: make check\n",
    good="test:\n  script:\n    - make test\n    - make check\n",
)
