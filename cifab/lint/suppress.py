"""Inline suppressions: `# cifab: ignore[rule-id, other-id]` on the line a finding points at,
or alone on the line above it. `# cifab: ignore` without ids silences every rule there."""

from __future__ import annotations

import re

_PATTERN = re.compile(r"#\s*cifab:\s*ignore(?:\[([^\]]*)\])?")


def inline_ignores(texts: list[tuple[str, str]]) -> dict[tuple[str, int], set[str]]:
    out: dict[tuple[str, int], set[str]] = {}
    for src, text in texts:
        if "cifab:" not in text:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            match = _PATTERN.search(line)
            if not match:
                continue
            ids = {i.strip() for i in (match.group(1) or "*").split(",") if i.strip()} or {"*"}
            targets = [number]
            if line.lstrip().startswith("#"):
                targets.append(number + 1)  # a comment line covers the line below it
            for target in targets:
                out.setdefault((src, target), set()).update(ids)
    return out
