"""The command line: argument parsing and printing only; the work lives in plain modules.

Heavy modules (Jinja, jsonschema-rs, python-gitlab, rich) are imported inside the
commands that use them, so that `cifab --help` and a small lint start fast. Every command
runs inside one error boundary (cifab.errors.boundary), entered by `main`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import click
import typer

from cifab import __version__
from cifab.diagnostics import REPORT_FORMATS, SEVERITY_NAMES
from cifab.errors import CifabError, boundary

if TYPE_CHECKING:  # imported lazily at run time, for start-up speed
    from cifab.lint.run import LintRun
    from cifab.remote.settings import RemoteOptions

F = TypeVar("F", bound=Callable[..., Any])
GRAPH_FORMATS = ("tree", "mermaid", "dot")
SCHEMA_FORMATS = ("json", "markdown")

app = typer.Typer(
    name="cifab",
    help="Fabricate and lint GitLab CI/CD pipelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _choice(names: tuple[str, ...]) -> click.Choice:  # type: ignore[type-arg]
    return click.Choice(names)


class _StackChoice(click.Choice):  # type: ignore[type-arg]
    """The stack registry's names, loaded only when `init` parses or prints its options:
    importing every stack module costs about 44 ms (measured with -X importtime on an
    installed cifab), a third of a small lint, on every other command."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from cifab.stacks import CHOICES

        return CHOICES

    @choices.setter
    def choices(self, _value: object) -> None:
        pass


ManifestOpt = Annotated[Path, typer.Option("--manifest", "-m", help="The manifest to read.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", click_type=_choice(REPORT_FORMATS),
                                        help="Report format.")]
FailOnOpt = Annotated[str, typer.Option(click_type=_choice(SEVERITY_NAMES), help="Lowest severity that fails.")]
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


# The connection options every GitLab-facing command takes, as (parameter, annotation,
# default, RemoteOptions field).
GITLAB_OPTIONS: tuple[tuple[str, Any, Any, str], ...] = (
    ("dry_run", DryRunOpt, False, "dry_run"),
    ("ref", RefOpt, None, "ref"),
    ("gitlab_url", GitlabUrlOpt, None, "url"),
    ("project", ProjectOpt, None, "project"),
    ("gitlab_profile", ProfileOpt, None, "profile"),
    ("timeout", TimeoutOpt, 30.0, "timeout"),
)


def gitlab_options(func: F) -> F:
    """Give a command the GitLab connection options, collected into one RemoteOptions that
    it receives as `gitlab`. Not for start-up (it costs nothing measurable): it keeps six
    options, their help and their defaults in one place for lint, generate and check."""
    signature = inspect.signature(func)
    # typer reads real annotations; `gitlab` (its type is imported for mypy only) is not a
    # CLI parameter.
    hints = typing.get_type_hints(func, localns={"RemoteOptions": object}, include_extras=True)
    own = [p.replace(annotation=hints[p.name]) for p in signature.parameters.values() if p.name != "gitlab"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
             for name, annotation, default, _ in GITLAB_OPTIONS]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        from cifab.remote.settings import RemoteOptions

        fields = {field: kwargs.pop(name) for name, _, _, field in GITLAB_OPTIONS}
        return func(*args, gitlab=RemoteOptions(**fields), **kwargs)

    command.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in (*own, *added)}
    return command  # type: ignore[return-value]


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


def _colour(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _write_diff(diff: str) -> None:
    from cifab.generate.diff import colorize_diff

    sys.stdout.write(colorize_diff(diff) if _colour(sys.stdout) else diff)


def _prompt(question: str, default: object, key: tuple[str, ...] = (),
            check: Callable[[str], str | None] | None = None) -> object:
    """Ask on the terminal until the answer fits the manifest's schema at key, and what the
    repository says (check: the reason an answer does not fit, or None)."""
    from cifab.init.answers import yes_no

    if isinstance(default, bool):
        while True:
            found = yes_no(typer.prompt(f"{question} [{'Y/n' if default else 'y/N'}]", default="",
                                        show_default=False), default)
            if found is not None:
                return found
            typer.echo("  answer y (yes) or n (no)", err=True)
    from cifab.manifest.schema import value_problem

    while True:
        answer = typer.prompt(question, default=default)
        problem = (value_problem(key, answer) if key else None) or (check(str(answer)) if check else None)
        if problem is None:
            return answer
        typer.echo(f"  {problem}; try again", err=True)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Repository root.")] = Path("."),
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Accept every default; ask nothing.")] = False,
    stack: Annotated[str | None, typer.Option(click_type=_StackChoice(), metavar="STACK",
                                              help="Use this stack instead of detecting one: go, python, node, "
                                                   "rust, docker, generic or monorepo.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing cifab.yml.")] = False,
) -> None:
    """Detect the stack and write cifab.yml."""
    from cifab.init import propose

    interactive = not yes and sys.stdin.isatty()
    if not yes and not interactive:
        typer.echo("no terminal to ask on: taking every default (--yes says so and skips this note)", err=True)
    result = propose.init_repository(directory, stack, force, _prompt if interactive else None,
                                     on_evidence=lambda line: typer.echo(f"detected {line}"))
    typer.echo(f"wrote {result}")
    where = "" if directory == Path(".") else f" --manifest {result}"
    adopting = propose.existing_pipeline(directory)
    if adopting:
        typer.echo(f"{adopting} is already here and was not written by cifab. To adopt cifab:")
        typer.echo(f"  cifab generate{where} --diff    shows what cifab would write instead")
        typer.echo(f"  cifab generate{where} --force   replaces it (git keeps the old one; move what you need "
                   "into cifab.yml: jobs:, extra_jobs:, include:)")
    else:
        typer.echo(f"next: cifab generate{where}")


@app.command()
@gitlab_options
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
    *,
    gitlab: RemoteOptions,
) -> None:
    """Render .gitlab-ci.yml from cifab.yml."""
    from cifab.generate import plan as planning
    from cifab.generate.write import write

    modes = [flag for flag, on in (("--stdout", stdout), ("--diff", diff), ("--check", check)) if on]
    if len(modes) > 1:
        raise CifabError(f"{' and '.join(modes)} cannot be combined: --stdout prints the pipeline, --diff shows "
                         "what would change, --check fails when the file is out of date")
    if force and modes:
        raise CifabError(f"--force overwrites the file, and {modes[0]} writes nothing: drop one of them")
    plan = planning.plan(manifest, output, gitlab if remote else None)
    if stdout:
        sys.stdout.write(planning.as_stream(plan))
        return
    if check or diff:
        if plan.in_sync:
            typer.echo(f"{_names(plan.files)} up to date with {manifest}")
            return
        _write_diff(plan.diff())
        if check:
            stale = [f for f in plan.files if not f.in_sync]
            typer.echo(f"{_names(stale)} out of date with {manifest}: {stale[0].advice()}", err=True)
            raise typer.Exit(1)
        return
    changed = [f for f in plan.files if not f.in_sync]
    if write(plan, force=force):
        for f in changed:
            typer.echo(f"wrote {f.path}")
    else:
        typer.echo(f"{_names(plan.files)} up to date")
    note = planning.placement_note(plan.output_path)
    if note:
        typer.echo(note, err=True)


def _names(files: list[Any]) -> str:
    names = ", ".join(str(f.path) for f in files)
    return f"{names} {'is' if len(files) == 1 else 'are'}"


@app.command()
def schema(
    fmt: Annotated[str, typer.Option("--format", "-f", click_type=_choice(SCHEMA_FORMATS),
                                     help="json, or markdown for a reference table.")] = "json",
) -> None:
    """Print the JSON Schema of cifab.yml (point your editor at it)."""
    from cifab.manifest import reference, schema

    sys.stdout.write(schema.schema_text() if fmt == "json" else reference.manifest_reference())


@app.command()
@gitlab_options
def lint(
    paths: Annotated[list[str] | None, typer.Argument(help="Files to lint; - reads stdin.")] = None,
    fmt: FormatOpt = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    fail_on: FailOnOpt = "error",
    root: Annotated[Path | None, typer.Option(help="Repository root for local includes.")] = None,
    shellcheck: ShellcheckOpt = True,
    cache: Annotated[bool, typer.Option("--cache/--no-cache",
                                        help="Reuse ShellCheck's verdicts kept in the cache folder "
                                             "($CIFAB_CACHE_DIR, else ~/.cache/cifab).")] = True,
    manifest: ManifestOpt = Path("cifab.yml"),
    remote: Annotated[bool, typer.Option("--remote", help="Also ask GitLab's CI Lint API.",
                                         rich_help_panel="GitLab")] = False,
    include_jobs: Annotated[bool, typer.Option("--include-jobs", help="List the jobs that would run.",
                                               rich_help_panel="GitLab")] = False,
    merged: Annotated[bool, typer.Option("--merged", help="Print GitLab's merged YAML.",
                                         rich_help_panel="GitLab")] = False,
    *,
    gitlab: RemoteOptions,
) -> None:
    """Check GitLab CI files offline: schema and GitLab's semantic rules; --remote asks GitLab too."""
    from cifab.lint.run import lint_paths
    from cifab.manifest.lint_section import load_settings

    if not remote and (gitlab.dry_run or include_jobs or merged or gitlab.ref):
        raise CifabError("--dry-run, --ref, --include-jobs and --merged need --remote")
    settings = load_settings(manifest)
    if not cache:
        settings = dataclasses.replace(settings, shellcheck_cache=False)
    run = lint_paths(paths or [".gitlab-ci.yml"], root, settings, shellcheck)
    extra = ""
    if remote:
        from cifab.remote.run import add_remote

        options = dataclasses.replace(gitlab, include_jobs=include_jobs)
        got = add_remote(run, options, options.settings())
        if fmt == "text":
            extra = _remote_extras(got.jobs if include_jobs else {}, got.merged if merged else {})
    _emit(fmt, run, output, extra, (manifest,))
    _notes(run.notes, fmt)
    raise typer.Exit(run.exit_code(fail_on))


def _notes(notes: list[str], fmt: str) -> None:
    """Notes about the run go to a person: on a terminal, beside a text report."""
    if fmt == "text" and sys.stderr.isatty():
        for note in notes:
            typer.echo(f"note: {note}", err=True)


def _emit(fmt: str, run: LintRun, output: Path | None, extra: str = "", inputs: tuple[Path, ...] = ()) -> None:
    from cifab import report

    text = report.render(fmt, run.findings, run.sources, run.paths,
                         colour=output is None and fmt == "text" and _colour(sys.stdout))
    if output is not None:
        from cifab.frames import summary

        report.write_report(output, text, [*inputs, *(Path(p) for p in run.paths if p != "<stdin>")])
        typer.echo(summary(run.findings, len(run.paths)), err=True)
    else:
        sys.stdout.write(extra + text)


def _remote_extras(jobs: dict[str, list[dict[str, object]]], merged: dict[str, str]) -> str:
    from cifab.remote.present import jobs_table, merged_yaml

    return "".join(jobs_table(src, items) for src, items in jobs.items()) + "".join(
        merged_yaml(src, text) for src, text in merged.items())


@app.command()
@gitlab_options
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
    comment: Annotated[bool, typer.Option("--comment", help="Post (or update) the review note on the merge "
                                                           "request (CIFAB_GITLAB_TOKEN or GITLAB_TOKEN).",
                                          rich_help_panel="GitLab")] = False,
    *,
    gitlab: RemoteOptions,
) -> None:
    """The merge-request gate: in sync with cifab.yml, clean offline, accepted by GitLab."""
    from cifab import report
    from cifab.check import check as run_check

    where = None
    if comment:  # the token is checked before any work, so a misconfigured job fails at once
        from cifab.remote.comment import target

        where = target(gitlab.url, gitlab.project, gitlab.timeout)
    result = run_check(manifest, output, remote, gitlab, shellcheck)
    if result.diff and fmt == "text":
        _write_diff(result.diff)
    if fmt == "text":
        from cifab.frames import printable

        for path in result.in_sync:
            typer.echo(f"{printable(path)} is up to date with {printable(str(manifest))}")
    if codequality is not None:
        report.write_report(codequality, report.codequality(result.run.findings),
                            [manifest, *(Path(p) for p in result.run.paths)])
    _emit(fmt, result.run, None)
    _notes(result.run.notes, fmt)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if where is not None:
        from cifab import review
        from cifab.remote.comment import post

        typer.echo(f"note: {post(where, review.note(result, manifest, output))}", err=True)
    if result.remote_error is not None:
        raise result.remote_error
    raise typer.Exit(result.run.exit_code(fail_on))


@app.command()
def graph(
    path: Annotated[str, typer.Argument(help="The CI file to draw.")] = ".gitlab-ci.yml",
    fmt: Annotated[str, typer.Option("--format", "-f", click_type=_choice(GRAPH_FORMATS),
                                     help="tree, mermaid or dot.")] = "tree",
    root: Annotated[Path | None, typer.Option(help="Repository root for local includes.")] = None,
) -> None:
    """Draw the pipeline: stages, jobs, needs edges and manual jobs."""
    from cifab import graph as drawing
    from cifab.pipeline.load import load_pipeline

    pipeline, src = load_pipeline(path, root)
    if fmt == "mermaid":
        sys.stdout.write(drawing.mermaid(pipeline))
    elif fmt == "dot":
        sys.stdout.write(drawing.dot(pipeline))
    else:
        from rich.console import Console

        # Wrapped to the terminal's width on a terminal; piped, a line is a line, however long.
        width = None if sys.stdout.isatty() else 1_000_000
        Console(no_color=not _colour(sys.stdout), highlight=False, width=width).print(drawing.tree(pipeline, src))


@app.command()
def jobs(
    path: Annotated[str, typer.Argument(help="The pipeline file; - reads stdin.")] = ".gitlab-ci.yml",
    branch: Annotated[str | None, typer.Option(help="A pipeline for this branch.")] = None,
    tag: Annotated[str | None, typer.Option(help="A pipeline for this tag.")] = None,
    mr: Annotated[str | None, typer.Option("--mr", help="A merge request pipeline: SOURCE[:TARGET].")] = None,
    source: Annotated[str | None, typer.Option(help="CI_PIPELINE_SOURCE: push (default), web, schedule, api, "
                                                    "trigger, pipeline, parent_pipeline (with --mr: a child "
                                                    "pipeline of the merge request's), ...")] = None,
    default_branch: Annotated[str | None, typer.Option(help="The project's default branch (default: origin/HEAD, "
                                                            "init.defaultBranch, the branch checked out).")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="KEY=VALUE, as a CI/CD variable.")] = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help="A variable that is not set.")] = None,
    changed: Annotated[list[str] | None, typer.Option("--changed", help="A file the push or MR changed.")] = None,
    no_changes: Annotated[bool, typer.Option("--no-changes", help="The push or MR changes no file.")] = False,
    new: Annotated[bool, typer.Option("--new", help="The push creates the branch or tag (GitLab knows no "
                                                    "diff: `changes` holds).")] = False,
    protected: Annotated[bool | None, typer.Option("--protected/--unprotected",
                                                   help="Whether the ref is protected (default: not known).")] = None,
    project: Annotated[str | None, typer.Option(help="CI_PROJECT_PATH, group/project (default: from the origin "
                                                     "remote).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", click_type=_choice(("text", "json")),
                                     help="text, or json (cifab-jobs/2).")] = "text",
    root: Annotated[Path | None, typer.Option(help="Repository root for local includes and rules:exists.")] = None,
) -> None:
    """The jobs GitLab would create for a push, a tag, a merge request or a schedule."""
    from cifab.files import repository_root
    from cifab.pipeline.load import load_pipeline
    from cifab.simulate import event as events
    from cifab.simulate import report
    from cifab.simulate.pipeline import simulate

    folder = root or (None if path == "-" else Path(path).resolve().parent)
    event = events.from_options(folder, branch=branch, tag=tag, mr=mr, source=source, default_branch=default_branch,
                                variables=var, unset=unset, changed=changed, no_changes=no_changes, new=new,
                                protected=protected, project=project)
    pipeline, _ = load_pipeline(path, root)
    result = simulate(pipeline, event, repository_root(folder) if folder is not None else None)
    sys.stdout.write(report.as_json(result) if fmt == "json" else report.as_text(result))


@app.command()
def diff(
    base: Annotated[str | None, typer.Argument(help="Base revision (default: the merge-base with the default "
                                                    "branch).")] = None,
    head: Annotated[str | None, typer.Argument(help="Head revision (default: the working tree).")] = None,
    path: Annotated[str, typer.Option("--file", help="The pipeline file, relative to the repository.")] =
    ".gitlab-ci.yml",
    default_branch: Annotated[str | None, typer.Option(help="The project's default branch.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", click_type=_choice(("text", "markdown", "json")),
                                     help="text, markdown, or json (cifab-diff/1).")] = "text",
) -> None:
    """What a change does to the pipelines: jobs and needs per event, between two revisions."""
    from cifab.files import repository_root
    from cifab.simulate import diff as differ

    root = repository_root(Path.cwd())
    if root is None:
        raise CifabError("cifab diff compares git revisions: run it inside a git checkout")
    shown_base, shown_head, found = differ.diff_revisions(root, base, head, path, default_branch)
    if fmt == "json":
        sys.stdout.write(differ.as_json(found, shown_base, shown_head))
    else:
        sys.stdout.write(differ.as_text(found, markdown=fmt == "markdown"))


templates_app = typer.Typer(help="List and print the templates pipelines are made from.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")


@templates_app.command("list")
def templates_list(manifest: ManifestOpt = Path("cifab.yml")) -> None:
    """Every template name; those your templates_dir shadows are marked."""
    from cifab.generate.render import listing

    for name, path, shadowed in listing(manifest):
        typer.echo(f"{name}  (yours: {path})" if shadowed else name)


@templates_app.command("show")
def templates_show(
    name: Annotated[str, typer.Argument(help="A name from `cifab templates list`.")],
    manifest: ManifestOpt = Path("cifab.yml"),
) -> None:
    """Print a template, to copy into your templates_dir and change."""
    from cifab.generate.render import template_text

    sys.stdout.write(template_text(name, manifest))


@app.command()
def rules() -> None:
    """List every rule id cifab can report."""
    from cifab.registry import listing

    for line in listing():
        typer.echo(line)


@app.command()
def explain(rule_id: Annotated[str, typer.Argument(metavar="RULE", help="A rule id from `cifab rules`.")]) -> None:
    """Print a rule's documentation with a failing and a passing example."""
    from cifab.registry import explain_text

    typer.echo(explain_text(rule_id), nl=False)


def _one_command(argv: list[str]) -> typer.Typer | None:
    """A one-command app for `cifab COMMAND ...`: typer builds click objects for every
    command of an app on each run. Measured on an installed cifab, a 5-job lint takes 135 ms
    this way and 148 ms through the full app. Help still goes through the full app, so that
    it lists everything."""
    if not argv or any(arg in ("-h", "--help") for arg in argv[1:]):
        return None
    commands = {info.name or (info.callback.__name__ if info.callback else ""): info
                for info in app.registered_commands}
    info = commands.get(argv[0])
    if info is None or info.callback is None:
        return None
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                         context_settings={"help_option_names": ["-h", "--help"]})
    single.command()(info.callback)
    return single


def _dispatch(argv: list[str]) -> int:
    single = _one_command(argv)
    try:
        # Outside standalone mode click returns the code of a typer.Exit instead of exiting.
        if single is not None:
            code = single(args=argv[1:], prog_name=f"cifab {argv[0]}", standalone_mode=False)
        else:
            code = app(args=argv, prog_name="cifab", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        typer.echo("Aborted!", err=True)
        return 1
    return code if isinstance(code, int) else 0


def main(argv: list[str] | None = None) -> int:
    """Run cifab with these arguments (default: the command line) and return its exit code."""
    with boundary() as outcome:
        outcome.code = _dispatch(list(sys.argv[1:] if argv is None else argv))
    return outcome.code
