"""The node stack: the project's own lint, test and build scripts, through npm, pnpm, Yarn 1,
Yarn Berry or bun, with a JUnit report from jest, vitest, `node --test` or `bun test` where
the runner can be told to write one."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any, TypedDict

from cifab.declared import ci, precommit
from cifab.stacks import audit
from cifab.stacks import node_declared as declared
from cifab.stacks.base import Asker, Detection, Sbom, Stack, StackContext, checked, jobs, read_text, safe_name

# Node majors with upstream support and node:<major>-bookworm-slim images, oldest first;
# the newest LTS is the default.
SUPPORTED = ("22", "24", "26")
NEWEST_LTS = "24"
LTS_ALIASES = {"hydrogen": "18", "iron": "20", "jod": "22", "krypton": "24"}
JOB = {"lint": "node-lint", "test": "node-test", "build": "node-build", "sbom": "node-sbom", "audit": "node-audit",
       "signatures": "npm-signatures"}
PINS = {"version": NEWEST_LTS, "pnpm": "10.34.8", "yarn": "1.22.22", "corepack": "0.34.6",
        "jest_junit": "16.0.0", "bun": "1.4.5", "cyclonedx_npm": "6.0.1",
        "cyclonedx_yarn": "3.4.0"}
MANAGERS = ("npm", "pnpm", "yarn", "yarn-berry", "bun")
# Test runners that drive a browser against the running application: not a unit test job
# cifab can give a first pipeline (browsers, the app and its backend must be up).
BROWSER_RUNNERS = ("playwright", "cypress")


class NodeSection(TypedDict):
    image: str
    lock: str | None
    cache: str
    cache_variables: dict[str, str]
    install: list[str]
    lint_commands: list[str]
    test_setup: list[str]  # what the test job needs beyond the install (a JUnit reporter)
    test_commands: list[str]
    test_variables: dict[str, str]
    services: list[dict[str, str]]
    junit: bool  # the test job writes junit.xml
    build_command: str
    build_paths: list[str]
    signatures: bool  # an npm-signatures job verifies the registry signatures of what npm ci installs


# ---------------------------------------------------------------- versions


def _majors_in_range(spec: str) -> list[str]:
    """The supported majors a semver range admits: `^18.17.0 || >=20.5.0` admits all from
    20, `>= 0.10.0` and `>=12` all of them."""
    admitted: set[str] = set()
    for alternative in spec.split("||"):
        keep = set(SUPPORTED)
        for clause in re.findall(r"(\^|~|>=|<=|>|<|=)?\s*v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?", alternative):
            op, major = clause[0] or "=", int(clause[1])

            def ok(v: str, op: str = op, major: int = major) -> bool:
                m = int(v)
                return {"^": m == major, "~": m == major, "=": m == major, ">=": m >= major, ">": m > major,
                        "<": m < major, "<=": m <= major}[op]

            keep = {v for v in keep if ok(v)}
        admitted |= keep
    return [v for v in SUPPORTED if v in admitted]


def choose_version(repo: Path, package: dict[str, Any]) -> tuple[str, str]:
    """The Node major the jobs use, and why: .nvmrc, .node-version, Volta, then engines."""
    for source in (".nvmrc", ".node-version"):
        raw = read_text(repo / source).strip().splitlines()
        if not raw or not raw[0].strip():
            continue
        value = raw[0].strip().lower()
        if value.startswith("lts/"):
            alias = value[4:]
            major = NEWEST_LTS if alias in ("*", "latest") else LTS_ALIASES.get(alias)
            if major:
                return _supported(major, f"{source} {value} (Node {major})")
        elif value in ("node", "latest", "current", "stable"):
            return SUPPORTED[-1], f"{source} {value}: Node {SUPPORTED[-1]}, the newest"
        elif m := re.match(r"v?(\d+)", value):
            return _supported(m.group(1), f"{source} {value}")
    volta = package.get("volta")
    if isinstance(volta, dict) and isinstance(volta.get("node"), str) and (m := re.match(r"v?(\d+)", volta["node"])):
        return _supported(m.group(1), f"volta.node {volta['node']}")
    engines = package.get("engines")
    spec = engines.get("node") if isinstance(engines, dict) else None
    if isinstance(spec, str) and spec.strip():
        majors = _majors_in_range(spec)
        if majors:
            chosen = NEWEST_LTS if NEWEST_LTS in majors else majors[-1]
            return chosen, f"engines.node {spec!r} admits {', '.join(majors)}: Node {chosen}"
        return NEWEST_LTS, f"engines.node {spec!r} admits no supported Node: Node {NEWEST_LTS}"
    return NEWEST_LTS, f"no Node version in the repository: Node {NEWEST_LTS}, the newest LTS"


def _supported(major: str, why: str) -> tuple[str, str]:
    if major in SUPPORTED:
        return major, why
    newer = [v for v in SUPPORTED if int(v) > int(major)]
    chosen = newer[0] if newer else SUPPORTED[-1]
    return chosen, f"{why} is past its end of life: Node {chosen}, the oldest supported major above it"


# ---------------------------------------------------------------- package manager


def choose_manager(repo: Path, package: dict[str, Any]) -> tuple[str, str | None, str]:
    """(manager, its version from packageManager, why)."""
    declared = package.get("packageManager")
    name, version = None, None
    if isinstance(declared, str) and "@" in declared:
        name, _, version = declared.partition("@")
        version = version.split("+", 1)[0]
    if name == "bun" or (name is None and any((repo / lock).is_file() for lock in BUN_LOCKS)):
        lock = next((lock for lock in BUN_LOCKS if (repo / lock).is_file()), None)
        return "bun", version if name == "bun" else None, f"packageManager {declared}" if name else str(lock)
    if name == "pnpm" or (name is None and (repo / "pnpm-lock.yaml").is_file()):
        return "pnpm", version, f"packageManager {declared}" if name else "pnpm-lock.yaml"
    if name == "yarn" or (name is None and (repo / "yarn.lock").is_file()):
        berry = (version is not None and not version.startswith("1.")) or (repo / ".yarnrc.yml").is_file()
        why = f"packageManager {declared}" if name else ".yarnrc.yml" if berry else "yarn.lock"
        return ("yarn-berry" if berry else "yarn"), version, why
    return "npm", version if name == "npm" else None, "package-lock.json" if (repo / "package-lock.json").is_file() \
        else "no lock file of pnpm or yarn"


LOCKS = {"npm": "package-lock.json", "pnpm": "pnpm-lock.yaml", "yarn": "yarn.lock", "yarn-berry": "yarn.lock",
         "bun": "bun.lock"}
BUN_LOCKS = ("bun.lock", "bun.lockb")  # the text lock of bun 1.2 and newer, and the older binary one


# ---------------------------------------------------------------- scripts


def _scripts(package: dict[str, Any]) -> dict[str, str]:
    scripts = package.get("scripts")
    return {str(k): str(v) for k, v in scripts.items()} if isinstance(scripts, dict) else {}


_RUN = re.compile(r"^(?:npm run|npm|pnpm run|pnpm|yarn run|yarn|bun run)\s+([\w:.-]+)\s*$")


def test_entry(scripts: dict[str, str]) -> tuple[str, str]:
    """(the script the runner sits in, its command): `test` itself, or the one script it
    only delegates to (`"test": "npm run tests-only"`)."""
    name = "test"
    command = scripts.get("test", "")
    m = _RUN.match(command)
    if m and m.group(1) in scripts and m.group(1) != "test":
        name = m.group(1)
        command = scripts[name]
    return name, command


# What may wrap a runner in a script: variables, cross-env and its variables, the package
# managers' exec forms, a path into node_modules/.bin.
_WRAPPERS = ("npx", "pnpm", "yarn", "bunx", "cross-env", "exec", "dlx", "--")


def _runner_words(segment: str) -> list[str] | None:
    try:
        words = shlex.split(segment)
    except ValueError:
        return None
    while words and (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]) or words[0] in _WRAPPERS):
        words = words[1:]
    if words:
        words[0] = words[0].removeprefix("./").removeprefix("node_modules/.bin/")
    return words


def _runner(words: list[str] | None) -> str | None:
    if not words:
        return None
    if words[0] in ("jest", "vitest", "mocha", "ava"):
        return words[0]
    if words[0] == "node" and "--test" in words:
        return "node"
    if words[0] == "bun" and words[1:2] == ["test"]:
        return "bun"
    if words[0] in BROWSER_RUNNERS:
        return words[0]
    return None


def runner_of(command: str) -> str | None:
    """The test runner when the script is one runner invocation and nothing else; None for
    a compound script (`node --test && tsc`), which steps_of reads."""
    if re.search(r"&&|\|\||;|\||`|\$\(", command):
        return None
    runner = _runner(_runner_words(command))
    return runner if runner in ("jest", "vitest", "node", "bun") else None


def steps_of(command: str) -> tuple[list[str], int, str] | None:
    """A script of `&&`-joined commands with a test runner in one of them: (the commands,
    the runner's index, the runner). None for any other shape."""
    if re.search(r"\|\||;|\||`|\$\(", command) or "&&" not in command:
        return None
    steps = [step.strip() for step in command.split("&&")]
    for i, step in enumerate(steps):
        runner = _runner(_runner_words(step))
        if runner:
            return steps, i, runner
    return None


def _test_shape(command: str) -> tuple[str | None, list[str]]:
    """(the runner, the script's steps when the job must run them itself): a runner that is
    the whole script, or the last of its `&&` steps, takes its reporter through the package
    manager; one inside the chain needs the steps run one by one."""
    if not command:
        return None, []
    runner = _runner(_runner_words(command)) if not re.search(r"&&|\|\||;|\||`|\$\(", command) else None
    if runner:
        return runner, []
    found = steps_of(command)
    if found is None:
        return None, []
    steps, index, runner = found
    if runner == "node" or index == len(steps) - 1 or runner == "ava":
        return runner, []  # node's reporters come from NODE_OPTIONS; a last step takes the arguments
    return runner, steps


def _dependency_version(package: dict[str, Any], name: str) -> str | None:
    for key in ("devDependencies", "dependencies"):
        deps = package.get(key)
        if isinstance(deps, dict) and isinstance(deps.get(name), str):
            return str(deps[name])
    return None


def build_paths(repo: Path, package: dict[str, Any], command: str) -> list[str]:
    """What the build script writes: its -o/--out-file/--outDir, a known tool's folder, or
    tsconfig's outDir. Empty when it cannot be told: a path nothing writes is never declared."""
    m = re.search(r"(?:^|\s)(?:-o|--out-file|--outfile|--out-dir|--outDir|--output)[=\s]+([^\s&;|]+)", command)
    if m:
        return [m.group(1).strip("'\"")]
    for tool, folder in (("vite build", "dist/"), ("vue-cli-service build", "dist/"), ("next build", ".next/"),
                         ("astro build", "dist/"), ("ng build", "dist/"), ("svelte-kit build", "build/")):
        if tool in command:
            return [folder]
    if re.search(r"(^|\s)tsc(\s|$)", command):
        project = re.search(r"(?:-p|--project)[=\s]+([^\s&;|]+)", command)
        name = project.group(1) if project else "tsconfig.json"
        if ".." in name or name.startswith("/"):
            return []
        tsconfig = read_text(repo / name if name.endswith(".json") else repo / name / "tsconfig.json")
        if out := re.search(r'"outDir"\s*:\s*"([^"]+)"', tsconfig):
            return [out.group(1).removeprefix("./").rstrip("/") + "/"]
    return []


# ---------------------------------------------------------------- detection and context


# The keys init reads, with the types npm gives them: anything else is reported and skipped.
PACKAGE_SHAPE: dict[str, type | tuple[type, ...]] = {
    "name": str, "engines": dict, "volta": dict, "packageManager": str, "scripts": dict, "dependencies": dict,
    "devDependencies": dict, "workspaces": (list, dict), "main": str,
}


def _package(repo: Path, found: Detection) -> dict[str, Any]:
    try:
        package = json.loads(read_text(repo / "package.json"))
    except json.JSONDecodeError:
        found.evidence.append("package.json does not parse: read as empty")
        return {}
    return checked(package, "package.json", PACKAGE_SHAPE, found)


def detect(repo: Path, found: Detection) -> bool:
    if not (repo / "package.json").is_file():
        return False
    package = _package(repo, found)
    if isinstance(package.get("name"), str):
        found.name = safe_name(package["name"].split("/")[-1])
    scripts = _scripts(package)
    version, why = choose_version(repo, package)
    manager, manager_version, manager_why = choose_manager(repo, package)
    locks = BUN_LOCKS if manager == "bun" else (LOCKS[manager],)
    lock = next((name for name in locks if (repo / name).is_file()), None)
    entry, command = test_entry(scripts)
    runner, steps = _test_shape(command)
    browser = runner in BROWSER_RUNNERS or any(
        _runner(_runner_words(step.strip())) in BROWSER_RUNNERS for step in re.split(r"&&|\|\||;", command))
    settings: dict[str, Any] = {"version": version, "package_manager": manager, "lint": "lint" in scripts,
                                "test": "test" in scripts and not browser, "build": "build" in scripts,
                                "test_runner": runner if runner and not browser else "other"}
    if lock == "bun.lockb":
        settings["lock_file"] = lock
    if steps:
        settings["test_steps"] = steps
    if manager_version:
        settings["manager_version"] = manager_version
    if lock is None:
        settings["locked"] = False
    if entry != "test":
        settings["test_script"] = entry
    if runner == "jest":
        settings["jest_junit"] = _dependency_version(package, "jest-junit") is not None
        jest = _dependency_version(package, "jest") or ""
        if m := re.search(r"(\d+)", jest):
            settings["jest_major"] = int(m.group(1))
    paths = build_paths(repo, package, scripts.get("build", "")) if "build" in scripts else []
    if "build" in scripts and not paths:
        paths = declared.declared_output(repo, package, scripts["build"])
    settings["build_output"] = paths
    _declared(repo, package, scripts, settings, found.evidence)
    evidence = found.evidence
    evidence.append(f"node {version}: {why}")
    evidence.append(f"package manager {manager}" + (f" {manager_version}" if manager_version else "")
                    + f": {manager_why}")
    if lock is None:
        evidence.append(f"warning: no {LOCKS[manager]}: installs are not reproducible; commit a lock file")
    if browser:
        evidence.append(f"note: the test script runs browser tests (`{command}`), which need browsers and the "
                        "running application: no test job (add one by hand, in the runner's own image)")
    evidence.append(f"scripts: {', '.join(s for s in ('lint', 'test', 'build') if s in scripts) or 'none'}")
    if "test" in scripts and not browser:
        evidence.append(f"tests: {runner or 'the test script'}" + (f" (in script {entry})" if entry != "test" else "")
                        + (f", one step of `{command}`: the job runs its steps itself, the runner's with a "
                           "JUnit reporter" if steps else "") + (
                            "; no JUnit report (ava writes none without tap-junit)" if runner == "ava" else
                            "; no JUnit report (the test script runs as written)" if runner is None else ""))
    if "build" in scripts:
        evidence.append(f"build output: {', '.join(paths)}" if paths else
                        "build output: unknown (set node.build_output to keep it)")
    found.settings = settings
    return True


def _declared(repo: Path, package: dict[str, Any], scripts: dict[str, str], settings: dict[str, Any],
              evidence: list[str]) -> None:
    """What the project declares beyond its scripts (cifab.stacks.node_declared)."""
    hooks = precommit.hooks(repo)
    existing = ci.read(repo)
    if existing.sources:
        evidence.append(f"existing CI: {', '.join(existing.sources)}")
    commands: dict[str, Any] = {}
    if "lint" not in scripts:
        lint = declared.lint_commands(hooks, existing, evidence)
        if lint:
            commands["lint"] = lint
    if "test" not in scripts and declared.workspaces(repo, package):
        settings["test_workspaces"] = True
        evidence.append("tests: each workspace's test script (the root has none); no JUnit report, as each "
                        "package may run a different runner")
    elif "test" not in scripts and existing.commands.get("test"):
        lines = existing.commands["test"]
        commands["test"] = {"run": [c.run for c in lines], "from": lines[0].source}
        evidence.append(f"test: {' && '.join(c.run for c in lines)} (from {lines[0].source})")
    settings["commands"] = commands
    settings["lint"] = settings["lint"] or "lint" in commands
    settings["test"] = settings["test"] or "test" in commands or bool(settings.get("test_workspaces"))
    apt = [p for p in existing.apt if not re.match(r"^(nodejs|npm|yarn)$", p)]
    if apt:
        settings["apt"] = apt
        evidence.append(f"system packages: {', '.join(apt)} (from {existing.sources[0]})")
    ci.test_environment(existing, settings, evidence)


def propose(settings: dict[str, Any], ask: Asker, defaults: dict[str, Any]) -> dict[str, Any]:
    section = {**{k: v for k, v in defaults.items() if k not in PINS or k == "version"}, **settings}
    for key in ("commands", "apt", "services", "variables", "test_steps"):
        if not section.get(key):
            section.pop(key, None)  # empty: the schema's default says as much
    def fits(answer: str) -> str | None:
        major = re.match(r"\d+", answer.strip())
        if major is None or major.group(0) in SUPPORTED or int(major.group(0)) > int(SUPPORTED[-1]):
            return None
        return (f"Node {answer.strip()} is past its end of life or not an LTS cifab supports: choose "
                f"{', '.join(SUPPORTED)}")

    section["version"] = str(ask("Node.js version", section["version"], ("node", "version"), fits))
    return section


def _install(manager: str, locked: bool, version: str | None) -> tuple[list[str], str, dict[str, str]]:
    """(install commands, the cache folder, cache variables)."""
    if manager == "pnpm":
        return ([f"npm install --global pnpm@{version or PINS['pnpm']}", "pnpm config set store-dir .pnpm-store",
                 "pnpm install" + (" --frozen-lockfile" if locked else "")], ".pnpm-store/", {})
    if manager == "yarn":
        return ([f"command -v yarn >/dev/null || npm install --global yarn@{PINS['yarn']}",
                 "yarn install --cache-folder .yarn-cache" + (" --frozen-lockfile" if locked else "")],
                ".yarn-cache/", {})
    if manager == "bun":
        # bun keeps its own cache; pointed into the project, GitLab can cache it.
        return (["bun install" + (" --frozen-lockfile" if locked else "")], ".bun-cache/",
                {"BUN_INSTALL_CACHE_DIR": "$CI_PROJECT_DIR/.bun-cache"})
    if manager == "yarn-berry":
        # Node 25 and newer no longer bundle corepack: install it, then let it fetch the
        # Yarn release packageManager names.
        return ([f"npm install --global corepack@{PINS['corepack']}", "corepack enable",
                 "yarn install" + (" --immutable" if locked else "")], ".yarn/cache/",
                {"YARN_ENABLE_GLOBAL_CACHE": "false"})
    return (["npm ci --cache .npm --prefer-offline" if locked else "npm install --cache .npm --prefer-offline"],
            ".npm/", {})


def _run(manager: str, script: str, args: str) -> str:
    """Run a package.json script with extra arguments, the way each manager forwards them:
    npm needs `--`; pnpm 10, Yarn and bun pass everything after the script name (a `--` would
    reach the script itself)."""
    tool = "yarn run" if manager == "yarn-berry" else f"{manager} run"
    if not args:
        return f"{tool} {script}"
    return f"{tool} {script} -- {args}" if manager == "npm" else f"{tool} {script} {args}"


def _reporter(node: dict[str, Any], runner: str) -> tuple[list[str], str, dict[str, str]]:
    """(setup, the runner's arguments, variables) that make a runner write junit.xml."""
    if runner == "vitest":
        return [], "--reporter=default --reporter=junit --outputFile.junit=junit.xml", {}
    if runner == "bun":
        return [], "--reporter=junit --reporter-outfile=junit.xml", {}
    if runner == "mocha":
        return [], "--reporter=xunit --reporter-option=output=junit.xml", {}
    if runner == "jest":
        setup = [] if node.get("jest_junit") else [f"npm install --global jest-junit@{PINS['jest_junit']}"]
        reporter = "jest-junit" if node.get("jest_junit") else '"$(npm root --global)/jest-junit"'
        # jest 19 and older have no --reporters; they take a results processor.
        flag = (f"--testResultsProcessor={reporter}" if node.get("jest_major", 99) < 20
                else f"--ci --reporters=default --reporters={reporter}")
        return setup, flag, {"JEST_JUNIT_OUTPUT_FILE": "junit.xml"}
    return [], "", {}


WORKSPACE_TESTS = {"npm": "npm test --workspaces --if-present", "pnpm": "pnpm --recursive --if-present test",
                   "yarn": "yarn workspaces run test", "yarn-berry": "yarn workspaces foreach --all run test",
                   "bun": "bun run --filter '*' test"}


def _test(node: dict[str, Any], package_script: str) -> tuple[list[str], list[str], dict[str, str], bool]:
    """(setup, commands, variables, writes junit.xml)."""
    manager, runner = node["package_manager"], node["test_runner"]
    if node["test_workspaces"]:
        return [], [WORKSPACE_TESTS[manager]], {}, False
    if "test" in node["commands"]:
        run = node["commands"]["test"]["run"]
        return [], run if isinstance(run, list) else [run], {}, False
    if runner == "node":
        # node --test takes its reporters from NODE_OPTIONS too: the script stays as written.
        reporters = ("--test-reporter=spec --test-reporter-destination=stdout "
                     "--test-reporter=junit --test-reporter-destination=junit.xml")
        return [], [_run(manager, "test", "")], {"NODE_OPTIONS": reporters}, True
    setup, args, variables = _reporter(node, runner)
    if not args:
        return [], [_run(manager, "test", "")], {}, False
    steps = node.get("test_steps") or []
    if steps:
        # The runner sits inside the script: its steps run here, the runner's with the reporter.
        found = steps_of(" && ".join(steps))
        index = found[1] if found else len(steps) - 1
        commands = ['export PATH="$CI_PROJECT_DIR/node_modules/.bin:$PATH"',
                    *[f"{step} {args}" if i == index else step for i, step in enumerate(steps)]]
        return setup, commands, variables, True
    return setup, [_run(manager, package_script, args)], variables, True


NPM_SEVERITY = f'({audit.SEVERITY}[.severity] // "major")'
# How each manager's audit JSON becomes Code Quality items (cifab.stacks.audit.items), one
# item per advisory, placed on the lock file.
_AUDIT_REPORTS: dict[str, dict[str, str]] = {
    # npm: the advisories `via` names as objects (its strings are the dependents reached through).
    "npm": {"each": '.vulnerabilities // {} | .[] | . as $v | .via[] | objects | (.url | split("/") | last) as $id',
            "description": '"\\($id) in \\($v.name) \\(.range) - \\(.title); '
                           '\\(if $v.fixAvailable then "a fix is available" else "no fix yet" end)"',
            "fingerprint": '"\\($id) \\($v.name)"', "severity": NPM_SEVERITY},
    # pnpm: npm 6's audit report.
    "pnpm": {"each": '.advisories // {} | .[] | (.github_advisory_id // (.url | split("/") | last)) as $id',
             "description": '"\\($id) in \\(.module_name) \\(.findings | map(.version) | unique | join(", ")) - '
                            '\\(.title); fixed in \\(.patched_versions)"',
             "fingerprint": '"\\($id) \\(.module_name)"', "severity": NPM_SEVERITY},
    # Yarn 4: a JSON line per vulnerable package (slurped).
    "yarn-berry": {"each": '.[] | .value as $p | .children | (.URL | split("/") | last) as $id',
                   "description": '"\\($id) in \\($p) \\(.["Tree Versions"] | join(", ")) - \\(.Issue); '
                                  'vulnerable: \\(.["Vulnerable Versions"])"',
                   "fingerprint": '"\\($id) \\($p)"', "severity": f'({audit.SEVERITY}[.Severity] // "major")'},
    # bun: npm's bulk answer, advisories by package.
    "bun": {"each": '. // {} | to_entries[] | .key as $p | .value[] | (.url | split("/") | last) as $id',
            "description": '"\\($id) in \\($p) \\(.vulnerable_versions) - \\(.title)"',
            "fingerprint": '"\\($id) \\($p)"', "severity": NPM_SEVERITY},
}


def _audit(manager: str, lock: str | None, version: str | None, install: list[str]) -> audit.Audit | None:
    """The package manager's own audit of the runtime dependencies its lock file pins (npm and
    pnpm write one first when the project commits none). Yarn 1's is not generated: it asks an
    audit endpoint of its own registry, whatever registry it is given."""
    if manager not in _AUDIT_REPORTS or (lock is None and manager not in ("npm", "pnpm")):
        return None
    # Yarn itself, as the install gets it (corepack), without installing the dependencies.
    yarn = [line for line in install if not line.startswith("yarn install")]
    setup, scan = {
        "npm": ([] if lock else ["npm install --package-lock-only --ignore-scripts --no-audit --no-fund"],
                'npm audit --omit dev --json --registry "$NPM_AUDIT_REGISTRY"'),
        "pnpm": ([f"npm install --global pnpm@{version or PINS['pnpm']}",
                  *([] if lock else ["pnpm install --lockfile-only --ignore-scripts"])],
                 'pnpm audit --prod --json --registry "$NPM_AUDIT_REGISTRY"'),
        "yarn-berry": (yarn, 'YARN_NPM_AUDIT_REGISTRY="$NPM_AUDIT_REGISTRY" yarn npm audit --environment production '
                             "--recursive --json"),
        "bun": ([], 'NPM_CONFIG_REGISTRY="$NPM_AUDIT_REGISTRY" bun audit --production --json'),
    }[manager]
    # Where the findings are shown: the lock file (npm's is written by the job when missing).
    path = lock or ("package.json" if manager == "npm" else LOCKS[manager])
    report = audit.items(**_AUDIT_REPORTS[manager], check="$id", path=json.dumps(path))
    # npm's advisory service: where installs come from a mirror, it may not answer audits.
    return audit.Audit(image=None, extends=None, variables={"NPM_AUDIT_REGISTRY": "https://registry.npmjs.org/"},
                       script=[*setup, *audit.steps(scan, report, slurp=manager == "yarn-berry")])


def context(data: dict[str, Any]) -> StackContext:
    node = data["node"]
    manager = node["package_manager"]
    lock = (node.get("lock_file") or LOCKS[manager]) if node["locked"] else None
    install, cache, variables = _install(manager, lock is not None, node.get("manager_version"))
    setup, test_commands, test_variables, junit = _test(node, node["test_script"])
    lint = node["commands"].get("lint")
    apt = ["apt-get update -qq && apt-get install --yes --quiet --no-install-recommends "
           f"{' '.join(node['apt'])} > /dev/null"] if node["apt"] else []
    section = NodeSection(
        # bun's image has bun, not Node.js: the project runs on bun.
        image=f"oven/bun:{node.get('manager_version') or PINS['bun']}" if manager == "bun"
        else f"node:{node['version']}-bookworm-slim",
        lock=lock,
        cache=cache,
        cache_variables=variables,
        install=apt + install,
        lint_commands=(lint["run"] if isinstance(lint["run"], list) else [lint["run"]]) if lint
        else [_run(manager, "lint", "")],
        test_setup=setup,
        test_commands=test_commands,
        test_variables={**node["variables"], **test_variables},
        services=list(node["services"]),
        junit=junit,
        build_command=_run(manager, "build", ""),
        build_paths=[node["build_output"]] if isinstance(node["build_output"], str) else list(node["build_output"]),
        signatures=manager == "npm" and lock == "package-lock.json" and data.get("audit") not in ("off", False),
    )
    own = StackContext(
        section=section,
        jobs=jobs(lint=[JOB["lint"]] if node["lint"] else [],
                  test=([JOB["test"]] if node["test"] else []) + ([JOB["signatures"]] if section["signatures"] else []),
                  build=[JOB["build"]] if node["build"] else []),
        force_image=False,
    )
    if found := _audit(manager, lock, node.get("manager_version"), install):
        own["audit"] = found
    # Each reads the lock file alone (no install); pnpm's, Yarn 1's and bun's have no CycloneDX tool.
    if manager == "npm" and lock == "package-lock.json":
        own["sbom"] = Sbom(extends=None, variables={}, report="sbom.cdx.json", script=[
            f"npx --yes @cyclonedx/cyclonedx-npm@{PINS['cyclonedx_npm']} --package-lock-only --omit dev "
            "--output-format JSON --spec-version 1.6 --output-reproducible --output-file sbom.cdx.json"])
    elif manager == "yarn-berry" and lock:
        own["sbom"] = Sbom(extends=None, variables={}, report="sbom.cdx.json", script=[
            *[line for line in install if not line.startswith("yarn install")],
            f"yarn dlx -q @cyclonedx/yarn-plugin-cyclonedx@{PINS['cyclonedx_yarn']} --lockfile-only --production "
            "--sv 1.6 --output-reproducible --of JSON -o sbom.cdx.json"])
    return own


STACK = Stack("node", "Node.js packages (package.json)", detect, propose, context, PINS,
              aliases=("nodejs", "node.js", "javascript", "typescript", "js", "ts", "npm"), job_names=JOB,
              takes_services=True, cache_roles=("test", "build", "lint"), sast=True)
