"""The Jinja environment that turns a render context into pipeline YAML text.

Safety: the environment is sandboxed with StrictUndefined, and its `finalize` hook refuses
any `{{ ... }}` whose value did not pass through the `yaml` filter. That filter writes one
YAML scalar (or a flow list of scalars) that a YAML parser reads back as exactly the same
value, so no manifest value can add a key, a job or a line to the output.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cifab import files
from cifab.errors import CifabError
from cifab.frames import one_line
from cifab.generate.sandbox import (
    MAX_TEXT,
    RENDER_SECONDS,
    RangeBudget,
    TemplateLimit,
    deadline,
    sandbox_class,
    template_line,
)
from cifab.generate.scalars import scalar
from cifab.manifest.load import Manifest, load

PACKAGE_TEMPLATES = Path(__file__).parents[1] / "templates"  # cifab/templates in the wheel
REPO_TEMPLATES = Path(__file__).parents[2] / "templates"
ENTRY_TEMPLATE = "pipeline.yml.j2"

class YamlText(str):
    """Text that the `yaml` filter produced: the only thing templates may print."""

    __slots__ = ()


def templates_dir() -> Path:
    """Templates ship inside the wheel; a source checkout keeps them at the top level."""
    return PACKAGE_TEMPLATES if PACKAGE_TEMPLATES.is_dir() else REPO_TEMPLATES


def yaml_filter(value: Any) -> YamlText:
    """`{{ x | yaml }}`: a scalar, or a flow list `[a, b]` for a sequence of scalars."""
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the missing value
    if isinstance(value, (list, tuple)):
        return YamlText("[" + ", ".join(scalar(v, flow=True) for v in value) + "]")
    if isinstance(value, dict):
        raise CifabError("templates must lay out mappings themselves; the yaml filter takes scalars")
    return YamlText(scalar(value))


def block(macro: Any, *args: Any, **kwargs: Any) -> YamlText:
    """`{{ block(m, ...) }}`: the text of one of the templates' own macros. Every value
    inside it already went through the `yaml` filter, so the text as a whole may be
    printed; the call's line ends it."""
    from jinja2.runtime import Macro

    if not isinstance(macro, Macro):
        raise CifabError(f"template bug: block() takes a macro, not {type(macro).__name__}")
    return YamlText(str(macro(*args, **kwargs)).rstrip("\n"))


def _finalize(value: Any) -> Any:
    if isinstance(value, YamlText):
        return value
    raise CifabError(
        f"template bug: {excerpt(repr(value))} was printed without the `yaml` filter; "
        "every value must go through it so that it cannot change the YAML structure")


MAX_TEMPLATE_BYTES = 1024 * 1024
EXCERPT = 200  # characters of a value a template error quotes


def user_template(path: Path, folder: Path) -> Path:
    """A file of the user's templates_dir that may be read: a regular file whose real path
    lies inside the folder. A link out of it (to /proc/self/environ, say, whose text the
    drift diff would print) or a device is refused, named with what it points at."""
    real = path.resolve()
    if not real.is_relative_to(folder.resolve()):
        raise CifabError(f"template {path} is a link to {real}, outside templates_dir {folder}: cifab reads "
                         "templates from inside it only")
    try:
        info = real.stat()
    except OSError as exc:
        raise CifabError(f"cannot read template {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CifabError(f"template {path} is not a regular file")
    if info.st_size > MAX_TEMPLATE_BYTES:
        raise CifabError(f"template {path} is {info.st_size:,} bytes; a template is at most "
                         f"{MAX_TEMPLATE_BYTES:,}")
    return real


def _loader(search_path: Sequence[Path]) -> Any:
    """Jinja's file loader, with every file of the user's folders checked by user_template
    before it is read; cifab's own templates are read as they are."""
    import posixpath

    from jinja2 import FileSystemLoader
    from jinja2.loaders import split_template_path

    users = [Path(p) for p in search_path]

    class Bounded(FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> Any:
            pieces = split_template_path(template)
            for folder in users:
                candidate = Path(posixpath.join(str(folder), *pieces))
                if os.path.lexists(candidate):
                    user_template(candidate, folder)
                    break
            return super().get_source(environment, template)

    return Bounded([str(p) for p in (*search_path, templates_dir())])


def environment(search_path: Sequence[Path] = ()) -> Any:
    from jinja2 import StrictUndefined

    env = sandbox_class()(
        loader=_loader(search_path),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["yaml"] = yaml_filter
    env.filters["hub"] = _hub_filter()
    env.globals["block"] = block
    env.globals["range"] = RangeBudget().range
    return env


def _hub_filter() -> Any:
    """`{{ image | hub | yaml }}`: the image through the Dependency Proxy when the manifest
    asks for it (`dependency_proxy` in the render context) and the image is on Docker Hub."""
    from jinja2 import pass_context

    from cifab.generate.images import through_dependency_proxy

    @pass_context
    def hub(ctx: Any, image: Any) -> Any:
        return through_dependency_proxy(image) if ctx.get("dependency_proxy") and isinstance(image, str) else image

    return hub


def render(context: dict[str, Any], search_path: Sequence[Path] = (), seconds: float = RENDER_SECONDS) -> str:
    """The pipeline text; a template that uses more than `seconds` of CPU is stopped."""
    from jinja2 import TemplateError

    env = environment(search_path)
    try:
        with deadline(seconds):
            text = env.get_template(ENTRY_TEMPLATE).render(**context)
    except CifabError:
        raise
    except TemplateError as exc:
        lineno = getattr(exc, "lineno", None)
        where = f" ({getattr(exc, 'filename', '?')}:{lineno})" if lineno else template_line(exc)
        raise CifabError(f"template error{where}: {excerpt(str(exc.message))}", 2) from None
    except RecursionError as exc:
        raise CifabError(f"template error{template_line(exc)}: templates include or call themselves "
                         "without end", 2) from None
    # What a template's own expressions raise: 1/0, int('x'), a missing key, a bound.
    except (TemplateLimit, ArithmeticError, LookupError, TypeError, ValueError, MemoryError) as exc:
        raise CifabError(f"template error{template_line(exc)}: {_describe(exc)}", 2) from None
    if len(text) > MAX_TEXT:
        raise CifabError(f"template error: the pipeline came out {len(text):,} characters long; "
                         f"the bound is {MAX_TEXT:,}", 2)
    return tidy(text)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TemplateLimit):
        return str(exc)
    text = excerpt(str(exc) or type(exc).__name__)
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, LookupError) else f"no such item: {text}"


def excerpt(text: str) -> str:
    """A value quoted in a message: one line, and at most a few hundred characters of it,
    however long the value (a template can build megabytes)."""
    return one_line(text, EXCERPT)


def tidy(text: str) -> str:
    """One blank line between blocks at most, and a single trailing newline."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


def template_names(search_path: Sequence[Path] = ()) -> list[tuple[str, Path]]:
    """Every template name with the file that provides it (a user's shadows ours)."""
    found: dict[str, Path] = {}
    for folder in (*search_path, templates_dir()):
        for path in sorted(folder.rglob("*.j2")):
            found.setdefault(path.relative_to(folder).as_posix(), path)
    return sorted(found.items())


def template_dirs(m: Manifest) -> list[Path]:
    """The manifest's templates_dir (shadowing ours by name), if it names one. It must lie
    inside the repository (the manifest's folder, outside a git checkout), symlinks resolved."""
    folder = m.data.get("templates_dir")
    if not folder:
        return []
    if "\0" in str(folder):
        raise CifabError(f"templates_dir (from {m.path}) holds a NUL character, which no path can")
    base = m.path.parent.resolve()
    repository = files.repository_root(base) or base
    path = (base / folder).resolve()
    if not path.is_relative_to(repository):
        raise CifabError(f"templates_dir {folder} (from {m.path}) is {path}, outside the repository "
                         f"{repository}: cifab reads templates from inside it only")
    if not path.is_dir():
        raise CifabError(f"templates_dir {folder} (from {m.path}) is not a directory")
    return [path]


def _user_dirs(manifest_path: Path) -> list[Path]:
    return template_dirs(load(manifest_path)) if manifest_path.exists() else []


def listing(manifest_path: Path) -> list[tuple[str, Path, bool]]:
    """(name, file, shadowed by the user's templates_dir) for every template."""
    ours = templates_dir()
    return [(name, path, not path.is_relative_to(ours)) for name, path in template_names(_user_dirs(manifest_path))]


def template_text(name: str, manifest_path: Path) -> str:
    from cifab.spelling import suggest

    users = _user_dirs(manifest_path)
    found = dict(template_names(users))
    if name not in found:
        near = suggest(name, list(found))
        raise CifabError(f"no template named {name}" + (f"; did you mean {near}?" if near else
                                                        "; `cifab templates list` shows them"))
    path = found[name]
    for folder in users:
        if path.is_relative_to(folder):
            path = user_template(path, folder)
    return path.read_text(encoding="utf-8")
