"""`extends`, resolved as GitLab resolves it: parents merged in order under the job, at most
11 levels, cycles and unknown parents reported; a parent an unread include may define makes
the job partial instead of an error."""

from __future__ import annotations

from typing import Any

from cifab.diagnostics import Finding, Rule, Severity
from cifab.gitlab import MAX_EXTENDS_LEVELS
from cifab.pipeline.merge import merge
from cifab.pipeline.yamlpos import YMap
from cifab.spelling import suggest


class Extends:
    def __init__(self, config: YMap, findings: list[Finding], incomplete: bool) -> None:
        self.config = config
        self.findings = findings
        self.incomplete = incomplete
        self.done: dict[str, Any] = {}
        self.height: dict[str, int] = {}  # length of the longest extends chain above a job
        self.failed: set[str] = set()
        self.too_deep = False
        self.partial: set[str] = set()  # jobs with an ancestor no file cifab read defines

    def parents(self, job: Any) -> list[str]:
        ext = job.get("extends") if isinstance(job, dict) else None
        if isinstance(ext, str):
            return [ext]
        if isinstance(ext, list):
            return [e for e in ext if isinstance(e, str)]
        return []

    def resolve(self, name: str, chain: tuple[str, ...] = ()) -> Any:
        if name in self.done:
            return self.done[name]
        job = self.config[name]
        parents = self.parents(job)
        if len(chain) > MAX_EXTENDS_LEVELS:
            # GitLab stops at 11 levels; a chain of thousands must not exhaust the stack.
            if not self.too_deep:
                self.too_deep = True
                self.fail(chain[0], EXTENDS_DEEP, f"{chain[0]}: nesting too deep in `extends`")
            return job
        if name in chain:
            top = chain[0]
            self.fail(top, EXTENDS_CIRCULAR, f"{top}: circular dependency detected in `extends`")
            return job
        missing = [p for p in parents if not isinstance(self.config.get(p), dict)]
        if missing and not self.incomplete:
            near = suggest(missing[0], [k for k, v in self.config.items() if isinstance(v, dict)])
            self.fail(name, EXTENDS_UNKNOWN, f"{name}: unknown keys in `extends` ({', '.join(missing)})",
                      f"did you mean `{near}`?" if near else None)
        if missing and self.incomplete:
            self.partial.add(name)
        base: Any = None
        height = 0
        for parent in parents:
            if parent in missing:
                continue
            resolved = self.resolve(parent, (*chain, name))
            if parent in self.partial:
                self.partial.add(name)
            height = max(height, self.height.get(parent, 0) + 1)
            base = resolved if base is None else merge(base, resolved)
        self.height[name] = height
        if height > MAX_EXTENDS_LEVELS and not self.too_deep:
            self.too_deep = True  # GitLab stops at the first job that nests too deep
            self.fail(name, EXTENDS_DEEP, f"{name}: nesting too deep in `extends`")
        result = job if base is None else merge(base, job)
        self.done[name] = result
        return result

    def fail(self, name: str, rule: Rule, message: str, hint: str | None = None) -> None:
        if name in self.failed:
            return
        self.failed.add(name)
        job = self.config.get(name)
        mark = job.value_mark("extends") if isinstance(job, YMap) else self.config.key_mark(name)
        self.findings.append(rule.finding(mark, message, hint))


EXTENDS_UNKNOWN = Rule(
    "extends-unknown", Severity.ERROR, "extends must name jobs or templates that exist",
    "Every name in `extends` must be a job or hidden template of the merged configuration.",
    bad=".base:\n  image: alpine:3.22\n\ntest:\n  extends: .bsae\n  script: make test\n",
    good=".base:\n  image: alpine:3.22\n\ntest:\n  extends: .base\n  script: make test\n",
)

EXTENDS_CIRCULAR = Rule(
    "extends-circular", Severity.ERROR, "extends must not form a cycle",
    "A job cannot extend itself, directly or through other templates.",
    bad=".a:\n  extends: .b\n\n.b:\n  extends: .a\n\ntest:\n  extends: .a\n  script: make test\n",
    good=".a:\n  image: alpine:3.22\n\n.b:\n  extends: .a\n\ntest:\n  extends: .b\n  script: make test\n",
)

EXTENDS_DEEP = Rule(
    "extends-too-deep", Severity.ERROR, f"extends chains are at most {MAX_EXTENDS_LEVELS} levels deep",
    f"GitLab follows at most {MAX_EXTENDS_LEVELS} levels of `extends` inheritance.",
    bad="".join(f".l{i}:\n  extends: .l{i + 1}\n" for i in range(12)) + ".l12:\n  image: alpine:3.22\n\n"
        "test:\n  extends: .l0\n  script: make test\n",
    good=".l0:\n  extends: .l1\n.l1:\n  image: alpine:3.22\n\ntest:\n  extends: .l0\n  script: make test\n",
)
