"""The ids of the problems cifab reports in cifab.yml. A manifest problem is a Finding like
any lint finding, so it gets a code frame and every report format."""

from __future__ import annotations

from cifab.diagnostics import Rule, Severity

INVALID = Rule(
    "manifest-invalid", Severity.ERROR, "cifab.yml must match its schema",
    "Every key of cifab.yml is checked against the schema cifab ships (`cifab schema` prints it), "
    "and the escape hatches (`jobs:`, `extra_jobs:`, `include:`) against GitLab's own schema. "
    "Misspelled keys and values get a \"did you mean\" hint.",
    bad="cifab: 1\nproject: shop\nstack: go\ngo:\n  verison: \"1.26\"\n",
    good="cifab: 1\nproject: shop\nstack: go\ngo:\n  version: \"1.26\"\n",
    kind="manifest",
)
MISSING = Rule(
    "manifest-missing", Severity.ERROR, "cifab.yml must exist and hold a mapping",
    "The commands that read the manifest need a readable cifab.yml with at least `cifab`, "
    "`project` and `stack`; `cifab init` writes one.",
    bad="",
    good="cifab: 1\nproject: shop\nstack: go\n",
    kind="manifest",
)

DUPLICATE_KEY = Rule(
    "manifest-duplicate-key", Severity.ERROR, "a key of cifab.yml must not repeat",
    "YAML keeps the last of two equal keys without a word; in the manifest that silently drops "
    "a setting, so cifab refuses it.",
    bad="cifab: 1\nproject: shop\nstack: go\nproject: shop-api\n",
    good="cifab: 1\nproject: shop-api\nstack: go\n",
    kind="manifest",
)

RULES = [INVALID, MISSING, DUPLICATE_KEY]
