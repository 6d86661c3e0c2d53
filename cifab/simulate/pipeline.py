"""The pipeline GitLab would create for an event: workflow:rules, then each job's rules
(or only/except), its when, allow_failure and needs, and parallel:matrix instances.

Behaviour follows GitLab's source: Gitlab::Ci::Build::Rules (the first rule whose clauses
all hold decides; none: the job is not added; a rule's when defaults to the job's),
Gitlab::Ci::Build::Policy::Refs for only/except (the default is `only: [branches, tags]`,
which a merge request pipeline does not match; a `/regex/` is RE2, any other name is
compared whole), Rules::Rule::Clause::Changes (with no diff known, `changes` holds; past
50,000 path-glob comparisons it holds) and ::Exists (exact paths looked up, `**/*.ext`
matched by suffix, other globs through File.fnmatch, and past 10,000 comparisons it holds).
Globs and regexes run in linear time (cifab.pipeline.patterns).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cifab.diagnostics import Mark
from cifab.gitlab import MAX_CHANGES_COMPARISONS, MAX_EXISTS_COMPARISONS
from cifab.pipeline.config import Job, Pipeline, flat_rules, rule_mark
from cifab.pipeline.expression import ExpressionError, evaluate
from cifab.pipeline.include import glob_in
from cifab.pipeline.needs import instance_names, job_needs
from cifab.pipeline.patterns import glob, ruby_syntax
from cifab.pipeline.yamlpos import YList, YMap
from cifab.simulate.event import Event

NO_DIFF_NOTE = ("no changed files were given (--changed), so `changes` holds everywhere, as it does in GitLab "
                "when it knows no diff (new branches, tags, schedules)")
UNREAD_NOTE = ("this pipeline includes files cifab cannot read offline, so the jobs, stages and rules they "
               "hold are not known here; jobs marked `?` take keys from them, and whether they run is not known")
OTHER_PROJECT_NOTE = ("`exists` in another project (`exists:project`) cannot be checked offline, "
                      "so it was taken to hold")
EXISTS_CAP_NOTE = (f"an `exists` clause needs more than GitLab's {MAX_EXISTS_COMPARISONS:,} path-glob comparisons "
                   "here, so it holds, as it does in GitLab")
CHANGES_CAP_NOTE = (f"a `changes` clause needs more than GitLab's {MAX_CHANGES_COMPARISONS:,} path-glob comparisons, "
                    "so it holds, as it does in GitLab")


@dataclass(slots=True)
class PlannedJob:
    name: str
    stage: str
    when: str
    allow_failure: bool
    needs: list[str]
    decided_by: Mark | None  # the rule (or only/except) that added it; None: the job's defaults
    missing_needs: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)  # the job after extends and default:
    missing_dependencies: list[str] = field(default_factory=list)
    uncertain: bool = False  # it takes keys from an include cifab cannot read
    job: str = ""  # the job it is an instance of (its own name when it has no parallel)


@dataclass
class Simulation:
    event: Event
    created: bool
    reason: str
    decided_by: Mark | None
    jobs: list[PlannedJob] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _strings(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict):
                item = item.get("value")
            if item is not None and not isinstance(item, (dict, list)):
                out[str(key)] = str(item).lower() if isinstance(item, bool) else str(item)
    return out


def _expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), text)


def _names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def repository_files(root: Path | None) -> list[str]:
    """The files `rules:exists` globs against: git's list, or a walk of the folder."""
    if root is None:
        return []
    try:
        proc = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, timeout=30, check=False)
        if proc.returncode == 0:
            return [p for p in proc.stdout.decode("utf-8", "replace").split("\0") if p]
    except (OSError, subprocess.TimeoutExpired):
        pass
    # Not a git checkout: the bounded walk local includes use (no symlinked folders followed).
    return [p for p in glob_in(root, "**") if not p.startswith(".git/")]


class _Capped(int):
    """True, because GitLab's comparison cap was reached, not because a file matched."""


_CAPPED = _Capped(1)
_NO_IF = object()


class RepositoryFiles:
    """The repository's files as `rules:exists` sees them, with each clause's verdict kept:
    the simulations of one pipeline's events ask the same clauses again and again."""

    def __init__(self, paths: list[str]) -> None:
        self.all = paths
        self.top = [p for p in paths if "/" not in p]
        self.sets = (set(self.all), set(self.top))
        self.exists: dict[tuple[str, ...], int] = {}

    def holds(self, globs: tuple[str, ...]) -> int:
        if not globs:
            return 0
        top = all("/" not in g and "**" not in g for g in globs)
        paths, known = (self.top, self.sets[1]) if top else (self.all, self.sets[0])
        exact = [g for g in globs if not any(c in g for c in "*?[{")]
        if any(g in known for g in exact):
            return 1
        suffixes = tuple(g.removeprefix("**/*") for g in globs if g not in exact and _extension_glob(g))
        if suffixes and any(p.endswith(suffixes) for p in paths):
            return 1
        patterns = [g for g in globs if g not in exact and not _extension_glob(g)]
        if len(paths) * len(patterns) > MAX_EXISTS_COMPARISONS:
            return _CAPPED
        return int(any(glob(g).matches(p) for g in patterns for p in paths))


def _extension_glob(pattern: str) -> bool:
    """Exists#extension_glob?: `**/*.ext`, matched by suffix."""
    rest = pattern.removeprefix("**/*")
    return rest != pattern and rest.startswith(".") and "/" not in rest and not any(c in rest for c in "*?[{")


def _globs(value: Any, variables: dict[str, str]) -> list[str]:
    """A changes: or exists: clause's globs (a list, one path, or {paths: ...}), expanded."""
    paths = value.get("paths") if isinstance(value, dict) else value
    return [_expand(str(p), variables) for p in (paths if isinstance(paths, list) else [paths]) if p is not None]


@dataclass(frozen=True)
class JobFacts:
    """What a job is whatever the event: worked out once per pipeline and shared by the
    simulations of all its events (a large pipeline has thousands of jobs, six events)."""

    job: Job
    config: dict[str, Any]  # read, never changed: the planned jobs of every event share it
    variables: dict[str, str]  # its own, as strings
    default_when: str
    written: Any  # its rules as written (None: only/except decide)
    rules: list[Any]  # flattened
    required: list[list[str]]  # per group of its needs (job_needs): the names it may not do without
    stage: str
    names: list[str]  # its instances (parallel), or its own name
    # When only `if:` decides which rule applies (no changes:, no exists:): the if texts and
    # the job's own variables. Jobs with the same signature share one verdict per event.
    signature: tuple[Any, ...] | None

    @classmethod
    def of(cls, pipeline: Pipeline, job: Job) -> JobFacts:
        config = job.config if isinstance(job.config, dict) else {}
        written = config.get("rules")
        rules = flat_rules(written)
        variables = _strings(config.get("variables"))
        required = [[n.name for n in group if not n.optional] for group in job_needs(job)]
        return cls(job, config, variables, str(config.get("when", "on_success")), written, rules, required,
                   pipeline.stage_of(job) or "?", instance_names(job) or [job.name], _signature(rules, variables))


def job_facts(pipeline: Pipeline) -> list[JobFacts]:
    """Every visible job's facts, to share between the simulations of one pipeline's events."""
    return [JobFacts.of(pipeline, job) for job in pipeline.visible_jobs]


def _signature(rules: list[Any], variables: dict[str, str]) -> tuple[Any, ...] | None:
    ifs = []
    for rule in rules:
        if not isinstance(rule, dict) or "changes" in rule or "exists" in rule:
            return None
        expression = rule.get("if", _NO_IF)
        ifs.append(expression if isinstance(expression, str) or expression is _NO_IF else None)
    return tuple(ifs), tuple(variables.items())


class Simulator:
    def __init__(self, pipeline: Pipeline, event: Event, files: RepositoryFiles,
                 facts: list[JobFacts] | None = None) -> None:
        self.pipeline = pipeline
        self.event = event
        self.files = files
        self.notes: list[str] = []
        # Each job's facts, shared by the simulators of one pipeline's events.
        self.facts = job_facts(pipeline) if facts is None else facts
        # Which rule applies, per JobFacts.signature: jobs written alike decide alike.
        self.decisions: dict[tuple[Any, ...], int | None] = {}

    # ------------------------------------------------------------ clauses

    def _if(self, expression: Any, variables: dict[str, str]) -> bool:
        if not isinstance(expression, str):
            return False
        try:
            return evaluate(expression, variables)
        except ExpressionError as exc:
            self.note(f"`{expression}` does not parse ({exc}), so it never holds")
            return False

    def _changes(self, value: Any, variables: dict[str, str]) -> bool:
        """Rules::Rule::Clause::Changes: no diff known holds; no file changed does not."""
        if self.event.changed is None:
            self.note(NO_DIFF_NOTE)
            return True
        if not self.event.changed:
            return False
        globs = list(dict.fromkeys(_globs(value, variables)))
        if not globs:
            return False
        if len(self.event.changed) * len(globs) > MAX_CHANGES_COMPARISONS:
            self.note(CHANGES_CAP_NOTE)
            return True
        return any(glob(g).matches(path) for path in self.event.changed for g in globs)

    def _exists(self, value: Any, variables: dict[str, str]) -> bool:
        """Rules::Rule::Clause::Exists, its shortcuts and its cap as GitLab has them."""
        if isinstance(value, dict) and value.get("project") is not None:
            self.note(OTHER_PROJECT_NOTE)
            return True
        globs = tuple(_globs(value, variables))
        found = self.files.exists.get(globs)
        if found is None:
            found = self.files.exists[globs] = self.files.holds(globs)
        if found is _CAPPED:
            self.note(EXISTS_CAP_NOTE)
        return bool(found)

    def rule_holds(self, rule: dict[str, Any], variables: dict[str, str]) -> bool:
        expression = rule.get("if", _NO_IF)
        if expression is not _NO_IF and not self._if(expression, variables):
            return False
        if "changes" in rule and not self._changes(rule["changes"], variables):
            return False
        return not ("exists" in rule and not self._exists(rule["exists"], variables))

    def first_rule(self, rules: Any, variables: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, dict) and self.rule_holds(rule, variables):
                return i, rule
        return None

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # ------------------------------------------------------------ only/except

    def _ref_matches(self, pattern: Any, variables: dict[str, str]) -> bool:
        event = self.event
        keyword = {
            "branches": not event.tag and not event.merge_request,
            "tags": event.tag,
            "merge_requests": event.merge_request,
            "pushes": event.source == "push",
            "schedules": event.source == "schedule",
            "web": event.source == "web",
            "api": event.source == "api",
            "triggers": event.source == "trigger",
            "pipelines": event.source in ("pipeline", "parent_pipeline"),
            "external": event.source == "external",
            "chat": event.source == "chat",
            "external_pull_requests": event.source == "external_pull_request_event",
        }
        text = str(pattern)
        if text in keyword:
            return keyword[text]
        if event.merge_request:
            return False  # an MR pipeline's ref is refs/merge-requests/IID/head
        if "@" in text and not text.startswith("/"):
            text = text.split("@", 1)[0]  # ref@project: the ref part, offline
        regexp = ruby_syntax(text)
        if regexp is not None:
            return regexp.search(event.ref)
        return text == event.ref

    def _policy(self, policy: Any, variables: dict[str, str]) -> bool | None:
        """Whether an only/except policy matches; None when it says nothing."""
        if policy is None:
            return None
        refs = policy if isinstance(policy, list) else policy.get("refs") if isinstance(policy, dict) else None
        checks: list[bool] = []
        if refs is not None:
            checks.append(any(self._ref_matches(r, variables) for r in refs if r is not None))
        if isinstance(policy, dict):
            if isinstance(policy.get("variables"), list):
                checks.append(any(self._if(v, variables) for v in policy["variables"]))
            if "changes" in policy:
                checks.append(self._changes(policy["changes"], variables))
        return all(checks) if checks else None

    # ------------------------------------------------------------ the pipeline

    def workflow(self, variables: dict[str, str]) -> tuple[bool, str, Mark | None]:
        workflow = self.pipeline.config.get("workflow")
        written = workflow.get("rules") if isinstance(workflow, dict) else None
        if not isinstance(written, list):
            return True, "no workflow:rules", None
        rules = flat_rules(written)
        found = self.first_rule(rules, variables)
        if found is None:
            mark = workflow.value_mark("rules") if isinstance(workflow, YMap) else None
            return False, "no workflow:rules entry matched", mark
        index, rule = found
        mark = rule_mark(rule, written.start) if isinstance(written, YList) else None
        if rule.get("when") == "never":
            return False, f"workflow:rules[{index}] says `when: never`", mark
        variables.update(_strings(rule.get("variables")))
        return True, f"workflow:rules[{index}] matched", mark

    def run(self) -> Simulation:
        variables = {**_strings(self.pipeline.config.get("variables")), **self.event.variables()}
        created, reason, mark = self.workflow(variables)
        simulation = Simulation(self.event, created, reason, mark)
        if created:
            for facts in self.facts:
                simulation.jobs.extend(self.plan(facts, variables))
            order = {stage: i for i, stage in enumerate(self.pipeline.stages)}
            simulation.jobs.sort(key=lambda j: order.get(j.stage, len(order)))
            # Needing a parallel job by its own name needs all of its instances.
            present = {j.name for j in simulation.jobs} | {j.job for j in simulation.jobs}
            if self.pipeline.incomplete:
                # A job no file cifab read defines may still be in the pipeline.
                defined = {j.name for j in self.pipeline.visible_jobs}
                defined |= {n for j in self.pipeline.visible_jobs for n in instance_names(j)}
                present |= {n for p in simulation.jobs for n in [*p.needs, *_names(p.config.get("dependencies"))]
                            if n not in defined}
                self.note(UNREAD_NOTE)
            for planned in simulation.jobs:
                if planned.needs:
                    planned.missing_needs = [n for n in planned.needs if n not in present]
                if "dependencies" in planned.config:
                    planned.missing_dependencies = [d for d in _names(planned.config.get("dependencies"))
                                                    if d not in present]
            if not simulation.jobs:
                simulation.created = False
                simulation.reason = "no job was added: the rules configuration left every job out"
        simulation.notes = self.notes
        return simulation

    def plan(self, facts: JobFacts, pipeline_variables: dict[str, str]) -> list[PlannedJob]:
        job = facts.job
        config, default_when, written = facts.config, facts.default_when, facts.written
        variables = {**pipeline_variables, **facts.variables} if facts.variables else pipeline_variables
        needs = facts.required[0]
        if isinstance(written, list):
            found = self._decide(facts, variables)
            if found is None and job.uncertain:
                found = -1, {"when": "unknown"}  # its rules may come from the unread include
            if found is None:
                return []
            index, rule = found
            when = str(rule.get("when", default_when))
            if when == "never":
                return []
            allow = rule.get("allow_failure", config.get("allow_failure", False))
            if "needs" in rule:
                needs = facts.required[1 + self._rule_needs_index(facts.rules, index)]
            decided: Mark | None = rule.start if isinstance(rule, YMap) else job.value_mark("rules")
        else:
            only = self._policy(config.get("only", ["branches", "tags"]), variables)
            except_ = self._policy(config.get("except"), variables)
            if only is False or except_ is True:
                return []
            when = default_when
            # A manual job outside rules may fail without failing the pipeline.
            allow = config.get("allow_failure", when == "manual")
            decided = job.key_mark("only") if "only" in config else None
        allow_failure = allow is not False if not isinstance(allow, dict) else True
        # Planned jobs share their needs lists: nothing changes them.
        return [PlannedJob(name, facts.stage, when, allow_failure, needs, decided, config=config,
                           uncertain=job.uncertain, job=job.name)
                for name in facts.names]

    def _decide(self, facts: JobFacts, variables: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        if facts.signature is None:
            return self.first_rule(facts.rules, variables)
        index = self.decisions.get(facts.signature, -1)
        if index == -1:
            found = self.first_rule(facts.rules, variables)
            index = self.decisions[facts.signature] = None if found is None else found[0]
        return None if index is None else (index, facts.rules[index])

    @staticmethod
    def _rule_needs_index(rules: list[Any], index: int) -> int:
        """Which rules:needs group (job_needs order) the rule at index is."""
        return sum(1 for r in rules[:index] if isinstance(r, dict) and "needs" in r)


def simulate(pipeline: Pipeline, event: Event, root: Path | None, files: list[str] | None = None) -> Simulation:
    """files: the repository's tracked paths, when they are not those of root (a revision)."""
    return Simulator(pipeline, event, RepositoryFiles(repository_files(root) if files is None else files)).run()
