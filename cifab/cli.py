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
from typing import Annotated, Any, TypeVar

import typer

from cifab import __version__
from cifab.errors import CifabError

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

    return wrapper  # type: ignore[return-value]


ManifestOpt = Annotated[Path, typer.Option("--manifest", "-m", help="The manifest to read.")]


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
) -> None:
    """Render .gitlab-ci.yml from cifab.yml."""
    from cifab import generate as gen
    from cifab import output as out

    plan = gen.plan(manifest, output)
    if stdout:
        sys.stdout.write(plan.text)
        return
    if check or diff:
        if plan.in_sync:
            typer.echo(f"{plan.output_path} is up to date with {manifest}")
            return
        text = plan.diff()
        sys.stdout.write(out.colorize_diff(text) if _colour(sys.stdout) else text)
        if check:
            typer.echo(f"{plan.output_path} is out of date: run `cifab generate`", err=True)
            raise typer.Exit(1)
        return
    if gen.write(plan, force=force):
        typer.echo(f"wrote {plan.output_path}")
    else:
        typer.echo(f"{plan.output_path} is up to date")


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
    fmt: Annotated[str, typer.Option("--format", "-f",
                                     help="text, json, codequality, junit or sarif.")] = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    fail_on: Annotated[str, typer.Option(help="Lowest severity that fails: error, warning or info.")] = "error",
    root: Annotated[Path | None, typer.Option(help="Repository root for local includes.")] = None,
    shellcheck: Annotated[bool, typer.Option("--shellcheck/--no-shellcheck",
                                             help="Run ShellCheck on scripts (when installed).")] = True,
    manifest: ManifestOpt = Path("cifab.yml"),
) -> None:
    """Check GitLab CI files offline: schema and GitLab's semantic rules."""
    from cifab.lint import report
    from cifab.lint.findings import Severity
    from cifab.lint.run import lint_paths
    from cifab.lint.settings import ignored_rules

    if fmt not in report.FORMATS:
        raise CifabError(f"unknown --format {fmt}; use one of: {', '.join(report.FORMATS)}")
    try:
        threshold = Severity.parse(fail_on)
    except KeyError:
        raise CifabError(f"unknown --fail-on {fail_on}; use error, warning or info") from None
    run = lint_paths(paths or [".gitlab-ci.yml"], root, ignored_rules(manifest), shellcheck)
    stream = sys.stdout
    text = report.render(fmt, run.findings, run.sources, run.paths,
                         colour=output is None and fmt == "text" and _colour(stream))
    if output is not None:
        from cifab.output import atomic_write

        atomic_write(output, text)
        typer.echo(report.summary(run.findings, len(run.paths)), err=True)
    else:
        stream.write(text)
    raise typer.Exit(run.exit_code(threshold))


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


def main() -> None:
    """Console entry point: errors become one clear message and an exit code."""
    try:
        app()
    except CifabError as exc:
        typer.echo(f"cifab: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
