"""`spec:inputs` and `$[[ ]]` interpolation, as GitLab runs them on a file before it merges
the file into the pipeline (lib/gitlab/ci/config/interpolation/, lib/ci/inputs/).

GitLab's order, and its words: the header is validated (header:spec:inputs:NAME ...), then
the arguments against the specs (unknown input arguments, `NAME` input: ...), then every
block of the content is evaluated: `$[[ inputs.NAME | function | ... ]]`, at most three
functions. A block that is a whole value takes the input's value with its type (an array
input can be a job's `rules:`); a block inside a string is replaced by the value's text.
Keys are interpolated as well as values. `matrix.` blocks are left for GitLab's later
needs:parallel:matrix pass, as GitLab leaves them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cifab.diagnostics import Mark, Rule, Severity
from cifab.gitlab import MAX_FILE_BYTES
from cifab.pipeline.patterns import Regexp, untrusted
from cifab.pipeline.yamlpos import YList, YMap

BLOCK = re.compile(r"\$\[\[\s*(?P<data>\S.*?\S)\s*\]\]")  # Interpolation::Block's pattern
MAX_FUNCTIONS = 3
MAX_ACCESS_OBJECTS = 5
MAX_ACCESS_BYTES = 1024
MAX_BLOCKS = 10_000
TYPES = ("array", "boolean", "number", "string")  # Ci::Inputs::Builder::TYPES
SPEC_KEYS = ("default", "description", "options", "regex", "type", "rules")
NO_SPEC = "Given inputs not defined in the `spec` section of the included configuration file"


@dataclass
class Outcome:
    data: Any
    errors: list[tuple[str, Mark]] = field(default_factory=list)  # GitLab's message, where
    interpolated: bool = False


def interpolate(data: Any, header: Any, args: dict[str, Any] | None, mark: Mark,
                component: dict[str, str] | None = None) -> Outcome:
    """The file's content with its inputs interpolated, or its errors; mark is where the
    values come from (the include entry, or the file for its own defaults)."""
    args = args if args is not None else {}
    spec = header.get("spec") if isinstance(header, dict) else None
    if header is None:
        if args:
            return Outcome(data, [(NO_SPEC, mark)])
        return Outcome(data)
    errors = _header_errors(header)
    if errors:
        return Outcome(data, errors)
    specs = spec.get("inputs") if isinstance(spec, dict) else None
    specs = specs if isinstance(specs, dict) else {}
    values, errors = resolve(specs, args, mark)
    if errors:
        return Outcome(data, errors)
    context: dict[str, Any] = {"inputs": values}
    if component:
        context["component"] = component
    template = _Template(context)
    result = template.walk(data)
    return Outcome(result, template.errors, interpolated=True)


def _spec_mark(spec: Any, name: str, fallback: Mark) -> Mark:
    return spec.key_mark(name) if isinstance(spec, YMap) else fallback


def _header_errors(header: Any) -> list[tuple[str, Mark]]:
    """Header::Root and Header::Input's validations, in GitLab's words."""
    where = header.start if isinstance(header, YMap) else ("", 1, 1)
    spec = header.get("spec")
    if not isinstance(spec, dict):
        return [("header:spec config should be a hash", where)]
    at_spec = spec.start if isinstance(spec, YMap) else where
    unknown = [k for k in spec if k not in ("inputs", "component", "include", "description")]
    if unknown:
        return [(f"header:spec config contains unknown keys: {', '.join(map(str, unknown))}", at_spec)]
    specs = spec.get("inputs")
    if specs is None:
        return []
    if not isinstance(specs, dict):
        return [("header:spec:inputs config should be a hash", at_spec)]
    errors = []
    for name, item in specs.items():
        at = _spec_mark(specs, name, where)
        if item is None:
            continue
        if not isinstance(item, dict):
            errors.append((f"header:spec:inputs:{name} config should be a hash", at))
            continue
        extra = [k for k in item if k not in SPEC_KEYS]
        if extra:
            errors.append((f"header:spec:inputs:{name} config contains unknown keys: {', '.join(map(str, extra))}", at))
        kind = item.get("type")
        if kind is not None and kind not in TYPES:
            errors.append((f"header:spec:inputs:{name} input type unknown value: {kind}", at))
        if "options" in item and not isinstance(item["options"], list):
            errors.append((f"header:spec:inputs:{name} input options should be an array", at))
        if "regex" in item and not isinstance(item["regex"], str):
            errors.append((f"header:spec:inputs:{name} input regex should be a string", at))
    return errors


def resolve(specs: dict[str, Any], args: dict[str, Any], mark: Mark) -> tuple[dict[str, Any], list[tuple[str, Mark]]]:
    """Each input's value (the argument, else the default), and GitLab's errors."""
    errors: list[tuple[str, Mark]] = []
    unknown = [k for k in args if k not in specs]
    if unknown:
        at = args.key_mark(unknown[0]) if isinstance(args, YMap) else mark
        errors.append((f"unknown input arguments: {', '.join(map(str, unknown))}", at))
    values: dict[str, Any] = {}
    for name, item in specs.items():
        item = item if isinstance(item, dict) else {}
        at = args_mark(args, name, mark)
        problem = _check(str(name), item, args.get(name))
        if problem:
            errors.append((f"`{name}` input: {problem}", at))
            continue
        values[str(name)] = args[name] if args.get(name) is not None else item.get("default")
    return values, errors


def args_mark(args: dict[str, Any], name: str, fallback: Mark) -> Mark:
    return args.value_mark(name) if isinstance(args, YMap) and name in args else fallback


def _check(name: str, spec: dict[str, Any], given: Any) -> str | None:
    """BaseInput#validate!: required, then the default's validity, then the value's."""
    kind = spec.get("type") or "string"
    required = "default" not in spec and not _default_through_rules(spec)
    if required and given is None:
        return "required value has not been provided"
    if not required and "default" in spec:
        problem = _validate(kind, spec, spec["default"], default=True)
        if problem:
            return problem
    if given is not None:
        return _validate(kind, spec, given, default=False)
    return None


def _default_through_rules(spec: dict[str, Any]) -> bool:
    rules = spec.get("rules")
    return isinstance(rules, list) and any(isinstance(r, dict) and ("default" in r or "if" not in r) for r in rules)


_TYPE_WORDS = {"array": "an array", "boolean": "a boolean", "number": "a number", "string": "a string"}


def _validate(kind: str, spec: dict[str, Any], value: Any, default: bool) -> str | None:
    which = "default" if default else "provided"
    if not _is(kind, value):
        return f"{which} value is not {_TYPE_WORDS.get(kind, kind)}"
    options = spec.get("options")
    if options is not None:
        if kind == "boolean":
            return "Options can only be used with string and number inputs"
        if kind == "array":
            invalid = [v for v in value if v not in options]
            if invalid:
                return f"{', '.join(map(str, invalid))} cannot be used because it is not in the list of allowed options"
        elif value not in options:
            the = "the " if kind == "number" else ""
            return f"`{value}` cannot be used because it is not in the list of {the}allowed options"
    if "regex" in spec:
        if kind != "string":
            return "RegEx validation can only be used with string inputs"
        pattern = _untrusted_regexp(str(spec["regex"]))
        if pattern is None:
            return "invalid regular expression"
        if not pattern.search(value):
            return f"{which} value does not match required RegEx pattern"
    return None


def _is(kind: str, value: Any) -> bool:
    if kind == "array":
        return isinstance(value, list)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _untrusted_regexp(pattern: str) -> Regexp | None:
    """GitLab compiles an input's regex with RE2 (Gitlab::UntrustedRegexp), written bare or
    as /regex/: no lookaround, no backreferences, and no backtracking."""
    body = pattern[1:-1] if len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/") else pattern
    return untrusted(body)


class _Template:
    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.errors: list[tuple[str, Mark]] = []
        self.blocks: dict[str, Any] = {}
        # Characters the file's interpolated strings hold: inputs that double at each level
        # of include would otherwise grow without end. GitLab's own bound on a file's
        # parsed size is the one kept.
        self.produced = 0

    def walk(self, node: Any, mark: Mark | None = None) -> Any:
        if self.errors:
            return node
        if isinstance(node, YMap):
            out = YMap(node.src, node.start)
            for key, value in node.items():
                new_key = self.walk(key, node.key_mark(key)) if isinstance(key, str) else key
                new_key = new_key if isinstance(new_key, (str, int, float, bool)) or new_key is None else str(new_key)
                out[new_key] = self.walk(value, node.value_mark(key))
                out.keymarks[new_key] = node.key_mark(key)
                out.valmarks[new_key] = node.value_mark(key)
            return out
        if isinstance(node, YList):
            items = type(node)(node.src, node.start)  # a !reference stays a !reference
            items.extend(self.walk(v, node.item_mark(i)) for i, v in enumerate(node))
            items.marks = list(node.marks)
            return items
        if isinstance(node, str) and "$[[" in node:
            return self.text(node, mark or ("", 1, 1))
        return node

    def text(self, node: str, mark: Mark) -> Any:
        matches = list(BLOCK.finditer(node))
        if not matches:
            return node
        if len(matches) == 1 and matches[0].group(0) == node:
            return self.value(matches[0], mark)  # a whole value keeps its type
        out, last = [], 0
        for match in matches:
            value = self.value(match, mark)
            if self.errors:
                return node
            out.append(node[last:match.start()])
            out.append(value if isinstance(value, str) else json.dumps(value, default=str))
            last = match.end()
            self.produced += len(out[-1])
            if self.produced > MAX_FILE_BYTES:
                self.errors.append((f"The parsed YAML is too big: its interpolated values hold more than "
                                    f"{MAX_FILE_BYTES:,} characters", mark))
                return node
        out.append(node[last:])
        return "".join(out)

    def value(self, match: re.Match[str], mark: Mark) -> Any:
        block = match.group(0)
        if block in self.blocks:
            return self.blocks[block]
        if len(self.blocks) >= MAX_BLOCKS:
            self.errors.append(("too many interpolation blocks", mark))
            return block
        access, *functions = [part.strip() for part in match.group("data").split("|")]
        if access.split(".")[0] == "matrix":
            return block  # needs:parallel:matrix expressions are GitLab's to expand later
        objects = access.split(".", MAX_ACCESS_OBJECTS - 1)
        if len(objects) <= 1:
            return self.fail("invalid interpolation access pattern", block, mark)
        if len(access.encode()) > MAX_ACCESS_BYTES:
            return self.fail("maximum interpolation expression size exceeded", block, mark)
        value: Any = self.context
        for part in objects:
            if not isinstance(value, dict) or part not in value:
                return self.fail(f"unknown interpolation key: `{part}`", block, mark)
            value = value[part]
        if len(functions) > MAX_FUNCTIONS:
            return self.fail("too many functions in interpolation block", block, mark)
        for expression in functions:
            value, problem = _apply(expression, value)
            if problem:
                return self.fail(problem, block, mark)
        self.blocks[block] = value
        return value

    def fail(self, message: str, block: str, mark: Mark) -> str:
        self.errors.append((message, mark))
        return block


_TRUNCATE = re.compile(r"^truncate\(\s*(?P<offset>\d+)\s*,\s*(?P<length>\d+)\s*\)?$")
_SPLIT = re.compile(r"^split\('(?P<separator>[^']*)'\)$")


def _apply(expression: str, value: Any) -> tuple[Any, str | None]:
    """One function of a block (interpolation/functions/*.rb)."""
    name = "truncate" if _TRUNCATE.match(expression) else "split" if _SPLIT.match(expression) else expression
    if name not in ("truncate", "split", "expand_vars", "posix_escape", "posix_quote"):
        return None, (f"no function matching `{expression}`: check that the function name, arguments, and types "
                      "are correct")
    if not isinstance(value, str):
        return None, f"error in `{name}` function: invalid input type: {name} can only be used with string inputs"
    if name == "truncate":
        found = _TRUNCATE.match(expression)
        assert found is not None
        # Ruby's String#[] takes a C long: a longer number is a RangeError there, never a value.
        if any(len(found[k].lstrip("0")) > 18 for k in ("offset", "length")):
            return None, "error in `truncate` function: the offset and length must each be below 10**18"
        offset, length = int(found["offset"]), int(found["length"])
        return value[offset:offset + length], None
    if name == "split":
        found = _SPLIT.match(expression)
        assert found is not None
        if not found["separator"]:
            return None, "error in `split` function: invalid argument: separator cannot be empty"
        return [p.strip() for p in value.split(found["separator"]) if p.strip()], None
    if name == "expand_vars":
        return value, None  # it expands the project's variables, which only GitLab knows
    return _shellescape(value), None


def _shellescape(value: str) -> str:
    """Ruby's Shellwords.shellescape."""
    if not value:
        return "''"
    escaped = re.sub(r"([^A-Za-z0-9_\-.,:+/@\n])", r"\\\1", value)
    return escaped.replace("\n", "'\n'")


INPUTS = Rule(
    "inputs-invalid", Severity.ERROR, "spec:inputs and $[[ ]] interpolation must be valid",
    "A file with a `spec:` header is interpolated before GitLab merges it: `$[[ inputs.NAME ]]` "
    "takes the value the include (or component) passes, or the input's default, through at most "
    "three functions (expand_vars, truncate, posix_escape, posix_quote, split). GitLab refuses a "
    "missing required input, an unknown one, a value of the wrong type, one outside `options` or "
    "not matching `regex`, an unknown type or function, and an unknown key; cifab reports each "
    "with GitLab's words. A whole value such as `rules: $[[ inputs.rules ]]` keeps the input's type.",
    bad="spec:\n  inputs:\n    stage:\n      options: [test, deploy]\n      default: build\n---\n"
        "job:\n  stage: $[[ inputs.stage ]]\n  script: make\n",
    good="spec:\n  inputs:\n    stage:\n      options: [test, deploy]\n      default: test\n---\n"
         "job:\n  stage: $[[ inputs.stage ]]\n  script: make\n",
)
