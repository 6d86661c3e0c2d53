"""Every rule id cifab can report, in any command and any format: the lint rules, the
manifest's, `cifab check`'s drift, and GitLab's own answer. `cifab rules` lists them and
`cifab explain` prints their docs."""

from __future__ import annotations

import sys
import textwrap
from functools import cache
from pathlib import Path

from cifab.contract import DRIFT
from cifab.diagnostics import Rule
from cifab.errors import CifabError
from cifab.lint.rules import ALL_RULES, OPTIONAL_RULES
from cifab.manifest.rules import RULES as MANIFEST_RULES
from cifab.remote.lint import RULE as REMOTE_RULE
from cifab.spelling import suggest

RULES: list[Rule] = [*ALL_RULES, *MANIFEST_RULES, DRIFT, REMOTE_RULE]
BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
WHERE = {"manifest": "cifab.yml", "check": "cifab check", "remote": "lint --remote"}


@cache
def _files() -> dict[str, str]:
    """Each rule id's file, relative to the package: the module that holds its record and
    spells its id (others may import the record; every record module is imported above)."""
    package = Path(__file__).parent
    found: dict[str, str] = {}
    for name, module in sorted(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not name.startswith("cifab.") or path is None:
            continue
        held = [v for v in vars(module).values() if isinstance(v, Rule) and BY_ID.get(v.id) is v]
        if not held:
            continue
        source = Path(path).read_text(encoding="utf-8")
        for rule in held:
            if f'"{rule.id}"' in source:
                found.setdefault(rule.id, Path(path).relative_to(package).as_posix())
    return found


def rule_file(rule: Rule) -> str:
    """Where a rule lives: lint/rules/needs.py for needs-undefined."""
    return _files()[rule.id]


def listing() -> list[str]:
    width = max(len(r.id) for r in RULES)
    where = max(len(rule_file(r)) for r in RULES)
    lines = []
    for rule in RULES:
        extra = " (needs the shellcheck extra)" if rule in OPTIONAL_RULES else (
            f" ({WHERE[rule.kind]})" if rule.kind in WHERE else "")
        lines.append(f"{rule.id:<{width}}  {rule.severity!s:<7}  {rule_file(rule):<{where}}  {rule.summary}{extra}")
    return lines


def explain_text(rule_id: str) -> str:
    rule = BY_ID.get(rule_id)
    if rule is None:
        near = suggest(rule_id, list(BY_ID))
        hint = f"; did you mean {near}?" if near else "; `cifab rules` lists them"
        raise CifabError(f"no rule named '{rule_id}'{hint}")
    optional = ("\nNeeds the shellcheck binary: pip install 'cifab[shellcheck]'.\n"
                if rule in OPTIONAL_RULES else "")
    if rule.kind == "lint" and rule.check is None:
        optional += "\nReported while cifab reads the configuration, by the pipeline model.\n"
    optional += f"\nDefined in cifab/{rule_file(rule)}.\n"
    return (
        f"{rule.id} ({rule.severity}): {rule.summary}\n\n"
        f"{textwrap.fill(' '.join(rule.doc.split()), 88)}\n{optional}\n"
        f"Fails:\n\n{textwrap.indent(rule.bad or '(an empty file)', '    ')}\n"
        f"Passes:\n\n{textwrap.indent(rule.good, '    ')}"
    )
