"""Safe rendering: every value becomes one YAML scalar that reads back unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cifab.errors import CifabError
from cifab.generate import render


def reads_back(text: str) -> object:
    return yaml.safe_load(f"key: {render.scalar(text)}\n")["key"]


@pytest.mark.parametrize("value", ["main.version", "./cmd/app", "linux/amd64", "$CI_PROJECT_DIR/.go",
                                   "https://example.com/a?b=c", "go build -o \"dist/x\" ./cmd/x"])
def test_ordinary_strings_stay_plain(value: str) -> None:
    assert render.scalar(value) == value
    assert reads_back(value) == value


@pytest.mark.parametrize("value", ["true", "yes", "on", "null", "~", "1.26", "1e3", "1_000", "0x1F", "2024-01-01",
                                   "", " leading", "trailing ", "a: b", "a #b", "- item", "*alias",
                                   "&anchor", "!tag", "{x}", "[x]", "'q'", '"q"', "%x", "@x", "`x`", "x:"])
def test_strings_yaml_would_misread_are_quoted(value: str) -> None:
    out = render.scalar(value)
    assert out.startswith('"'), out
    assert reads_back(value) == value


def test_injection_stays_one_string() -> None:
    value = "x\ninjected: {script: [id]}"
    assert render.scalar(value) == '"x\\ninjected: {script: [id]}"'
    assert yaml.safe_load(f"a: {render.scalar(value)}\n") == {"a": value}


def test_control_and_unicode_characters_round_trip() -> None:
    for value in ["tab\there", "bell\x07", "nel\x85", "ls\u2028", "emoji 🚀", "é", "\x7f"]:
        assert reads_back(value) == value


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_round_trips_as_one_scalar(value: str) -> None:
    out = render.scalar(value)
    assert "\n" not in out
    assert yaml.safe_load(f"key: {out}\nother: 1\n") == {"key": value, "other": 1}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(), max_size=5))
def test_any_list_round_trips_as_a_flow_sequence(values: list[str]) -> None:
    out = render.yaml_filter(values)
    assert yaml.safe_load(f"key: {out}\n") == {"key": values}


def test_booleans_numbers_and_null() -> None:
    assert render.scalar(True) == "true" and render.scalar(False) == "false"
    assert render.scalar(7) == "7" and render.scalar(None) == "null"


def test_mappings_are_refused_by_the_filter() -> None:
    with pytest.raises(CifabError):
        render.yaml_filter({"a": 1})


def test_unfiltered_values_are_refused(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yml.j2").write_text("image: {{ image }}\n")
    with pytest.raises(CifabError, match="without the `yaml` filter"):
        render.render({"image": "alpine"}, [tmp_path])


def test_undefined_values_are_errors_not_blanks(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yml.j2").write_text("image: {{ imgae | yaml }}\n")
    with pytest.raises(CifabError, match="imgae"):
        render.render({"image": "alpine"}, [tmp_path])


def test_sandbox_blocks_unsafe_attribute_access(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yml.j2").write_text("x: {{ ''.__class__.__mro__ | yaml }}\n")
    with pytest.raises(CifabError):
        render.render({}, [tmp_path])


def test_values_are_data_not_template_code(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yml.j2").write_text("x: {{ value | yaml }}\n")
    text = render.render({"value": "{{ 7 * 7 }}"}, [tmp_path])
    assert yaml.safe_load(text) == {"x": "{{ 7 * 7 }}"}


def test_templates_ship_with_the_package() -> None:
    assert (render.templates_dir() / render.ENTRY_TEMPLATE).is_file()
    assert (render.templates_dir() / "go" / "test.yml.j2").is_file()


def test_tidy_collapses_blank_runs() -> None:
    assert render.tidy("\n\na: 1   \n\n\n\nb: 2\n\n") == "a: 1\n\nb: 2\n"


def test_block_prints_a_macro_but_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "t.yml.j2").write_text(
        '{% from "base/macros.yml.j2" import reports %}\njob:\n{{ block(reports, junit="r.xml") }}\n')
    text = render.environment([tmp_path]).get_template("t.yml.j2").render()
    assert text == ("job:\n  artifacts:\n    when: always\n    expire_in: 1 week\n    reports:\n"
                    "      junit: r.xml\n")
    (tmp_path / "bad.yml.j2").write_text('{{ block("a: b") }}\n')
    with pytest.raises(CifabError, match="block\\(\\) takes a macro"):
        render.environment([tmp_path]).get_template("bad.yml.j2").render()


def test_values_inside_a_macro_still_need_the_yaml_filter(tmp_path: Path) -> None:
    (tmp_path / "t.yml.j2").write_text("{% macro m(x) %}  k: {{ x }}{% endmacro %}\nj:\n{{ block(m, 'v') }}\n")
    with pytest.raises(CifabError, match="without the `yaml` filter"):
        render.environment([tmp_path]).get_template("t.yml.j2").render()
