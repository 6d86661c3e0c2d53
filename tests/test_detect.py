"""Stack detection for `cifab init`."""

from __future__ import annotations

from pathlib import Path

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
    assert detect.detect(repo).settings["version"] == "1.25"


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
