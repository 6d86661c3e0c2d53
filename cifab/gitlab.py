"""GitLab's CI vocabulary in one place: keywords, script keys, reserved names, limits,
version gates, and the one deep merge. Every fact here is GitLab's, not cifab's; the
generator and the linter both read it from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

# Top-level keys that are keywords, not jobs (Gitlab::Ci::Config::Entry::Root).
# image..after_script are the legacy globals that `default:` replaced; `types` is the old
# name of `stages`; `pages:deploy` is reserved for GitLab Pages.
LEGACY_GLOBALS = ("image", "services", "cache", "before_script", "after_script")
TOP_LEVEL_KEYWORDS = frozenset({
    "default", "include", "stages", "variables", "workflow", "spec", *LEGACY_GLOBALS, "types", "pages:deploy",
})
# The keywords users write at the top level, for "did you mean" hints.
TOP_LEVEL_WORDS = tuple(sorted(k for k in TOP_LEVEL_KEYWORDS if ":" not in k and k != "types"))
# Names a job cannot take: GitLab reads them as the global keyword.
RESERVED_JOB_NAMES = ("image", "services", "stages", "before_script", "after_script", "variables",
                      "cache", "include")
# A mapping with one of these keys is meant as a job.
JOB_MARKERS = ("script", "run", "trigger", "stage", "extends", "needs", "rules")
# A job must have one of these to run.
RUNNABLE_KEYS = ("script", "run", "trigger")
# The keys whose values are shell commands, in the order the runner runs them.
SCRIPT_KEYS = ("before_script", "script", "after_script")
# Keys a job inherits from `default:` when it does not set them.
DEFAULT_KEYS = ("after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens",
                "identity", "image", "interruptible", "retry", "services", "tags", "timeout")
# The keys a trigger job takes: Entry::Bridge::ALLOWED_KEYS (trigger, parallel) and
# Processable::PROCESSABLE_ALLOWED_KEYS. It inherits from `default:` only what is among them.
BRIDGE_KEYS = ("trigger", "parallel", "extends", "stage", "only", "except", "rules", "variables", "inherit",
               "allow_failure", "when", "needs", "resource_group", "environment", "interruptible")
# The stages of a pipeline that declares none; .pre and .post always exist.
DEFAULT_STAGES = ("build", "test", "deploy")
INCLUDE_KINDS = ("local", "project", "remote", "template", "component")
# External::File::Base::YAML_WHITELIST_EXTENSION: what an included file's name must end with.
YAML_EXTENSION = re.compile(r".+\.(yml|yaml)$", re.IGNORECASE)
ENVIRONMENT_ACTIONS = ("start", "prepare", "stop", "verify", "access")
# Where a job names other jobs, as key paths into it (a list on the way: each of its items).
# A value there is a name, a list of names, or a mapping with `job` (needs:job).
JOB_REFERENCE_KEYS = (("extends",), ("needs",), ("dependencies",), ("environment", "on_stop"), ("rules", "needs"))
# Where a job names paths relative to the project directory: a path, a list of paths, or
# a mapping with `path` (coverage_report), each report kind under artifacts:reports.
PROJECT_PATH_KEYS = (("cache", "paths"), ("cache", "key", "files"), ("artifacts", "paths"),
                     ("artifacts", "exclude"), ("artifacts", "reports", "*"))
# Keys an entry refuses together (`mutually_exclusive_keys:` in entry/*.rb), by entry name.
MUTUALLY_EXCLUSIVE_KEYS = {"artifacts": ("access", "public")}


def keys_together(config: Iterable[Any], group: Iterable[str]) -> str | None:
    """MutuallyExclusiveKeysValidator's complaint when more than one key of the group is set,
    naming them in the order the config has them."""
    wanted = set(group)
    present = [str(k) for k in config if k in wanted]
    return f"config these keys cannot be used together: {', '.join(present)}" if len(present) > 1 else None


# CI_PIPELINE_SOURCE: every value docs/ci/jobs/job_rules.md documents (Enums::Ci::Pipeline.sources).
PIPELINE_SOURCES = ("push", "web", "schedule", "api", "trigger", "pipeline", "parent_pipeline",
                    "merge_request_event", "external_pull_request_event", "chat", "webide", "external",
                    "ondemand_dast_scan", "ondemand_dast_validation", "security_orchestration_policy",
                    "container_registry_push")
# Ci::Pipeline#changed_paths: GitLab knows a diff for merge requests, for pushes that update
# a branch, and for external pull requests. Anywhere else `changes` holds.
DIFF_SOURCES = ("merge_request_event", "push", "external_pull_request_event")
# Predefined variables GitLab sets only in some pipelines: a name with one of these prefixes
# is unset outside them (docs/ci/variables/predefined_variables.md).
MERGE_REQUEST_VARIABLE_PREFIX = "CI_MERGE_REQUEST_"
EXTERNAL_PULL_REQUEST_VARIABLE_PREFIX = "CI_EXTERNAL_PULL_REQUEST_"
TAG_VARIABLES = ("CI_COMMIT_TAG", "CI_COMMIT_TAG_MESSAGE", "CI_RELEASE_DESCRIPTION")
# Set in every pipeline, whatever its event.
ALWAYS_SET_VARIABLES = frozenset({
    "CI", "GITLAB_CI", "CI_API_V4_URL", "CI_COMMIT_BEFORE_SHA", "CI_COMMIT_MESSAGE", "CI_COMMIT_REF_NAME",
    "CI_COMMIT_REF_PROTECTED", "CI_COMMIT_REF_SLUG", "CI_COMMIT_SHA", "CI_COMMIT_SHORT_SHA", "CI_COMMIT_TITLE",
    "CI_COMMIT_TIMESTAMP", "CI_COMMIT_AUTHOR", "CI_CONFIG_PATH", "CI_DEFAULT_BRANCH", "CI_PIPELINE_ID",
    "CI_PIPELINE_IID", "CI_PIPELINE_SOURCE", "CI_PIPELINE_URL", "CI_PROJECT_DIR", "CI_PROJECT_ID",
    "CI_PROJECT_NAME", "CI_PROJECT_NAMESPACE", "CI_PROJECT_PATH", "CI_PROJECT_PATH_SLUG",
    "CI_PROJECT_ROOT_NAMESPACE", "CI_PROJECT_URL", "CI_PROJECT_VISIBILITY", "CI_SERVER_HOST", "CI_SERVER_URL",
    "CI_SERVER_VERSION", "CI_SERVER_VERSION_MAJOR", "CI_SERVER_VERSION_MINOR", "GITLAB_USER_EMAIL",
    "GITLAB_USER_ID", "GITLAB_USER_LOGIN", "GITLAB_USER_NAME",
})
# Set per job: the rules of each job (each parallel instance) see their own.
JOB_VARIABLES = ("CI_JOB_NAME", "CI_JOB_NAME_SLUG", "CI_JOB_STAGE", "CI_NODE_INDEX", "CI_NODE_TOTAL")
# ExpandVariables::VARIABLES_REGEXP: $NAME, ${NAME} and %NAME%, in `changes`, `exists` and
# compare_to; Collection::Item::VARIABLES_REGEXP adds the $$ and %% escapes inside values.
VARIABLE_REFERENCE = re.compile(r"\$([a-zA-Z_][a-zA-Z0-9_]*)|\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}|%([a-zA-Z_][a-zA-Z0-9_]*)%")
VALUE_REFERENCE = re.compile(r"\$\$|%%|\$([a-zA-Z_][a-zA-Z0-9_]*)|\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}|"
                             r"%([a-zA-Z_][a-zA-Z0-9_]*)%")

# Limits GitLab enforces.
MAX_INCLUDES = 150
MAX_EXTENDS_LEVELS = 11
MAX_REFERENCE_DEPTH = 10
MAX_PARALLEL = 200
MAX_RETRY = 2
# ci_needs_size_limit: the needs one job may have, counted after a need on a parallel job
# became one per instance. 50 by default; administrators of an instance may change it.
MAX_NEEDS = 50
MAX_SCRIPT_NESTING = 10  # Entry::Commands: "a nested array of strings up to 10 levels deep"
MAX_CACHES = 4  # Entry::Caches::MULTIPLE_CACHE_LIMIT
MAX_RULES_CHANGES_PATHS = 50  # Rules::Rule::Changes::SimpleChanges
MAX_JOB_NAME_LENGTH = 255  # Entry::Job: "job name is too long"
MAX_EXPOSE_AS_LENGTH = 100  # Entry::Artifacts::EXPOSE_AS_MAX_LENGTH
MAX_CACHE_KEY_FILES = 10
MAX_CACHE_KEY_FILES_COMMITS = 2
MAX_START_IN_SECONDS = 7 * 24 * 3600
# Rules::Rule::Clause::Exists::MAX_PATTERN_COMPARISONS and Changes::CHANGES_MAX_PATTERN_COMPARISONS:
# past this many path-glob comparisons the clause holds without matching.
MAX_EXISTS_COMPARISONS = 10_000
MAX_CHANGES_COMPARISONS = 50_000
# Entry::Timeout: ChronicDuration.output(Project::MAX_BUILD_TIMEOUT), Rails' 1.month in seconds.
MAX_JOB_TIMEOUT_SECONDS = 2_629_746
# The instance defaults max_yaml_size_bytes and max_yaml_depth.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_YAML_DEPTH = 100
# GitLab measures a parsed file with Ruby's ObjectSpace.memsize_of over every object, aliases
# counted each time they appear (lib/gitlab/utils/deep_size.rb), against max_yaml_size_bytes.
# Each value costs at least one 8-byte slot in its parent, so beyond this many expanded nodes
# GitLab refuses the file with its default settings whatever the values are.
MAX_PARSED_NODES = MAX_FILE_BYTES // 8

# Keywords and the GitLab release that introduced them.
COMPONENTS_SINCE = (17, 0)
NEEDS_MATRIX_SINCE = (16, 3)
AUTO_CANCEL_SINCE = (16, 10)
# rules:changes:compare_to came in 15.3; CI/CD variables in its ref only in 17.2.
COMPARE_TO_VARIABLES_SINCE = (17, 2)
# The `release:` keyword runs glab (when the image has glab 1.58 or newer) instead of
# release-cli from GitLab 18.0, which deprecated release-cli.
RELEASE_WITH_GLAB_SINCE = (18, 0)


def version_tuple(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    major, minor = text.split(".", 1)
    return int(major), int(minor)


def supports(gitlab_version: str | None, since: tuple[int, int]) -> bool:
    """Whether a GitLab release (None: the newest) understands a keyword introduced in `since`."""
    version = version_tuple(gitlab_version)
    return version is None or version >= since


def is_job_name(key: Any) -> bool:
    return key not in TOP_LEVEL_KEYWORDS


def _fresh(base: Any, over: Any) -> dict[Any, Any]:
    return {}


def _nothing(out: Any, source: Any, key: Any) -> None:
    return None


def deep_merge(base: Any, over: Any, *,
               new: Callable[[Any, Any], Any] = _fresh,
               keep: Callable[[Any, Any, Any], None] = _nothing) -> Any:
    """GitLab's deep_merge (extends, include, default): mappings merge key by key, `over`
    winning; anything else is replaced by `over`.

    new(base, over) makes the mapping the result goes in: a fresh one by default, or
    `base` itself to merge in place (which keeps a round-trip tree's comments). keep(out,
    source, key) is called after each key is set, so that positions can follow it."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    out = new(base, over)
    for key, value in base.items():
        out[key] = value
        keep(out, base, key)
    for key, value in over.items():
        out[key] = deep_merge(base[key], value, new=new, keep=keep) if key in base else value
        keep(out, over, key)
    return out


_IMPLEMENT = re.compile(r"^jobs ([a-z\s]+) config should implement")


def entry_message(text: str) -> str:
    """A message as Gitlab::Config::Entry::Validator#messages gives it: `"#{location}
    #{error}".downcase`, so job and variable names come lowercased, and the spaces of a job's
    name in "jobs NAME config should implement" become underscores."""
    lowered = text.lower()
    return _IMPLEMENT.sub(lambda m: f"jobs {m.group(1).replace(' ', '_')} config should implement", lowered)

# GitLab's security templates (include: template:). Their jobs use `stage: test`: a pipeline
# whose stages lack it fails with "chosen stage test does not exist".
SECRET_DETECTION_TEMPLATE = "Jobs/Secret-Detection.gitlab-ci.yml"
SAST_TEMPLATE = "Jobs/SAST.gitlab-ci.yml"
CONTAINER_SCANNING_TEMPLATE = "Jobs/Container-Scanning.gitlab-ci.yml"
SECURITY_TEMPLATE_STAGE = "test"
CONTAINER_SCANNING_JOB = "container_scanning"
