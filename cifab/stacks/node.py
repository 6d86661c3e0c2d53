"""Render context of the node stack."""

from __future__ import annotations

from typing import Any

INSTALL = {
    "npm": {"lock": "package-lock.json", "cache": ".npm/",
            "commands": ["npm ci --cache .npm --prefer-offline"], "run": "npm run"},
    "pnpm": {"lock": "pnpm-lock.yaml", "cache": ".pnpm-store/",
             "commands": ["corepack enable", "pnpm config set store-dir .pnpm-store",
                          "pnpm install --frozen-lockfile"], "run": "pnpm run"},
    "yarn": {"lock": "yarn.lock", "cache": ".yarn/cache/",
             "commands": ["corepack enable", "yarn install --immutable"], "run": "yarn run"},
}
# Each runner's way to write junit.xml next to its usual console output.
TEST = {
    "jest": "{run} test -- --ci --reporters=default --reporters=jest-junit",
    "vitest": "{run} test -- --reporter=default --reporter=junit --outputFile.junit=junit.xml",
    "node": ("node --test --test-reporter=spec --test-reporter-destination=stdout "
             "--test-reporter=junit --test-reporter-destination=junit.xml"),
    "other": "{run} test",
}


def context(data: dict[str, Any]) -> dict[str, Any]:
    node = data["node"]
    install = INSTALL[node["package_manager"]]
    return {
        "node": {
            **node,
            "image": f"node:{node['version']}-bookworm-slim",
            "install": install,
            "test_command": TEST[node["test_runner"]].format(run=install["run"]),
        },
        "jobs": {"lint": ["node-lint"] if node["lint"] else [], "test": ["node-test"] if node["test"] else [],
                 "build": ["node-build"] if node["build"] else []},
    }
