"""The positioned YAML loader: positions, GitLab's YAML semantics, and hostile input."""

from __future__ import annotations

import time

import pytest

from cifab.pipeline.yamlpos import MAX_BYTES, Reference, YamlError, YList, YMap, load_bytes, load_text


def test_every_key_and_value_knows_file_line_and_column() -> None:
    data = load_text("job:\n  stage: test\n  script:\n    - make\n", "ci.yml").data
    assert data.key_mark("job") == ("ci.yml", 1, 1)
    job = data["job"]
    assert job.key_mark("stage") == ("ci.yml", 2, 3)
    assert job.value_mark("stage") == ("ci.yml", 2, 10)
    assert job["script"].item_mark(0) == ("ci.yml", 4, 7)


def test_containers_are_plain_dicts_and_lists() -> None:
    data = load_text("a: [1, 2]\nb: {c: d}\n", "x").data
    assert isinstance(data, YMap) and isinstance(data, dict)
    assert isinstance(data["a"], YList) and data["a"] == [1, 2]
    assert data == {"a": [1, 2], "b": {"c": "d"}}


def test_reference_tag_becomes_a_reference_list() -> None:
    data = load_text("a:\n  script: !reference [.setup, script]\n", "x").data
    ref = data["a"]["script"]
    assert isinstance(ref, Reference)
    assert list(ref) == [".setup", "script"]


def test_reference_on_a_scalar_is_an_error_with_position() -> None:
    with pytest.raises(YamlError) as exc:
        load_text("a:\n  script: !reference job\n", "x")
    assert exc.value.line == 2
    assert "sequence" in exc.value.message


def test_anchors_and_aliases_are_expanded() -> None:
    data = load_text(".x: &x [a, b]\njob:\n  script: *x\n", "x").data
    assert data["job"]["script"] == ["a", "b"]


def test_several_merge_keys_in_one_mapping_are_accepted_like_gitlab() -> None:
    text = ".a: &a {image: one, tags: [t]}\n.b: &b {image: two}\njob:\n  <<: *a\n  <<: *b\n  script: x\n"
    job = load_text(text, "x").data["job"]
    assert job["image"] == "two"  # Psych merges in order: the later merge wins
    assert job["tags"] == ["t"]
    assert job["script"] == "x"


def test_merge_key_list_gives_earlier_mappings_precedence() -> None:
    text = ".a: &a {image: one}\n.b: &b {image: two, tags: [t]}\njob:\n  <<: [*a, *b]\n"
    job = load_text(text, "x").data["job"]
    assert job["image"] == "one"
    assert job["tags"] == ["t"]


def test_explicit_key_after_merge_wins() -> None:
    job = load_text(".a: &a {image: one}\njob:\n  <<: *a\n  image: mine\n", "x").data["job"]
    assert job["image"] == "mine"


def test_merge_of_a_scalar_is_an_error() -> None:
    with pytest.raises(YamlError, match="merge key"):
        load_text("a: &a 1\njob:\n  <<: *a\n", "x")


def test_duplicate_keys_keep_the_last_and_are_recorded() -> None:
    loaded = load_text("job:\n  script: a\n  script: b\n", "x")
    assert loaded.data["job"]["script"] == "b"
    assert loaded.duplicates == [("script", ("x", 3, 3))]


def test_component_file_with_spec_header() -> None:
    loaded = load_text("spec:\n  inputs:\n    stage:\n      default: test\n---\njob:\n  script: x\n", "c.yml")
    assert loaded.header == {"spec": {"inputs": {"stage": {"default": "test"}}}}
    assert loaded.data == {"job": {"script": "x"}}
    assert loaded.data.key_mark("job") == ("c.yml", 6, 1)


def test_timestamps_stay_text() -> None:
    assert load_text("a: 2024-01-01\n", "x").data["a"] == "2024-01-01"


def test_yaml_11_booleans_and_non_string_keys() -> None:
    data = load_text("on: yes\n1: x\n", "x").data
    assert data == {"on": True, "1": "x"}


def test_empty_file_has_no_data() -> None:
    assert load_text("", "x").data is None
    assert load_text("# only a comment\n", "x").data is None


def test_syntax_error_has_position() -> None:
    with pytest.raises(YamlError) as exc:
        load_text("job:\n  script: a: b\n", "x")
    assert (exc.value.line, exc.value.col) == (2, 12)
    assert "mapping values are not allowed" in exc.value.message


def test_undefined_alias_is_named_like_gitlab_names_it() -> None:
    with pytest.raises(YamlError, match="Unknown alias: bad_alias"):
        load_text("job:\n  script: *bad_alias\n", "x")


def test_tab_indentation_is_explained() -> None:
    with pytest.raises(YamlError, match="tabs for indentation") as exc:
        load_text("job:\n\tscript: x\n", "x")
    assert exc.value.line == 2


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 10)}]")
    start = time.process_time()  # CPU time: a loaded machine slows wall time only
    with pytest.raises(YamlError, match="too big"):
        load_text("\n".join(lines) + "\n", "bomb.yml")
    assert time.process_time() - start < 10


def test_nesting_deeper_than_gitlab_allows_is_refused() -> None:
    text = "a: " + "[" * 150 + "]" * 150 + "\n"
    with pytest.raises(YamlError, match=r"too big|too deep"):
        load_text(text, "deep.yml")


def test_extremely_deep_flow_nesting_is_refused_by_the_parser() -> None:
    with pytest.raises(YamlError):
        load_text("a: " + "[" * 100_000, "deep.yml")


def test_nesting_within_the_limit_is_fine() -> None:
    assert load_text("a: " + "[" * 50 + "]" * 50 + "\n", "ok.yml").data is not None


def test_huge_file_is_refused_before_parsing() -> None:
    raw = b"a: b\n" * (MAX_BYTES // 5 + 10)
    with pytest.raises(YamlError, match="too big"):
        load_bytes(raw, "huge.yml")


def test_binary_input_is_refused() -> None:
    with pytest.raises(YamlError, match="binary"):
        load_bytes(b"\x7fELF\x00\x00\x01", "a.out")


def test_non_utf8_input_is_refused_with_position() -> None:
    with pytest.raises(YamlError, match="not valid UTF-8") as exc:
        load_bytes(b"a: b\nc: \xff\n", "latin.yml")
    assert (exc.value.line, exc.value.col) == (2, 4)


def test_byte_order_mark_is_ignored() -> None:
    assert load_bytes("\ufeffa: b\n".encode(), "bom.yml").data == {"a": "b"}


def test_an_unclosed_bracket_is_reported_where_it_opens() -> None:
    # An unclosed `[` at the end of a manifest was reported past its last line, with no frame.
    with pytest.raises(YamlError) as caught:
        load_text("a: 1\nb:\n  - [test\n", "f.yml")
    assert (caught.value.line, caught.value.col) == (3, 5) and "never closed" in caught.value.message
    with pytest.raises(YamlError) as middle:
        load_text("go:\n  versions: [a, b\n  race: true\n", "f.yml")
    assert (middle.value.line, middle.value.col) == (3, 7) and "opens at 2:13" in middle.value.message
