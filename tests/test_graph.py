"""`cifab graph`: golden renderings (reviewed by eye) and the properties they must keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifab import graph
from cifab.pipeline.config import build_pipeline
from cifab.pipeline.yamlpos import load_text

GOLDEN = Path(__file__).parent / "golden"
INPUT = GOLDEN / "graph-input.yml"


@pytest.mark.parametrize(("fmt", "golden"), [("mermaid", "graph.mermaid"), ("dot", "graph.dot"),
                                             ("tree", "graph.tree.txt")])
def test_golden(cli, fmt: str, golden: str) -> None:
    result = cli("graph", "graph-input.yml", "--format", fmt, cwd=GOLDEN, env={"NO_COLOR": "1", "COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / golden).read_text()


def pipeline(text: str):  # type: ignore[no-untyped-def]
    return build_pipeline(load_text(text, "x.yml"), None)


def test_describe_uses_the_resolved_model() -> None:
    stages, nodes = graph.describe(pipeline(
        ".t:\n  stage: build\n  needs: []\na:\n  extends: .t\n  script: x\nb:\n  script: x\n  needs: [a]\n"))
    assert stages == ["build", "test"]
    assert [(n.name, n.stage, n.needs) for n in nodes] == [("a", "build", ()), ("b", "test", ("a",))]


def test_manual_from_rules_and_from_when() -> None:
    _, nodes = graph.describe(pipeline(
        "a:\n  script: x\n  rules:\n    - if: $A\n      when: manual\nb:\n  script: x\n  when: manual\n"
        "c:\n  script: x\n"))
    assert [n.manual for n in nodes] == [True, True, False]


def test_mermaid_ids_survive_odd_job_names() -> None:
    text = graph.mermaid(pipeline('"a b:c"\n:\n  script: x\n'.replace("\n:", ":")))
    assert 'job1["a b:c"]' in text


def test_dot_escapes_quotes() -> None:
    text = graph.dot(pipeline("'say \"hi\"':\n  script: x\n"))
    assert '"say \\"hi\\""' in text


def test_undeclared_stages_are_still_drawn() -> None:
    stages, _ = graph.describe(pipeline("stages: [build]\na:\n  stage: qa\n  script: x\n"))
    assert stages == ["qa"]


def test_unknown_format_and_bad_yaml(cli, tmp_path: Path) -> None:
    (tmp_path / "x.yml").write_text("a: [\n")
    assert cli("graph", "x.yml", "--format", "png", cwd=tmp_path).exit_code == 2
    result = cli("graph", "x.yml", cwd=tmp_path)
    assert result.exit_code == 2 and "YAML syntax error" in result.stderr


HOSTILE = ('stages: ["x\\e]0;t\\a\\u202e", build]\n'
           '"a\\"] --> evil[\\"\\n```\\n/approve @all":\n  stage: "x\\e]0;t\\a\\u202e"\n  script: x\n'
           '"b\\e[2J":\n  stage: build\n  script: x\n  needs: ["a\\"] --> evil[\\"\\n```\\n/approve @all"]\n')


@pytest.mark.parametrize("fmt", ["tree", "mermaid", "dot"])
def test_hostile_names_are_shown_never_sent(cli, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ci.yml").write_text(HOSTILE)
    result = cli("graph", "ci.yml", "--format", fmt, cwd=tmp_path, env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert not any(c in result.stdout for c in "\x1b\x07\u202e")
    assert not any(line.startswith(("/", "```")) for line in result.stdout.splitlines())
    if fmt == "mermaid":  # every label is one quoted string: no node or edge of its own
        labels = [line.split("[", 1)[1] for line in result.stdout.splitlines() if "[" in line]
        assert all(label.count('"') == 2 and label.endswith('"]') for label in labels), labels
        assert "evil" not in result.stdout.split("subgraph")[0] and "--> evil" not in result.stdout
