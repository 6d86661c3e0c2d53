"""Every rule id cifab can report, in any command and any format: the lint rules, the
manifest's, `cifab check`'s drift, and GitLab's own answer. `cifab rules` lists them and
`cifab explain` prints their docs."""

from __future__ import annotations

import textwrap

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


def listing() -> list[str]:
    width = max(len(r.id) for r in RULES)
    lines = []
    for rule in RULES:
        extra = " (needs the shellcheck extra)" if rule in OPTIONAL_RULES else (
            f" ({WHERE[rule.kind]})" if rule.kind in WHERE else "")
        lines.append(f"{rule.id:<{width}}  {rule.severity!s:<7}  {rule.summary}{extra}")
    return lines


def explain_text(rule_id: str) -> str:
    rule = BY_ID.get(rule_id)
    if rule is None:
        near = suggest(rule_id, list(BY_ID))
        hint = f"; did you mean {near}?" if near else "; `cifab rules` lists them"
        raise CifabError(f"no rule named '{rule_id}'{hint}")
    optional = ("\nNeeds the shellcheck binary: pip install 'cifab[shellcheck]'.\n"
                if rule in OPTIONAL_RULES else "")
    return (
        f"{rule.id} ({rule.severity}): {rule.summary}\n\n"
        f"{textwrap.fill(' '.join(rule.doc.split()), 88)}\n{optional}\n"
        f"Fails:\n\n{textwrap.indent(rule.bad or '(an empty file)', '    ')}\n"
        f"Passes:\n\n{textwrap.indent(rule.good, '    ')}"
    )
