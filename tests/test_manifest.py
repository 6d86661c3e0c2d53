"""cifab.yml: schema validation with positioned, helpful problems, and defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cifab.errors import ProblemsError
from cifab.manifest import load as manifest
from cifab.manifest import schema as manifest_schema

MINIMAL = b"cifab: 1\nproject: hello\nstack: go\n"


def problems(text: bytes) -> list[str]:
    with pytest.raises(ProblemsError) as exc:
        manifest.parse(text, "cifab.yml")
    return [str(p) for p in exc.value.problems]


def test_minimal_manifest_gets_every_default() -> None:
    data = manifest.parse(MINIMAL, "cifab.yml").data
    assert data["go"]["version"] == "1.27"  # cifab's pin: the newest Go release it knows
    assert data["go"]["race"] is True and data["go"]["coverage"] is True
    assert data["go"]["targets"] == ["linux/amd64", "linux/arm64"]
    assert data["image"]["build"] is False
    assert data["deploy"] == {"image": "alpine:3.22", "environments": []}
    assert data["lint"] == {"ignore": [], "shellcheck": {"exclude": [], "include": [], "timeout": 60, "cache": True},
                            "scenarios": True}


def test_defaults_fill_list_items() -> None:
    text = MINIMAL + b"deploy:\n  environments:\n    - name: staging\n      script: ./deploy\n"
    env = manifest.parse(text, "cifab.yml").data["deploy"]["environments"][0]
    assert env == {"name": "staging", "script": "./deploy", "when": "default_branch", "manual": False}


def test_given_values_are_kept() -> None:
    data = manifest.parse(MINIMAL + b"go:\n  version: '1.24'\n  race: false\n", "cifab.yml").data
    assert data["go"]["version"] == "1.24" and data["go"]["race"] is False


def test_misspelled_key_gets_position_path_and_did_you_mean() -> None:
    [problem] = problems(MINIMAL + b"go:\n  verison: '1.24'\n")
    assert problem.startswith("cifab.yml:5:3: go: unknown key 'verison'")
    assert "did you mean 'version'?" in problem


def test_unknown_top_level_key_lists_what_is_allowed_when_nothing_is_close() -> None:
    [problem] = problems(MINIMAL + b"zzz: 1\n")
    assert "cifab.yml:4:1: unknown key 'zzz'" in problem
    assert "allowed keys:" in problem


def test_wrong_type_names_both_types() -> None:
    [problem] = problems(MINIMAL + b"go:\n  race: sometimes\n")
    assert problem == 'cifab.yml:5:9: go.race: expected a boolean, got "sometimes"'


def test_pattern_failure_says_what_is_expected() -> None:
    [problem] = problems(MINIMAL + b"go:\n  targets: [linux]\n")
    assert "go.targets[0]" in problem and "GOOS/GOARCH pair" in problem
    assert problem.startswith("cifab.yml:5:13:")


def test_unquoted_go_version_is_explained() -> None:
    [problem] = problems(MINIMAL + b"go:\n  version: 1.24\n")
    assert "go.version" in problem and "expected a string" in problem


def test_enum_failure_suggests_the_nearest_value() -> None:
    text = MINIMAL + b"deploy:\n  environments:\n    - name: prod\n      script: x\n      when: tag\n"
    [problem] = problems(text)
    assert "deploy.environments[0].when" in problem and "did you mean 'tags'?" in problem


def test_missing_required_key_points_at_the_mapping() -> None:
    [problem] = problems(MINIMAL + b"deploy:\n  environments:\n    - name: prod\n")
    assert "missing required key 'script'" in problem
    assert problem.startswith("cifab.yml:6:7:")


def test_one_problem_per_mistake() -> None:
    found = problems(b"cifab: 1\nproject: x\nstack: go\ngo:\n  race: 1\n  coverage: 2\n  tagrets: []\n")
    assert len(found) == 3


def test_wrong_version_of_the_format() -> None:
    [problem] = problems(b"cifab: 2\nproject: x\nstack: go\n")
    assert "cifab" in problem and "format version" in problem


def test_unsupported_stack() -> None:
    [problem] = problems(b"cifab: 1\nproject: x\nstack: cobol\n")
    assert "stack" in problem and "go" in problem


def test_generic_stack_requires_its_section() -> None:
    [problem] = problems(b"cifab: 1\nproject: x\nstack: generic\n")
    assert "generic" in problem


def test_empty_manifest() -> None:
    assert problems(b"") == ["cifab.yml:1:1: the manifest is empty; run `cifab init` to write one"]


def test_list_instead_of_mapping() -> None:
    [problem] = problems(b"- go\n- python\n")
    assert "must be a mapping of keys, not a list" in problem


def test_invalid_yaml() -> None:
    [problem] = problems(b"cifab: 1\nproject: [x\n")
    assert problem.startswith("cifab.yml:") and "YAML syntax error" in problem


def test_non_utf8() -> None:
    [problem] = problems(b"cifab: 1\nproject: \xe9\n")
    assert "not valid UTF-8" in problem and problem.startswith("cifab.yml:2:10:")


def test_duplicate_key_is_a_problem() -> None:
    [problem] = problems(MINIMAL + b"project: again\n")
    assert "given twice" in problem


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError, match="not found"):
        manifest.load(tmp_path / "cifab.yml")


def test_schema_is_valid_json_schema() -> None:
    import jsonschema_rs

    schema = json.loads(manifest_schema.schema_text())
    assert schema["$schema"].startswith("http://json-schema.org/draft-07")
    assert jsonschema_rs.meta.is_valid(schema)


def test_cli_bad_manifest_exits_2_without_traceback(cli, tmp_path: Path) -> None:
    (tmp_path / "cifab.yml").write_bytes(MINIMAL + b"go:\n  verison: x\n")
    result = cli("generate", cwd=tmp_path)
    assert result.exit_code == 2
    assert "cifab.yml:5:3: error manifest-invalid go: unknown key 'verison'" in result.stderr
    assert "5 |   verison: x\n  |   ^" in result.stderr  # the code frame
    assert "Traceback" not in result.output


def test_cli_schema_prints_the_schema(cli) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "cifab.yml"


def test_an_image_build_without_its_dockerfile_is_a_positioned_problem(cli, tmp_path: Path) -> None:
    # image.build: true in a repository without a Dockerfile gave a first pipeline that failed at once.
    (tmp_path / "cifab.yml").write_bytes(MINIMAL + b"image:\n  build: true\n")
    for command in ("generate", "lint"):
        result = cli(command, cwd=tmp_path)
        assert result.exit_code == 2, command
        assert ("cifab.yml:5:10: error manifest-invalid image.build: the image is built from Dockerfile, "
                "which does not exist") in result.stderr, command
        assert "Traceback" not in result.output
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert cli("generate", cwd=tmp_path).exit_code == 0


def test_a_component_image_is_looked_for_in_its_own_folder(tmp_path: Path) -> None:
    text = (b"cifab: 1\nproject: p\nstack: monorepo\ncomponents:\n  - name: api\n    path: api\n    stack: go\n"
            b"    image:\n      build: true\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")  # the root's does not count for api/
    with pytest.raises(ProblemsError) as exc:
        manifest.parse(text, "cifab.yml", tmp_path / "cifab.yml")
    assert [p.line for p in exc.value.problems] == [9]
    assert "api/Dockerfile" in str(exc.value.problems[0])
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text("FROM scratch\n")
    manifest.parse(text, "cifab.yml", tmp_path / "cifab.yml")


def test_an_image_context_outside_the_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    text = MINIMAL + b"image:\n  build: true\n  context: ../..\n"
    with pytest.raises(ProblemsError) as exc:
        manifest.parse(text, "cifab.yml", tmp_path / "cifab.yml")
    assert [(p.line, p.message) for p in exc.value.problems] == [(6, "image.context: ../.. is outside the repository")]
