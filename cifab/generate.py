"""`cifab generate`: manifest in, linted pipeline out, never over a hand edit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cifab import context, contract, manifest, output, render
from cifab.errors import CifabError
from cifab.lint.findings import Finding, Severity

if TYPE_CHECKING:
    from cifab.remote.run import RemoteOptions

OUTPUT_NAME = ".gitlab-ci.yml"

ESCAPE_HATCHES = (
    "To keep a change, make it in cifab.yml instead: `jobs:` overrides any generated job "
    "(deep merge, plus script_before/script_after), `extra_jobs:` adds jobs in plain GitLab "
    "YAML, `include:` adds includes and components, and `templates_dir:` shadows cifab's "
    "templates. Run `cifab generate --diff` to see what regenerating would change, or "
    "`cifab generate --force` to replace the file (the hand edits are lost)."
)


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


@dataclass
class Plan:
    """What generating would write: the pipeline file, and a monorepo's child pipelines."""

    manifest_path: Path
    files: list[FilePlan]

    @property
    def output_path(self) -> Path:
        return self.files[0].path

    @property
    def text(self) -> str:
        return self.files[0].text

    @property
    def current(self) -> str | None:
        return self.files[0].current

    @property
    def in_sync(self) -> bool:
        return all(f.in_sync for f in self.files)

    @property
    def state(self) -> contract.State:
        return self.files[0].state

    def diff(self) -> str:
        root = self.output_path.parent
        return "".join(output.unified_diff(f.current, f.text, _relative(f.path, root))
                       for f in self.files if not f.in_sync)


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


def template_dirs(m: manifest.Manifest) -> list[Path]:
    """The manifest's templates_dir (shadowing ours by name), if it names one."""
    folder = m.data.get("templates_dir")
    if not folder:
        return []
    path = (m.path.parent / folder).resolve()
    if not path.is_dir():
        raise CifabError(f"templates_dir {folder} (from {m.path}) is not a directory")
    return [path]


def render_files(manifest_path: Path, output_path: Path, lint: bool = True) -> list[tuple[Path, str]]:
    """Every file to write, the pipeline first, each wrapped in the contract and (unless
    the caller lints the files itself) linted."""
    from cifab import transform

    m = manifest.load(manifest_path)
    children: dict[str, str] = {}
    if m.stack == "monorepo":
        from cifab import monorepo

        if m.data.get("child_pipelines"):
            rendered, children = monorepo.render_children(m, template_dirs(m))
        else:
            rendered = monorepo.render_single(m, template_dirs(m))
    else:
        rendered = render.render(context.build(m), template_dirs(m))
    files = [(output_path, transform.apply(rendered, m))]
    files += [(output_path.parent / rel, body) for rel, body in children.items()]
    out = []
    for path, body in files:
        text = contract.wrap(manifest_label(manifest_path, path), body)
        if lint:
            verify(text, path, output_path.parent)
        out.append((path, text))
    return out


def verify(text: str, output_path: Path, root: Path | None = None) -> None:
    """Lint what we rendered; a finding here is a cifab bug or a bad escape hatch."""
    from cifab.lint.engine import Options, lint_text

    findings = lint_text(text, str(output_path), Options(root=root or output_path.parent))
    errors = [f for f in findings if f.severity >= Severity.WARNING]
    if errors:
        raise GeneratedInvalid(errors)


def verify_remote(text: str, output_path: Path, options: RemoteOptions) -> None:
    """GitLab's verdict on what we rendered decides whether it is written."""
    from cifab.remote import lint as remote_lint

    settings = options.settings(output_path.parent.resolve())
    result = remote_lint.lint_content(settings, text, dry_run=options.dry_run, ref=options.ref)
    if not result.valid:
        raise GeneratedInvalid([Finding(str(output_path), 0, 0, remote_lint.RULE_ID, Severity.ERROR, e)
                                for e in result.errors or ["GitLab says the configuration is invalid"]])


def plan(manifest_path: Path, output_path: Path | None = None, remote: RemoteOptions | None = None,
         lint: bool = True) -> Plan:
    output_path = output_path or manifest_path.parent / OUTPUT_NAME
    rendered = render_files(manifest_path, output_path, lint)
    if remote is not None:
        for path, text in rendered:
            verify_remote(text, path, remote)
    return Plan(manifest_path, [FilePlan(path, text, _current(path)) for path, text in rendered])


def _current(path: Path) -> str | None:
    try:
        return output.read_text(path)
    except UnicodeDecodeError:
        return ""  # not text we wrote: treated as foreign
    except OSError as exc:
        raise CifabError(f"cannot read {path}: {exc.strerror}") from None


def write(p: Plan, force: bool = False) -> bool:
    """Write every file that changed; False when all were up to date. Nothing is written
    unless every file may be: a refusal leaves them all as they were."""
    changed = [f for f in p.files if not f.in_sync]
    if not changed:
        return False
    for f in changed:
        if not force and f.state is contract.State.FOREIGN:
            raise CifabError(
                f"{f.path} was not generated by cifab (it has no cifab header), so it was left "
                f"untouched.\n{ESCAPE_HATCHES}", 1)
        if not force and f.state is contract.State.HAND_EDITED:
            raise CifabError(
                f"{f.path} was edited by hand since cifab generated it (its checksum no longer "
                f"matches), so it was left untouched.\n{ESCAPE_HATCHES}", 1)
    for f in changed:
        try:
            if f.path != p.output_path:  # a child pipeline's folder may not exist yet
                f.path.parent.mkdir(parents=True, exist_ok=True)
            output.atomic_write(f.path, f.text)
        except OSError as exc:
            raise CifabError(f"cannot write {f.path}: {exc.strerror}") from None
    return True
