"""Fuzzing with a fixed seed and a bounded number of examples: pipelines, manifests and
GitLab's answers built from GitLab's vocabulary and hostile text. Whatever comes in, cifab
ends with a message and an exit code it documents (never 70, never a traceback), every
report format stays well-formed, and the token never reaches any output."""

from __future__ import annotations

import json
import os
import xml.dom.minidom
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.test_remote import LINT_PATH, TOKEN, url

FORMATS = ("text", "json", "codequality", "junit", "sarif")
# CIFAB_FUZZ_EXAMPLES=5000 for a longer run by hand; CI runs the fixed 150.
SETTINGS = settings(max_examples=int(os.environ.get("CIFAB_FUZZ_EXAMPLES", "150")), deadline=None,
                    derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

KEYWORDS = ["script", "stage", "stages", "needs", "extends", "rules", "if", "when", "image", "services",
            "variables", "include", "local", "parallel", "matrix", "artifacts", "reports", "junit", "cache",
            "key", "paths", "trigger", "environment", "name", "default", "workflow", "before_script",
            "after_script", "retry", "timeout", "dependencies", "only", "except", "tags", "spec", "inputs",
            "coverage", "release", "pages", "interruptible", "allow_failure", "start_in", ".hidden", "build", "test"]
HOSTILE = ["\x1b[2J", "\x00", "\x07", "\u2028", "\x85", "]]>", "<x/>", "&amp;", "${X}", "$[[ inputs.x ]]",
           "!reference", "*", "&a", "\ufeff", "é", "🚀", "\t", "'", '"', "\\", "\r"]

text = st.one_of(st.sampled_from(KEYWORDS), st.sampled_from(HOSTILE), st.text(max_size=12))
scalars = st.one_of(text, st.integers(-3, 300), st.booleans(), st.none(), st.floats(allow_nan=False, width=32))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(text, inner, max_size=4)), max_leaves=25)
documents = st.dictionaries(st.one_of(st.sampled_from(KEYWORDS), text), values, max_size=6)


def _dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def mutated(draw_text: str, cuts: list[tuple[int, str]]) -> str:
    """The text with a few hostile pieces spliced in: what a careless edit or an attacker adds."""
    out = draw_text
    for at, piece in cuts:
        position = at % (len(out) + 1)
        out = out[:position] + piece + out[position:]
    return out


splices = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from([*HOSTILE, ":", "- ", "\n  ", "{", "[", "|"])),
                   max_size=3)


def well_formed(fmt: str, output: str) -> None:
    if fmt in ("json", "codequality", "sarif"):
        json.loads(output)
    elif fmt == "junit":
        xml.dom.minidom.parseString(output.encode())
    elif fmt == "text":
        assert output.endswith(("file\n", "files\n")), output[-200:]  # the summary line ends every report
        assert "\x1b" not in output and "\x00" not in output and "\x07" not in output


def sane(result: Any, allowed: tuple[int, ...]) -> None:
    assert result.exit_code in allowed, (result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output[-2000:]
    assert TOKEN not in result.output


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    return tmp_path


@seed(20261127)
@SETTINGS
@given(document=documents, cuts=splices)
def test_any_pipeline_gets_a_well_formed_report_in_every_format(cli, workdir: Path, document: Any,  # type: ignore[no-untyped-def]
                                                                 cuts: list[tuple[int, str]]) -> None:
    (workdir / ".gitlab-ci.yml").write_text(mutated(_dump(document), cuts), encoding="utf-8", errors="surrogatepass")
    for fmt in FORMATS:
        result = cli("lint", "--no-shellcheck", "--format", fmt, ".gitlab-ci.yml", cwd=workdir)
        sane(result, (0, 1, 2))
        if result.exit_code in (0, 1) or result.stdout:  # a report: findings, or a file that does not parse
            well_formed(fmt, result.stdout)
        else:  # nothing to report on (a file that cannot be read): one message says why
            assert result.stderr.startswith("cifab: "), result.output[-2000:]
    sane(cli("graph", ".gitlab-ci.yml", cwd=workdir), (0, 1, 2))


MANIFEST_KEYS = ["cifab", "project", "stack", "go", "python", "node", "rust", "docker", "generic", "deploy",
                 "environments", "name", "script", "url", "image", "build", "version", "binaries", "main",
                 "components", "path", "jobs", "extra_jobs", "include", "lint", "ignore", "self_check",
                 "templates_dir", "gitlab_version", "child_pipelines", "variables", "test"]
manifest_values = st.recursive(
    st.one_of(scalars, st.sampled_from(["go", "python", "node", "rust", "docker", "generic", "monorepo", "1.26"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(MANIFEST_KEYS), inner,
                                                                          max_size=4)), max_leaves=20)


@seed(20261127)
@SETTINGS
@given(extra=st.dictionaries(st.sampled_from(MANIFEST_KEYS), manifest_values, max_size=5), cuts=splices,
       stack=st.sampled_from(["go", "python", "node", "rust", "docker", "generic", "monorepo", "golang"]))
def test_any_manifest_is_generated_or_refused_with_a_message(cli, workdir: Path, extra: dict[str, Any],  # type: ignore[no-untyped-def]
                                                             cuts: list[tuple[int, str]], stack: str) -> None:
    document = {"cifab": 1, "project": "fuzz", "stack": stack, **extra}
    (workdir / "cifab.yml").write_text(mutated(_dump(document), cuts), encoding="utf-8", errors="surrogatepass")
    (workdir / ".gitlab-ci.yml").unlink(missing_ok=True)
    sane(cli("generate", "--stdout", cwd=workdir), (0, 1, 2))
    sane(cli("check", "--no-shellcheck", "--no-remote", cwd=workdir), (0, 1, 2))
    sane(cli("lint", "--no-shellcheck", "--format", "json", "-", cwd=workdir, input="test:\n  script: make\n"),
         (0, 1, 2))


answers = st.fixed_dictionaries({}, optional={
    "valid": st.one_of(st.booleans(), st.just("false"), st.integers(), st.none()),
    "errors": st.one_of(st.lists(st.one_of(text, st.just(f"token {TOKEN} leaked"), st.integers()), max_size=3),
                        st.integers(), st.just(TOKEN)),
    "warnings": st.one_of(st.lists(st.one_of(text, st.just(TOKEN)), max_size=2), st.none()),
    "merged_yaml": st.one_of(st.just(f"x: {TOKEN}\n"), text, st.integers(), st.none()),
    "jobs": st.one_of(st.lists(st.one_of(st.dictionaries(text, text, max_size=3), st.integers()), max_size=2),
                      st.integers()),
})


@seed(20261127)
@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=answers, status=st.sampled_from([200, 200, 200, 201, 400, 401, 403, 404, 422, 429, 500, 502]),
       fmt=st.sampled_from(FORMATS), merged=st.booleans())
def test_any_answer_from_gitlab_keeps_the_token_out_of_every_output(cli, workdir: Path, httpserver: Any,  # type: ignore[no-untyped-def]
                                                                    answer: dict[str, Any], status: int, fmt: str,
                                                                    merged: bool) -> None:
    httpserver.clear()
    httpserver.expect_request(LINT_PATH, method="POST").respond_with_json(answer, status=status,
                                                                           headers={"Retry-After": "0"})
    (workdir / ".gitlab-ci.yml").write_text("test:\n  script: make\n")
    extra = ["--merged"] if merged and fmt == "text" else []
    result = cli("lint", "--no-shellcheck", "--remote", "--gitlab-url", url(httpserver), "--project", "42",
                 "--format", fmt, *extra, ".gitlab-ci.yml", cwd=workdir, env={"GITLAB_TOKEN": TOKEN})
    sane(result, (0, 1, 2, 3))
    if result.exit_code in (0, 1) and not extra:
        well_formed(fmt, result.stdout)
    elif result.exit_code == 3:  # GitLab could not be asked, or answered nonsense: said in one message
        assert "cifab: " in result.stderr and not result.stdout, result.output[-2000:]

