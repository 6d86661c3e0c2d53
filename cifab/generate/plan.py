"""What `cifab generate` would write: the manifest rendered, its escape hatches applied,
wrapped in the contract and linted, beside what is on disk now."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cifab import contract, files
from cifab.diagnostics import Finding, Severity
from cifab.errors import CifabError, ProblemsError
from cifab.generate import blame, context, linewidth, monorepo, render, transform
from cifab.generate.diff import unified_diff
from cifab.generate.scalars import quoting
from cifab.manifest.load import Manifest, load
from cifab.stacks import MONOREPO

if TYPE_CHECKING:
    from cifab.remote.settings import RemoteOptions

OUTPUT_NAME = ".gitlab-ci.yml"


class GeneratedInvalid(CifabError):
    """The rendered pipeline failed offline lint: we refuse to write it."""

    def __init__(self, findings: list[Finding]) -> None:
        lines = "\n".join(f"  {f.location()}: {f.severity} {f.rule_id} {f.message}" for f in findings)
        super().__init__(f"the generated pipeline does not pass lint, so nothing was written:\n{lines}", 1)
        self.findings = findings


@dataclass
class FilePlan:
    path: Path
    text: str  # the complete file we would write
    current: str | None  # what is on disk now

    @property
    def in_sync(self) -> bool:
        return self.current == self.text

    @property
    def state(self) -> contract.State:
        return contract.state(self.current)

    def advice(self) -> str:
        """What to run about this file being out of date: advice `generate` will follow."""
        if self.state is contract.State.FOREIGN:
            return (f"{self.path.name} was not written by cifab: `cifab generate --diff` shows what cifab would "
                    f"write instead; `cifab generate --force` replaces it (git keeps the old one)")
        if self.state is contract.State.HAND_EDITED:
            return (f"{self.path.name} was edited by hand since cifab wrote it: move the edit into cifab.yml "
                    "(jobs:, extra_jobs:), then `cifab generate --force`")
        return "run `cifab generate` and commit the result"


@dataclass
class Plan:
    """What generating would write: the pipeline file, and a monorepo's child pipelines."""

    manifest_path: Path
    files: list[FilePlan]
    # What no write may replace, not even with --force: the manifest, and the folders of
    # the templates it is rendered from.
    protected: tuple[Path, ...] = ()

    @property
    def output_path(self) -> Path:
        return self.files[0].path

    @property
    def text(self) -> str:
        return self.files[0].text

    @property
    def in_sync(self) -> bool:
        return all(f.in_sync for f in self.files)

    def diff(self) -> str:
        root = self.output_path.parent
        return "".join(unified_diff(f.current, f.text, _relative(f.path, root))
                       for f in self.files if not f.in_sync)


def placement_note(output_path: Path) -> str | None:
    """A warning when GitLab will not read the pipeline where it is written: GitLab reads
    .gitlab-ci.yml at the repository root unless the project names another file."""
    folder = output_path.resolve().parent
    root = files.repository_root(folder)
    if root is None or output_path.resolve() == root / OUTPUT_NAME:
        return None
    relative = output_path.resolve().relative_to(root).as_posix()
    return (f"warning: GitLab reads {OUTPUT_NAME} at the repository root, not {relative}: set Settings > CI/CD > "
            f"General pipelines > CI/CD configuration file to {relative} for GitLab to run it")


def as_stream(plan: Plan) -> str:
    """What --stdout prints: the pipeline alone, or, with child pipelines, every file as one
    YAML document of a stream, each led by a comment that names its file."""
    if len(plan.files) == 1:
        return plan.text
    root = plan.output_path.parent
    return "".join(f"---\n# file: {_relative(f.path, root)}\n{f.text}" for f in plan.files)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def manifest_label(manifest_path: Path, output_path: Path) -> str:
    """How the header names the manifest: relative to the generated file, with / separators."""
    try:
        rel = os.path.relpath(manifest_path.resolve(), output_path.resolve().parent)
    except ValueError:  # another drive on Windows
        rel = str(manifest_path)
    return rel.replace(os.sep, "/")


def render_bodies(m: Manifest) -> tuple[str, dict[str, str]]:
    """The pipeline's body with the escape hatches applied, and a monorepo's child
    pipelines by path. Each project or component renders through the same path; a
    monorepo's are then composed once."""
    search_path = render.template_dirs(m)
    with quoting(str(m.data.get("quotes", "double"))):
        if m.stack != MONOREPO:
            return transform.apply(render.render(context.build(m), search_path), m), {}
        rendered = [(c, render.render(context.build(c.manifest), search_path)) for c in monorepo.components(m)]
        body, children = monorepo.compose(m, rendered, search_path)
        return transform.apply(body, m), children


def render_files(manifest: Manifest, output_path: Path, lint: bool = True) -> list[tuple[Path, str]]:
    """Every file to write, the pipeline first, each wrapped in the contract and (unless
    the caller lints the files itself) linted."""
    manifest_path = manifest.path
    body, children = render_bodies(manifest)
    bodies = [(output_path, body), *((output_path.parent / rel, text) for rel, text in children.items())]
    out = []
    width = int(manifest.data.get("line_length") or 0)
    for path, text in bodies:
        wrapped = contract.wrap(manifest_label(manifest_path, path), linewidth.fit(text, width), width)
        if lint:
            verify(wrapped, path, output_path.parent, manifest)
        out.append((path, wrapped))
    return out


def verify(text: str, output_path: Path, root: Path | None = None, manifest: Manifest | None = None) -> None:
    """Lint what we rendered; a finding here is a cifab bug or a bad escape hatch. Findings
    on values an escape hatch wrote are the manifest's problems, reported where it says so."""
    from cifab.lint.engine import Options, lint_text

    findings = lint_text(text, str(output_path), Options(root=root or output_path.parent))
    errors = [f for f in findings if f.severity >= Severity.WARNING]
    if not errors:
        return
    moved, kept = blame.to_manifest(errors, text, str(output_path), manifest.source if manifest else None)
    if moved:
        raise ProblemsError(sorted(moved) + kept)
    raise GeneratedInvalid(kept)


def verify_remote(text: str, output_path: Path, options: RemoteOptions) -> None:
    """GitLab's verdict on what we rendered decides whether it is written."""
    from cifab.remote import lint as remote_lint

    settings = options.settings(output_path.parent.resolve())
    result = remote_lint.lint_content(settings, text, dry_run=options.dry_run, ref=options.ref)
    if not result.valid:
        raise GeneratedInvalid([remote_lint.RULE.at(str(output_path), 0, 0, e)
                                for e in result.errors or ["GitLab says the configuration is invalid"]])


def plan(manifest_path: Path, output_path: Path | None = None, remote: RemoteOptions | None = None,
         lint: bool = True) -> Plan:
    output_path = output_path or manifest_path.parent / OUTPUT_NAME
    manifest = load(manifest_path)
    rendered = render_files(manifest, output_path, lint)
    if remote is not None:
        for path, text in rendered:
            verify_remote(text, path, remote)
    return Plan(manifest_path, [FilePlan(path, text, _current(path)) for path, text in rendered],
                protected=(manifest_path, *render.template_dirs(manifest), render.templates_dir()))


def _current(path: Path) -> str | None:
    try:
        return files.read_text(path)
    except UnicodeDecodeError:
        return ""  # not text we wrote: treated as foreign
    except OSError as exc:
        raise CifabError(f"cannot read {path}: {exc.strerror}") from None
