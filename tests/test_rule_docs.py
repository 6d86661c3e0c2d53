"""Every rule is data plus one check: its documented failing example fails, its passing
example passes, and `cifab rules` / `cifab explain` print them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cifab.diagnostics import KINDS, Severity
from cifab.errors import ProblemsError
from cifab.lint.shellcheck import binary as shellcheck_binary
from cifab.manifest.load import parse
from cifab.registry import BY_ID
from cifab.registry import RULES as ALL_RULES
from tests.lint_helpers import lint, of

LINT_RULES = [r for r in ALL_RULES if r.kind == "lint"]
MANIFEST_RULES = [r for r in ALL_RULES if r.kind == "manifest"]


def _ids(rule: object) -> str:
    return rule.id  # type: ignore[attr-defined, no-any-return]


def _repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def _needs_shellcheck(rule_id: str) -> None:
    if rule_id == "shellcheck" and shellcheck_binary() is None:
        pytest.skip("shellcheck is not installed (pip install 'cifab[shellcheck]')")


@pytest.mark.parametrize("rule", LINT_RULES, ids=_ids)
def test_failing_example_fails(rule, tmp_path: Path) -> None:
    _needs_shellcheck(rule.id)
    found = of(lint(rule.bad, _repo(tmp_path), shellcheck=True), rule.id)
    assert found, f"{rule.id} did not flag its own failing example"
    assert all(f.line >= 1 for f in found)


@pytest.mark.parametrize("rule", LINT_RULES, ids=_ids)
def test_passing_example_passes(rule, tmp_path: Path) -> None:
    _needs_shellcheck(rule.id)
    assert of(lint(rule.good, _repo(tmp_path), shellcheck=True), rule.id) == []


@pytest.mark.parametrize("rule", MANIFEST_RULES, ids=_ids)
def test_manifest_examples(rule) -> None:
    with pytest.raises(ProblemsError) as failed:
        parse(rule.bad.encode(), "cifab.yml")
    assert rule.id in {f.rule_id for f in failed.value.problems}
    assert parse(rule.good.encode(), "cifab.yml").data["project"]


@pytest.mark.parametrize("rule", ALL_RULES, ids=_ids)
def test_rule_metadata(rule) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", rule.id)
    assert isinstance(rule.severity, Severity)
    assert rule.summary and not rule.summary.endswith(".") and "\n" not in rule.summary
    assert len(rule.doc) > 40 and rule.bad != rule.good
    assert rule.kind in KINDS


def test_rule_ids_are_unique() -> None:
    assert len(BY_ID) == len(ALL_RULES)


def test_rules_command_lists_every_rule(cli) -> None:
    out = cli("rules").stdout
    for rule in ALL_RULES:
        assert re.search(rf"^{re.escape(rule.id)}\s+{rule.severity}\s+", out, re.M), rule.id


@pytest.mark.parametrize("rule_id", ["gitlab-schema", "needs-cycle", "shellcheck", "manifest-invalid"])
def test_explain_prints_doc_and_both_examples(cli, rule_id: str) -> None:
    rule = BY_ID[rule_id]
    out = cli("explain", rule_id).stdout
    assert out.startswith(f"{rule_id} ({rule.severity}): {rule.summary}")
    first_bad_line = rule.bad.splitlines()[0]
    assert f"    {first_bad_line}" in out.split("Passes:")[0]
    assert f"    {rule.good.splitlines()[-1]}" in out.split("Passes:")[1]
