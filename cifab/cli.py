"""The command line: argument parsing and printing only; the work lives in plain modules.

Heavy modules (Jinja, jsonschema-rs, python-gitlab, rich) are imported inside the
commands that use them, so that `cifab --help` and a small lint start fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cifab import __version__
from cifab.errors import CifabError

if TYPE_CHECKING:  # imported lazily at run time, for start-up speed
    from cifab.lint.findings import Severity
    from cifab.lint.run import LintRun

app = typer.Typer(
    name="cifab",
    help="Fabricate and lint GitLab CI/CD pipelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Turn CifabError into one line on stderr and its exit code: never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CifabError as exc:
            typer.echo(f"cifab: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except PermissionError as exc:
            typer.echo(f"cifab: {exc.filename}: permission denied", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


ManifestOpt = Annotated[Path, typer.Option("--manifest", "-m", help="The manifest to read.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="text, json, codequality, junit or sarif.")]
FailOnOpt = Annotated[str, typer.Option(help="Lowest severity that fails: error, warning or info.")]
ShellcheckOpt = Annotated[bool, typer.Option("--shellcheck/--no-shellcheck",
                                             help="Run ShellCheck on scripts (when installed).")]
# Connection settings shared by every command that can ask GitLab. Tokens come only from
# GITLAB_TOKEN or a python-gitlab profile, never from the command line.
GitlabUrlOpt = Annotated[str | None, typer.Option("--gitlab-url", help="GitLab server URL.", rich_help_panel="GitLab")]
ProjectOpt = Annotated[str | None, typer.Option("--project", help="Project id or path.", rich_help_panel="GitLab")]
ProfileOpt = Annotated[str | None, typer.Option("--gitlab-profile", help="python-gitlab config section.",
                                                rich_help_panel="GitLab")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds to wait for GitLab.", rich_help_panel="GitLab")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Simulate pipeline creation on GitLab.",
                                         rich_help_panel="GitLab")]
RefOpt = Annotated[str | None, typer.Option("--ref", help="Branch or tag for --dry-run.", rich_help_panel="GitLab")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cifab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Fabricate and lint GitLab CI/CD pipelines."""


def _write_diff(diff: str) -> None:
    from cifab.output import colorize_diff

    sys.stdout.write(colorize_diff(diff) if _colour(sys.stdout) else diff)


def _colour(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@app.command()
@friendly
def init(
    directory: Annotated[Path, typer.Argument(help="Repository root.")] = Path("."),
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Accept every default; ask nothing.")] = False,
    stack: Annotated[str | None, typer.Option(help="Use this stack instead of detecting one.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing cifab.yml.")] = False,
) -> None:
    """Detect the stack and write cifab.yml."""
    from cifab import detect, init_project
    from cifab.manifest import MANIFEST_NAME

    if not directory.is_dir():
        raise CifabError(f"{directory}: not a directory")
    path = directory / MANIFEST_NAME
    if path.exists() and not force:
        raise CifabError(f"{path} already exists; pass --force to replace it", 1)
    found = detect.detect(directory)
    for line in found.evidence:
        typer.echo(f"detected {line}")
    interactive = not yes and sys.stdin.isatty()
    ask: init_project.Asker = _prompt if interactive else init_project.accept_defaults
    data = init_project.propose(found, stack, ask)
    init_project.write_manifest(path, data, force)
    typer.echo(f"wrote {path}")
    where = "" if directory == Path(".") else f" --manifest {path}"
    typer.echo(f"next: cifab generate{where}")


def _prompt(question: str, default: object) -> object:
    if isinstance(default, bool):
        return typer.confirm(question, default=default)
    return typer.prompt(question, default=default)


@app.command()
@friendly
def generate(
    manifest: ManifestOpt = Path("cifab.yml"),
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Where to write (default: beside the manifest).")] = None,
    stdout: Annotated[bool, typer.Option("--stdout", help="Print the pipeline instead of writing it.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show what would change, write nothing.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 with a diff when the file is out of date.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a hand-edited or foreign file.")] = False,
    remote: Annotated[bool, typer.Option("--remote", help="Let GitLab's CI Lint API accept it before writing.",
                                         rich_help_panel="GitLab")] = False,
    dry_run: DryRunOpt = False,
    ref: RefOpt = None,
    gitlab_url: GitlabUrlOpt = None,
    project: ProjectOpt = None,
    gitlab_profile: ProfileOpt = None,
    timeout: TimeoutOpt = 30.0,
) -> None:
    """Render .gitlab-ci.yml from cifab.yml."""
    from cifab import generate as gen

    options = None
    if remote:
        from cifab.remote.run import RemoteOptions

        options = RemoteOptions(dry_run, ref, False, gitlab_url, project, gitlab_profile, timeout)
    plan = gen.plan(manifest, output, options)
    if stdout:
        sys.stdout.write(plan.text)
        return
    if check or diff:
        if plan.in_sync:
            typer.echo(f"{_names(plan.files)} up to date with {manifest}")
            return
        _write_diff(plan.diff())
        if check:
            stale = [f for f in plan.files if not f.in_sync]
            typer.echo(f"{_names(stale)} out of date: run `cifab generate`", err=True)
            raise typer.Exit(1)
        return
    changed = [f for f in plan.files if not f.in_sync]
    if gen.write(plan, force=force):
        for f in changed:
            typer.echo(f"wrote {f.path}")
    else:
        typer.echo(f"{_names(plan.files)} up to date")


def _names(files: list[Any]) -> str:
    names = ", ".join(str(f.path) for f in files)
    return f"{names} {'is' if len(files) == 1 else 'are'}"


@app.command()
@friendly
def schema(
    fmt: Annotated[str, typer.Option("--format", "-f", help="json, or markdown for a reference table.")] = "json",
) -> None:
    """Print the JSON Schema of cifab.yml (point your editor at it)."""
    from cifab import docs, manifest

    if fmt == "json":
        sys.stdout.write(manifest.schema_text())
    elif fmt == "markdown":
        sys.stdout.write(docs.manifest_reference())
    else:
        raise CifabError(f"unknown --format {fmt}; use json or markdown")


@app.command()
@friendly
def lint(
    paths: Annotated[list[str] | None, typer.Argument(help="Files to lint; - reads stdin.")] = None,
    fmt: FormatOpt = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    fail_on: FailOnOpt = "error",
    root: Annotated[Path | None, typer.Option(help="Repository root for local includes.")] = None,
    shellcheck: ShellcheckOpt = True,
    manifest: ManifestOpt = Path("cifab.yml"),
    remote: Annotated[bool, typer.Option("--remote", help="Also ask GitLab's CI Lint API.",
                                         rich_help_panel="GitLab")] = False,
    dry_run: DryRunOpt = False,
    ref: RefOpt = None,
    include_jobs: Annotated[bool, typer.Option("--include-jobs", help="List the jobs that would run.",
                                               rich_help_panel="GitLab")] = False,
    merged: Annotated[bool, typer.Option("--merged", help="Print GitLab's merged YAML.",
                                         rich_help_panel="GitLab")] = False,
    gitlab_url: GitlabUrlOpt = None,
    project: ProjectOpt = None,
    gitlab_profile: ProfileOpt = None,
    timeout: TimeoutOpt = 30.0,
) -> None:
    """Check GitLab CI files offline: schema and GitLab's semantic rules; --remote asks GitLab too."""
    from cifab.lint.run import lint_paths
    from cifab.lint.settings import ignored_rules

    threshold = _threshold(fail_on)
    _check_format(fmt)
    run = lint_paths(paths or [".gitlab-ci.yml"], root, ignored_rules(manifest), shellcheck)
    extra = ""
    if remote:
        from cifab.remote.run import RemoteOptions, add_remote

        options = RemoteOptions(dry_run, ref, include_jobs, gitlab_url, project, gitlab_profile, timeout)
        got = add_remote(run, options, options.settings())
        if fmt == "text":
            extra = _remote_extras(got.jobs if include_jobs else {}, got.merged if merged else {})
    elif dry_run or include_jobs or merged or ref:
        raise CifabError("--dry-run, --ref, --include-jobs and --merged need --remote")
    _emit(fmt, run, output, extra)
    raise typer.Exit(run.exit_code(threshold))


def _threshold(fail_on: str) -> Severity:
    from cifab.lint.findings import Severity

    try:
        return Severity.parse(fail_on)
    except KeyError:
        raise CifabError(f"unknown --fail-on {fail_on}; use error, warning or info") from None


def _check_format(fmt: str) -> None:
    from cifab.lint import report

    if fmt not in report.FORMATS:
        raise CifabError(f"unknown --format {fmt}; use one of: {', '.join(report.FORMATS)}")


def _emit(fmt: str, run: LintRun, output: Path | None, extra: str = "") -> None:
    from cifab.lint import report

    text = report.render(fmt, run.findings, run.sources, run.paths,
                         colour=output is None and fmt == "text" and _colour(sys.stdout))
    if output is not None:
        from cifab.output import atomic_write

        atomic_write(output, text)
        typer.echo(report.summary(run.findings, len(run.paths)), err=True)
    else:
        sys.stdout.write(extra + text)


def _remote_extras(jobs: dict[str, list[dict[str, object]]], merged: dict[str, str]) -> str:
    from cifab.remote.present import jobs_table, merged_yaml

    return "".join(jobs_table(src, items) for src, items in jobs.items()) + "".join(
        merged_yaml(src, text) for src, text in merged.items())


@app.command()
@friendly
def check(
    manifest: ManifestOpt = Path("cifab.yml"),
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="The generated file (default: beside the manifest).")] = None,
    codequality: Annotated[Path | None, typer.Option("--codequality", help="Also write a Code Quality report.")] = None,
    fmt: FormatOpt = "text",
    fail_on: FailOnOpt = "error",
    remote: Annotated[bool | None, typer.Option("--remote/--no-remote", show_default=False,
                                                help="Ask GitLab always / never (default: when a token is set).",
                                                rich_help_panel="GitLab")] = None,
    shellcheck: ShellcheckOpt = True,
    dry_run: DryRunOpt = False,
    ref: RefOpt = None,
    gitlab_url: GitlabUrlOpt = None,
    project: ProjectOpt = None,
    gitlab_profile: ProfileOpt = None,
    timeout: TimeoutOpt = 30.0,
) -> None:
    """The merge-request gate: in sync with cifab.yml, clean offline, accepted by GitLab."""
    from cifab import output as out
    from cifab.check import check as run_check
    from cifab.lint import report
    from cifab.remote.run import RemoteOptions

    threshold = _threshold(fail_on)
    _check_format(fmt)
    options = RemoteOptions(dry_run, ref, False, gitlab_url, project, gitlab_profile, timeout)
    result = run_check(manifest, output, remote, options, shellcheck)
    if result.diff and fmt == "text":
        _write_diff(result.diff)
    if codequality is not None:
        out.atomic_write(codequality, report.codequality(result.run.findings))
    _emit(fmt, result.run, None)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if result.remote_error is not None:
        raise result.remote_error
    raise typer.Exit(result.run.exit_code(threshold))


@app.command()
@friendly
def graph(
    path: Annotated[str, typer.Argument(help="The CI file to draw.")] = ".gitlab-ci.yml",
    fmt: Annotated[str, typer.Option("--format", "-f", help="tree, mermaid or dot.")] = "tree",
    root: Annotated[Path | None, typer.Option(help="Repository root for local includes.")] = None,
) -> None:
    """Draw the pipeline: stages, jobs, needs edges and manual jobs."""
    from cifab import graph as drawing
    from cifab.lint.model import build_pipeline
    from cifab.lint.run import include_root, read_source
    from cifab.yamlpos import YamlError, load_text

    if fmt not in drawing.FORMATS:
        raise CifabError(f"unknown --format {fmt}; use one of: {', '.join(drawing.FORMATS)}")
    src, text = read_source(path)
    try:
        loaded = load_text(text, src)
    except YamlError as exc:
        raise CifabError(str(exc)) from None
    folder, verified = include_root(path, root)
    pipeline = build_pipeline(loaded, folder, verified)
    if fmt == "mermaid":
        sys.stdout.write(drawing.mermaid(pipeline))
    elif fmt == "dot":
        sys.stdout.write(drawing.dot(pipeline))
    else:
        from rich.console import Console

        Console(no_color=not _colour(sys.stdout), highlight=False).print(drawing.tree(pipeline, src))


templates_app = typer.Typer(help="List and print the templates pipelines are made from.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")


def _template_dirs(manifest: Path) -> list[Path]:
    from cifab import generate as gen
    from cifab import manifest as man

    return gen.template_dirs(man.load(manifest)) if manifest.exists() else []


@templates_app.command("list")
@friendly
def templates_list(manifest: ManifestOpt = Path("cifab.yml")) -> None:
    """Every template name; those your templates_dir shadows are marked."""
    from cifab.render import template_names, templates_dir

    ours = templates_dir()
    for name, path in template_names(_template_dirs(manifest)):
        mark = "" if path.is_relative_to(ours) else f"  (yours: {path})"
        typer.echo(f"{name}{mark}")


@templates_app.command("show")
@friendly
def templates_show(
    name: Annotated[str, typer.Argument(help="A name from `cifab templates list`.")],
    manifest: ManifestOpt = Path("cifab.yml"),
) -> None:
    """Print a template, to copy into your templates_dir and change."""
    from cifab.render import template_names
    from cifab.schemaerrors import suggest

    found = dict(template_names(_template_dirs(manifest)))
    if name not in found:
        near = suggest(name, list(found))
        raise CifabError(f"no template named {name}" + (f"; did you mean {near}?" if near else
                                                        "; `cifab templates list` shows them"))
    sys.stdout.write(found[name].read_text(encoding="utf-8"))


@app.command()
def rules() -> None:
    """List every lint rule."""
    from cifab.lint.rules import ALL_RULES, OPTIONAL_RULES

    width = max(len(r.id) for r in ALL_RULES)
    for rule in ALL_RULES:
        extra = " (needs the shellcheck extra)" if rule in OPTIONAL_RULES else ""
        typer.echo(f"{rule.id:<{width}}  {rule.severity!s:<7}  {rule.summary}{extra}")


@app.command()
@friendly
def explain(rule_id: Annotated[str, typer.Argument(metavar="RULE", help="A rule id from `cifab rules`.")]) -> None:
    """Print a rule's documentation with a failing and a passing example."""
    from cifab.lint.explain import explain_text

    typer.echo(explain_text(rule_id), nl=False)


def _single(argv: list[str]) -> typer.Typer | None:
    """A one-command app for `cifab COMMAND ...`: typer builds click objects for every
    command of an app on each run, which costs more than a small lint. Help still goes
    through the full app, so that it lists everything."""
    if not argv or any(arg in ("-h", "--help") for arg in argv[1:]):
        return None
    commands: dict[str, Any] = {"lint": lint, "check": check, "generate": generate, "init": init, "graph": graph}
    func = commands.get(argv[0])
    if func is None:
        return None
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                         context_settings={"help_option_names": ["-h", "--help"]})
    single.command()(func)
    return single


def main() -> None:
    """Console entry point: errors become one clear message and an exit code."""
    argv = sys.argv[1:]
    try:
        single = _single(argv)
        if single is not None:
            single(args=argv[1:], prog_name=f"cifab {argv[0]}")
        else:
            app()
    except CifabError as exc:
        typer.echo(f"cifab: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except OSError as exc:  # a disk or permission problem outside the paths we check
        typer.echo(f"cifab: {exc.filename or 'a file'}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug: say so in one line; CIFAB_DEBUG=1 shows the traceback
        if os.environ.get("CIFAB_DEBUG"):
            raise
        typer.echo(f"cifab: internal error ({type(exc).__name__}: {exc}); please report it, and run again "
                   "with CIFAB_DEBUG=1 for the traceback", err=True)
        sys.exit(70)
