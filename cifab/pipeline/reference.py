"""`!reference [job, key, ...]`, resolved once per reference: missing targets, cycles, the
10-level depth limit and expansion beyond GitLab's parsed-size bound are reported."""

from __future__ import annotations

import json
from typing import Any

from cifab.diagnostics import Finding, Mark, Rule, Severity
from cifab.gitlab import MAX_PARSED_NODES, MAX_REFERENCE_DEPTH
from cifab.pipeline.merge import copy_marks
from cifab.pipeline.yamlpos import SYNTAX, Reference, YList, YMap


def _format_reference(ref: list[Any]) -> str:
    return "!reference [" + ", ".join(json.dumps(str(p)) for p in ref) + "]"


class References:
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
            copy_marks(out, config, key)
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
                copy_marks(out, value, k)
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
            self.report(key, mark, REFERENCE_MISSING, "!reference [] names no job or key")
            return empty
        if key in chain:
            self.report(key, mark, REFERENCE_CIRCULAR, f"{_format_reference(ref)} is part of a circular chain")
            return empty
        hit = self.memo.get(key)
        if hit is None:
            target: Any = self.config
            for part in key:
                if isinstance(target, dict) and part in target:
                    target = target[part]
                else:
                    if not self.incomplete:
                        self.report(key, mark, REFERENCE_MISSING, f"{_format_reference(ref)} could not be found")
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
            self.report(key, mark, REFERENCE_CIRCULAR,
                        f"{_format_reference(ref)} is nested more than {MAX_REFERENCE_DEPTH} levels deep")
            return empty
        if hit[1] > MAX_PARSED_NODES:
            if not self.too_big:
                self.too_big = True
                self.findings.append(SYNTAX.finding(
                    mark, f"The parsed YAML is too big: {_format_reference(ref)} expands to more than "
                    f"{MAX_PARSED_NODES:,} values"))
            return empty
        return hit

    def report(self, key: tuple[str, ...], mark: Mark, rule: Rule, message: str) -> None:
        if key not in self.reported:
            self.reported.add(key)
            self.findings.append(rule.finding(mark, message))


REFERENCE_MISSING = Rule(
    "reference-missing", Severity.ERROR, "!reference must point at an existing key",
    "`!reference [job, key, ...]` copies a value from another job or template; the path must exist.",
    bad=".setup:\n  script: [make deps]\n\ntest:\n  script:\n"
        "    - !reference [.setup, before_script]\n    - make test\n",
    good=".setup:\n  script: [make deps]\n\ntest:\n  script:\n    - !reference [.setup, script]\n    - make test\n",
)

REFERENCE_CIRCULAR = Rule(
    "reference-circular", Severity.ERROR, "!reference chains must not loop",
    "References may point at values that contain references, but never back to themselves, "
    f"and at most {MAX_REFERENCE_DEPTH} levels deep.",
    bad="a:\n  script:\n    - !reference [b, script]\n\nb:\n  script:\n    - !reference [a, script]\n",
    good="a:\n  script:\n    - make a\n\nb:\n  script:\n    - !reference [a, script]\n",
)
