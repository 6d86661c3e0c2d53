"""The python stack: the project's own linters at its own pins, mypy as configured, a pytest
matrix over the supported Pythons with coverage of the package, wheel and sdist, and an
opt-in upload to the project's package registry; with uv, poetry or pip."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any, TypedDict

from cifab.declared import ci, precommit
from cifab.gitlab import MAX_CACHE_KEY_FILES
from cifab.stacks import audit, python_setup
from cifab.stacks import python_declared as declared
from cifab.stacks.base import (
    Asker,
    Detection,
    ReleaseFiles,
    Sbom,
    Stack,
    StackContext,
    checked,
    jobs,
    read_text,
    read_toml,
    safe_name,
    table,
)

PINS = {"ruff": "0.17.5", "uv": "0.13.8", "black": "26.10.1", "mypy_version": "2.4.1", "poetry": "2.5.1",
        "build": "1.6.1", "twine": "7.0.0", "pytest_cov": "7.1.0", "cyclonedx_bom": "7.5.0", "pip_audit": "2.10.1"}
# Python releases with python:<version>-slim images and upstream support, oldest first.
VERSIONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
# The version a manifest that names none gets: the newest release the whole toolchain the
# jobs install (mypy, ruff, uv wheels) is proven on, here and in the e2e tier.
DEFAULT_VERSION = "3.13"
JOB = {"ruff": "ruff", "black": "black", "mypy": "mypy", "lint": "python-lint", "test": "pytest",
       "build": "python-build", "publish": "publish-package", "sbom": "python-sbom", "audit": "pip-audit"}


def image(version: str) -> str:
    """The image of a Python version."""
    return f"python:{version}-slim"
_REQ_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([0-9][A-Za-z0-9.]*)", re.MULTILINE)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class PythonSection(TypedDict):
    manager: str
    image: str
    matrix_image: str
    versions: list[str]
    matrix: bool
    lock_files: list[str]
    version: str  # the image's Python
    cache_dir: str  # inside the project: GitLab caches only paths there
    cache_variable: str
    cache_path: str
    setup: list[str]  # the dependency installer's own setup (uv, poetry)
    apt: list[str]  # the Debian packages the jobs that install the project need
    install: list[str]  # the project and its test dependencies, for the test and mypy jobs
    ruff: bool
    ruff_format: bool
    ruff_install: str
    ruff_check: str
    ruff_report: str
    ruff_format_check: str
    black: bool
    black_install: str
    mypy: list[str]
    mypy_isolated: bool  # as pre-commit runs it: without the project installed
    lint_apt: list[str]
    lint_command: list[str]  # the project's own lint command, with its install: one job
    test_apt: list[str]
    test: list[str]
    test_variables: dict[str, str]
    junit: bool
    coverage: bool
    services: list[dict[str, str]]
    build: list[str]
    build_apt: list[str]
    build_variables: dict[str, str]
    twine_install: str


# ---------------------------------------------------------------- detection


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _bound(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:2])


def allowed_versions(spec: str | None) -> list[str]:
    """The VERSIONS a requires-python (or Poetry's python) specifier admits, both bounds read:
    >=3.9,<3.12 gives 3.10 and 3.11; ^3.10 gives 3.10 and newer."""
    out = list(VERSIONS)
    for clause in (spec or "").replace(" ", "").split(","):
        m = re.fullmatch(r"(>=|<=|==|!=|~=|>|<|\^|~)?(\d+(?:\.\d+)*)(\.\*)?", clause)
        if not m:
            continue
        op, version = m.group(1) or "==", _bound(m.group(2))
        if len(version) < 2:
            version = (version[0], 0)

        def keep(v: str, op: str = op, version: tuple[int, ...] = version) -> bool:
            mine = _bound(v)
            return {
                ">=": mine >= version, ">": mine > version, "<": mine < version, "<=": mine <= version,
                "==": mine == version, "!=": mine != version, "~=": mine >= version, "^": mine >= version,
                "~": mine == version,
            }[op]

        out = [v for v in out if keep(v)]
    return out


def _locked(repo: Path, lock: str) -> dict[str, str]:
    """name -> version from uv.lock or poetry.lock."""
    packages = read_toml(repo / lock).get("package", [])
    return {_norm(p["name"]): str(p["version"]) for p in packages if isinstance(p, dict) and "name" in p
            and "version" in p} if isinstance(packages, list) else {}


def _requirement_pins(repo: Path, files: list[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for file in files:
        for name, version in _REQ_PIN.findall(read_text(repo / file)):
            pins.setdefault(_norm(name), version)
    return pins


def _hook_revs(hooks: list[precommit.Hook]) -> dict[str, str]:
    """Hook id -> rev; ruff-pre-commit's newer `ruff-check` id counts as `ruff`."""
    out: dict[str, str] = {}
    for hook in hooks:
        if hook.rev and re.match(r"\d", hook.rev):
            out.setdefault("ruff" if hook.id == "ruff-check" else hook.id, hook.rev)
    return out


def _declared_pins(pyproject: dict[str, Any]) -> dict[str, str]:
    """name==version requirements anywhere in the project's dependency lists."""
    lists: list[Any] = [*table(pyproject, "dependency-groups").values(),
                        *table(table(pyproject, "project"), "optional-dependencies").values()]
    pins: dict[str, str] = {}
    for reqs in lists:
        for req in reqs if isinstance(reqs, list) else []:
            if isinstance(req, str) and (m := _REQ_PIN.match(req)):
                pins.setdefault(_norm(m.group(1)), m.group(2))
    return pins


def _names(requirements: list[Any]) -> set[str]:
    return {_norm(m.group(1)) for r in requirements if isinstance(r, str) and (m := _NAME.match(r))}


def _dev_requirements(pyproject: dict[str, Any]) -> tuple[set[str], list[str]]:
    """Names declared for development (dependency groups, extras, Poetry groups), and the
    group names a test job installs."""
    names: set[str] = set()
    groups: list[str] = []
    for group, reqs in table(pyproject, "dependency-groups").items():
        names |= _names(reqs if isinstance(reqs, list) else [])
        groups.append(str(group))
    tool = table(pyproject, "tool")
    dev_deps = table(tool, "uv").get("dev-dependencies")
    names |= _names(dev_deps if isinstance(dev_deps, list) else [])
    for reqs in table(table(pyproject, "project"), "optional-dependencies").values():
        names |= _names(reqs if isinstance(reqs, list) else [])
    poetry = table(tool, "poetry")
    for group, settings in table(poetry, "group").items():
        deps = settings.get("dependencies") if isinstance(settings, dict) else None
        if isinstance(deps, dict):
            names |= {_norm(n) for n in deps}
            if settings.get("optional"):
                groups.append(str(group))  # Poetry installs the other groups by itself
    names |= {_norm(n) for n in table(poetry, "dev-dependencies")}
    return names, groups


def _sources(repo: Path, name: str | None) -> list[str]:
    """Import packages the project ships, as paths: src/<pkg> or <pkg> with an __init__.py."""
    found = []
    for base in (repo / "src", repo):
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if (child / "__init__.py").is_file() and child.name not in {"tests", "test", "docs", "examples"}:
                found.append(child.relative_to(repo).as_posix())
        if found:
            break
    if name and len(found) > 1:
        wanted = [f for f in found if _norm(f.rsplit("/", 1)[-1]) == _norm(name)]
        found = wanted or found
    return found


def _mypy_files_configured(repo: Path, pyproject: dict[str, Any]) -> bool:
    if "files" in table(table(pyproject, "tool"), "mypy"):
        return True
    return any(re.search(r"^\s*files\s*=", read_text(repo / f), re.M)
               for f in ("mypy.ini", ".mypy.ini", "setup.cfg") if (repo / f).is_file())


def _manager(repo: Path, tool: dict[str, Any], present: list[str], workspace: Path | None) -> tuple[str, str]:
    """The package manager and why: never pip by silent default."""
    if (repo / "uv.lock").is_file():
        return "uv", "uv.lock"
    if workspace is not None and (workspace / "uv.lock").is_file():
        return "uv", "a member of the uv workspace, whose uv.lock is at its root"
    if (repo / "poetry.lock").is_file() or "poetry" in tool:
        return "poetry", "poetry.lock" if (repo / "poetry.lock").is_file() else "[tool.poetry]"
    if (repo / "pdm.lock").is_file() or "pdm" in tool:
        return "pip", "a PDM project: cifab has no PDM jobs, so pip installs the project with its extras"
    if "envs" in table(tool, "hatch"):
        return "pip", "hatch environments: cifab runs the tools with pip, not hatch"
    return "pip", ", ".join(present)


def _versions(repo: Path, spec: Any, settings: dict[str, Any], evidence: list[str],
              existing: ci.ExistingCI | None = None) -> None:
    """Python versions: the existing CI's test matrix, else requires-python read with both
    bounds; the image's version from .python-version, else the newest."""
    spec = spec if isinstance(spec, str) else None
    versions = allowed_versions(spec)
    settings["_admitted"] = (spec, versions)  # what an answer at init must fit
    listed = existing.versions_of("python-version", "python_version", "python", "py") if existing else []
    tested = [v for v in VERSIONS if any(_bound(t) == _bound(v) for t in listed)]
    if existing and tested and set(tested) <= set(versions):
        evidence.append(f"test matrix {', '.join(tested)}: the versions {existing.sources[0]} tests")
        settings["versions"] = tested
        versions = tested
    pinned = read_text(repo / ".python-version").strip().splitlines()
    dotfile = re.match(r"(3\.\d+)", pinned[0]) if pinned else None
    version = dotfile.group(1) if dotfile and dotfile.group(1) in VERSIONS else (versions[-1] if versions else None)
    if version:
        settings["version"] = version
        bound = f"the newest that requires-python {spec} admits" if spec else \
            "the newest release (no requires-python narrows it)"
        evidence.append(f"python version {version}: " + (".python-version" if dotfile else bound))
    if len(versions) > 1 and "versions" not in settings:
        settings["versions"] = versions
        evidence.append(f"test matrix {', '.join(versions)}: " + (f"requires-python {spec}" if spec else
                                                                  "every supported release (no requires-python)"))


def _linters(repo: Path, tool: dict[str, Any], dev: set[str], hooks: dict[str, str],
             pins: dict[str, str]) -> list[str]:
    """What the project lints and formats with."""
    linters = []
    uses_black = "black" in tool or "black" in dev or "black" in hooks or "black" in pins
    if "ruff" in tool or (repo / "ruff.toml").is_file() or (repo / ".ruff.toml").is_file() or "ruff" in hooks \
            or "ruff" in dev:
        linters.append("ruff")
        if ("format" in table(tool, "ruff") or "ruff-format" in hooks) and not uses_black:
            linters.append("ruff-format")
    if uses_black:
        linters.append("black")
    return linters


# (tool, the manifest key of its version, its pre-commit hook id)
PINNABLE = (("ruff", "ruff", "ruff"), ("black", "black", "black"), ("mypy", "mypy_version", "mypy"))


# The keys init reads, with the types PEP 621 and the tools give them: anything else is
# reported and skipped.
PYPROJECT_SHAPE: dict[str, type | tuple[type, ...]] = {
    "project": dict, "project.name": str, "project.requires-python": str, "project.dependencies": list,
    "project.optional-dependencies": dict, "dependency-groups": dict, "tool": dict, "tool.poetry": dict,
    "tool.poetry.name": str, "tool.poetry.dependencies": dict, "tool.poetry.group": dict,
    "tool.poetry.dev-dependencies": dict, "tool.uv": dict, "tool.uv.dev-dependencies": list, "tool.ruff": dict,
    "tool.mypy": dict, "tool.hatch": dict,
}


def detect(repo: Path, found: Detection) -> bool:
    markers = ["pyproject.toml", "setup.py", "setup.cfg", "uv.lock", "poetry.lock"]
    requirements = sorted(p.name for p in repo.glob("requirements*.txt"))
    present = [m for m in markers if (repo / m).is_file()] + requirements
    if not present:
        return False
    pyproject = checked(read_toml(repo / "pyproject.toml"), "pyproject.toml", PYPROJECT_SHAPE, found)
    pyproject = _with_setuptools(repo, pyproject, found.evidence)
    project, tool = table(pyproject, "project"), table(pyproject, "tool")
    poetry = table(tool, "poetry")
    name = project.get("name") or poetry.get("name")
    name = name if isinstance(name, str) else None
    if name:
        found.name = safe_name(name)
    evidence = found.evidence
    workspace = found.uv_workspace if found.uv_workspace is not None and not (repo / "uv.lock").is_file() else None
    manager, why = _manager(repo, tool, present, workspace)
    evidence.append(f"python package manager: {manager} ({why})")
    lock_folder = workspace if workspace is not None and manager == "uv" else repo
    locked = _locked(lock_folder, "uv.lock" if manager == "uv" else "poetry.lock") if manager != "pip" else {}
    pins = {**_declared_pins(pyproject), **_requirement_pins(repo, requirements), **locked}
    declared_hooks = precommit.hooks(repo)
    hooks = _hook_revs(declared_hooks)
    existing = ci.read(repo)
    dev, groups = _dev_requirements(pyproject)
    settings: dict[str, Any] = {"package_manager": manager}
    if "workspace" in table(tool, "uv") and not project and not table(tool, "poetry"):
        # A root that only lists the workspace's members: no project of its own to test.
        del evidence[-1]
        evidence.append("pyproject.toml: only a uv workspace's root; its members are the projects")
        found.settings = {**settings, "_workspace_only": True}
        return True
    if lock_folder is not repo and name:
        settings["workspace"] = {"root": Path(os.path.relpath(lock_folder, repo)).as_posix(), "package": name}
    _versions(repo, project.get("requires-python") or table(poetry, "dependencies").get("python"), settings,
              evidence, existing)
    settings["linters"] = linters = _linters(repo, tool, dev, hooks, pins)
    evidence.append(f"linters: {', '.join(linters) or 'none configured (no lint job)'}")
    for tool_name, key, hook in PINNABLE:
        pin = pins.get(tool_name) or hooks.get(hook)
        if pin:
            settings[key] = pin
            evidence.append(f"{tool_name} {pin}: pinned by the project")
    settings["mypy"] = mypy = "mypy" in tool or (repo / "mypy.ini").is_file() or (repo / ".mypy.ini").is_file()
    settings["sources"] = sources = _sources(repo, name)
    if mypy:
        configured = _mypy_files_configured(repo, pyproject)
        settings["mypy_paths"] = [] if configured else sources
        evidence.append("mypy: as its configuration's files say" if configured else
                        f"mypy: on {', '.join(sources) or '.'} (no files in its configuration)")
    settings["package"] = bool(project) or bool(poetry) or (repo / "setup.py").is_file()
    if manager == "pip":
        optional = table(project, "optional-dependencies")
        settings["extras"] = [e for e in DEV_EXTRAS if e in optional]
        settings["requirements"] = requirements
        settings["groups"] = [g for g in groups if g in DEV_EXTRAS]
        settings["dev_dependencies"] = _pdm_dev(pyproject)
    else:
        settings["groups"] = groups
    _declared(repo, pyproject, declared_hooks, existing, settings, evidence)
    found.settings = settings
    return True


def _with_setuptools(repo: Path, pyproject: dict[str, Any], evidence: list[str]) -> dict[str, Any]:
    """pyproject.toml with setup.py's and setup.cfg's name, python_requires and extras under
    [project] where pyproject.toml does not say them itself."""
    legacy, sources = python_setup.declared(repo)
    if not sources:
        return pyproject
    project = table(pyproject, "project")
    merged = {**legacy, **project}
    merged["optional-dependencies"] = {**legacy.get("optional-dependencies", {}),
                                       **table(project, "optional-dependencies")}
    said = [f"python_requires {legacy['requires-python']}"] if "requires-python" in legacy else []
    said += [f"extras {', '.join(legacy['optional-dependencies'])}"] if legacy.get("optional-dependencies") else []
    evidence.append(f"{' and '.join(sources)}: {'; '.join(said) or 'no python_requires or extras'} "
                    "(read, not run)")
    return {**pyproject, "project": merged}


DEV_EXTRAS = ("test", "tests", "testing", "dev", "typing", "types", "lint")


def _pdm_dev(pyproject: dict[str, Any]) -> list[str]:
    """PDM's own dev groups ([tool.pdm.dev-dependencies]), which pip does not read."""
    groups = table(table(table(pyproject, "tool"), "pdm"), "dev-dependencies")
    return [str(r) for name, reqs in groups.items() if name in DEV_EXTRAS for r in (reqs if isinstance(reqs, list)
                                                                                   else []) if isinstance(r, str)]


def _declared(repo: Path, pyproject: dict[str, Any], hooks: list[precommit.Hook], existing: ci.ExistingCI,
              settings: dict[str, Any], evidence: list[str]) -> None:
    """What the project already declares, over cifab's defaults (cifab.stacks.python_declared)."""
    if existing.sources:
        evidence.append(f"existing CI: {', '.join(existing.sources)}")
    settings["commands"] = declared.commands(repo, pyproject, hooks, existing, evidence)
    ruff = precommit.find(hooks, *declared.RUFF_HOOKS) or precommit.find(hooks, "ruff-format")
    settings["ruff_paths"], settings["lint_exclude"] = declared.scope(ruff, evidence, "ruff")
    if ruff is not None and (settings["ruff_paths"] or settings["lint_exclude"]):
        evidence.append(f"ruff: on {', '.join(settings['ruff_paths']) or 'the project'}"
                        + (f", without {', '.join(settings['lint_exclude'])}" if settings["lint_exclude"] else "")
                        + f" (from {ruff.source})")
    mypy = precommit.find(hooks, "mypy")
    if mypy is not None:
        paths, _ = declared.scope(mypy, evidence, "mypy")
        args = [a for a in mypy.args] if mypy.args else list(declared.MYPY_HOOK_ARGS)
        settings["mypy"] = True
        settings["mypy_hook"] = {"args": args, "dependencies": list(mypy.additional_dependencies),
                                 "paths": paths or settings.get("mypy_paths") or settings.get("sources") or []}
        evidence.append(f"mypy: as {mypy.source} runs it (args {' '.join(args) or 'none'}"
                        + (f", with {', '.join(mypy.additional_dependencies)}" if mypy.additional_dependencies
                           else "") + ")")
    if declared.coverage_configured(repo, pyproject):
        settings["coverage_config"] = True
        evidence.append("coverage: as the project configures it (bare --cov)")
    scm = declared.scm_version(pyproject, repo)
    apt = declared.apt_packages(existing)
    if scm:
        settings["scm_version"] = True
        apt = [*apt, "git"] if "git" not in apt else apt
        evidence.append(f"version from git tags ({scm}): jobs get git, the build job the whole history")
    settings["apt"] = apt
    if existing.apt:
        evidence.append(f"system packages: {', '.join(apt) or 'none the image lacks'} (from {existing.sources[0]})")
    ci.test_environment(existing, settings, evidence)


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    # cifab's own pins stay out of the manifest (they move with cifab); the project's stay in.
    section = {**{k: v for k, v in defaults.items() if k not in PINS}, **settings}
    spec, admitted = section.pop("_admitted", (None, list(VERSIONS)))
    section.pop("_workspace_only", None)

    def fits(answer: str) -> str | None:
        if answer.strip() in admitted or not re.fullmatch(r"3\.\d+", answer.strip()):
            return None
        said = f"requires-python {spec} admits" if spec else "cifab supports"
        return f"Python {answer.strip()} does not fit: {said} {', '.join(admitted) or 'no supported release'}"

    section["version"] = str(ask("Python version", section["version"], ("python", "version"), fits))
    section.setdefault("versions", [section["version"]])
    if section["package_manager"] != "pip":
        section.pop("extras", None)
        section.pop("requirements", None)
        section.pop("dev_dependencies", None)
    for key in ("commands", "apt", "services", "variables", "ruff_paths", "lint_exclude", "dev_dependencies"):
        if not section.get(key):
            section.pop(key, None)  # empty: the schema's default says as much
    return section


# ---------------------------------------------------------------- render context


def _quoted(words: list[str]) -> str:
    return " ".join(shlex.quote(w) for w in words)


def _pytest(py: dict[str, Any]) -> str:
    if py["coverage_config"]:
        cov = "--cov"  # the project's [tool.coverage.run] says what to measure
    else:
        cov = " ".join(f"--cov={src.rsplit('/', 1)[-1]}" for src in py["sources"]) or "--cov"
    return f"pytest --junitxml=report.xml {cov} --cov-report=term --cov-report=xml:coverage.xml"


def _commands(py: dict[str, Any]) -> dict[str, list[str]]:
    """Each job's commands for the package manager. mypy runs at the project's own pin
    when it has one (detection put it in mypy_version), inside the project's environment
    so that its plugins and stubs are there; or, when the project runs it from pre-commit,
    as the hook does: in an environment of its own, with the hook's dependencies and args."""
    manager = py["package_manager"]
    pytest = _pytest(py)
    mypy_args = f" {_quoted(py['mypy_paths'])}" if py["mypy_paths"] else ""
    if manager == "uv":
        groups = "".join(f" --group {g}" for g in py["groups"])
        # A workspace member names itself: uv sync and uv run work on the workspace's root otherwise.
        member = f" --package {py['workspace']['package']}" if py.get("workspace") else ""
        out = {
            "setup": [f"pip install --quiet uv=={py['uv']}"],
            "install": [f"uv sync --frozen{member}{groups}"],
            "test": [f"uv run --frozen --no-sync{member} --with pytest-cov=={PINS['pytest_cov']} {pytest}"],
            "mypy": [f"uv run --frozen --no-sync{member} --with mypy=={py['mypy_version']} mypy{mypy_args}"],
            "build": [f"pip install --quiet uv=={py['uv']}", f"uv build{member} --out-dir dist" if member
                      else "uv build"],
        }
    elif manager == "poetry":
        groups = f" --with {','.join(py['groups'])}" if py["groups"] else ""
        out = {
            "setup": [f"pip install --quiet poetry=={py['poetry']}"],
            "install": [f"poetry install --no-interaction{groups}"],
            "test": [f"poetry run pip install --quiet pytest-cov=={PINS['pytest_cov']}", f"poetry run {pytest}"],
            "mypy": [f"poetry run pip install --quiet mypy=={py['mypy_version']}", f"poetry run mypy{mypy_args}"],
            "build": [f"pip install --quiet poetry=={py['poetry']}", "poetry build"],
        }
    else:
        extras = f"[{','.join(py['extras'])}]" if py["extras"] else ""
        project = f" -e '.{extras}'" if py["package"] else ""
        # Dependency groups (PEP 735) need pip 25.1; PDM's own dev groups pip does not read.
        dependency_groups = ["pip install --quiet 'pip>=25.1'", "pip install --quiet" + "".join(
            f" --group {g}" for g in py["groups"])] if py["groups"] else []
        dev = [f"pip install --quiet {_quoted(py['dev_dependencies'])}"] if py["dev_dependencies"] else []
        out = {
            "setup": [],
            "install": [f"pip install --quiet -r {file}" for file in py["requirements"]] + dependency_groups + dev + (
                [f"pip install --quiet{project}"] if project else []),
            "test": [f"pip install --quiet pytest-cov=={PINS['pytest_cov']}", pytest],
            "mypy": [f"pip install --quiet mypy=={py['mypy_version']}", f"mypy{mypy_args}"],
            "build": [f"pip install --quiet build=={PINS['build']}", "python -m build"],
        }
    hook = py.get("mypy_hook")
    if hook is not None:
        out["mypy"] = [f"pip install --quiet mypy=={py['mypy_version']}" + (
            f" {_quoted(hook['dependencies'])}" if hook["dependencies"] else ""),
            "mypy" + (f" {_quoted(hook['args'])}" if hook["args"] else "") + (
                f" {_quoted(hook['paths'])}" if hook["paths"] else " .")]
    return out


def _formats_markdown(version: str) -> bool:
    """ruff 0.16 and newer format Markdown code blocks too, which the project's own checks
    (pre-commit's ruff-format hook takes Python files) never asked for; they also take
    --extend-exclude, which older ones refuse."""
    found = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
    return found >= (0, 16)


def _tool_setup(tool: str) -> list[str]:
    """What a task runner the job needs takes to install in a python image."""
    if tool in ("", "make"):
        return []  # make comes with the job's Debian packages
    package = "rust-just" if tool == "just" else tool
    return [f"pip install --quiet {package}=={declared.TOOL_PINS[tool]}"]


def _project_command(py: dict[str, Any], role: str, commands: dict[str, list[str]]) -> list[str]:
    """A job's script for a command the project already runs: the project's install (unless
    its runner makes its own environments), the runner, then the command as written."""
    command = py["commands"][role]
    tool = command.get("tool", "")
    install = [] if tool in declared.OWN_ENVIRONMENTS else commands["install"]
    if tool == "pdm":
        install = ["pdm install --dev"]
    return [*_tool_setup(tool), *install, *(command["run"] if isinstance(command["run"], list)
                                           else [command["run"]])]


def _apt(py: dict[str, Any], tool: str = "") -> list[str]:
    packages = list(py["apt"]) + (["make"] if tool == "make" and "make" not in py["apt"] else [])
    if not packages:
        return []
    return ["apt-get update -qq && apt-get install --yes --quiet --no-install-recommends "
            f"{' '.join(packages)} > /dev/null"]


# The environment the SBOM describes, without pip of its own so that it holds what the
# project installs and nothing else; in the job's folder, which no other job shares.
SBOM_ENV = ".sbom-env"
SBOM_FILE = "sbom.cdx.json"
AUDIT_ENV = ".audit-env"
AUDIT_REQUIREMENTS = ".audit-requirements.txt"


def _uv_export(py: dict[str, Any], hashes: bool, output: str) -> str:
    """The lock's runtime dependencies as a requirements file (a workspace member's own,
    without the workspace's packages: they are not on PyPI to be audited)."""
    member = f" --package {py['workspace']['package']} --no-emit-workspace" if py.get("workspace") \
        else " --no-emit-project"
    return (f"uv export --frozen --no-dev{member}{'' if hashes else ' --no-hashes'} "
            f"--format requirements-txt -o {output}")


def _runtime_environment(py: dict[str, Any], env: str) -> list[str]:
    """An environment holding what installing the project (or its requirements.txt) brings,
    and nothing else; empty where there is nothing pip can install."""
    if py["package"]:
        install = "."
    elif "requirements.txt" in py["requirements"]:
        install = "-r requirements.txt"
    else:
        return []
    # Installing the package builds it: a version from git tags needs git, as the build does.
    return [*(_apt(py) if py["scm_version"] and py["package"] else []), f"python -m venv --without-pip {env}",
            f"pip --python {env}/bin/python install --quiet {install}"]


def _sbom(py: dict[str, Any]) -> list[str]:
    """The commands that write the project's CycloneDX SBOM: of its runtime dependencies at
    the versions the lock pins (uv, Poetry), or as pip installs the package or requirements.txt.
    Empty where cifab cannot say what is installed (a workspace member)."""
    cyclonedx = f"pip install --quiet cyclonedx-bom=={PINS['cyclonedx_bom']}"
    root = " --pyproject pyproject.toml" if py["package"] else ""
    write = f"cyclonedx-py {{}} --sv 1.6 --of JSON --output-reproducible{root} -o {SBOM_FILE} {{}}"
    manager = py["package_manager"]
    if py.get("workspace"):
        return []
    if manager == "poetry":
        # Poetry's lock file read directly: its main group, what the package depends on to run.
        return [cyclonedx, f"cyclonedx-py poetry --only main --sv 1.6 --of JSON --output-reproducible -o {SBOM_FILE}"]
    if manager == "uv":
        return [f"pip install --quiet uv=={py['uv']}", _uv_export(py, False, ".sbom-requirements.txt"),
                cyclonedx, write.format("requirements", ".sbom-requirements.txt")]
    environment = _runtime_environment(py, SBOM_ENV)
    return [*environment, cyclonedx, write.format("environment", f"{SBOM_ENV}/bin/python")] if environment else []


# pip-audit's JSON into Code Quality: one item per advisory of each dependency, placed on the
# file that pins the dependencies (pip-audit says which package, not which line).
def _pip_audit_to_code_quality(path: str) -> str:
    return audit.items(
        ".dependencies[] | . as $d | .vulns[]?",
        description='"\\(.id) in \\($d.name) \\($d.version) - \\(.description | .[0:300]); fixed in '
                    '\\(.fix_versions | join(", ") | if . == "" then "no release yet" else . end)"',
        check=".id", fingerprint='"\\(.id) \\($d.name) \\($d.version)"', path=json.dumps(path))


def _audit(py: dict[str, Any], lock_files: list[str]) -> audit.Audit | None:
    """pip-audit over the runtime dependencies: the lock's (uv, Poetry) at the versions it pins,
    else what pip installs for the package or requirements.txt. Its advisories come from
    PyPI's JSON API; PIP_AUDIT_VULNERABILITY_SERVICE=osv (and PIP_AUDIT_OSV_URL) choose OSV."""
    manager = py["package_manager"]
    tool = f"pip install --quiet pip-audit=={PINS['pip_audit']}"
    requirements = f"--require-hashes -r {AUDIT_REQUIREMENTS}"
    if manager == "uv":
        # Hashed pins: pip-audit reads them without resolving anything again.
        collect = [f"pip install --quiet uv=={py['uv']}", _uv_export(py, True, AUDIT_REQUIREMENTS)]
    elif manager == "poetry":
        # Poetry 2 has no export command of its own: the installed main group, as pip sees it.
        collect = [f"pip install --quiet poetry=={py['poetry']}",
                   "poetry install --no-interaction --only main --no-root",
                   f"poetry run python -m pip freeze --exclude-editable > {AUDIT_REQUIREMENTS}"]
        requirements = f"--no-deps -r {AUDIT_REQUIREMENTS}"
    else:
        environment = _runtime_environment(py, AUDIT_ENV)
        if not environment:
            return None
        # The project itself is not on PyPI to be audited: its own line (a file:// URL) goes.
        collect = [*environment, f"pip --python {AUDIT_ENV}/bin/python freeze --exclude-editable | "
                                 f"sed '/ @ file:/d' > {AUDIT_REQUIREMENTS}"]
        requirements = f"--no-deps -r {AUDIT_REQUIREMENTS}"
    scan = f"pip-audit --disable-pip {requirements} --format json --progress-spinner off"
    return audit.Audit(image=None, extends=None,
                       variables={"GIT_DEPTH": "0"} if py["scm_version"] and py["package"] and manager == "pip" else {},
                       script=[*collect, tool, *audit.steps(scan, _pip_audit_to_code_quality(lock_files[0]))])


def context(data: dict[str, Any]) -> StackContext:
    py = data["python"]
    manager = py["package_manager"]
    versions = py.get("versions") or [py["version"]]
    commands = _commands(py)
    # The cache key: the lock file, else the requirements, else what declares the dependencies.
    declared_files = list(py["requirements"]) or (["pyproject.toml"] if py["package"] else [])
    uv_lock = f"{py['workspace']['root']}/uv.lock" if py.get("workspace") else "uv.lock"
    lock_files = {"uv": [uv_lock], "poetry": ["poetry.lock"]}.get(manager, declared_files)
    cache_dir = f".cache/{manager}"
    cache_variable = {"uv": "UV_CACHE_DIR", "poetry": "POETRY_CACHE_DIR"}.get(manager, "PIP_CACHE_DIR")
    linters = py["linters"]
    lint_command = _project_command(py, "lint", commands) if "lint" in py["commands"] else []
    test_command = py["commands"].get("test")
    test_variables = dict(py["variables"])
    junit = True
    if test_command is not None:
        # The project's own test command: pytest inside it writes the JUnit report when asked
        # through PYTEST_ADDOPTS, which tox passes on only when told.
        junit = bool(test_command.get("pytest"))
        if junit:
            test_variables["PYTEST_ADDOPTS"] = "--junitxml=$CI_PROJECT_DIR/report.xml"
            if test_command.get("tool") == "tox":
                test_variables["TOX_OVERRIDE"] = "testenv.pass_env+=PYTEST_ADDOPTS"
    scope = py["ruff_paths"]
    exclude = "".join(f" --extend-exclude {shlex.quote(p)}" for p in py["lint_exclude"])
    # Paths named on the command line are checked even where the configuration excludes
    # them, unless --force-exclude says otherwise.
    paths = f" --force-exclude{exclude} {_quoted(scope)}" if scope else exclude
    section = PythonSection(
        manager=manager,
        image=image(py["version"]),
        matrix_image=image("${PYTHON_VERSION}"),
        versions=versions,
        matrix=len(versions) > 1,
        lock_files=lock_files[:MAX_CACHE_KEY_FILES],
        version=py["version"],
        cache_dir=cache_dir + "/",
        cache_variable=cache_variable,
        cache_path=f"$CI_PROJECT_DIR/{cache_dir}",
        setup=commands["setup"],
        apt=_apt(py),
        install=commands["install"],
        ruff="ruff" in linters and not lint_command,
        ruff_format="ruff-format" in linters and not lint_command,
        ruff_install=f"pip install --quiet ruff=={py['ruff']}",
        ruff_check=f"ruff check --no-fix{paths}",
        ruff_report=f"ruff check --no-fix --output-format=gitlab --exit-zero{paths}",
        ruff_format_check="ruff format --check" + (" --extend-exclude '*.md'" if _formats_markdown(py["ruff"])
                                                   else "") + paths,
        black="black" in linters and not lint_command,
        black_install=f"pip install --quiet black=={py['black']}",
        mypy=commands["mypy"] if py["mypy"] and not lint_command else [],
        mypy_isolated=py.get("mypy_hook") is not None,
        lint_apt=_apt(py, py["commands"]["lint"].get("tool", "")) if lint_command else [],
        lint_command=lint_command,
        test_apt=_apt(py, test_command.get("tool", "") if test_command else ""),
        test=_project_command(py, "test", commands) if test_command else commands["install"] + commands["test"],
        test_variables=test_variables,
        junit=junit,
        coverage=test_command is None,
        services=list(py["services"]),
        build=commands["build"],
        build_apt=_apt(py) if py["scm_version"] else [],
        # The build must not see the dependency cache: it would be packed into the sdist.
        build_variables={cache_variable: f"/tmp/{cache_dir}", **({"GIT_DEPTH": "0"} if py["scm_version"] else {})},
        twine_install=f"pip install --quiet twine=={PINS['twine']}",
    )
    lint = [JOB[name] for name in ("ruff", "black") if name in linters and not lint_command] + (
        [JOB["mypy"]] if py["mypy"] and not lint_command else []) + ([JOB["lint"]] if lint_command else [])
    own = StackContext(
        section=section,
        jobs=jobs(lint=lint, test=[JOB["test"]],
                  build=[JOB["build"]] if py["package"] else [],
                  deploy=[JOB["publish"]] if py["package"] and py["publish"] else []),
        force_image=False,
    )
    if found := _audit(py, lock_files):
        own["audit"] = found
    if sbom := _sbom(py):
        # Installing a package versioned from git tags needs the history that holds them.
        own["sbom"] = Sbom(extends=None, variables={"GIT_DEPTH": "0"} if py["scm_version"] and py["package"] else {},
                           script=sbom, report=SBOM_FILE)
    if py["package"]:
        own["release_files"] = ReleaseFiles(jobs=[JOB["build"]], paths=["dist/"])
    return own


STACK = Stack("python", "Python projects (pyproject.toml, setup.py or requirements*.txt)", detect, propose,
              context, PINS, aliases=("py", "python3", "pip", "uv", "poetry"),
              defaults={"version": DEFAULT_VERSION}, job_names=JOB, takes_services=True,
              cache_roles=("test", "mypy", "lint"), sast=True)
