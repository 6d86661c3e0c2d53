"""Stack detection for `cifab init`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab.init import detect
from cifab.stacks import go
from tests.conftest import write_go_repo


def test_go_module_version_and_dockerfile(go_repo: Path) -> None:
    found = detect.detect(go_repo)
    assert found.stack == "go"
    assert found.name == "hello"
    assert found.settings["module"] == "github.com/acme/hello"
    assert found.settings["version"] == "1.27"  # go 1.26.1 is a minimum: the newest release
    assert found.dockerfile is True
    assert found.settings["binaries"] == [{"name": "hello", "main": "."}]


def test_toolchain_line_wins_over_go_line(tmp_path: Path) -> None:
    repo = write_go_repo(tmp_path / "r")
    (repo / "go.mod").write_text("module example.com/r\n\ngo 1.24\n\ntoolchain go1.25.3\n")
    assert detect.detect(repo).settings["version"] == "1.25.3"  # the image tag keeps the patch level


def test_major_version_suffix_is_not_the_name(tmp_path: Path) -> None:
    repo = write_go_repo(tmp_path / "r", module="github.com/acme/widget/v3")
    assert detect.detect(repo).name == "widget"


def test_cmd_directories_become_binaries(tmp_path: Path) -> None:
    repo = tmp_path / "multi"
    repo.mkdir()
    (repo / "go.mod").write_text("module example.com/multi\n\ngo 1.26\n")
    for name in ("api", "worker"):
        (repo / "cmd" / name).mkdir(parents=True)
        (repo / "cmd" / name / "main.go").write_text("package main\n\nfunc main() {}\n")
    (repo / "cmd" / "shared").mkdir()
    (repo / "cmd" / "shared" / "lib.go").write_text("package shared\n")
    found = detect.detect(repo)
    assert found.settings["binaries"] == [{"name": "api", "main": "./cmd/api"},
                                          {"name": "worker", "main": "./cmd/worker"}]
    assert found.dockerfile is False


def test_library_has_no_binaries(tmp_path: Path) -> None:
    repo = tmp_path / "lib"
    repo.mkdir()
    (repo / "go.mod").write_text("module example.com/lib\n\ngo 1.26\n")
    (repo / "lib.go").write_text("package lib\n")
    (repo / "lib_test.go").write_text("package main\n")  # test files do not make a command
    found = detect.detect(repo)
    assert found.settings["binaries"] == []
    assert "library" in " ".join(found.evidence)


def test_no_go_mod_means_no_stack(tmp_path: Path) -> None:
    found = detect.detect(tmp_path)
    assert found.stack is None


def test_module_name_helper() -> None:
    assert go.module_name("example.com/a/b") == "b"
    assert go.module_name("example.com/a/v2") == "a"
    assert go.module_name("single") == "single"


CARGO = '[package]\nname = "a"\nversion = "0.1.0"\n'


@pytest.mark.parametrize(("files", "stack", "warning"), [
    ({"package.json": "[]"}, "node", "package.json: the top level is an array, not an object; read as empty"),
    ({"package.json": '{"dependencies": []}'}, "node", "package.json: dependencies is an array, not an object"),
    ({"package.json": '{"engines": "x"}'}, "node", "package.json: engines is a string, not an object; ignored"),
    ({"package.json": '{"name": 5, "scripts": [1]}'}, "node", "package.json: scripts is an array, not an object"),
    ({"pyproject.toml": 'project = "x"\n'}, "python", "pyproject.toml: project is a string, not a table; ignored"),
    ({"pyproject.toml": "[project]\nrequires-python = 3\n"}, "python",
     "pyproject.toml: project.requires-python is an integer, not a string"),
    ({"Cargo.toml": "bin = 5\n" + CARGO}, "rust", "Cargo.toml: bin is an integer, not an array; ignored"),
    ({"Cargo.toml": CARGO, "rust-toolchain.toml": 'toolchain = "x"\n'}, "rust",
     "rust-toolchain.toml: toolchain is a string, not a table; ignored"),
])
def test_oddly_typed_project_files_are_reported_and_read_around(tmp_path: Path, files: dict[str, str], stack: str,
                                                                 warning: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    found = detect.detect(tmp_path)
    assert found.stack == stack
    assert any(warning in line for line in found.evidence), found.evidence


def test_init_goes_on_past_an_oddly_typed_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".git").mkdir()
    (tmp_path / "package.json").write_text('{"name": "shop", "engines": "x", "scripts": {"test": "jest"}}')
    result = cli("init", "--yes", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "package.json: engines is a string" in result.output
    assert "test: true" in (tmp_path / "cifab.yml").read_text()


def test_a_folder_whose_name_cannot_be_a_component_path_is_left_out_with_a_warning(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".git").mkdir()
    for folder in ("api", "my api", "we:b"):
        write_go_repo(tmp_path / folder, dockerfile=False, module=f"example.com/{folder.replace(' ', '')}")
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "package.json").write_text('{"name": "web"}')
    result = cli("init", "--yes", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "'my api' left out" in result.output and "'we:b' left out" in result.output
    manifest = (tmp_path / "cifab.yml").read_text()
    assert "path: api" in manifest and "path: web" in manifest and "my api" not in manifest
    assert cli("generate", cwd=tmp_path).exit_code == 0
