"""Problems found while resolving includes, extends and !reference, and YAML-level warnings."""

from __future__ import annotations

from collections.abc import Iterable

from cifab.lint.findings import Finding, Severity
from cifab.lint.rules.base import Context, Rule, from_model

DOCS_WARNINGS = "https://docs.gitlab.com/ee/ci/troubleshooting.html#pipeline-warnings"

SYNTAX = Rule(
    "yaml-syntax", Severity.ERROR, "the file must be valid YAML",
    "GitLab parses the file with a YAML 1.1 parser before anything else. Syntax errors, "
    "undefined aliases, tabs used for indentation, files larger than 2 MB and nesting deeper "
    "than 100 levels are all rejected.",
    bad="test:\n  script: echo: hello: world\n",
    good="test:\n  script: 'echo: hello: world'\n",
    check=from_model("yaml-syntax"),
)
INCLUDE_MISSING = Rule(
    "include-missing", Severity.ERROR, "local includes must exist",
    "A `local` include (or a bare path) is read from the repository. A path that does not "
    "exist, or a glob that matches nothing, fails the pipeline.",
    bad="include: ci/missing.yml\n\ntest:\n  script: make test\n",
    good="test:\n  script: make test\n",
    check=from_model("include-missing"),
)
INCLUDE_INVALID = Rule(
    "include-invalid", Severity.ERROR,
    "each include names one kind: local, project, remote, template or component",
    "An include entry that is a mapping must say what it includes with one of GitLab's subkeys.",
    bad="include:\n  - file: ci/build.yml\n\ntest:\n  script: make test\n",
    good="include:\n  - local: ci/build.yml\n\ntest:\n  script: make test\n",
    check=from_model("include-invalid"),
)
INCLUDE_LIMIT = Rule(
    "include-limit", Severity.ERROR, "at most 150 includes",
    "GitLab reads at most 150 included files per pipeline, nested includes included.",
    bad="include:\n" + "".join(f"  - ci/part-{i}.yml\n" for i in range(151)) + "\ntest:\n  script: make test\n",
    good="include:\n  - ci/part-0.yml\n\ntest:\n  script: make test\n",
    check=from_model("include-limit"),
)
INCLUDE_UNRESOLVED = Rule(
    "include-unresolved", Severity.INFO, "remote, project, template and component includes are not read offline",
    "cifab cannot fetch includes from other projects, URLs, GitLab's templates or the CI/CD "
    "catalog. It says so, and while any are unread it does not claim that a job, stage or "
    "`extends` target is missing. `cifab lint --remote` asks GitLab, which reads them.",
    bad="include:\n  - template: Jobs/SAST.gitlab-ci.yml\n\ntest:\n  script: make test\n",
    good="test:\n  script: make test\n",
    check=from_model("include-unresolved"),
)
EXTENDS_UNKNOWN = Rule(
    "extends-unknown", Severity.ERROR, "extends must name jobs or templates that exist",
    "Every name in `extends` must be a job or hidden template of the merged configuration.",
    bad=".base:\n  image: alpine:3.22\n\ntest:\n  extends: .bsae\n  script: make test\n",
    good=".base:\n  image: alpine:3.22\n\ntest:\n  extends: .base\n  script: make test\n",
    check=from_model("extends-unknown"),
)
EXTENDS_CIRCULAR = Rule(
    "extends-circular", Severity.ERROR, "extends must not form a cycle",
    "A job cannot extend itself, directly or through other templates.",
    bad=".a:\n  extends: .b\n\n.b:\n  extends: .a\n\ntest:\n  extends: .a\n  script: make test\n",
    good=".a:\n  image: alpine:3.22\n\n.b:\n  extends: .a\n\ntest:\n  extends: .b\n  script: make test\n",
    check=from_model("extends-circular"),
)
EXTENDS_DEEP = Rule(
    "extends-too-deep", Severity.ERROR, "extends chains are at most 11 levels deep",
    "GitLab follows at most 11 levels of `extends` inheritance.",
    bad="".join(f".l{i}:\n  extends: .l{i + 1}\n" for i in range(12)) + ".l12:\n  image: alpine:3.22\n\n"
        "test:\n  extends: .l0\n  script: make test\n",
    good=".l0:\n  extends: .l1\n.l1:\n  image: alpine:3.22\n\ntest:\n  extends: .l0\n  script: make test\n",
    check=from_model("extends-too-deep"),
)
REFERENCE_MISSING = Rule(
    "reference-missing", Severity.ERROR, "!reference must point at an existing key",
    "`!reference [job, key, ...]` copies a value from another job or template; the path must exist.",
    bad=".setup:\n  script: [make deps]\n\ntest:\n  script:\n"
        "    - !reference [.setup, before_script]\n    - make test\n",
    good=".setup:\n  script: [make deps]\n\ntest:\n  script:\n    - !reference [.setup, script]\n    - make test\n",
    check=from_model("reference-missing"),
)
REFERENCE_CIRCULAR = Rule(
    "reference-circular", Severity.ERROR, "!reference chains must not loop",
    "References may point at values that contain references, but never back to themselves, "
    "and at most 10 levels deep.",
    bad="a:\n  script:\n    - !reference [b, script]\n\nb:\n  script:\n    - !reference [a, script]\n",
    good="a:\n  script:\n    - make a\n\nb:\n  script:\n    - !reference [a, script]\n",
    check=from_model("reference-circular"),
)


def check_duplicate_keys(ctx: Context) -> Iterable[Finding]:
    for loaded in ctx.pipeline.files:
        for key, mark in loaded.duplicates:
            yield DUPLICATE_KEY.finding(mark, f"key `{key}` is defined twice in one mapping; "
                                              "GitLab silently keeps the last one")


def check_multiple_pipelines(ctx: Context) -> Iterable[Finding]:
    workflow = ctx.pipeline.config.get("workflow")
    if isinstance(workflow, dict) and workflow.get("rules") is not None:
        return
    for job in ctx.pipeline.visible_jobs:
        rules = job.get("rules")
        if not isinstance(rules, list) or not rules:
            continue
        last = rules[-1]
        if isinstance(last, dict) and list(last) == ["when"] and last["when"] != "never":
            yield MULTIPLE_PIPELINES.finding(
                job.value_mark("rules"),
                f"jobs:{job.name} may allow multiple pipelines to run for a single action due to "
                f"`rules:when` clause with no `workflow:rules` - read more: {DOCS_WARNINGS}",
                "add workflow:rules that choose between branch and merge request pipelines")


DUPLICATE_KEY = Rule(
    "yaml-duplicate-key", Severity.WARNING, "a mapping should not repeat a key",
    "YAML parsers used by GitLab keep the last of two equal keys without a word, so the first "
    "one is silently ignored.",
    bad="test:\n  script: make test\n  script: make check\n",
    good="test:\n  script:\n    - make test\n    - make check\n",
    check=check_duplicate_keys,
)
MULTIPLE_PIPELINES = Rule(
    "rules-multiple-pipelines", Severity.WARNING,
    "a final rules:when without workflow:rules can run duplicate pipelines",
    "GitLab warns when a job's last rule has only `when` (other than never) and the "
    "configuration has no `workflow:rules`: the job then runs in both the branch pipeline and "
    "the merge request pipeline of one push.",
    bad="test:\n  script: make test\n  rules:\n    - when: always\n",
    good="workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"
         "    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS\n      when: never\n"
         "    - if: $CI_COMMIT_BRANCH\n\ntest:\n  script: make test\n  rules:\n    - when: always\n",
    check=check_multiple_pipelines,
)

RULES = [SYNTAX, INCLUDE_MISSING, INCLUDE_INVALID, INCLUDE_LIMIT, INCLUDE_UNRESOLVED, EXTENDS_UNKNOWN, EXTENDS_CIRCULAR,
         EXTENDS_DEEP, REFERENCE_MISSING, REFERENCE_CIRCULAR, DUPLICATE_KEY, MULTIPLE_PIPELINES]
