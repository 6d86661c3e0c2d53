"""The configuration as GitLab reads it: a file with its includes merged (pipeline.include),
`extends` (pipeline.extends) and `!reference` (pipeline.reference) resolved, `default:`
applied; and the jobs and stages that result.

Problems found while building it (a missing include, an `extends` cycle...) become findings
of the rules declared beside the code that finds them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cifab.diagnostics import Finding, Mark, Rule, Severity
from cifab.gitlab import BRIDGE_KEYS, DEFAULT_KEYS, DEFAULT_STAGES, LEGACY_GLOBALS, is_job_name
from cifab.pipeline.extends import Extends
from cifab.pipeline.include import IncludeState, expand, interpolated
from cifab.pipeline.merge import copy_marks
from cifab.pipeline.reference import References
from cifab.pipeline.yamlpos import DUPLICATE_KEY, LoadedFile, Reference, YMap


class Job:
    __slots__ = ("config", "hidden", "mark", "name", "needs", "partial", "unread_references")

    def __init__(self, name: str, mark: Mark, config: Any, hidden: bool, partial: bool = False,
                 unread_references: bool = False) -> None:
        self.name = name
        self.mark = mark  # where the job's key is
        self.config = config  # after includes, extends, !reference and default:
        self.hidden = hidden
        # It extends a template from an include cifab cannot read: what it lacks as written
        # (its stage, its needs, its rules) may come from there, so none of it is guessed.
        self.partial = partial
        # A `!reference` in it names a template no file cifab read defines: the key holding
        # it (its rules, say) is not known either.
        self.unread_references = unread_references
        # Its needs and unknown matrix variables, worked out once (cifab.pipeline.needs).
        self.needs: tuple[list[list[Any]], set[str]] | None = None

    @property
    def uncertain(self) -> bool:
        """Some of it comes from an include cifab cannot read."""
        return self.partial or self.unread_references

    def value_mark(self, key: str) -> Mark:
        if isinstance(self.config, YMap) and key in self.config:
            return self.config.value_mark(key)
        return self.mark

    def key_mark(self, key: str) -> Mark:
        if isinstance(self.config, YMap) and key in self.config:
            return self.config.key_mark(key)
        return self.mark

    def get(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default) if isinstance(self.config, dict) else default


class Pipeline:
    def __init__(self, root: LoadedFile, files: list[LoadedFile], config: YMap, jobs: dict[str, Job],
                 stages: list[str], findings: list[Finding], incomplete: bool = False,
                 outlines: dict[str, Mark] | None = None) -> None:
        self.root = root
        self.files = files
        self.config = config
        self.jobs = jobs
        self.stages = stages
        self.findings = findings
        # True while any include could not be read offline: its jobs, stages and anchors
        # are unknown, so nothing may be called undefined.
        self.incomplete = incomplete
        # cifab's outlines of GitLab templates read in their place, and where each was included.
        self.outlines = outlines or {}

    @property
    def visible_jobs(self) -> list[Job]:
        return [j for j in self.jobs.values() if not j.hidden]

    def texts(self) -> list[tuple[str, str]]:
        return [(f.src, f.text) for f in self.files]

    def stage_of(self, job: Job) -> str | None:
        """The job's stage: GitLab's default `test` when it names none, unknown (None) when
        an unread template may name it."""
        stage = job.get("stage")
        if stage is None:
            return None if job.partial else "test"
        return stage if isinstance(stage, str) else "test"


# ---------------------------------------------------------------- default: and stages


def _inherits_default(job: Any, key: str) -> bool:
    inherit = job.get("inherit") if isinstance(job, dict) else None
    if not isinstance(inherit, dict) or "default" not in inherit:
        return True
    setting = inherit["default"]
    if isinstance(setting, bool):
        return setting
    return isinstance(setting, list) and key in setting


def _apply_default(job: Any, defaults: dict[str, Any]) -> Any:
    if not isinstance(job, YMap) or not defaults:
        return job
    bridge = "trigger" in job and "script" not in job and "run" not in job
    missing = [k for k in DEFAULT_KEYS if k in defaults and k not in job and _inherits_default(job, k)
               and (not bridge or k in BRIDGE_KEYS)]
    if not missing:
        return job
    out = YMap(job.src, job.start)
    for k, v in job.items():
        out[k] = v
        copy_marks(out, job, k)
    for k in missing:
        out[k] = defaults[k]
    return out


def flat_rules(value: Any) -> list[Any]:
    """A `rules:` list as GitLab reads it: Entry::Rules#value is `[super].flatten`, so the
    lists that `!reference [.template, rules]` puts inside it are spliced in place. A
    reference left unresolved stays one item."""
    if not isinstance(value, list):
        return []
    return [r for item in value
            for r in (flat_rules(item) if isinstance(item, list) and not isinstance(item, Reference) else [item])]


def rule_mark(rule: Any, fallback: Mark) -> Mark:
    """Where a rule is written: its own mapping's start, wherever a reference brought it from."""
    return rule.start if isinstance(rule, YMap) else fallback


def flatten_stages(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [s for item in value for s in flatten_stages(item)]
    return [value]


def _stages(config: YMap) -> list[str]:
    raw = config.get("stages", config.get("types"))
    declared = [s for s in flatten_stages(raw) if isinstance(s, str)] if raw is not None else list(
        DEFAULT_STAGES)
    middle = [s for s in dict.fromkeys(declared) if s not in (".pre", ".post")]
    return [".pre", *middle, ".post"]


# ---------------------------------------------------------------- build


def build_pipeline(loaded: LoadedFile, root: Path | None, root_verified: bool = True) -> Pipeline:
    files = [loaded]
    findings: list[Finding] = []
    data = loaded.data
    if not isinstance(data, YMap):
        if data is not None:
            findings.append(FORMAT.finding((loaded.src, 1, 1), "Invalid configuration format",
                                           "the top level must be a mapping of keywords and job names"))
        empty = YMap(loaded.src, (loaded.src, 1, 1))
        return _reported(Pipeline(loaded, files, empty, {}, _stages(empty), findings), [])
    state = IncludeState(root, root_verified, files, findings)
    content = interpolated(state, loaded, {}, (loaded.src, 1, 1)) if loaded.header is not None else data
    if not isinstance(content, YMap):
        empty = YMap(loaded.src, (loaded.src, 1, 1))
        return _reported(Pipeline(loaded, files, empty, {}, _stages(empty), findings, incomplete=True), [])
    config = expand(state, content, 0)
    incomplete = bool(state.unresolved)
    job_names = [k for k in config if is_job_name(k)]
    is_job = set(job_names)
    extender = Extends(config, findings, incomplete)
    extended = YMap(config.src, config.start)
    for key, value in config.items():
        extended[key] = extender.resolve(key) if key in is_job and isinstance(value, dict) else value
        copy_marks(extended, config, key)
    # Walking every value for tags costs a tenth of a second on a large file: skip it
    # when no file has one.
    unread: set[str] = set()
    if any(f.has_references for f in files):
        resolved, unread = References(extended, findings, incomplete).resolve_config(extended)
    else:
        resolved = extended
    defaults: dict[str, Any] = {k: resolved[k] for k in LEGACY_GLOBALS if k in resolved}
    if isinstance(resolved.get("default"), dict):
        defaults.update(resolved["default"])
    jobs = {}
    for name in job_names:
        value = resolved[name]
        hidden = name.startswith(".")
        jobs[name] = Job(name, resolved.key_mark(name),
                         value if hidden else _apply_default(value, defaults), hidden, name in extender.partial,
                         name in unread)
    return _reported(Pipeline(loaded, files, resolved, jobs, _stages(resolved), findings, incomplete,
                              state.outlines), state.not_mappings)


def _reported(pipeline: Pipeline, not_mappings: list[str]) -> Pipeline:
    """What every file read says about itself: keys given twice, and included files that
    are not a mapping."""
    for target in not_mappings:
        pipeline.findings.append(FORMAT.finding((target, 1, 1), f"Included file `{target}` does not have valid "
                                                                "YAML syntax!"))
    for loaded in pipeline.files:
        for key, mark in loaded.duplicates:
            pipeline.findings.append(DUPLICATE_KEY.finding(mark, f"key `{key}` is defined twice in one mapping; "
                                                                 "GitLab silently keeps the last one"))
    return pipeline


FORMAT = Rule(
    "config-format", Severity.ERROR, "the top level must be a mapping",
    "A CI configuration is a mapping of global keywords and job names. A list or a bare "
    "string at the top level is an `Invalid configuration format`.",
    bad="- test\n- build\n",
    good="test:\n  script: make test\n",
)
