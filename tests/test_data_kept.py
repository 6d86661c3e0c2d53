"""Generate keeps every value exactly as GitLab will read it, and refuses names that would
collide; small messages that used to mislead."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cifab.errors import ProblemsError
from cifab.generate.contract import State, state, wrap
from cifab.generate.render import scalar
from cifab.manifest.load import parse
from tests.lint_helpers import lint, of


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
