"""What init takes from the repository's compose file: the images its services build (each
with the build context and Dockerfile compose gives it), and the databases the tests run
beside (services and their settings for the test job).

compose describes how the developer runs the project, so its build contexts are the ones
the Dockerfiles were written for: a backend/Dockerfile that copies the root's uv.lock needs
the root as its context, which `cd backend` would lose.
"""

from __future__ import annotations

import re
from typing import Any

from cifab.declared.compose import Build, Compose, Runs

# Images of databases and caches a test suite is run against, by the image's base name, with
# the settings the image needs to start without a secret.
DATABASES: dict[str, dict[str, str]] = {
    "postgres": {"POSTGRES_HOST_AUTH_METHOD": "trust"},
    "postgis": {"POSTGRES_HOST_AUTH_METHOD": "trust"},
    "mysql": {"MYSQL_ALLOW_EMPTY_PASSWORD": "yes"},
    "mariadb": {"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": "1"},
    "redis": {}, "valkey": {}, "mongo": {}, "memcached": {}, "rabbitmq": {},
}
# What the image reads instead, when the compose file gives it a password of its own.
_PASSWORDS = {"postgres": "POSTGRES_PASSWORD", "postgis": "POSTGRES_PASSWORD", "mysql": "MYSQL_ROOT_PASSWORD",
              "mariadb": "MARIADB_ROOT_PASSWORD"}
_PINNED = re.compile(r"\S+:[^\s:/]+|\S+@sha256:[0-9a-f]{64}")
_ALIAS = re.compile(r"[a-z0-9][a-z0-9-]*")


def image_name(build: Build) -> str:
    """The image's name under $CI_REGISTRY_IMAGE: the compose service's, made valid."""
    name = re.sub(r"[^a-z0-9]+", "-", build.service.lower()).strip("-")
    return name or "image"


def builds(compose: Compose, evidence: list[str]) -> list[dict[str, str]]:
    """image.builds for a repository whose compose file builds several images."""
    out = [{"name": image_name(b), "dockerfile": b.dockerfile, "context": b.context} for b in compose.builds]
    if len(out) > 1:
        listed = ", ".join(f"{b['name']} ({b['dockerfile']}, context {b['context']})" for b in out)
        evidence.append(f"images: {listed} (from {compose.source}), one job each")
    return out


def build_for(compose: Compose | None, folder: str) -> Build | None:
    """The compose build whose Dockerfile is the one in this folder."""
    if compose is None:
        return None
    prefix = "" if folder in (".", "") else folder.rstrip("/") + "/"
    return next((b for b in compose.builds if b.dockerfile == f"{prefix}Dockerfile"
                 or (prefix and b.context == folder.rstrip("/"))), None)


def relative(path: str, folder: str) -> str:
    """A root-relative path as seen from a component's folder (which its jobs cd into)."""
    if folder in (".", ""):
        return path
    if path == folder.rstrip("/"):
        return "."
    up = "/".join(".." for _ in folder.strip("/").split("/"))
    if path == ".":
        return up
    if path.startswith(folder.rstrip("/") + "/"):
        return path[len(folder.rstrip("/")) + 1:]
    return f"{up}/{path}"


def _database(run: Runs) -> str | None:
    base = run.image.split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return base if base in DATABASES else None


def test_services(compose: Compose, app: str | None, evidence: list[str]) -> tuple[list[dict[str, str]],
                                                                                  dict[str, str]]:
    """The databases of the compose file as the test job's services (aliased by their compose
    names, so that the app's settings reach them), and the variables: each database's own
    plain settings (or what lets it start without a secret) and the app service's."""
    services: list[dict[str, str]] = []
    variables: dict[str, str] = {}
    # When the file says who depends on its databases, the app gets those it depends on (a
    # project that is no service of the file, none); otherwise every database counts.
    databases = {run.service for run in compose.runs if _database(run)}
    said = any(set(needs) & databases for needs in compose.depends_on.values())
    wanted = compose.depends_on.get(app or "", []) if said else None
    for run in compose.runs:
        kind = _database(run)
        if kind is None or (wanted is not None and run.service not in wanted):
            continue
        if not _PINNED.fullmatch(run.image):
            evidence.append(f"warning: {compose.source}: {run.service} runs {run.image} without a tag; not given to "
                            "the tests (add a tag, or python.services/node.services in cifab.yml)")
            continue
        alias = run.service.lower() if _ALIAS.fullmatch(run.service.lower()) else kind
        services.append({"name": run.image, "alias": alias})
        own = dict(run.environment)
        password = _PASSWORDS.get(kind)
        variables |= own if password and password in own else {**own, **DATABASES[kind]}
    if app is not None:
        variables |= compose.environment.get(app, {})
    if services:
        evidence.append(f"services: {', '.join(s['name'] + ' as ' + s['alias'] for s in services)} "
                        f"(from {compose.source})")
    return services, variables


# Client libraries that mean a database, by the service they need: what init names when it
# cannot tell the tests' services from the compose file or the existing CI.
CLIENTS = {
    "postgres": ("psycopg", "psycopg2", "psycopg2-binary", "asyncpg", "pg", "postgres", "github.com/lib/pq",
                 "github.com/jackc/pgx"),
    "mysql": ("mysqlclient", "pymysql", "aiomysql", "mysql2", "github.com/go-sql-driver/mysql"),
    "redis": ("redis", "ioredis", "github.com/redis/go-redis"),
    "mongo": ("pymongo", "motor", "mongodb", "mongoose"),
}


def needed_hint(dependencies: set[str], settings: dict[str, Any], stack: str) -> str | None:
    """A note naming the service the tests may need, when the project uses a database's
    client and no service is given."""
    if settings.get("services"):
        return None
    wanted = sorted(kind for kind, names in CLIENTS.items() if dependencies & set(names))
    if not wanted:
        return None
    return (f"note: the project uses a {' and a '.join(wanted)} client, and neither its CI nor a compose file gives "
            f"the tests one: if they need it, add {stack}.services (and {stack}.variables) in cifab.yml")


def apply(compose: Compose, settings: dict[str, Any], folder: str, evidence: list[str]) -> None:
    """A python or node project's test services from the compose file, unless its existing
    CI gave them."""
    if settings.get("services"):
        return
    app = build_for(compose, folder)
    services, variables = test_services(compose, app.service if app else None, evidence)
    if services:
        settings["services"] = services
        settings["variables"] = {**variables, **settings.get("variables", {})}
