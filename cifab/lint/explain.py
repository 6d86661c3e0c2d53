"""`cifab explain RULE`: a rule's documentation, examples included."""

from __future__ import annotations

import textwrap

from cifab.errors import CifabError
from cifab.lint.rules import BY_ID, OPTIONAL_RULES
from cifab.schemaerrors import suggest


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
        f"Fails:\n\n{textwrap.indent(rule.bad, '    ')}\n"
        f"Passes:\n\n{textwrap.indent(rule.good, '    ')}"
    )
