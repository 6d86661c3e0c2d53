"""The expression language, against GitLab's own tables:
spec/lib/gitlab/ci/pipeline/expression/statement_spec.rb (#evaluate and #truthful?), and the
lexer's limits (lib/gitlab/ci/pipeline/expression/lexer.rb: MAX_TOKENS = 100)."""

from __future__ import annotations

import pytest

from cifab.pipeline.expression import ExpressionError, evaluate, parses, statement_value

VARIABLES = {"PRESENT_VARIABLE": "my variable", "PATH_VARIABLE": "a/path/variable/value",
             "FULL_PATH_VARIABLE": "/a/full/path/variable/value", "EMPTY_VARIABLE": ""}

# statement_spec.rb, describe '#evaluate': expression and the value Statement#evaluate gives.
EVALUATE = [
    ('$PRESENT_VARIABLE == "my variable"', True),
    ('"my variable" == $PRESENT_VARIABLE', True),
    ("$PRESENT_VARIABLE == null", False),
    ("$EMPTY_VARIABLE == null", False),
    ('"" == $EMPTY_VARIABLE', True),
    ("$EMPTY_VARIABLE", ""),
    ("$UNDEFINED_VARIABLE == null", True),
    ("null == $UNDEFINED_VARIABLE", True),
    ("$PRESENT_VARIABLE", "my variable"),
    ("$UNDEFINED_VARIABLE", None),
    ("$PRESENT_VARIABLE =~ /var.*e$/", True),
    ("$PRESENT_VARIABLE =~ /va\\r.*e$/", False),
    ("$PRESENT_VARIABLE =~ /va\\/r.*e$/", False),
    ("$PRESENT_VARIABLE =~ /^var.*/", False),
    ("$EMPTY_VARIABLE =~ /var.*/", False),
    ("$UNDEFINED_VARIABLE =~ /var.*/", False),
    ("$PRESENT_VARIABLE =~ /VAR.*/i", True),
    ("$PATH_VARIABLE =~ /path\\/variable/", True),
    ("$FULL_PATH_VARIABLE =~ /^\\/a\\/full\\/path\\/variable\\/value$/", True),
    ("$FULL_PATH_VARIABLE =~ /\\/path\\/variable\\/value$/", True),
    ('$PRESENT_VARIABLE != "my variable"', False),
    ('"my variable" != $PRESENT_VARIABLE', False),
    ("$PRESENT_VARIABLE != null", True),
    ("$EMPTY_VARIABLE != null", True),
    ('"" != $EMPTY_VARIABLE', False),
    ("$UNDEFINED_VARIABLE != null", False),
    ("null != $UNDEFINED_VARIABLE", False),
    ("$PRESENT_VARIABLE !~ /var.*e$/", False),
    ("$PRESENT_VARIABLE !~ /^var.*/", True),
    ("$PRESENT_VARIABLE !~ /^v\\ar.*/", True),
    ("$PRESENT_VARIABLE !~ /^v\\/ar.*/", True),
    ("$EMPTY_VARIABLE !~ /var.*/", True),
    ("$UNDEFINED_VARIABLE !~ /var.*/", True),
    ("$PRESENT_VARIABLE !~ /VAR.*/i", False),
    ('$PRESENT_VARIABLE && "string"', "string"),
    ("$PRESENT_VARIABLE && $PRESENT_VARIABLE", "my variable"),
    ("$PRESENT_VARIABLE && $EMPTY_VARIABLE", ""),
    ("$PRESENT_VARIABLE && null", None),
    ('"string" && $PRESENT_VARIABLE', "my variable"),
    ("$EMPTY_VARIABLE && $PRESENT_VARIABLE", "my variable"),
    ("null && $PRESENT_VARIABLE", None),
    ('$EMPTY_VARIABLE && "string"', "string"),
    ("$EMPTY_VARIABLE && $EMPTY_VARIABLE", ""),
    ('"string" && $EMPTY_VARIABLE', ""),
    ('"string" && null', None),
    ('null && "string"', None),
    ('"string" && "string"', "string"),
    ("null && null", None),
    ("$PRESENT_VARIABLE =~ /my var/ && $EMPTY_VARIABLE =~ /nope/", False),
    ('$EMPTY_VARIABLE == "" && $PRESENT_VARIABLE', "my variable"),
    ('$EMPTY_VARIABLE == "" && $PRESENT_VARIABLE != "nope"', True),
    ("$PRESENT_VARIABLE && $UNDEFINED_VARIABLE", None),
    ("$UNDEFINED_VARIABLE && $EMPTY_VARIABLE", None),
    ("$UNDEFINED_VARIABLE && $PRESENT_VARIABLE", None),
    ("$FULL_PATH_VARIABLE =~ /^\\/a\\/full\\/path\\/variable\\/value$/ && $PATH_VARIABLE =~ /path\\/variable/", True),
    ("$FULL_PATH_VARIABLE =~ /^\\/a\\/bad\\/path\\/variable\\/value$/ && $PATH_VARIABLE =~ /path\\/variable/", False),
    ("$FULL_PATH_VARIABLE =~ /^\\/a\\/bad\\/path\\/variable\\/value$/ || $PATH_VARIABLE =~ /path\\/variable/", True),
    ("$FULL_PATH_VARIABLE =~ /^\\/a\\/bad\\/path\\/variable\\/value$/ || $PATH_VARIABLE =~ /bad\\/path\\/variable/",
     False),
    ("$PRESENT_VARIABLE =~ /my var/ || $EMPTY_VARIABLE =~ /nope/", True),
    ('$EMPTY_VARIABLE == "" || $PRESENT_VARIABLE', True),
    ('$PRESENT_VARIABLE != "nope" || $EMPTY_VARIABLE == ""', True),
    ('$PRESENT_VARIABLE && null || $EMPTY_VARIABLE == ""', True),
    ("$PRESENT_VARIABLE || $UNDEFINED_VARIABLE", "my variable"),
    ("$UNDEFINED_VARIABLE || $PRESENT_VARIABLE", "my variable"),
    ("$UNDEFINED_VARIABLE == null || $PRESENT_VARIABLE", True),
    ("$PRESENT_VARIABLE || $UNDEFINED_VARIABLE == null", "my variable"),
    ("($PRESENT_VARIABLE)", "my variable"),
    ("(($PRESENT_VARIABLE))", "my variable"),
    ('(($PRESENT_VARIABLE && null) || $EMPTY_VARIABLE == "")', True),
    ('($PRESENT_VARIABLE) && (null || $EMPTY_VARIABLE == "")', True),
    ('("string" || "test") == "string"', True),
    ('(null || ("test" == "string"))', False),
    ('("string" == ("test" && "string"))', True),
    ('("string" == ("test" || "string"))', False),
    ('("string" == "test" || "string")', "string"),
    ('("string" == ("string" || (("1" == "1") && ("2" == "3"))))', True),
]


@pytest.mark.parametrize(("expression", "value"), EVALUATE)
def test_evaluate_as_statement_spec_does(expression: str, value: object) -> None:
    assert statement_value(expression, VARIABLES) == value


# statement_spec.rb, describe '#truthful?'.
@pytest.mark.parametrize(("expression", "value"), [
    ('$PRESENT_VARIABLE == "my variable"', True),
    ("$PRESENT_VARIABLE == 'no match'", False),
    ("$UNDEFINED_VARIABLE == null", True),
    ("$PRESENT_VARIABLE", True),
    ("$UNDEFINED_VARIABLE", False),
    ("$EMPTY_VARIABLE", False),
    ("$PRESENT_VARIABLE =~ /var.*/", True),
    ("$UNDEFINED_VARIABLE =~ /var.*/", False),
    ("$PRESENT_VARIABLE !~ /var.*/", False),
    ("$UNDEFINED_VARIABLE !~ /var.*/", True),
    # The case: `&&` returns an operand, and "" is true inside it.
    ("$EMPTY_VARIABLE && $PRESENT_VARIABLE", True),
    ("$PRESENT_VARIABLE && $EMPTY_VARIABLE", False),
])
def test_truthful_as_statement_spec_says(expression: str, value: bool) -> None:
    assert evaluate(expression, VARIABLES) is value


def test_an_invalid_statement_is_refused() -> None:
    """statement_spec.rb: '$INVALID = 1' is not truthful; GitLab refuses it as config."""
    assert not parses("$INVALID = 1")
    with pytest.raises(ExpressionError):
        evaluate("$INVALID = 1", VARIABLES)


# statement_spec.rb, 'when variables have patterns'.
@pytest.mark.parametrize(("expression", "result"), [
    ('$teststring =~ "abcde"', True), ("$teststring =~ $teststring", True),
    ("$teststring =~ $pattern1", True), ("$teststring =~ $pattern2", False),
])
def test_a_variable_holding_a_pattern_is_that_pattern(expression: str, result: bool) -> None:
    variables = {"teststring": "abcde", "pattern1": "/^ab.*/", "pattern2": "/^at.*/"}
    assert evaluate(expression, variables) is result


@pytest.mark.parametrize(("expression", "valid"), [
    ("$A =~ /^(?!main)/", False),  # RE2 has no lookaround: Lexeme::Pattern's 'Invalid regular expression!'
    ("$A =~ /(a)\\1/", False),  # nor backreferences
    ("$A =~ /a{1001}/", False),  # nor repetitions over 1000
    ("$A =~ /abc/x", False),  # x is not one of GitLab's flags: an unknown lexeme follows the pattern
    ("$A =~ /[[:alpha:]]+/", True),
    ("$A =~ /\\p{L}+/", True),
    ("$A == true", True),  # Lexeme::Boolean
    ("$A == nulls", False),
])
def test_patterns_are_re2(expression: str, valid: bool) -> None:
    assert parses(expression) is valid


@pytest.mark.parametrize(("expression", "text", "matched"), [
    ("$A =~ /^b/m", "a\nb", True),  # RE2's multi-line mode, not Ruby's dot-all
    ("$A =~ /a.b/", "a\nb", False),
    ("$A =~ /a.b/s", "a\nb", True),
    ("$A =~ /AB/i", "ab", True),
    ("$A =~ /A/i", "a", None),  # Lexeme::Pattern needs two characters between the slashes
])
def test_flags_are_re2_flags(expression: str, text: str, matched: bool | None) -> None:
    if matched is None:
        assert not parses(expression)
    else:
        assert evaluate(expression, {"A": text}) is matched


def test_at_most_99_tokens() -> None:
    """Lexer#tokenize stops after MAX_TOKENS (100) tokens: 'Too many tokens!'."""
    clause = " && ".join(["$A"] * 50)  # 99 tokens
    assert parses(clause)
    assert not parses(clause + " && $A")


@pytest.mark.parametrize("depth", [49, 300, 100_000])
def test_deep_parentheses_are_a_syntax_error_not_a_crash(depth: int) -> None:
    text = "(" * depth + "$A" + ")" * depth
    assert parses(text) is (2 * depth + 1 < 100)


def test_a_catastrophic_pattern_runs_in_linear_time() -> None:
    """RE2 does not backtrack: Python's re took minutes on this."""
    assert not evaluate("$A =~ /^(a+)+$/", {"A": "a" * 100_000 + "b"})


@pytest.mark.parametrize(("expression", "known", "unknown", "verdict"), [
    ('$KEY == "x"', {}, {"KEY": False}, None),  # a project variable: either answer
    ("$KEY", {}, {"KEY": False}, None),
    ("$SHA == null", {}, {"SHA": True}, False),  # GitLab always sets it: never null
    ("$SHA != null", {}, {"SHA": True}, True),
    ('$CI_PIPELINE_SOURCE == "web" && $KEY', {"CI_PIPELINE_SOURCE": "push"}, {"KEY": False}, False),
    ('$CI_PIPELINE_SOURCE == "push" || $KEY', {"CI_PIPELINE_SOURCE": "push"}, {"KEY": False}, True),
    ("$KEY && $MISSING", {}, {"KEY": False}, False),  # nil either way: the left one, or the right
    ("$KEY =~ /xy/ && $MISSING", {}, {"KEY": False}, False),
    ('$KEY == "a" || $KEY != "a"', {}, {"KEY": False}, None),  # values are not tracked together
])
def test_what_cifab_cannot_know_gives_an_answer_only_when_every_value_would(
        expression: str, known: dict[str, str], unknown: dict[str, bool], verdict: bool | None) -> None:
    from cifab.pipeline.expression import possible

    assert possible(expression, known, unknown) is verdict
