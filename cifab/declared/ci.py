"""The project's existing CI, which most projects that move to GitLab bring along: GitHub
Actions workflows first, then .travis.yml, .circleci/config.yml, azure-pipelines.yml and a
Jenkinsfile. What cifab takes from it:

- the versions its test matrix covers (python-version, node-version, go-version);
- the Debian packages its jobs install (`apt-get install ...`);
- the services its tests get (postgres, redis...), with their settings;
- its environment variables that hold plain values (never secrets or expressions);
- the commands of its lint, test and build steps.

Commands that depend on the CI system itself (GitHub's `${{ }}` expressions, its GITHUB_*
variables) are left out: they cannot run elsewhere as written."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cifab.declared.runners import NAMES, Command
from cifab.declared.yamlfile import load, mapping, strings
from cifab.files import Refused, read_limited

# A matrix key (or a setup action's input, or a Travis key) whose values all read as
# versions names a language's versions; each stack picks its own keys (python-version...).
_VERSION = re.compile(r"\d+(\.\d+)*(\.x)?")
# Travis names services without versions: these are their images, at a current release.
SERVICE_IMAGES = {"postgresql": "postgres:17", "postgres": "postgres:17", "mysql": "mysql:8.4",
                  "mariadb": "mariadb:11.8", "redis": "redis:8", "redis-server": "redis:8", "mongodb": "mongo:8.0",
                  "memcached": "memcached:1.6", "rabbitmq": "rabbitmq:4"}
_APT = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*install\s+([^&|;\n]+)")
# A step's role, by the tools it calls. Install and setup lines match none of these.
ROLES = (
    ("lint", re.compile(r"(^|[\s/])(ruff|flake8|pylint|black|isort|mypy|pyright|eslint|prettier|biome|xo|"
                        r"golangci-lint|gofmt|go vet|clippy|cargo fmt|pre-commit run|(npm|pnpm|yarn)( run)? "
                        r"(lint|check|typecheck)|make (lint|check)|scripts/(lint|check))(\s|$)")),
    ("test", re.compile(r"(^|[\s/])(pytest|tox|nox|coverage run|unittest|(npm|pnpm|yarn|bun)( run)? test|"
                        r"go test|cargo test|cargo nextest|make test|just test|hatch (test|run test)|"
                        r"pdm run test|scripts/test)(\s|$)")),
    ("build", re.compile(r"(^|[\s/])(python -m build|uv build|poetry build|hatch build|pdm build|"
                         r"(npm|pnpm|yarn)( run)? build|go build|cargo build|make build)(\s|$)")),
)
_INSTALL = re.compile(r"^(sudo\s+)?(pip3?|python3? -m pip|uv (pip|sync|venv)|poetry install|npm (ci|install)|"
                      r"pnpm install|yarn( install)?$|apt(-get)?|brew|choco|corepack|curl|wget|git|cd|echo|export|"
                      r"source|\.|mkdir|rm|cp|mv|ls|cat)\b")


@dataclass(frozen=True)
class Service:
    image: str
    alias: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class ExistingCI:
    sources: list[str] = field(default_factory=list)
    versions: dict[str, list[str]] = field(default_factory=dict)  # matrix key: its versions
    apt: list[str] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    commands: dict[str, list[Command]] = field(default_factory=dict)

    def add_commands(self, text: str, source: str) -> None:
        for line in _lines(text):
            if "${{" in line or "GITHUB_" in line or _INSTALL.match(line):
                continue
            role = _named_role(line) or next((r for r, pattern in ROLES if pattern.search(line)), None)
            if role is not None:
                commands = self.commands.setdefault(role, [])
                if all(c.run != line for c in commands):
                    commands.append(Command(line, source))

    def add_apt(self, text: str) -> None:
        for match in _APT.finditer(text):
            try:
                words = shlex.split(match.group(1))
            except ValueError:
                continue
            for word in words:
                package = word.split("=", 1)[0]
                if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", package) and package not in self.apt:
                    self.apt.append(package)

    def add_versions(self, key: str, values: list[str]) -> None:
        if not values or not all(_VERSION.fullmatch(v) for v in values):
            return
        found = self.versions.setdefault(key, [])
        found += [v for v in values if v not in found]

    def versions_of(self, *keys: str) -> list[str]:
        return [v for key in keys for v in self.versions.get(key, [])]

    def add_variables(self, value: Any) -> None:
        for key, item in mapping(value).items():
            if isinstance(item, (str, int, float)) and not isinstance(item, bool) and "${{" not in str(item) \
                    and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(key)) and not _secret(str(key)):
                self.variables.setdefault(str(key), str(item))


_NAMED = re.compile(r"^(?:tox -e|nox -s|make|just|hatch run(?: [\w-]+:)?|pdm run|(?:npm|pnpm|yarn) run|yarn)\s+"
                    r"([\w:-]+)")


def _named_role(line: str) -> str | None:
    """The role a runner's named target says (`tox -e lint`, `make test`, `npm run build`)."""
    match = _NAMED.match(line)
    name = match.group(1).split(":")[-1] if match else ""
    return next((role for role, names in NAMES.items() if name in names), None)


def _secret(name: str) -> bool:
    return bool(re.search(r"TOKEN|SECRET|PASSWORD|KEY|CREDENTIAL", name, re.I))


def _lines(text: str) -> list[str]:
    """A shell script's commands, one per line, continuation lines joined and comments dropped."""
    joined = re.sub(r"\s*\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _text(path: Path) -> str:
    try:
        return read_limited(path, 512 * 1024).decode("utf-8", "replace")
    except (OSError, Refused):
        return ""


def _github(repo: Path, found: ExistingCI) -> None:
    folder = repo / ".github" / "workflows"
    if not folder.is_dir() or folder.is_symlink():
        return
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file()):
        workflow = mapping(load(path))
        if not workflow:
            continue
        source = f".github/workflows/{path.name}"
        found.sources.append(source)
        found.add_variables(workflow.get("env"))
        for name, job in mapping(workflow.get("jobs")).items():
            job = mapping(job)
            for key, values in mapping(mapping(job.get("strategy")).get("matrix")).items():
                found.add_versions(str(key), strings(values))
            for alias, service in mapping(job.get("services")).items():
                service = mapping(service)
                image = service.get("image")
                if isinstance(image, str) and "${{" not in image and ":" in image.split("/")[-1]:
                    variables = {str(k): str(v) for k, v in mapping(service.get("env")).items()
                                 if isinstance(v, (str, int, float)) and "${{" not in str(v)}
                    if all(s.alias != alias for s in found.services):
                        found.services.append(Service(image, str(alias), variables))
            found.add_variables(job.get("env"))
            for step in job.get("steps") or [] if isinstance(job.get("steps"), list) else []:
                step = mapping(step)
                if str(step.get("uses") or "").startswith("actions/setup-"):
                    for key, value in mapping(step.get("with")).items():
                        if str(key).endswith("-version"):
                            found.add_versions(str(key), strings(value))
                if isinstance(step.get("run"), str):
                    found.add_apt(step["run"])
                    found.add_commands(step["run"], f"{source}, job {name}")


def _travis(repo: Path, found: ExistingCI) -> None:
    travis = mapping(load(repo / ".travis.yml"))
    if not travis:
        return
    found.sources.append(".travis.yml")
    for key, value in travis.items():
        found.add_versions(str(key), strings(value))  # python: [...], node_js: [...]
    for name in strings(travis.get("services")):
        image = SERVICE_IMAGES.get(name)
        alias = image.split(":")[0] if image else ""
        if image and all(s.alias != alias for s in found.services):
            found.services.append(Service(image, alias))
    packages = mapping(mapping(travis.get("addons")).get("apt")).get("packages")
    found.add_apt("apt-get install " + " ".join(strings(packages)))
    for key in ("before_install", "install", "before_script", "script"):
        for line in strings(travis.get(key)):
            found.add_apt(line)
            found.add_commands(line, f".travis.yml {key}")


def _circle(repo: Path, found: ExistingCI) -> None:
    config = mapping(load(repo / ".circleci" / "config.yml"))
    if not config:
        return
    found.sources.append(".circleci/config.yml")
    for name, job in mapping(config.get("jobs")).items():
        job = mapping(job)
        # The executor's list of images (the job's own first, then its services).
        images = next(([mapping(d).get("image") for d in value] for value in job.values() if isinstance(value, list)
                       and value and all(isinstance(d, dict) and "image" in d for d in value)), [])
        for image in [i for i in images[1:] if isinstance(i, str)]:  # the first is the job's own
            alias = re.sub(r"[^a-z0-9-]", "-", image.split("/")[-1].split(":")[0].lower()).strip("-")
            if ":" in image.split("/")[-1] and alias and all(s.alias != alias for s in found.services):
                found.services.append(Service(image, alias))
        for step in job.get("steps") or [] if isinstance(job.get("steps"), list) else []:
            run = mapping(step).get("run")
            text = run if isinstance(run, str) else mapping(run).get("command")
            if isinstance(text, str):
                found.add_apt(text)
                found.add_commands(text, f".circleci/config.yml, job {name}")


def _azure(repo: Path, found: ExistingCI) -> None:
    config = load(repo / "azure-pipelines.yml")
    if not isinstance(config, dict):
        return
    found.sources.append("azure-pipelines.yml")

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key in ("script", "bash"):
                if isinstance(value.get(key), str):
                    found.add_apt(value[key])
                    found.add_commands(value[key], "azure-pipelines.yml")
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(config)


def _jenkins(repo: Path, found: ExistingCI) -> None:
    text = _text(repo / "Jenkinsfile")
    if not text:
        return
    found.sources.append("Jenkinsfile")
    for match in re.finditer(r"\bsh\s*\(?\s*(?:'''(.*?)'''|\"\"\"(.*?)\"\"\"|'([^'\n]*)'|\"([^\"\n]*)\")", text, re.S):
        script = next(g for g in match.groups() if g is not None)
        found.add_apt(script)
        found.add_commands(script, "Jenkinsfile")


def read(repo: Path) -> ExistingCI:
    """What the repository's existing CI says, from every system it has."""
    found = ExistingCI()
    for reader in (_github, _travis, _circle, _azure, _jenkins):
        reader(repo, found)
    found.variables = {k: _service_host(v, found.services) for k, v in found.variables.items()}
    return found


def test_environment(existing: ExistingCI, settings: dict[str, Any], evidence: list[str]) -> None:
    """The services and variables the existing CI gives its tests, into a stack's settings."""
    if existing.services:
        settings["services"] = [{"name": s.image, "alias": s.alias} for s in existing.services]
        evidence.append(f"services: {', '.join(s.image for s in existing.services)} (from {existing.sources[0]})")
    variables = {k: v for s in existing.services for k, v in s.variables.items()} | existing.variables
    if variables:
        settings["variables"] = variables
        evidence.append(f"test variables: {', '.join(variables)} (from {existing.sources[0]})")


def _service_host(value: str, services: list[Service]) -> str:
    """A service GitHub maps to localhost is reached by its alias in GitLab."""
    if not services or not re.search(r"\b(localhost|127\.0\.0\.1)\b", value):
        return value
    scheme = re.match(r"([a-z+]+)://", value)
    chosen = next((s for s in services if scheme and s.alias.startswith(scheme.group(1).split("+")[0][:5])),
                  services[0] if len(services) == 1 else None)
    return re.sub(r"\b(localhost|127\.0\.0\.1)\b", chosen.alias, value) if chosen else value
