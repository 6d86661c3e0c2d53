"""The shared corpus as a conformance suite (../shared/corpus, or $CIFAB_CORPUS).

The figures each bucket must reach come from the lint issue; the tests fail below them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from cifab.diagnostics import Finding, Severity
from cifab.lint.engine import Options, lint_text


def error_findings(path: Path, root: Path | None, verified: bool = False) -> list[Finding]:
    found = lint_text(path.read_text(encoding="utf-8"), str(path), Options(root=root, root_verified=verified))
    return [f for f in found if f.severity is Severity.ERROR]


def test_negative_schema_fixtures_are_all_flagged(corpus: Path) -> None:
    files = sorted((corpus / "gitlab-schema-tests" / "negative").rglob("*.yml"))
    missed = [str(p.relative_to(corpus)) for p in files if not error_findings(p, p.parent)]
    assert len(files) >= 74
    assert missed == [], f"{len(files) - len(missed)}/{len(files)} flagged"


# The three positive fixtures on which the schema rule rightly reports an error:
# - run.yml uses a CI step with `action:`, which GitLab's published schema (the one
#   check-jsonschema vendors) does not define for `run` steps;
# - workflow/auto_cancel/on_{job_failure,new_commit}.yml nest `workflow:` under job-like
#   keys; as pipelines those keys are jobs, and `workflow` is not a job keyword.
EXPECTED_POSITIVE_SCHEMA_ERRORS = {
    "run.yml", "workflow/auto_cancel/on_job_failure.yml", "workflow/auto_cancel/on_new_commit.yml",
}


def test_positive_schema_fixtures_pass_the_schema_rule(corpus: Path) -> None:
    base = corpus / "gitlab-schema-tests" / "positive"
    files = sorted(base.rglob("*.yml"))
    flagged = {str(p.relative_to(base)) for p in files
               if any(f.rule_id == "gitlab-schema" for f in error_findings(p, p.parent))}
    clean = len(files) - len(flagged)
    assert clean >= 31, f"only {clean}/{len(files)} clean; flagged: {sorted(flagged)}"
    assert flagged <= EXPECTED_POSITIVE_SCHEMA_ERRORS, sorted(flagged - EXPECTED_POSITIVE_SCHEMA_ERRORS)


def same_meaning(case: dict[str, Any], messages: list[str]) -> bool:
    """GitLab's expected error, matched the way its spec matches it."""
    expected, match = case["expected_error"], case["match"]
    if match == "exact":
        return any(expected == m or expected in m for m in messages)
    if match == "exact-set":
        return all(any(e == m or e in m for m in messages) for e in expected)
    if match == "regex-substring":
        return any(expected in m or re.search(expected, m) for m in messages)
    if match == "regex-case-insensitive":
        return any(re.search(expected, m, re.IGNORECASE) for m in messages)
    raise AssertionError(f"unknown match kind {match}")


def semantic_results(corpus: Path) -> tuple[list[str], list[str], int, int]:
    cases = yaml.safe_load((corpus / "semantic-cases.yaml").read_text())
    missed_invalid: list[str] = []
    noisy_valid: list[str] = []
    invalid = valid = 0
    for case in cases:
        # GitLab's specs lint content without a project, as `cifab lint -` does.
        found = [f.message for f in lint_text(case["config"], "<stdin>", Options(root=None))
                 if f.severity is Severity.ERROR]
        if case["match"] == "valid":
            valid += 1
            if found:
                noisy_valid.append(f"{case['name']}: {found}")
        else:
            invalid += 1
            if not same_meaning(case, found):
                missed_invalid.append(f"{case['name']}: expected {case['expected_error']!r}, got {found}")
    return missed_invalid, noisy_valid, invalid, valid


def test_semantic_invalid_cases_are_flagged_with_gitlabs_meaning(corpus: Path) -> None:
    missed, _, invalid, _ = semantic_results(corpus)
    assert invalid >= 69
    assert invalid - len(missed) >= 66, "\n".join(missed)


def test_semantic_valid_cases_are_clean(corpus: Path) -> None:
    _, noisy, _, valid = semantic_results(corpus)
    assert valid == 2 and noisy == [], noisy


def test_real_world_pipelines_have_no_errors(corpus: Path) -> None:
    failures = []
    files = sorted((corpus / "real-world").glob("*.yml"))
    assert len(files) >= 39
    for path in files:
        tree = corpus / "real-world-trees" / path.name.removesuffix(".gitlab-ci.yml")
        target, root = (tree / ".gitlab-ci.yml", tree) if tree.is_dir() else (path, path.parent)
        # The corpus folders are not git checkouts, as a copied folder would not be.
        found = error_findings(target, root, verified=False)
        if found:
            failures.append(f"{path.name}: " + "; ".join(f"{f.line}: {f.message}" for f in found[:3]))
    assert failures == [], "\n".join(failures)


def test_real_world_trees_resolve_their_local_includes(corpus: Path) -> None:
    tree = corpus / "real-world-trees" / "gitlabhq__gitlab-runner"
    if not tree.is_dir():
        return
    from cifab.pipeline.config import build_pipeline
    from cifab.pipeline.yamlpos import load_text

    root_file = tree / ".gitlab-ci.yml"
    pipeline = build_pipeline(load_text(root_file.read_text(), str(root_file)), tree, False)
    assert len(pipeline.files) > 10
    assert len(pipeline.visible_jobs) > 50
