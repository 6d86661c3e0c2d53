"""The node stack against the shapes of commander.js, ofetch and prop-types: each test
fails on the behaviour that broke a real project's first pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cifab.init.detect import detect
from tests.test_stacks import pipeline, write


def package(**fields: object) -> str:
    return json.dumps({"name": "x", **fields})


@pytest.mark.parametrize(("files", "image"), [
    ({"package.json": package(engines={"node": ">= 0.10.0"})}, "node:24-bookworm-slim"),  # was node:0
    ({"package.json": package(engines={"node": ">=12"})}, "node:24-bookworm-slim"),  # was node:12, never published
    ({"package.json": package(engines={"node": "^18.17.0 || >=20.5.0"})}, "node:24-bookworm-slim"),  # was 18
    ({"package.json": package(), ".nvmrc": "lts/iron\n"}, "node:22-bookworm-slim"),  # 20, past its end of life
    ({"package.json": package(), ".nvmrc": "lts/jod\n"}, "node:22-bookworm-slim"),
    ({"package.json": package(), ".node-version": "v26.1.0\n"}, "node:26-bookworm-slim"),
    ({"package.json": package(volta={"node": "22.11.0"}, engines={"node": ">=24"})}, "node:22-bookworm-slim"),
])
def test_the_image_is_a_supported_major_read_in_order(tmp_path: Path, files: dict[str, str], image: str) -> None:
    assert pipeline(write(tmp_path, {**files, "package-lock.json": "{}"}))["default"]["image"] == image


def test_pnpm_10_gets_the_reporter_without_a_double_dash(tmp_path: Path) -> None:
    repo = write(tmp_path, {"package.json": package(packageManager="pnpm@10.4.1", scripts={"test": "vitest run"},
                                                    devDependencies={"vitest": "3"}), "pnpm-lock.yaml": ""})
    out = pipeline(repo)
    assert out["node-test"]["script"] == [
        "pnpm run test --reporter=default --reporter=junit --outputFile.junit=junit.xml"]
    assert "npm install --global pnpm@10.4.1" in out[".node-deps"]["before_script"]


def test_yarn_1_freezes_with_its_own_flag_and_caches_its_own_folder(tmp_path: Path) -> None:
    repo = write(tmp_path, {"package.json": package(scripts={"test": "jest"}), "yarn.lock": "# yarn lockfile v1\n"})
    deps = pipeline(repo)[".node-deps"]
    assert deps["before_script"][-1] == "yarn install --cache-folder .yarn-cache --frozen-lockfile"
    assert deps["cache"]["paths"] == [".yarn-cache/"]


@pytest.mark.parametrize("marker", [{".yarnrc.yml": "nodeLinker: node-modules\n"},
                                    {"package.json": package(packageManager="yarn@4.5.0")}])
def test_yarn_berry_is_told_from_yarn_1(tmp_path: Path, marker: dict[str, str]) -> None:
    repo = write(tmp_path, {"package.json": package(), "yarn.lock": "", **marker})
    deps = pipeline(repo)[".node-deps"]
    assert deps["before_script"][-1] == "yarn install --immutable" and deps["cache"]["paths"] == [".yarn/cache/"]


def test_jest_behind_a_wrapper_script_gets_its_reporter_in_the_right_script(tmp_path: Path) -> None:
    # prop-types: `npm run tests-only` ignored the reporter appended to it.
    repo = write(tmp_path, {"package.json": package(scripts={"test": "npm run tests-only", "tests-only": "jest"},
                                                    devDependencies={"jest": "^29"}), "package-lock.json": "{}"})
    test = pipeline(repo)["node-test"]
    assert test["script"] == ["npm install --global jest-junit@16.0.0",  # not among its dependencies
                              'npm run tests-only -- --ci --reporters=default '
                              '--reporters="$(npm root --global)/jest-junit"']


def test_jest_19_takes_a_results_processor(tmp_path: Path) -> None:
    repo = write(tmp_path, {"package.json": package(scripts={"test": "jest"},
                                                    devDependencies={"jest": "^19.0.2", "jest-junit": "^3"}),
                            "package-lock.json": "{}"})
    assert pipeline(repo)["node-test"]["script"] == ["npm run test -- --testResultsProcessor=jest-junit"]


def test_a_compound_test_script_stays_the_contract(tmp_path: Path) -> None:
    # commander.js: node --test replaced `npm test` and dropped the type check after it.
    repo = write(tmp_path, {"package.json": package(scripts={"test": "node --test && npm run check:type:ts"}),
                            "package-lock.json": "{}"})
    test = pipeline(repo)["node-test"]
    assert test["script"] == ["npm run test"]
    assert "--test-reporter=junit" in test["variables"]["NODE_OPTIONS"]


def test_without_a_lock_file_install_and_warn(tmp_path: Path) -> None:
    repo = write(tmp_path, {"package.json": package(scripts={"test": "node --test"})})
    assert pipeline(repo)[".node-deps"]["before_script"] == ["npm install --cache .npm --prefer-offline"]
    assert any(line.startswith("warning: no package-lock.json") for line in detect(repo).evidence)


@pytest.mark.parametrize(("build", "paths"), [
    ("browserify index.js -o prop-types.js", ["prop-types.js"]),
    ("vite build", ["dist/"]),
    ("rollup -c", None),  # unknown: no path that nothing may write
])
def test_build_output_is_what_the_build_writes(tmp_path: Path, build: str, paths: list[str] | None) -> None:
    repo = write(tmp_path, {"package.json": package(scripts={"build": build}), "package-lock.json": "{}"})
    job = pipeline(repo)["node-build"]
    assert (job["artifacts"]["paths"] if "artifacts" in job else None) == paths


@pytest.mark.parametrize(("script", "runner"), [
    ("jest", "jest"), ("jest --coverage", "jest"), ("CI=1 vitest run", "vitest"), ("npx vitest run", "vitest"),
    ("pnpm exec jest", "jest"), ("yarn jest", "jest"), ("node --test test/", "node"),
    ("node --test && tsc", None), ("mocha", None), ("pnpm run unit", None),
])
def test_the_runner_is_read_only_from_a_script_that_is_nothing_else(script: str, runner: str | None) -> None:
    from cifab.stacks.node import runner_of

    assert runner_of(script) == runner


# ---------------------------------------------------------------- compound scripts, workspaces, builds


@pytest.mark.parametrize(("script", "expected"), [
    # a wrapped runner takes the reporter as the last command of the script
    ("cross-env NODE_ENV=test jest", ["npm run test -- --ci --reporters=default --reporters=jest-junit"]),
    # a runner inside the chain: the job runs the steps, the runner's with the reporter
    ("vitest run && tsd", ['export PATH="$CI_PROJECT_DIR/node_modules/.bin:$PATH"',
                           "vitest run --reporter=default --reporter=junit --outputFile.junit=junit.xml", "tsd"]),
    ("mocha test/", ["npm run test -- --reporter=xunit --reporter-option=output=junit.xml"]),
])
def test_the_runner_is_found_inside_the_script(tmp_path: Path, script: str, expected: list[str]) -> None:
    repo = write(tmp_path, {"package.json": package(scripts={"test": script}, devDependencies={
        "jest": "29", "jest-junit": "16", "vitest": "3", "mocha": "11"}), "package-lock.json": "{}"})
    job = pipeline(repo)["node-test"]
    assert job["script"] == expected and job["artifacts"]["reports"] == {"junit": "junit.xml"}


def test_a_runner_without_a_junit_reporter_is_said(tmp_path: Path) -> None:
    repo = write(tmp_path, {"package.json": package(scripts={"test": "xo && ava"}), "package-lock.json": "{}"})
    assert "artifacts" not in pipeline(repo)["node-test"]
    assert any("no JUnit report (ava writes none" in line for line in detect(repo).evidence)


@pytest.mark.parametrize(("manager", "files", "command"), [
    ("npm", {"package-lock.json": "{}"}, "npm test --workspaces --if-present"),
    ("pnpm", {"pnpm-lock.yaml": "", "pnpm-workspace.yaml": "packages: [packages/*]\n"},
     "pnpm --recursive --if-present test"),
])
def test_a_workspace_without_a_root_test_runs_its_packages_tests(tmp_path: Path, manager: str,
                                                                  files: dict[str, str], command: str) -> None:
    repo = write(tmp_path, {"package.json": package(workspaces=["packages/*"], scripts={"lint": "eslint ."}),
                            "packages/a/package.json": package(scripts={"test": "node --test"}), **files})
    assert pipeline(repo)["node-test"]["script"][-1] == command


@pytest.mark.parametrize(("files", "fields", "paths"), [
    ({"tsup.config.ts": "export default { entry: ['src/index.ts'] }\n"}, {"scripts": {"build": "tsup"}}, ["dist/"]),
    ({"rollup.config.mjs": "export default { output: { dir: 'out', format: 'es' } }\n"},
     {"scripts": {"build": "rollup -c"}}, ["out/"]),
    ({}, {"scripts": {"build": "unbuild"}}, ["dist/"]),
    ({}, {"scripts": {"build": "tsc -b"}, "main": "./lib-dist/index.js", "files": ["lib-dist"]}, ["lib-dist/"]),
])
def test_build_output_comes_from_the_tool_or_what_the_package_publishes(tmp_path: Path, files: dict[str, str],
                                                                        fields: dict, paths: list[str]) -> None:
    repo = write(tmp_path, {"package.json": package(**fields), "package-lock.json": "{}", **files})
    assert pipeline(repo)["node-build"]["artifacts"]["paths"] == paths


def test_lint_from_pre_commit_hooks_when_there_is_no_lint_script(tmp_path: Path) -> None:
    hooks = ("repos:\n  - repo: https://github.com/pre-commit/mirrors-prettier\n    rev: v3.1.0\n    hooks:\n"
             "      - id: prettier\n        files: ^src/\n")
    repo = write(tmp_path, {"package.json": package(scripts={"test": "node --test"}), "package-lock.json": "{}",
                            ".pre-commit-config.yaml": hooks})
    assert pipeline(repo)["node-lint"]["script"] == ["npx --yes --package=prettier@3.1.0 -- prettier --check src"]


def test_bun_projects_install_and_test_with_bun(tmp_path: Path) -> None:
    # fastapi's template frontend: a bun.lock, and cifab chose unlocked npm in a Node image.
    from cifab.init.detect import detect

    repo = write(tmp_path / "a", {"package.json": json.dumps({"name": "web", "scripts": {"test": "bun test"}}),
                                  "bun.lock": "{}\n"})
    assert detect(repo).settings["package_manager"] == "bun"
    out = pipeline(repo)
    assert out["default"]["image"] == "oven/bun:1.4.5"
    assert out[".node-deps"]["before_script"] == ["bun install --frozen-lockfile"]
    assert out["variables"]["BUN_INSTALL_CACHE_DIR"] == "$CI_PROJECT_DIR/.bun-cache"
    assert out["node-test"]["script"] == ["bun run test --reporter=junit --reporter-outfile=junit.xml"]
    binary = write(tmp_path / "b", {"package.json": json.dumps({"name": "web", "packageManager": "bun@1.3.2",
                                                                "scripts": {"build": "vite build"}}),
                                    "bun.lockb": ""})
    out = pipeline(binary)
    assert out["default"]["image"] == "oven/bun:1.3.2"
    assert out[".node-deps"]["cache"]["key"]["files"] == ["bun.lockb"]


def test_browser_tests_get_no_test_job_and_a_note(tmp_path: Path) -> None:
    from cifab.init.detect import detect

    repo = write(tmp_path, {"package.json": json.dumps({"name": "web", "scripts": {"test": "bunx playwright test"}}),
                            "bun.lock": "{}\n"})
    found = detect(repo)
    assert any(line.startswith("note: the test script runs browser tests") for line in found.evidence)
    assert "node-test" not in pipeline(repo)
