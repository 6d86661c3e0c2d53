"""What a Node project declares beyond package.json's scripts, read before the node stack's
defaults: the linters its pre-commit hooks run (prettier, eslint, biome, at their versions
and scopes), its existing CI (lint and test commands when package.json has no such script,
Debian packages, services, variables), its workspaces, and where its build writes."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from cifab.declared import ci, precommit
from cifab.stacks.base import read_text

# pre-commit hook id -> (npm package, the command it runs with its scope appended).
LINT_HOOKS = {
    "prettier": ("prettier", "prettier --check"),
    "eslint": ("eslint", "eslint"),
    "biome-ci": ("@biomejs/biome", "biome ci"),
    "biome-check": ("@biomejs/biome", "biome ci"),
    "biome-lint": ("@biomejs/biome", "biome lint"),
    "biome-format": ("@biomejs/biome", "biome format"),
}
# Build tools and the folder they write when their configuration says nothing else.
TOOL_FOLDERS = (("tsup", "dist/"), ("unbuild", "dist/"), ("vite build", "dist/"), ("webpack", "dist/"),
                ("parcel build", "dist/"))


def lint_commands(hooks: list[precommit.Hook], existing: ci.ExistingCI, evidence: list[str]) -> dict[str, Any]:
    """The project's linters when package.json has no lint script: its pre-commit hooks
    (each through npx at the hook's version, on the hook's scope), else its existing CI's
    lint commands."""
    run: list[str] = []
    sources: list[str] = []
    for hook in hooks:
        if hook.id not in LINT_HOOKS or not re.match(r"\d", hook.rev):
            continue
        package, command = LINT_HOOKS[hook.id]
        paths = precommit.paths(hook.files)
        scope = " ".join(shlex.quote(p) for p in paths) if paths else "."
        extra = "".join(f" --package={shlex.quote(d)}" for d in hook.additional_dependencies)
        run.append(f"npx --yes --package={package}@{hook.rev}{extra} -- {command} {scope}")
        sources.append(hook.source)
    if run:
        evidence.append(f"lint: {' && '.join(run)} (from {', '.join(sources)})")
        return {"run": run, "from": ", ".join(sources)}
    lines = existing.commands.get("lint")
    if lines:
        evidence.append(f"lint: {' && '.join(c.run for c in lines)} (from {lines[0].source})")
        return {"run": [c.run for c in lines], "from": lines[0].source}
    return {}


def workspaces(repo: Path, package: dict[str, Any]) -> bool:
    """The repository is an npm, pnpm or Yarn workspace."""
    return bool(package.get("workspaces")) or (repo / "pnpm-workspace.yaml").is_file()


def declared_output(repo: Path, package: dict[str, Any], command: str) -> list[str]:
    """Where a build writes, from what the package publishes (files, main, module, exports,
    bin) and the build tool's own configuration: a folder the repository does not hold."""
    for tool, folder in TOOL_FOLDERS:
        if re.search(rf"(^|[\s/]){re.escape(tool)}(\s|$)", command):
            configured = _configured_out(repo, tool.split()[0])
            return [configured or folder]
    if re.search(r"(^|\s)rollup(\s|$)", command):
        configured = _configured_out(repo, "rollup")
        if configured:
            return [configured]
    candidates: list[str] = []
    for value in _published(package):
        top = value.removeprefix("./").split("/", 1)[0]
        if "/" in value.removeprefix("./") and top not in ("src", "lib", "") and not top.startswith("."):
            candidates.append(top + "/")
    folders = [c for c in dict.fromkeys(candidates) if not (repo / c).exists()]
    return folders[:1]


def _published(package: dict[str, Any]) -> list[str]:
    out = [str(f) for f in package.get("files") or [] if isinstance(f, str)] if isinstance(package.get("files"),
                                                                                          list) else []
    for key in ("main", "module", "types", "typings"):
        if isinstance(package.get(key), str):
            out.append(package[key])
    out += _strings_in(package.get("exports")) + _strings_in(package.get("bin"))
    return out


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings_in(v)]
    return []


def _configured_out(repo: Path, tool: str) -> str | None:
    """The output folder a build tool's configuration file names (outDir, dir, output.path)."""
    for name in sorted(p.name for p in repo.glob(f"{tool}.config.*")):
        text = read_text(repo / name)
        match = re.search(r"\b(?:outDir|outdir|dir|path)\s*:\s*['\"]\.?/?([\w.-]+)", text) or \
            re.search(r"\bfile\s*:\s*['\"]\.?/?([\w.-]+)/", text)
        if match:
            return match.group(1).rstrip("/") + "/"
    return None


def package_json(repo: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_text(repo / "package.json") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
