"""Generate keeps every value exactly as GitLab will read it, and refuses names that would
collide; small messages that used to mislead."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cifab.contract import State, state, wrap
from cifab.errors import ProblemsError
from cifab.generate.render import scalar
from cifab.manifest.load import parse
from tests.lint_helpers import lint, of
from tests.test_generate import _values


@pytest.mark.parametrize("word", ["oN", "YES", "Off", "nO", "TRUE", "False", "NULL", "Null", "~", ".Inf", ".NaN"])
def test_words_psych_reads_as_non_strings_are_quoted(word: str) -> None:
    # GitLab's parser (Ruby's Psych) reads these, in any letter case, as booleans, null or floats.
    written = scalar(word)
    assert written.startswith('"') and yaml.safe_load(f"k: {written}")["k"] == word


@pytest.mark.parametrize(("text", "where", "line"), [
    ("stack: docker\ndeploy:\n  environments:\n    - {name: prod, script: a}\n    - {name: prod, script: b}\n",
     "deploy.environments[1].name", 7),
    ("stack: monorepo\ncomponents:\n  - {name: api, path: a, stack: docker}\n  - {name: api, path: b, stack: docker}\n",
     "components[1].name", 6),
])
def test_duplicate_names_are_refused_where_they_are_written(text: str, where: str, line: int) -> None:
    with pytest.raises(ProblemsError) as failed:
        parse(("cifab: 1\nproject: x\n" + text).encode(), "cifab.yml")
    [problem] = failed.value.problems
    assert problem.message.startswith(f"{where}: ") and problem.line == line  # at the second one


def test_a_byte_order_mark_on_a_generated_file_is_a_hand_edit() -> None:
    ours = wrap("cifab.yml", "test:\n  script: make\n")
    assert state("\ufeff" + ours) is State.HAND_EDITED
    assert state("\ufeffnot ours: 1\n") is State.FOREIGN


def test_an_empty_reference_is_named_for_what_it_is(tmp_path: Path) -> None:
    [f] = of(lint("a:\n  script: !reference []\n", tmp_path), "reference-missing")
    assert f.message == "!reference [] names no job or key"


ODD_VALUES = ["x\u2028y", "a\u0085b", "p\u2029q", "a=1\n\nb=2\n", "trailing  ", "tab\there"]


@pytest.mark.parametrize("hatch", ["", "jobs:\n  test:\n    tags: [x]\n"])
def test_escape_hatches_keep_every_value_exactly(tmp_path: Path, hatch: str) -> None:
    from cifab.generate import plan

    (tmp_path / "t" / "generic").mkdir(parents=True)
    (tmp_path / "t" / "generic" / "test.yml.j2").write_text(
        "test:\n  stage: test\n  script:\n    - |\n      a=1\n\n      b=2\n    - >\n      folded\n\n      para\n")
    variables = "".join(f"    V{i}: {yaml.safe_dump(v).strip().removesuffix('...').strip()}\n"
                        for i, v in enumerate(ODD_VALUES))
    (tmp_path / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: generic\ngeneric:\n  image: alpine:3.22\n"
                                        "  test:\n    script: [make]\n  variables:\n" + variables
                                        + "templates_dir: t\n" + hatch)
    pipeline = yaml.safe_load(plan.plan(tmp_path / "cifab.yml").text)
    assert pipeline["test"]["script"] == ["a=1\n\nb=2\n", "folded\npara\n"]
    assert [pipeline["variables"][f"V{i}"] for i in range(len(ODD_VALUES))] == ODD_VALUES


def test_a_monorepo_keeps_every_value_exactly(tmp_path: Path) -> None:
    from cifab.generate import plan

    variables = "".join(f"        V{i}: {yaml.safe_dump(v).strip().removesuffix('...').strip()}\n"
                        for i, v in enumerate(ODD_VALUES))
    (tmp_path / "cifab.yml").write_text(
        "cifab: 1\nproject: x\nstack: monorepo\ncomponents:\n  - name: api\n    path: api\n    stack: generic\n"
        "    generic:\n      image: alpine:3.22\n      test:\n        script: [make]\n      variables:\n" + variables)
    pipeline = yaml.safe_load(plan.plan(tmp_path / "cifab.yml").text)
    assert ODD_VALUES[0] in _values(pipeline) and all(v in _values(pipeline) for v in ODD_VALUES)


@pytest.mark.parametrize("name", ["A" * 1100, "bad-name"])
def test_a_variable_name_yaml_or_gitlab_cannot_take_is_refused_where_written(name: str) -> None:
    text = ("cifab: 1\nproject: x\nstack: generic\ngeneric:\n  image: alpine:3.22\n  test:\n    script: [make]\n"
            f"  variables:\n    ? {name}\n    : x\n")
    with pytest.raises(ProblemsError) as failed:
        parse(text.encode(), "cifab.yml")
    [problem] = failed.value.problems
    assert problem.line == 9 and "generic.variables: the name" in problem.message and "255" in problem.message
