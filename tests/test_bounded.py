"""Hostile inputs end with a message, within bounded CPU time and memory: each runs cifab in
a subprocess capped at 20 s of CPU (RLIMIT_CPU) and a 500 MB address space. These bound
runaway work, not speed: a loaded machine slows a run's wall time, not its CPU time. The
generous wall timeout only stops a process that waits for ever without working."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

LIMIT_BYTES = 500 * 1024 * 1024
CPU_SECONDS = 20
HANG_SECONDS = 300


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))


def bounded(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIFAB_")}
    env["CIFAB_CACHE_DIR"] = ""  # every run does its whole work: no verdicts kept
    stdin_file = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        proc = subprocess.run([sys.executable, "-m", "cifab", *args], cwd=cwd, stdin=stdin_file,
                              capture_output=True, text=True, timeout=HANG_SECONDS, preexec_fn=_cap, env=env,
                              check=False)
    finally:
        if stdin:
            stdin_file.close()  # type: ignore[union-attr]
    assert proc.returncode != -signal.SIGXCPU, f"more than {CPU_SECONDS} s of CPU: {proc.stderr[-2000:]}"
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {proc.stderr[-2000:]}"
    assert proc.returncode != 70 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def test_an_include_outside_the_repository_is_not_read(repo: Path) -> None:
    (repo.parent / "outside.yml").write_text("stolen:\n  script: cat /etc/shadow\n")
    (repo / ".gitlab-ci.yml").write_text("include: ../outside.yml\ntest:\n  script: make\n")
    proc = bounded("lint", "--no-shellcheck", "--format", "json", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 1
    assert "Local file `../outside.yml` does not exist!" in proc.stdout and "stolen" not in proc.stdout


@pytest.mark.parametrize("target", ["/dev/zero", "../../../../../../dev/zero"])
def test_an_include_of_a_device_ends_with_a_finding(repo: Path, target: str) -> None:
    (repo / ".gitlab-ci.yml").write_text(f"include: {target}\ntest:\n  script: make\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    # GitLab refuses the name before it looks for the file; a device named .yml is below.
    assert proc.returncode == 1 and "does not have YAML extension!" in proc.stdout


def test_a_symlink_to_a_device_or_a_fifo_is_not_read(repo: Path) -> None:
    (repo / "ci").mkdir()
    os.symlink("/dev/zero", repo / "ci" / "zero.yml")
    os.mkfifo(repo / "ci" / "fifo.yml")
    (repo / ".gitlab-ci.yml").write_text("include:\n  - ci/zero.yml\n  - ci/fifo.yml\ntest:\n  script: make\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 1 and proc.stdout.count("include-missing") == 2


def test_a_wildcard_include_over_a_symlink_loop_ends(repo: Path) -> None:
    (repo / "ci").mkdir()
    (repo / "ci" / "a.yml").write_text("a:\n  script: make\n")
    os.symlink(repo, repo / "ci" / "loop")
    # `**` crosses folders in an include (GitLab makes it `.*?`): ci/a.yml and what the loop holds.
    (repo / ".gitlab-ci.yml").write_text('include:\n  - local: "ci/**.yml"\n')
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("args", [["lint", "/dev/zero"], ["lint", "-"]])
def test_reads_of_endless_input_are_bounded(repo: Path, args: list[str]) -> None:
    proc = bounded(*args, "--no-shellcheck", cwd=repo, stdin="/dev/zero" if args[-1] == "-" else None)
    assert proc.returncode == 2
    assert ("not a regular file" in proc.stderr
            or "the file is more than 2,097,152 bytes and GitLab's limit is 2,097,152" in proc.stdout)


def test_a_fifo_named_on_the_command_line_does_not_block(repo: Path) -> None:
    os.mkfifo(repo / "pipe.yml")
    proc = bounded("lint", "--no-shellcheck", "pipe.yml", cwd=repo)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr


def test_a_manifest_that_links_to_a_device(repo: Path) -> None:
    os.symlink("/dev/zero", repo / "cifab.yml")
    proc = bounded("generate", cwd=repo)
    assert proc.returncode == 2 and "is not a regular file" in proc.stderr


@pytest.mark.parametrize("name", [".nvmrc", ".python-version", "main.go"])
def test_init_does_not_read_links_to_devices(repo: Path, name: str) -> None:
    (repo / "package.json" if name == ".nvmrc" else repo / "pyproject.toml" if name == ".python-version"
     else repo / "go.mod").write_text('{"name": "x"}' if name == ".nvmrc" else
                                      '[project]\nname = "x"\n' if name == ".python-version" else "module x\n")
    os.symlink("/dev/zero", repo / name)
    proc = bounded("init", "--yes", cwd=repo)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("value", ["!!int x", "!!float y", "!!bool maybe"])
def test_a_tag_whose_value_does_not_read_is_a_syntax_error(repo: Path, value: str) -> None:
    (repo / ".gitlab-ci.yml").write_text(f"test:\n  script: make\n  retry: {value}\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 2 and "cannot be read as !!" in proc.stdout


def test_an_extends_chain_a_thousand_deep_stops_at_gitlabs_limit(repo: Path) -> None:
    chain = "".join(f".l{i}:\n  extends: .l{i + 1}\n" for i in range(1000)) + ".l1000:\n  script: make\n"
    (repo / ".gitlab-ci.yml").write_text(chain + "test:\n  extends: .l0\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 1 and "nesting too deep in `extends`" in proc.stdout


@pytest.mark.parametrize("text", [
    "test:\n  script: make\n  parallel: 100000000\n",
    "x: &v [a, b, c, d, e, f, g, h, i, j]\ntest:\n  script: make\n  parallel:\n    matrix:\n"
    "      - {A: *v, B: *v, C: *v, D: *v, E: *v, F: *v, G: *v, H: *v}\nother:\n  script: make\n  needs: [test]\n",
])
def test_parallel_beyond_the_limit_is_reported_not_enumerated(repo: Path, text: str) -> None:
    (repo / ".gitlab-ci.yml").write_text(text)
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 1 and "limits-exceeded" in proc.stdout


def test_a_reference_fan_out_is_resolved_once_per_reference(repo: Path) -> None:
    # Eight references per level over ten levels: 8**10 values if each were expanded anew.
    text = ".l10:\n  script: [echo]\n" + "".join(
        f".l{i}:\n  script: [{', '.join([f'!reference [.l{i + 1}, script]'] * 8)}]\n" for i in range(9, -1, -1))
    (repo / ".gitlab-ci.yml").write_text(text + "test:\n  script: !reference [.l0, script]\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 2 and "The parsed YAML is too big" in proc.stdout and "expands to" in proc.stdout


def test_a_small_fan_out_still_resolves(repo: Path) -> None:
    text = ".l3:\n  script: [echo $A]\n" + "".join(
        f".l{i}:\n  script: [{', '.join([f'!reference [.l{i + 1}, script]'] * 3)}]\n" for i in range(2, -1, -1))
    (repo / ".gitlab-ci.yml").write_text(text + "test:\n  script: !reference [.l0, script]\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 0, proc.stdout


ALIASED_ERRORS = ("a: &a [{k: 1}, {k: 1}, {k: 1}, {k: 1}, {k: 1}, {k: 1}, {k: 1}, {k: 1}, {k: 1}, {k: 1}]\n"
                  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n")


@pytest.mark.parametrize(("keys", "code"), [(5, 1), (7, 1), (9, 2)])
def test_aliases_full_of_schema_errors_stay_bounded(repo: Path, keys: int, code: int) -> None:
    fields = ["script", "before_script", "after_script", "variables", "tags", "cache", "artifacts",
              "services", "retry"][:keys]
    (repo / ".gitlab-ci.yml").write_text(ALIASED_ERRORS + "test:\n" + "".join(f"  {k}: *d\n" for k in fields))
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    # Below GitLab's parsed-size limit every error is reported; above it, the limit is.
    assert proc.returncode == code
    assert ("The parsed YAML is too big" in proc.stdout) == (code == 2)


def test_thousands_of_misspelt_needs_are_reported_without_quadratic_hints(repo: Path) -> None:
    jobs = "".join(f"job{i}:\n  script: make\n" for i in range(3000))
    needs = "".join(f"    - missing{i}\n" for i in range(3000))
    (repo / ".gitlab-ci.yml").write_text(jobs + "final:\n  script: make\n  needs:\n" + needs)
    proc = bounded("lint", "--no-shellcheck", "--format", "json", ".gitlab-ci.yml", cwd=repo)
    import json

    found = json.loads(proc.stdout)["findings"]
    assert proc.returncode == 1 and sum(f["rule"] == "needs-undefined" for f in found) == 3000


def test_twenty_thousand_script_items_end_with_an_info_not_a_crash(repo: Path) -> None:
    from cifab.lint.shellcheck import binary

    if binary() is None:
        pytest.skip("shellcheck is not installed (pip install 'cifab[shellcheck]')")
    items = "".join(f"    - echo $X{i}\n" for i in range(20_000))
    (repo / ".gitlab-ci.yml").write_text("test:\n  script:\n" + items)
    proc = bounded("lint", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 0 and "was not checked" in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) < 1000


def test_shellcheck_on_many_distinct_jobs_stops_at_its_deadline(repo: Path) -> None:
    from cifab.lint.shellcheck import binary

    if binary() is None:
        pytest.skip("shellcheck is not installed (pip install 'cifab[shellcheck]')")
    # 3,000 distinct scripts are about 10 s of ShellCheck's CPU: far beyond the 1 s allowed.
    (repo / "cifab.yml").write_text("cifab: 1\nproject: x\nstack: go\nlint:\n  shellcheck:\n    timeout: 1\n")
    (repo / ".gitlab-ci.yml").write_text("".join(f"j{i}:\n  script: [\"make part-{i}\"]\n" for i in range(3_000)))
    proc = bounded("lint", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 0 and "ShellCheck stopped after 1 s" in proc.stdout


GO_MANIFEST = "cifab: 1\nproject: hello\nstack: go\ngo:\n  binaries: [{name: hello, main: .}]\ntemplates_dir: t\n"


@pytest.mark.parametrize(("template", "expect"), [
    ("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "beyond the 1,000,000"),
    ("x: {{ (1/0) | yaml }}\n", "ZeroDivisionError"),
    ("{% include 'go/lint.yml.j2' %}\n", "include or call themselves"),
    ("{% for i in range(1000000000) %}{% endfor %}", "range() of 1,000,000,000 items"),
    ("x: {{ ('x' * 1000000000) | yaml }}\n", "`*` would build"),
    ("x: {{ (10 ** 100000000) | yaml }}\n", "`**` with exponent"),
    ("x: {{ ('a' + 1) | yaml }}\n", "TypeError"),
])
def test_a_hostile_user_template_is_a_positioned_template_error(repo: Path, template: str, expect: str) -> None:
    (repo / "cifab.yml").write_text(GO_MANIFEST)
    (repo / "t" / "go").mkdir(parents=True)
    (repo / "t" / "go" / "lint.yml.j2").write_text("# mine\n" + template)
    proc = bounded("generate", "--stdout", cwd=repo)
    assert proc.returncode == 2, proc.stderr
    assert "template error (" in proc.stderr and "lint.yml.j2:" in proc.stderr and expect in proc.stderr, proc.stderr


def test_a_nul_in_templates_dir_or_an_include_is_a_message(repo: Path) -> None:
    (repo / "cifab.yml").write_text(GO_MANIFEST.replace("templates_dir: t", 'templates_dir: "\\0"'))
    proc = bounded("generate", "--stdout", cwd=repo)
    assert proc.returncode == 2 and "templates_dir" in proc.stderr, proc.stderr
    (repo / ".gitlab-ci.yml").write_text('include: "a\\0b.yml"\ntest:\n  script: make\n')
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 1 and "include" in proc.stdout, proc.stdout


# ------------------------------------------------------------------ regexes and globs, linear time

LONG = "a" * 30_000 + "b"


def test_a_backtracking_regex_in_rules_if_ends(repo: Path) -> None:
    (repo / ".gitlab-ci.yml").write_text(f"variables:\n  X: {LONG}\njob:\n  script: x\n  rules:\n"
                                         "    - if: $X =~ /^(a+)+$/\n    - if: $CI_COMMIT_BRANCH =~ /^(a+)+$/\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode in (0, 1) and "job-never-runs" in proc.stdout, proc.stdout
    proc = bounded("jobs", "--branch", LONG, cwd=repo)
    assert proc.returncode == 0 and "no pipeline" in proc.stdout


def test_a_backtracking_regex_in_only_refs_ends(repo: Path) -> None:
    (repo / ".gitlab-ci.yml").write_text("job:\n  script: x\n  only: ['/^(a+)+$/']\n")
    proc = bounded("jobs", "--branch", LONG, cwd=repo)
    assert proc.returncode == 0 and "no pipeline" in proc.stdout


def test_a_backtracking_regex_in_an_input_ends(repo: Path) -> None:
    (repo / "tpl.yml").write_text("spec:\n  inputs:\n    name:\n      regex: ^(a+)+$\n---\njob:\n  script: x\n")
    (repo / ".gitlab-ci.yml").write_text(f"include:\n  - local: tpl.yml\n    inputs:\n      name: {LONG}\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 1 and "does not match required RegEx pattern" in proc.stdout


def test_globs_of_many_stars_end(repo: Path) -> None:
    stars = "*a" * 40 + "*b"
    long_name = "a" * 200
    (repo / long_name).mkdir()
    for i in range(50):
        (repo / long_name / f"{'a' * 200}{i}.yml").write_text("x:\n  script: y\n")
    (repo / ".gitlab-ci.yml").write_text(
        f"include:\n  - local: '{'**a' * 40}**b.yml'\njob:\n  script: x\n  rules:\n"
        f"    - changes: ['{stars}']\n    - exists: ['{stars}']\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert "does not have any match" in proc.stdout
    proc = bounded("jobs", "--changed", "/".join([long_name] * 100), cwd=repo)
    assert proc.returncode == 0


def test_three_hundred_nested_parentheses_are_a_syntax_error(repo: Path) -> None:
    (repo / ".gitlab-ci.yml").write_text(f"job:\n  script: x\n  rules:\n    - if: '{'(' * 300}$A{')' * 300}'\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 1 and "jobs:job:rules:rule if invalid expression syntax" in proc.stdout


def test_truncate_with_a_huge_number_is_an_input_error(repo: Path) -> None:
    (repo / "tpl.yml").write_text("spec:\n  inputs:\n    name:\n      default: abc\n---\n"
                                  f"job:\n  script: echo $[[ inputs.name | truncate({'9' * 5000}, 2) ]]\n")
    (repo / ".gitlab-ci.yml").write_text("include:\n  - local: tpl.yml\n")
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 1 and "error in `truncate` function" in proc.stdout


def test_inputs_that_double_at_each_include_stop_at_a_bound(repo: Path) -> None:
    for here, there in (("a", "b"), ("b", "a")):
        (repo / f"{here}.yml").write_text(
            f"spec:\n  inputs:\n    s: {{}}\n---\ninclude:\n  - local: {there}.yml\n    inputs:\n"
            f"      s: '$[[ inputs.s ]]$[[ inputs.s ]]'\n{here}-job:\n  script: echo\n")
    (repo / ".gitlab-ci.yml").write_text(f"include:\n  - local: a.yml\n    inputs:\n      s: {'x' * 180}\n")
    assert len((repo / "a.yml").read_text()) < 200
    proc = bounded("lint", "--no-shellcheck", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 1 and "The parsed YAML is too big" in proc.stdout


def test_a_template_error_quotes_a_short_excerpt(repo: Path) -> None:
    (repo / "cifab.yml").write_text(GO_MANIFEST)
    (repo / "t" / "go").mkdir(parents=True)
    (repo / "t" / "go" / "lint.yml.j2").write_text("x: {{ {}['y' * 3000000] | yaml }}\n")
    proc = bounded("generate", "--stdout", cwd=repo)
    assert proc.returncode == 2 and "template error" in proc.stderr and "more characters" in proc.stderr
    assert len(proc.stderr) < 2_000


def test_a_binary_value_reads_as_the_string_psych_makes(repo: Path) -> None:
    (repo / ".gitlab-ci.yml").write_text("job:\n  script: !!binary ZWNobyBoaQ==\n  variables:\n    X: !!binary /w==\n")
    proc = bounded("lint", "--no-shellcheck", "-f", "json", ".gitlab-ci.yml", cwd=repo)
    assert proc.returncode == 0, proc.stdout


def test_a_template_that_runs_away_is_stopped_by_its_cpu_deadline(tmp_path: Path) -> None:
    """In process, with a short deadline: the deadline counts CPU time, so the test does not
    wait for the 5 s the CLI allows."""
    from cifab.errors import CifabError
    from cifab.generate import context, render
    from cifab.manifest.load import load

    (tmp_path / "cifab.yml").write_text(GO_MANIFEST)
    (tmp_path / "t" / "go").mkdir(parents=True)
    (tmp_path / "t" / "go" / "lint.yml.j2").write_text(
        "{% set ns = namespace(n=0) %}{% for i in range(900000) %}{% for c in 'abcdefghij' %}"
        "{% set ns.n = ns.n + 1 %}{% endfor %}{% endfor %}")
    manifest = load(tmp_path / "cifab.yml")
    with pytest.raises(CifabError) as stopped:
        render.render(context.build(manifest), render.template_dirs(manifest), seconds=0.2)
    assert "used more than 0.2 s of CPU time" in stopped.value.message and "lint.yml.j2:" in stopped.value.message
