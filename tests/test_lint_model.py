"""The pipeline model: includes, extends, !reference, default:, stages, as GitLab resolves them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab.gitlab import deep_merge
from cifab.pipeline.config import build_pipeline
from cifab.pipeline.yamlpos import load_text
from tests.lint_helpers import errors, lint, messages, of


def model(text: str, root: Path | None = None, verified: bool = True):  # type: ignore[no-untyped-def]
    return build_pipeline(load_text(text, str(root / ".gitlab-ci.yml") if root else ".gitlab-ci.yml"),
                          root, verified)


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


# ------------------------------------------------------------------ includes

def test_local_include_string_and_mapping_forms(tmp_path: Path) -> None:
    root = repo(tmp_path, {"ci/a.yml": "a:\n  script: a\n", "ci/b.yml": "b:\n  script: b\n"})
    p = model("include:\n  - ci/a.yml\n  - local: /ci/b.yml\nc:\n  script: c\n", root)
    assert sorted(p.jobs) == ["a", "b", "c"]
    assert p.jobs["a"].mark[0] == "ci/a.yml"


def test_single_string_include(tmp_path: Path) -> None:
    root = repo(tmp_path, {"ci/a.yml": "a:\n  script: a\n"})
    assert "a" in model("include: ci/a.yml\n", root).jobs


def test_the_including_file_wins_and_mappings_merge_deeply(tmp_path: Path) -> None:
    root = repo(tmp_path, {"base.yml": "variables:\n  A: base\n  B: base\njob:\n  script: base\n  tags: [x]\n"})
    p = model("include: base.yml\nvariables:\n  B: mine\njob:\n  script: mine\n", root)
    assert p.config["variables"] == {"A": "base", "B": "mine"}
    assert p.jobs["job"].config["script"] == "mine" and p.jobs["job"].config["tags"] == ["x"]


def test_glob_include(tmp_path: Path) -> None:
    root = repo(tmp_path, {"ci/one.yml": "one:\n  script: x\n", "ci/two.yml": "two:\n  script: x\n",
                           "ci/readme.md": "not yaml"})
    assert {"one", "two"} <= set(model("include: 'ci/*.yml'\n", root).jobs)


def test_glob_matching_nothing(tmp_path: Path) -> None:
    found = lint("include: 'ci/*.yml'\nx:\n  script: x\n", repo(tmp_path, {}))
    assert messages(of(found, "include-missing")) == ["Included file `ci/*.yml` does not have any match!"]


def test_nested_includes(tmp_path: Path) -> None:
    root = repo(tmp_path, {"a.yml": "include: b.yml\na:\n  script: a\n", "b.yml": "b:\n  script: b\n"})
    assert {"a", "b"} <= set(model("include: a.yml\n", root).jobs)


def test_include_cycle_terminates(tmp_path: Path) -> None:
    root = repo(tmp_path, {"a.yml": "include: b.yml\na:\n  script: a\n", "b.yml": "include: a.yml\nb:\n  script: b\n"})
    assert {"a", "b"} <= set(model("include: a.yml\n", root).jobs)


def test_missing_local_include_in_a_repository_is_an_error_at_the_entry(tmp_path: Path) -> None:
    found = lint("x:\n  script: x\ninclude:\n  - nope.yml\n", repo(tmp_path, {}))
    [f] = of(found, "include-missing")
    assert f.message == "Local file `nope.yml` does not exist!"
    assert (f.line, f.col) == (4, 5)


def test_missing_local_include_outside_a_repository_is_unresolved_info(tmp_path: Path) -> None:
    found = lint("include: nope.yml\nx:\n  script: x\n", tmp_path, root_verified=False)
    assert of(found, "include-missing") == []
    assert "not a git checkout" in of(found, "include-unresolved")[0].message


def test_local_include_without_a_project_like_gitlab_says(tmp_path: Path) -> None:
    found = lint("include: unknown/file.yml\nrspec:\n  script: rspec\n", None)
    assert "Local file `unknown/file.yml` does not have project!" in messages(found)


def test_more_than_150_includes(tmp_path: Path) -> None:
    files = {f"p{i}.yml": f"j{i}:\n  script: x\n" for i in range(151)}
    root = repo(tmp_path, files)
    text = "include:\n" + "".join(f"  - p{i}.yml\n" for i in range(151))
    assert messages(of(lint(text, root), "include-limit")) == ["Maximum of 150 nested includes are allowed!"]
    text150 = "include:\n" + "".join(f"  - p{i}.yml\n" for i in range(150))
    assert of(lint(text150, root), "include-limit") == []


def test_included_file_with_bad_yaml_points_into_that_file(tmp_path: Path) -> None:
    root = repo(tmp_path, {"bad.yml": "a:\n  b: c: d\n"})
    [f] = of(lint("include: bad.yml\nx:\n  script: x\n", root), "yaml-syntax")
    assert f.src == "bad.yml" and f.line == 2


def test_remote_project_template_and_component_includes_are_info(tmp_path: Path) -> None:
    text = ("include:\n  - remote: https://example.com/ci.yml\n  - project: g/p\n    file: x.yml\n"
            "  - template: Jobs/Code-Quality.gitlab-ci.yml\n  - component: $CI_SERVER_FQDN/g/c/x@1.0\n"
            "  - https://example.com/other.yml\nx:\n  script: x\n")
    found = lint(text, repo(tmp_path, {}))
    infos = of(found, "include-unresolved")
    assert len(infos) == 5 and all(f.severity.name == "INFO" for f in infos)
    assert errors(found) == []


@pytest.mark.parametrize("template", ["Jobs/Secret-Detection.gitlab-ci.yml", "Jobs/SAST.gitlab-ci.yml",
                                      "Jobs/Container-Scanning.gitlab-ci.yml"])
def test_gitlab_security_templates_are_read_from_cifabs_outline(tmp_path: Path, template: str) -> None:
    text = f"include:\n  - template: {template}\nstages: [build, test]\nx:\n  stage: build\n  script: x\n"
    found = lint(text, repo(tmp_path, {"app.py": "print(1)\n"}))
    assert of(found, "include-unresolved") == [] and errors(found) == [], messages(found)
    # Its jobs are in the test stage: GitLab refuses a pipeline whose stages lack it.
    # Reported at the include entry, not at a comment that names the template first.
    missing = lint(f"# {template} finds what we miss\n" + text.replace("[build, test]", "[build]"),
                   repo(tmp_path, {"app.py": "print(1)\n"}))
    found = [f for f in of(missing, "stage-undefined") if "chosen stage test does not exist" in f.message]
    assert found and all((f.line, f.col) == (3, 5) for f in found), messages(missing)


def test_unresolved_include_silences_existence_claims(tmp_path: Path) -> None:
    text = ("include:\n  - template: Jobs/Build.gitlab-ci.yml\n"
            "test:\n  extends: .from-template\n  needs: [build]\n  dependencies: [build]\n"
            "  script: !reference [.from-template, script]\n")
    found = lint(text, repo(tmp_path, {}))
    assert errors(found) == [], messages(found)


def test_unresolved_include_still_checks_what_is_certain(tmp_path: Path) -> None:
    text = "include:\n  - template: Jobs/Build.gitlab-ci.yml\nstages: [build]\ntest:\n  stage: qa\n  script: x\n"
    assert of(lint(text, repo(tmp_path, {})), "stage-undefined")


def test_include_entry_with_unknown_subkey() -> None:
    found = lint("include:\n  - yolo: /local.gitlab-ci.yml\nrspec:\n  script: test\n")
    assert any("does not have a valid subkey for include" in m for m in messages(found))


# ------------------------------------------------------------------ extends

def test_extends_deep_merges_hashes_and_replaces_arrays() -> None:
    p = model(".base:\n  variables: {A: '1', B: '1'}\n  script: [base]\n  tags: [a]\n"
              "job:\n  extends: .base\n  variables: {B: '2'}\n  tags: [b]\n")
    job = p.jobs["job"].config
    assert job["variables"] == {"A": "1", "B": "2"}
    assert job["tags"] == ["b"] and job["script"] == ["base"]


def test_extends_list_later_parents_win() -> None:
    p = model(".a:\n  image: a\n  tags: [a]\n.b:\n  image: b\njob:\n  extends: [.a, .b]\n  script: x\n")
    assert p.jobs["job"].config["image"] == "b" and p.jobs["job"].config["tags"] == ["a"]


def test_extends_keeps_positions_of_inherited_keys() -> None:
    p = model(".a:\n  image: alpine\njob:\n  extends: .a\n  script: x\n")
    assert p.jobs["job"].value_mark("image") == (".gitlab-ci.yml", 2, 10)


def test_extends_eleven_levels_are_allowed_twelve_are_not() -> None:
    def chain(levels: int) -> str:
        text = "".join(f".l{i}:\n  extends: .l{i + 1}\n" for i in range(levels - 1))
        return text + f".l{levels - 1}:\n  image: x\njob:\n  extends: .l0\n  script: x\n"

    assert of(lint(chain(11)), "extends-too-deep") == []
    assert messages(of(lint(chain(12)), "extends-too-deep")) == ["job: nesting too deep in `extends`"]


def test_extends_cycle_and_unknown() -> None:
    found = lint(".a:\n  extends: .b\n.b:\n  extends: .a\njob:\n  extends: .a\n  script: x\n"
                 "other:\n  extends: .missing\n  script: x\n")
    assert ".a: circular dependency detected in `extends`" in messages(found)  # the first job on the cycle
    assert "other: unknown keys in `extends` (.missing)" in messages(found)


# ------------------------------------------------------------------ !reference

def test_reference_is_resolved_after_extends() -> None:
    p = model(".setup:\n  script: [a, b]\njob:\n  script:\n    - !reference [.setup, script]\n    - c\n")
    assert p.jobs["job"].config["script"] == [["a", "b"], "c"]


def test_reference_to_nested_key_and_chains() -> None:
    p = model(".v:\n  variables:\n    A: one\n.s:\n  script: !reference [.v, variables, A]\n"
              "job:\n  script: !reference [.s, script]\n")
    assert p.jobs["job"].config["script"] == "one"


def test_reference_missing_and_circular() -> None:
    found = lint("job-1:\n  script:\n    - !reference [job-3, script]\njob-3:\n  script:\n"
                 "    - !reference [job-1, script]\nx:\n  script: !reference [nope, script]\n")
    assert any(m.endswith("is part of a circular chain") for m in messages(found))
    assert '!reference ["nope", "script"] could not be found' in messages(found)


# ------------------------------------------------------------------ default: and stages

def test_default_applies_unless_the_job_sets_it_or_opts_out() -> None:
    p = model("default:\n  image: base\n  tags: [t]\n"
              "a:\n  script: x\nb:\n  script: x\n  image: own\n"
              "c:\n  script: x\n  inherit:\n    default: false\nd:\n  script: x\n  inherit:\n    default: [tags]\n")
    assert p.jobs["a"].config["image"] == "base"
    assert p.jobs["b"].config["image"] == "own"
    assert "image" not in p.jobs["c"].config
    assert "image" not in p.jobs["d"].config and p.jobs["d"].config["tags"] == ["t"]


def test_legacy_global_keywords_act_as_defaults() -> None:
    assert model("image: old\njob:\n  script: x\n").jobs["job"].config["image"] == "old"


def test_default_stages_and_edges() -> None:
    assert model("job:\n  script: x\n").stages == [".pre", "build", "test", "deploy", ".post"]
    assert model("stages: [a, [b, c], .pre]\njob:\n  script: x\n").stages == [".pre", "a", "b", "c", ".post"]


def test_hidden_jobs_are_not_visible_jobs() -> None:
    p = model(".tpl:\n  script: x\njob:\n  script: y\n")
    assert [j.name for j in p.visible_jobs] == ["job"]


def test_deep_merge_leaves_inputs_untouched() -> None:
    a = {"x": {"y": 1}}
    b = {"x": {"z": 2}}
    assert deep_merge(a, b) == {"x": {"y": 1, "z": 2}}
    assert a == {"x": {"y": 1}} and b == {"x": {"z": 2}}


def test_an_included_file_that_is_a_list_is_reported(tmp_path: Path) -> None:
    root = tmp_path
    (root / ".git").mkdir()
    (root / "ci.yml").write_text("- not\n- a mapping\n")
    found = of(lint("include: ci.yml\nx:\n  script: x\n", root), "config-format")
    assert [f.message for f in found] == ["Included file `ci.yml` does not have valid YAML syntax!"]
