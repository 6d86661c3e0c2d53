"""Escape hatches: overrides, extra jobs, includes, user templates, GitLab version gating."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cifab.errors import ProblemsError
from cifab.generate import plan as generate
from cifab.generate.transform import spacing
from cifab.lint.engine import lint_text
from tests import pipeline_yaml

BASE = "cifab: 1\nproject: hello\nstack: go\ngo:\n  binaries: [{name: hello, main: .}]\n"


def render(tmp_path: Path, extra: str) -> str:
    (tmp_path / "cifab.yml").write_text(BASE + extra)
    return generate.plan(tmp_path / "cifab.yml").text


def problems(tmp_path: Path, extra: str) -> list[str]:
    with pytest.raises(ProblemsError) as exc:
        render(tmp_path, extra)
    return [str(p).removeprefix(f"{tmp_path}/") for p in exc.value.problems]


def test_without_hatches_the_template_text_is_untouched(tmp_path: Path) -> None:
    text = render(tmp_path, "")
    assert "# Jobs that compile Go share one cache" in text
    assert render(tmp_path, "jobs: {}\nextra_jobs: {}\ninclude: []\n") == text


def test_override_deep_merges_into_a_generated_job(tmp_path: Path) -> None:
    text = render(tmp_path, "jobs:\n  go-test:\n    variables:\n      GOFLAGS: -mod=readonly\n    tags: [big]\n"
                            "    timeout: 30 minutes\n")
    job = pipeline_yaml.load(text)["go-test"]
    assert job["variables"] == {"CGO_ENABLED": "1", "GOFLAGS": "-mod=readonly"}
    assert job["tags"] == ["big"] and job["timeout"] == "30 minutes"
    assert "# -race needs cgo" in text  # the template's comments survive
    assert lint_text(text, "x.yml") == []


def test_override_replaces_lists_and_scalars(tmp_path: Path) -> None:
    job = pipeline_yaml.load(render(tmp_path, "jobs:\n  go-vet:\n    image: golang:1.26-alpine\n"
                                          "    needs: [gofmt]\n"))["go-vet"]
    assert job["image"] == "golang:1.26-alpine" and job["needs"] == ["gofmt"]


def test_override_rules_and_image(tmp_path: Path) -> None:
    text = render(tmp_path, "jobs:\n  go-build:\n    rules:\n      - if: $CI_COMMIT_TAG\n")
    job = pipeline_yaml.load(text)["go-build"]
    assert job["rules"] == [{"if": "$CI_COMMIT_TAG"}]


def test_script_hooks_go_before_and_after(tmp_path: Path) -> None:
    job = pipeline_yaml.load(render(tmp_path, "jobs:\n  go-vet:\n    script_before: [go mod download]\n"
                                          "    script_after: [echo done]\n"))["go-vet"]
    assert job["script"] == ["go mod download", "go vet ./...", "echo done"]


def test_override_of_a_missing_job_is_a_positioned_problem(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, "jobs:\n  go-tset:\n    tags: [x]\n")
    assert problem.startswith("cifab.yml:7:3: jobs.go-tset: the pipeline has no job named 'go-tset'")
    assert "did you mean 'go-test'?" in problem


def test_override_keys_are_checked_against_gitlabs_job_schema(tmp_path: Path) -> None:
    found = problems(tmp_path, "jobs:\n  go-test:\n    tagz: [x]\n    timeout: 5\n")
    assert any(p.startswith("cifab.yml:8:5: jobs.go-test: unknown key 'tagz'") and "did you mean 'tags'?" in p
               for p in found)
    assert any("jobs.go-test.timeout" in p and "string" in p for p in found)


def test_extra_jobs_are_added_and_checked(tmp_path: Path) -> None:
    text = render(tmp_path, "extra_jobs:\n  sbom:\n    stage: build\n    image: anchore/syft:v1.18.0\n"
                            "    script: [syft dir:. -o cyclonedx-json > sbom.json]\n")
    pipeline = pipeline_yaml.load(text)
    assert pipeline["sbom"]["script"] == ["syft dir:. -o cyclonedx-json > sbom.json"]
    assert "# Jobs written in cifab.yml (extra_jobs)." in text
    assert lint_text(text, "x.yml") == []


def test_extra_job_with_a_bad_key(tmp_path: Path) -> None:
    found = problems(tmp_path, "extra_jobs:\n  sbom:\n    script: x\n    artifact: {}\n")
    assert any("extra_jobs.sbom: unknown key 'artifact'" in p for p in found)


def test_extra_job_may_not_replace_a_generated_one(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, "extra_jobs:\n  go-test:\n    script: x\n")
    assert "already has 'go-test'" in problem and "jobs.go-test" in problem


def test_includes_pass_through_with_component_inputs(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "extra.yml").write_text("extra:\n  script: x\n")
    text = render(tmp_path, "include:\n  - local: ci/extra.yml\n"
                            "  - component: $CI_SERVER_FQDN/group/sec/sast@1.2.0\n    inputs:\n      stage: test\n")
    pipeline = pipeline_yaml.load(text)
    # After GitLab's security templates, which the pipeline includes already.
    assert pipeline["include"][-2:] == [{"local": "ci/extra.yml"},
                                        {"component": "$CI_SERVER_FQDN/group/sec/sast@1.2.0",
                                         "inputs": {"stage": "test"}}]
    assert {"template": "Jobs/Secret-Detection.gitlab-ci.yml"} in pipeline["include"]
    assert text.count("include:") == 1
    assert text.index("include:") < text.index("workflow:")


def test_bad_include_entry_is_positioned(tmp_path: Path) -> None:
    found = problems(tmp_path, "include:\n  - locl: x.yml\n")
    assert "cifab.yml:7:5: include[0]: unknown key 'locl'\n  hint: did you mean 'local'?" in found


def test_gitlab_version_drops_auto_cancel_before_16_10(tmp_path: Path) -> None:
    assert "auto_cancel" in render(tmp_path, 'gitlab_version: "16.10"\n')
    old = render(tmp_path, 'gitlab_version: "16.9"\n')
    assert "auto_cancel" not in old and "A new push cancels" not in old
    assert lint_text(old, "x.yml") == []


def test_gitlab_version_refuses_components_before_17(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, 'gitlab_version: "16.11"\ninclude:\n  - component: x/y/z@1\n')
    assert "components need GitLab 17.0" in problem


def test_gitlab_version_refuses_needs_matrix_before_16_3(tmp_path: Path) -> None:
    extra = ('gitlab_version: "16.2"\njobs:\n  go-vet:\n    needs:\n'
             '      - job: go-build\n        parallel:\n          matrix:\n            - GOOS: linux\n')
    assert any("needs:parallel:matrix needs GitLab 16.3" in p for p in problems(tmp_path, extra))


def test_gitlab_version_must_look_like_a_version(tmp_path: Path) -> None:
    assert any("gitlab_version" in p for p in problems(tmp_path, "gitlab_version: latest\n"))


def test_user_templates_shadow_ours_by_name(tmp_path: Path) -> None:
    mine = tmp_path / "ci-templates" / "go"
    mine.mkdir(parents=True)
    (mine / "lint.yml.j2").write_text("golangci-lint:\n  stage: lint\n  needs: []\n  interruptible: true\n"
                                      "  script:\n    - make lint\n")
    text = render(tmp_path, "templates_dir: ci-templates\n")
    assert pipeline_yaml.load(text)["golangci-lint"]["script"] == ["make lint"]
    assert "go-vet" not in pipeline_yaml.load(text)


def test_user_templates_are_sandboxed_too(tmp_path: Path) -> None:
    from cifab.errors import CifabError

    mine = tmp_path / "t" / "go"
    mine.mkdir(parents=True)
    (mine / "lint.yml.j2").write_text("x:\n  script: {{ project }}\n")
    with pytest.raises(CifabError, match="yaml` filter"):
        render(tmp_path, "templates_dir: t\n")


def test_missing_templates_dir(tmp_path: Path) -> None:
    from cifab.errors import CifabError

    with pytest.raises(CifabError, match="not a directory"):
        render(tmp_path, "templates_dir: nope\n")


def test_templates_list_and_show(cli, tmp_path: Path) -> None:
    (tmp_path / "cifab.yml").write_text(BASE + "templates_dir: mine\n")
    (tmp_path / "mine" / "go").mkdir(parents=True)
    (tmp_path / "mine" / "go" / "test.yml.j2").write_text("# mine\n")
    listing = cli("templates", "list", cwd=tmp_path).stdout.splitlines()
    assert "go/lint.yml.j2" in listing
    assert any(line.startswith("go/test.yml.j2  (yours:") for line in listing)
    assert cli("templates", "show", "go/test.yml.j2", cwd=tmp_path).stdout == "# mine\n"
    assert "golangci-lint" in cli("templates", "show", "go/lint.yml.j2", cwd=tmp_path).stdout
    result = cli("templates", "show", "go/tset.yml.j2", cwd=tmp_path)
    assert result.exit_code == 2 and "did you mean go/test.yml.j2" in result.stderr


def test_refusal_message_points_at_the_escape_hatches(cli, go_repo: Path) -> None:
    cli("init", "--yes", cwd=go_repo)
    cli("generate", cwd=go_repo)
    ci = go_repo / ".gitlab-ci.yml"
    ci.write_text(ci.read_text() + "x:\n  script: y\n")
    result = cli("generate", cwd=go_repo)
    assert "jobs:" in result.stderr and "extra_jobs:" in result.stderr and "--force" in result.stderr


def test_spacing_puts_one_blank_line_between_top_level_blocks() -> None:
    assert spacing("a:\n  b: 1\n\n  c: 2\n# about d\nd: 3\ne: 4\n") == "a:\n  b: 1\n  c: 2\n\n# about d\nd: 3\n\ne: 4\n"


# Scalars Psych (YAML 1.1, GitLab's parser) reads as something other than the string written
# in cifab.yml, if they are written plain: booleans in any case, sexagesimal numbers, octal and
# underscored numbers, null, infinities; and the line separators that a plain or single-quoted
# scalar would fold into spaces.
PSYCH_SPECIAL = ["on", "Off", "NO", "yes", "Y", "n", "1:20", "190:20:30", "0o17", "0x1F", "1_000", "1e3", "~",
                 "null", ".inf", "-.Inf", ".NaN", "2001-12-14", "=", "<<", "a\u2028b", "a\x85b", "a\u2029b",
                 " lead", "trail ", "# hash", "- dash", "x: y", "@at", "`tick`"]


def test_every_psych_special_scalar_keeps_its_meaning_through_the_escape_hatches(tmp_path: Path) -> None:
    variables = {f"V{i}": value for i, value in enumerate(PSYCH_SPECIAL)}
    manifest = {"jobs": {"go-test": {"variables": variables, "tags": PSYCH_SPECIAL}},
                "extra_jobs": {name: {"stage": "test", "script": [name]} for name in PSYCH_SPECIAL[:10]}}
    # JSON is YAML too, and writes NEL and U+2028 as escapes (PyYAML's dumper would fold them).
    text = render(tmp_path, "\n".join(f"{key}: {json.dumps(value)}" for key, value in manifest.items()) + "\n")
    read = pipeline_yaml.load(text)  # PyYAML's SafeLoader resolves as Psych does (YAML 1.1)
    assert read["go-test"]["variables"] == {"CGO_ENABLED": "1", **variables}
    assert read["go-test"]["tags"] == PSYCH_SPECIAL
    for name in PSYCH_SPECIAL[:10]:
        assert read[name]["script"] == [name]
        # An extra job that says nothing of when it runs runs in every pipeline, as generated jobs do.
        assert read[name]["rules"] == read["go-test"]["rules"] == read[".every-pipeline"]["rules"]
    assert "\u2028" not in text and "\x85" not in text  # written as escapes, not raw
