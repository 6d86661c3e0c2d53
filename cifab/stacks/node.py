"""The node stack: the project's own lint, test and build scripts, through npm, pnpm or
yarn, with a JUnit report from jest, vitest or `node --test`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypedDict

from cifab.stacks.base import Detection, Stack, StackContext, asks_version, jobs, read_text, safe_name


class Install(TypedDict):
    lock: str
    cache: str
    commands: list[str]
    run: str


INSTALL: dict[str, Install] = {
    "npm": Install(lock="package-lock.json", cache=".npm/", commands=["npm ci --cache .npm --prefer-offline"],
                   run="npm run"),
    "pnpm": Install(lock="pnpm-lock.yaml", cache=".pnpm-store/",
                    commands=["corepack enable", "pnpm config set store-dir .pnpm-store",
                              "pnpm install --frozen-lockfile"], run="pnpm run"),
    "yarn": Install(lock="yarn.lock", cache=".yarn/cache/", commands=["corepack enable", "yarn install --immutable"],
                    run="yarn run"),
}
# Each runner's way to write junit.xml next to its usual console output.
TEST = {
    "jest": "{run} test -- --ci --reporters=default --reporters=jest-junit",
    "vitest": "{run} test -- --reporter=default --reporter=junit --outputFile.junit=junit.xml",
    "node": ("node --test --test-reporter=spec --test-reporter-destination=stdout "
             "--test-reporter=junit --test-reporter-destination=junit.xml"),
    "other": "{run} test",
}


class NodeSection(TypedDict):
    image: str
    install: Install
    lint_command: str
    test_command: str
    build_command: str
    build_path: str
    jest_junit: bool  # jest-junit reads its output file from JEST_JUNIT_OUTPUT_FILE


def detect(repo: Path, found: Detection) -> bool:
    path = repo / "package.json"
    if not path.is_file():
        return False
    try:
        package = json.loads(read_text(path))
    except json.JSONDecodeError:
        package = {}
    if isinstance(package.get("name"), str):
        found.name = safe_name(package["name"].split("/")[-1])
    scripts = package.get("scripts") if isinstance(package.get("scripts"), dict) else {}
    deps = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    manager = "pnpm" if (repo / "pnpm-lock.yaml").is_file() else "yarn" if (repo / "yarn.lock").is_file() else "npm"
    test_script = str(scripts.get("test", ""))
    runner = ("vitest" if "vitest" in deps else "jest" if "jest" in deps
              else "node" if "node --test" in test_script else "other")
    settings: dict[str, Any] = {"package_manager": manager, "lint": "lint" in scripts,
                                "test": "test" in scripts, "build": "build" in scripts, "test_runner": runner}
    version = (re.match(r"v?(\d+)", read_text(repo / ".nvmrc").strip())
               or re.search(r"(\d+)", str(package.get("engines", {}).get("node", ""))))
    if version:
        settings["version"] = version.group(1)
    found.settings = settings
    scripts_found = ", ".join(s for s in ("lint", "test", "build") if s in scripts) or "none"
    found.evidence.append(f"package.json: node with {manager}; scripts: {scripts_found}")
    return True


def context(data: dict[str, Any]) -> StackContext:
    node = data["node"]
    install = INSTALL[node["package_manager"]]
    section = NodeSection(
        image=f"node:{node['version']}-bookworm-slim",
        install=install,
        lint_command=f"{install['run']} lint",
        test_command=TEST[node["test_runner"]].format(run=install["run"]),
        build_command=f"{install['run']} build",
        build_path=node["build_output"].rstrip("/") + "/",
        jest_junit=node["test_runner"] == "jest",
    )
    return StackContext(
        section=section,
        jobs=jobs(lint=["node-lint"] if node["lint"] else [], test=["node-test"] if node["test"] else [],
                  build=["node-build"] if node["build"] else []),
        force_image=False,
    )


propose = asks_version("Node.js version")

STACK = Stack("node", "Node.js packages (package.json)", detect, propose, context)
