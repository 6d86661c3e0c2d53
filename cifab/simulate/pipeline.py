"""The pipeline GitLab would create for an event: workflow:rules, then each job's rules
(or only/except), its when, allow_failure and needs, for each parallel instance.

Behaviour follows GitLab's source and specs:
- Gitlab::Ci::Build::Rules: the first rule whose clauses all hold decides; none: the job is
  not added; a rule's `when` defaults to the job's. Each parallel:matrix instance decides
  with its own matrix values (rules_matrix_variables_spec.rb).
- Only/except (Seed::Build#included?): every `only` policy must match, and no `except` one.
  `only` keeps the default refs, branches and tags, unless it names its own
  (Entry::Policy#value); with `rules:` or workflow:rules and no `only:`, there is none
  (Entry::Processable#compose!). Policy::Refs matches `tags`, `branches`, the source's name
  and its plural, then /regex/ (RE2) or the whole ref, for branch and tag pipelines only.
- Clause::Changes: GitLab knows a diff for merge requests and pushes that update a branch
  (else `changes` holds); compare_to compares with the merge base of that ref; paths expand
  variables (cifab.simulate.variables); past 50,000 comparisons it holds. Clause::Exists:
  see cifab.simulate.repository.
- The normalizer: needing a parallel job by its name needs every instance of it; a
  needs:parallel:matrix need names instances as `job: [a, b]`, in the need's own order.

What cifab cannot know (a project variable, the diff, another project's files) makes a
clause neither hold nor fail: a job whose rules hinge on it may or may not be created, and
says what it depends on. Globs and regexes run in linear time (cifab.pipeline.patterns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from cifab.diagnostics import Mark
from cifab.gitlab import JOB_VARIABLES, MAX_CHANGES_COMPARISONS, MAX_EXISTS_COMPARISONS
from cifab.pipeline.config import Job, Pipeline, flat_rules, rule_mark
from cifab.pipeline.expression import ExpressionError, evaluate, names_in, possible
from cifab.pipeline.expression import reads as expression_reads
from cifab.pipeline.needs import (
    Need,
    instance_names,
    instance_needs,
    job_needs,
    matrix_variables,
    parallel_jobs,
    target,
)
from cifab.pipeline.patterns import glob, ruby_syntax
from cifab.pipeline.yamlpos import YList, YMap
from cifab.simulate.event import Event, slug
from cifab.simulate.repository import CAPPED, Repository, repository_files
from cifab.simulate.variables import Expanded, strings

NO_DIFF_NOTE = ("the changed files are not known (pass --changed FILE, or --no-changes), so jobs whose `changes` "
                "rules decide are marked `?`")
UNREAD_NOTE = ("this pipeline includes files cifab cannot read offline, so the jobs, stages and rules they "
               "hold are not known here; jobs marked `?` take keys from them, and whether they run is not known")
OTHER_PROJECT_NOTE = "`exists` in another project (`exists:project`) cannot be checked offline"
EXISTS_CAP_NOTE = (f"an `exists` clause needs more than GitLab's {MAX_EXISTS_COMPARISONS:,} path-glob comparisons "
                   "here, so it holds, as it does in GitLab")
CHANGES_CAP_NOTE = (f"a `changes` clause needs more than GitLab's {MAX_CHANGES_COMPARISONS:,} path-glob comparisons, "
                    "so it holds, as it does in GitLab")
CHANGED_FILES = "the changed files"
_NO_IF = object()
DEFAULT_ONLY = {"refs": ["branches", "tags"]}
UNREAD_RULE = {"when": "unknown"}


@dataclass(slots=True)
class PlannedJob:
    name: str
    stage: str
    when: str
    allow_failure: bool
    needs: list[str]  # the jobs it waits for, as GitLab names them; optional ones only when present
    decided_by: Mark | None  # the rule (or only/except) that added it; None: the job's defaults
    missing_needs: list[str] = field(default_factory=list)  # needs no instance of which is in the pipeline
    config: dict[str, Any] = field(default_factory=dict)  # the job after extends and default:
    missing_dependencies: list[str] = field(default_factory=list)
    uncertain: bool = False  # it takes keys from an include cifab cannot read
    job: str = ""  # the job it is an instance of (its own name when it has no parallel)
    optional: list[str] = field(default_factory=list)  # which of its needs are optional
    variables: dict[str, str] = field(default_factory=dict)  # its parallel:matrix values
    rule: str = ""  # what added it: `rules[1]`, `only/except`, or "" for the job's defaults
    maybe: bool = False  # it may be left out: that hinges on something cifab cannot know
    hinges: tuple[str, ...] = ()  # what its creation, when or needs depend on
    unsure_needs: list[str] = field(default_factory=list)  # needs that may be left out


@dataclass
class Simulation:
    event: Event
    created: bool
    reason: str
    decided_by: Mark | None
    jobs: list[PlannedJob] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    certain: bool = True  # whether GitLab creates it did not hinge on anything cifab cannot know
    hinges: list[str] = field(default_factory=list)  # everything unknown that any decision hinged on
    assumed: dict[str, str | None] = field(default_factory=dict)  # values cifab chose where GitLab would know


class Instance(NamedTuple):
    name: str
    variables: dict[str, str]  # its matrix values, CI_NODE_INDEX and CI_NODE_TOTAL
    matrix: dict[str, str]  # its matrix values alone
    needs: list[list[tuple[str, bool]]] | None  # its own, when they interpolate its matrix values


@dataclass(frozen=True)
class JobFacts:
    """What a job is whatever the event: worked out once per pipeline and shared by the
    simulations of all its events (a large pipeline has thousands of jobs, six events)."""

    job: Job
    config: dict[str, Any]  # read, never changed: the planned jobs of every event share it
    variables: dict[str, str]  # its own, as strings
    inherit: bool | frozenset[str]  # which global variables it takes (inherit:variables)
    default_when: str
    written: Any  # its rules as written (None: only/except decide)
    rules: list[Any]  # flattened
    needs: list[list[tuple[str, bool]]]  # per group of needs (job_needs): each name and whether optional
    stage: str
    instances: list[Instance]
    # When only `if:` decides which rule applies (no changes:, no exists:): the if texts.
    # Jobs with the same texts and the same values of what they read share one verdict.
    signature: tuple[Any, ...] | None
    reads: tuple[str, ...]  # the variables its if: conditions read
    own: bool  # its rules see variables of their own (job or matrix values, CI_JOB_NAME...)

    @classmethod
    def of(cls, pipeline: Pipeline, job: Job, parallel: set[str]) -> JobFacts:
        config = job.config if isinstance(job.config, dict) else {}
        written = config.get("rules")
        rules = flat_rules(written)
        variables = strings(config.get("variables"))
        inherit = _inherit(config)
        needs = _resolved(job_needs(job), parallel)
        stage = pipeline.stage_of(job) or "?"
        signature, reads = _signature(rules)
        instances = _instances(job, parallel)
        own = bool(variables) or inherit is not True or signature is None or len(instances) > 1 \
            or bool(instances[0].variables) or any(n in JOB_VARIABLES for n in reads)
        return cls(job, config, variables, inherit, str(config.get("when", "on_success")), written, rules, needs,
                   stage, instances, signature, reads, own)


def _inherit(config: dict[str, Any]) -> bool | frozenset[str]:
    inherit = config.get("inherit")
    setting = inherit.get("variables", True) if isinstance(inherit, dict) else True
    if isinstance(setting, list):
        return frozenset(str(s) for s in setting)
    return setting is not False


def _instances(job: Job, parallel: set[str]) -> list[Instance]:
    names = instance_names(job)
    if not names:
        return [Instance(job.name, {}, {}, None)]
    total = str(len(names))
    matrix = isinstance(job.get("parallel"), dict)
    values = matrix_variables(job) if matrix else [{} for _ in names]
    own = instance_needs(job) if matrix else None
    needs = [_resolved(groups, parallel) for groups in own] if own else [None] * len(names)
    return [Instance(name, {**vars_, "CI_NODE_INDEX": str(i), "CI_NODE_TOTAL": total}, vars_, groups)
            for i, (name, vars_, groups) in enumerate(zip(names, values, needs, strict=False), start=1)]


def _resolved(groups: list[list[Need]], parallel: set[str]) -> list[list[tuple[str, bool]]]:
    return [[(target(n, parallel), n.optional) for n in group] for group in groups]


def _signature(rules: list[Any]) -> tuple[tuple[Any, ...] | None, tuple[str, ...]]:
    ifs = []
    reads: dict[str, None] = {}
    for rule in rules:
        if not isinstance(rule, dict) or "changes" in rule or "exists" in rule:
            return None, ()
        expression = rule.get("if", _NO_IF)
        if isinstance(expression, str):
            reads.update(dict.fromkeys(expression_reads(expression)))
        ifs.append(expression if isinstance(expression, str) or expression is _NO_IF else None)
    return tuple(ifs), tuple(reads)


class PipelineFacts(NamedTuple):
    """Every visible job's facts, shared between the simulations of one pipeline's events."""

    jobs: list[JobFacts]
    instances: dict[str, list[str]]  # a parallel job's name: its instances' names, which needing it needs


def job_facts(pipeline: Pipeline) -> PipelineFacts:
    parallel = parallel_jobs(pipeline.visible_jobs)
    jobs = [JobFacts.of(pipeline, job, parallel) for job in pipeline.visible_jobs]
    instances = {f.job.name: [i.name for i in f.instances] for f in jobs
                 if len(f.instances) > 1 or f.instances[0].name != f.job.name}
    return PipelineFacts(jobs, instances)


def _globs(value: Any) -> list[str]:
    """A changes: or exists: clause's globs: a list, one path, or {paths: ...}."""
    paths = value.get("paths") if isinstance(value, dict) else value
    return [str(p) for p in (paths if isinstance(paths, list) else [paths]) if p is not None]


def _names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _plural(word: str) -> str:
    """ActiveSupport's pluralize, for the source names Policy::Refs compares with."""
    if word.endswith(("s", "sh", "ch", "x")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


Outcomes = tuple[list[int | None], frozenset[str]]


class Simulator:
    def __init__(self, pipeline: Pipeline, event: Event, repository: Repository,
                 facts: PipelineFacts | None = None) -> None:
        self.pipeline = pipeline
        self.event = event
        self.repository = repository
        self.notes: list[str] = []
        # Each job's facts, shared by the simulators of one pipeline's events.
        self.facts = job_facts(pipeline) if facts is None else facts
        # Which rules may apply, per JobFacts.signature and the values it reads.
        self.decisions: dict[tuple[Any, ...], Outcomes] = {}
        self.hinged: set[str] = set()  # what the clause being decided hinged on
        self.all_hinges: set[str] = set()

    # ------------------------------------------------------------ clauses

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def hinge(self, *what: str) -> None:
        self.hinged.update(what)

    def _unknown(self, name: str) -> bool:
        """A variable whose value cifab does not know: not set here, and not surely unset.
        The per-job ones cifab sets where rules read them; the others are unset."""
        return name not in JOB_VARIABLES and not self.event.absent(name)

    def _if(self, expression: Any, variables: dict[str, str]) -> bool | None:
        if not isinstance(expression, str):
            return False
        try:
            unknown = {n: self.event.surely_set(n) for n in names_in(expression)
                       if n not in variables and self._unknown(n)}
            if not unknown:
                return evaluate(expression, variables)
            found = possible(expression, variables, unknown)
        except ExpressionError as exc:
            self.note(f"`{expression}` does not parse ({exc}), so it never holds")
            return False
        if found is None:
            self.hinge(*(f"${n}" for n in unknown))
        return found

    def _paths(self, value: Any, expanded: Expanded) -> list[str] | None:
        """The clause's globs, expanded; None when they hinge on unknown variables."""
        out: list[str] = []
        for text in _globs(value):
            path, missing = expanded.expand(text, self._unknown)
            if missing:
                self.hinge(*(f"${n}" for n in sorted(missing)))
                return None
            out.append(path)
        return list(dict.fromkeys(out))

    def _changes(self, value: Any, variables: dict[str, str]) -> bool | None:
        """Rules::Rule::Clause::Changes."""
        expanded = Expanded(variables, self._unknown)
        compare_to = value.get("compare_to") if isinstance(value, dict) else None
        if compare_to is not None:
            changed = self._compare_to(str(compare_to), expanded)
            if changed is None:
                return None
        elif not self.event.has_diff:
            return True  # GitLab knows no diff (a new branch, a tag, a schedule...): changes holds
        elif self.event.changed is None:
            self.note(NO_DIFF_NOTE)
            self.hinge(CHANGED_FILES)
            return None
        else:
            changed = self.event.changed
        if not changed:
            return False
        globs = self._paths(value, expanded)
        if globs is None:
            return None
        if not globs:
            return False
        if len(changed) * len(globs) > MAX_CHANGES_COMPARISONS:
            self.note(CHANGES_CAP_NOTE)
            return True
        return any(glob(g).matches(path) for path in changed for g in globs)

    def _compare_to(self, ref: str, expanded: Expanded) -> tuple[str, ...] | None:
        ref, missing = expanded.expand(ref, self._unknown)
        if missing:
            self.hinge(*(f"${n}" for n in sorted(missing)))
            return None
        sha = self.repository.commit(ref)
        changed = self.repository.changed_since(sha) if sha is not None else None
        if changed is None:
            self.note(f"`compare_to: {ref}` names no commit this checkout has, so what changed since it is not "
                      "known (GitLab fails the pipeline when the ref does not exist)")
            self.hinge(f"compare_to {ref}")
        return changed

    def _exists(self, value: Any, variables: dict[str, str]) -> bool | None:
        """Rules::Rule::Clause::Exists, its shortcuts and its cap as GitLab has them."""
        if isinstance(value, dict) and value.get("project") is not None:
            self.note(OTHER_PROJECT_NOTE)
            self.hinge(f"the files of {value.get('project')}")
            return None
        found_globs = self._paths(value, Expanded(variables, self._unknown))
        if found_globs is None:
            return None
        globs = tuple(found_globs)
        found = self.repository.exists.get(globs)
        if found is None:
            found = self.repository.exists[globs] = self.repository.holds(globs)
        if found is CAPPED:
            self.note(EXISTS_CAP_NOTE)
        return bool(found)

    def rule_holds(self, rule: dict[str, Any], variables: dict[str, str]) -> bool | None:
        """All its clauses hold (True), one fails (False), or it hinges on the unknown (None)."""
        verdicts: list[bool | None] = []
        expression = rule.get("if", _NO_IF)
        if expression is not _NO_IF:
            verdicts.append(self._if(expression, variables))
            if verdicts[-1] is False:
                return False
        if "changes" in rule:
            verdicts.append(self._changes(rule["changes"], variables))
            if verdicts[-1] is False:
                return False
        if "exists" in rule:
            verdicts.append(self._exists(rule["exists"], variables))
            if verdicts[-1] is False:
                return False
        return None if None in verdicts else True

    def outcomes(self, rules: list[Any], variables: dict[str, str]) -> Outcomes:
        """Which rule applies: the index of each rule that may be the first to hold, then None
        if it may be that none does, and what that hinges on. One entry: GitLab's answer."""
        self.hinged = set()
        found: list[int | None] = []
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            holds = self.rule_holds(rule, variables)
            if holds is False:
                continue
            found.append(i)
            if holds:
                break
        else:
            found.append(None)
        hinges = frozenset(self.hinged) if len(found) > 1 else frozenset()
        self.all_hinges.update(hinges)
        return found, hinges

    def _decide(self, facts: JobFacts, variables: dict[str, str]) -> Outcomes:
        if facts.signature is None:
            return self.outcomes(facts.rules, variables)
        key = (facts.signature, tuple(map(variables.get, facts.reads)))
        found = self.decisions.get(key)
        if found is None:
            found = self.decisions[key] = self.outcomes(facts.rules, variables)
        return found

    # ------------------------------------------------------------ only/except

    def _ref_matches(self, pattern: Any) -> bool | None:
        """Policy::Refs#satisfied_by? for one pattern: `ref@group/project` also needs the
        project's path, which cifab knows from the origin remote or --project."""
        text, _, path = str(pattern).partition("@")
        if not self._pattern_matches(text):
            return False
        if not path:
            return True
        if self.event.project is None:
            self.hinge("$CI_PROJECT_PATH")
            return None
        return path == self.event.project.path

    def _pattern_matches(self, text: str) -> bool:
        event = self.event
        branch = not event.tag and not event.merge_request
        if (event.tag and text == "tags") or (branch and text == "branches"):
            return True
        source = event.source.removesuffix("_event")
        if text in (source, _plural(source)):
            return True
        if not branch and not event.tag:
            return False  # patterns match branch and tag pipelines only
        regexp = ruby_syntax(text)
        if regexp is not None:
            return regexp.search(event.ref)
        return text == event.ref

    def _policy_changes(self, value: Any) -> bool | None:
        """Policy::Changes: the pipeline's diff, no variables expanded."""
        if not self.event.has_diff:
            return True
        if self.event.changed is None:
            self.note(NO_DIFF_NOTE)
            self.hinge(CHANGED_FILES)
            return None
        globs = _names(value)
        return any(glob(g).matches(p) for p in self.event.changed for g in globs)

    def _specs(self, policy: Any, variables: dict[str, str]) -> list[bool | None]:
        """Each policy of an only/except entry (refs, variables, changes, kubernetes)."""
        refs = policy if isinstance(policy, list) else policy.get("refs") if isinstance(policy, dict) else None
        out: list[bool | None] = []
        if isinstance(refs, list):
            out.append(_any([self._ref_matches(r) for r in refs if r is not None]))
        if isinstance(policy, dict):
            if isinstance(policy.get("variables"), list):
                out.append(_any([self._if(v, variables) for v in policy["variables"]]))
            if "changes" in policy:
                out.append(self._policy_changes(policy["changes"]))
            if "kubernetes" in policy:
                self.hinge("the project's Kubernetes integration")
                out.append(None)
        return out

    def only_except(self, config: dict[str, Any], variables: dict[str, str]) -> bool | None:
        """Seed::Build#included? without rules: all of only, none of except."""
        self.hinged = set()
        if "only" in config:
            only = config["only"]
            if isinstance(only, dict) and "refs" not in only:
                only = {**DEFAULT_ONLY, **only}  # Entry::Policy#value deep-merges the default
        else:
            only = None if self._workflow_rules() else DEFAULT_ONLY
        verdict = _all(self._specs(only, variables)) if only is not None else True
        if verdict is not False:
            excluded = _any(self._specs(config.get("except"), variables))
            verdict = False if excluded is True else verdict if excluded is False else None
        if verdict is None:
            self.all_hinges.update(self.hinged)
        return verdict

    def _workflow_rules(self) -> bool:
        workflow = self.pipeline.config.get("workflow")
        return isinstance(workflow, dict) and "rules" in workflow

    # ------------------------------------------------------------ the pipeline

    def workflow(self, variables: dict[str, str], simulation: Simulation) -> dict[str, str]:
        """Whether workflow:rules create the pipeline; the variables of the rule that does."""
        workflow = self.pipeline.config.get("workflow")
        written = workflow.get("rules") if isinstance(workflow, dict) else None
        if not isinstance(written, list):
            simulation.reason = "no workflow:rules"
            return {}
        rules = flat_rules(written)
        found, hinges = self.outcomes(rules, variables)
        creating = [i for i in found if i is not None and rules[i].get("when") != "never"]
        simulation.certain = len(creating) in (0, len(found))
        if not creating:
            index = found[0]
            if index is None:
                simulation.decided_by = workflow.value_mark("rules") if isinstance(workflow, YMap) else None
                simulation.reason = "no workflow:rules entry matched"
            else:
                simulation.decided_by = rule_mark(rules[index], written.start) if isinstance(written, YList) else None
                simulation.reason = f"workflow:rules[{index}] says `when: never`"
            simulation.created = False
            return {}
        index = creating[0]
        simulation.decided_by = rule_mark(rules[index], written.start) if isinstance(written, YList) else None
        simulation.reason = f"workflow:rules[{index}] matched"
        if hinges:
            simulation.reason += f" (whether it does depends on {', '.join(sorted(hinges))})"
        return strings(rules[index].get("variables"))

    def run(self) -> Simulation:
        event = self.event
        predefined = event.predefined()
        globals_ = strings(self.pipeline.config.get("variables"))
        simulation = Simulation(event, True, "", None, assumed=event.assumed())
        # Workflow rules see the pipeline's variables: predefined, global, then pipeline ones.
        globals_.update(self.workflow({**predefined, **globals_, **event.extra}, simulation))
        if simulation.created:
            base = {**predefined, **globals_, **event.extra}
            planned = [each for facts in self.facts.jobs for each in self.plan(facts, base, predefined, globals_)]
            order = {stage: i for i, stage in enumerate(self.pipeline.stages)}
            planned.sort(key=lambda pair: order.get(pair[0].stage, len(order)))
            simulation.jobs = [job for job, _ in planned]
            self._needs(simulation, planned)
            if not simulation.jobs:
                simulation.created = False
                simulation.reason = "no job was added: the rules configuration left every job out"
        simulation.notes = self.notes
        simulation.hinges = sorted(self.all_hinges)
        return simulation

    def _variables(self, facts: JobFacts, instance: Instance, base: dict[str, str], predefined: dict[str, str],
                   globals_: dict[str, str]) -> dict[str, str]:
        """The variables one instance's rules see, in GitLab's order of precedence."""
        inherit = facts.inherit
        kept = globals_ if inherit is True else {} if inherit is False else \
            {k: v for k, v in globals_.items() if k in inherit}
        own = {"CI_JOB_NAME": instance.name, "CI_JOB_NAME_SLUG": slug(instance.name), "CI_JOB_STAGE": facts.stage,
               "CI_NODE_TOTAL": "1"}
        return {**predefined, **own, **kept, **facts.variables, **instance.variables, **self.event.extra}

    def plan(self, facts: JobFacts, base: dict[str, str], predefined: dict[str, str],
             globals_: dict[str, str]) -> list[tuple[PlannedJob, list[tuple[str, bool]]]]:
        """Each instance GitLab would create, with the group of needs that applies to it."""
        job, config = facts.job, facts.config
        out: list[tuple[PlannedJob, list[tuple[str, bool]]]] = []
        for instance in facts.instances:
            variables = self._variables(facts, instance, base, predefined, globals_) if facts.own else base
            if isinstance(facts.written, list):
                found, hinges = self._decide(facts, variables)
                chosen = [i for i in found if i is not None
                          and facts.rules[i].get("when", facts.default_when) != "never"]
                if chosen:
                    index, rule = chosen[0], facts.rules[chosen[0]]
                elif job.uncertain:
                    index, rule = -1, UNREAD_RULE  # its rules may come from the unread include
                else:
                    continue
                maybe = len(chosen) < len(found)
                when = str(rule.get("when", facts.default_when))
                allow = rule.get("allow_failure", config.get("allow_failure", False))
                group = 1 + sum(1 for r in facts.rules[:index] if isinstance(r, dict) and "needs" in r) \
                    if "needs" in rule else 0
                decided: Mark | None = rule.start if isinstance(rule, YMap) else job.value_mark("rules")
                label = f"rules[{index}]" if index >= 0 else "rules (unread)"
            else:
                verdict = self.only_except(config, variables)
                if verdict is False:
                    continue
                maybe, hinges = verdict is None, frozenset(self.hinged) if verdict is None else frozenset()
                when = facts.default_when
                # A manual job outside rules may fail without failing the pipeline.
                allow = config.get("allow_failure", when == "manual")
                group = 0
                decided = job.key_mark("only") if "only" in config else job.key_mark("except") \
                    if "except" in config else None
                label = "only/except" if decided is not None else ""
            allow_failure = allow is not False if not isinstance(allow, dict) else True
            # Positional: a large pipeline plans tens of thousands of jobs. Needs come in _needs.
            planned = PlannedJob(instance.name, facts.stage, when, allow_failure, [], decided, [], config, [],
                                 job.uncertain, job.name, [], instance.matrix, label, maybe,
                                 tuple(sorted(hinges)) if hinges else (), [])
            groups = instance.needs if instance.needs is not None else facts.needs
            out.append((planned, groups[group] if group < len(groups) else []))
        return out

    def _needs(self, simulation: Simulation, planned: list[tuple[PlannedJob, list[tuple[str, bool]]]]) -> None:
        """Each planned job's needs and dependencies as GitLab expands them, and those the
        pipeline lacks: surely (no instance of them is planned) or maybe."""
        instances = self.facts.instances
        present = {j.name for j in simulation.jobs}
        sure = {j.name for j in simulation.jobs if not j.maybe}
        if self.pipeline.incomplete:
            # A job no file cifab read defines may still be in the pipeline.
            defined = {i.name for f in self.facts.jobs for i in f.instances} | {f.job.name for f in self.facts.jobs}
            wanted = {n for _, group in planned for n, _ in group}
            wanted |= {d for p in simulation.jobs for d in _names(p.config.get("dependencies"))}
            extra = {n for n in wanted if n not in defined}
            present |= extra
            sure |= extra
            self.note(UNREAD_NOTE)
        for job, group in planned:
            needs: list[str] = []
            missing: list[str] = []
            unsure: list[str] = []
            optional: list[str] = []
            for name, is_optional in group:
                for each in instances.get(name, [name]):
                    if is_optional:
                        if each in present:
                            needs.append(each)
                            optional.append(each)
                        continue
                    needs.append(each)
                    if each not in present:
                        missing.append(each)
                    elif each not in sure:
                        unsure.append(each)
            job.needs, job.missing_needs, job.unsure_needs, job.optional = needs, missing, unsure, optional
            if "dependencies" in job.config:
                dependencies = [each for d in _names(job.config["dependencies"]) for each in instances.get(d, [d])]
                job.missing_dependencies = [d for d in dependencies if d not in present]


def _any(verdicts: list[bool | None]) -> bool | None:
    return True if True in verdicts else None if None in verdicts else False


def _all(verdicts: list[bool | None]) -> bool | None:
    return False if False in verdicts else None if None in verdicts else True


def simulate(pipeline: Pipeline, event: Event, root: Path | None, files: list[str] | None = None,
             head: str = "HEAD") -> Simulation:
    """files: the repository's tracked paths, when they are not those of root (a revision);
    head: the commit compare_to compares with."""
    repository = Repository(repository_files(root) if files is None else files, root, head)
    return Simulator(pipeline, event, repository).run()
