"""Rules whose findings the model records while it reads and resolves a pipeline: YAML
syntax, includes, `extends` and `!reference`. They live below the model, which reports
through them, so that no rule id is spelled twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cifab.diagnostics import Finding, Rule, Severity


def recorded(ctx: Any) -> Iterable[Finding]:
    """The check of a recorded rule: the model already found them. The engine picks each
    rule's share by id (see cifab.lint.engine)."""
    return ()


SYNTAX = Rule(
    "yaml-syntax", Severity.ERROR, "the file must be valid YAML",
    "GitLab parses the file with a YAML 1.1 parser before anything else. Syntax errors, "
    "undefined aliases, tabs used for indentation, files larger than 2 MB and nesting deeper "
    "than 100 levels are all rejected.",
    bad="test:\n  script: echo: hello: world\n",
    good="test:\n  script: 'echo: hello: world'\n",
    check=recorded,
)
INCLUDE_MISSING = Rule(
    "include-missing", Severity.ERROR, "local includes must exist",
    "A `local` include (or a bare path) is read from the repository. A path that does not "
    "exist, or a glob that matches nothing, fails the pipeline.",
    bad="include: ci/missing.yml\n\ntest:\n  script: make test\n",
    good="test:\n  script: make test\n",
    check=recorded,
)
INCLUDE_INVALID = Rule(
    "include-invalid", Severity.ERROR,
    "each include names one kind: local, project, remote, template or component",
    "An include entry that is a mapping must say what it includes with one of GitLab's subkeys.",
    bad="include:\n  - file: ci/build.yml\n\ntest:\n  script: make test\n",
    good="include:\n  - local: ci/build.yml\n\ntest:\n  script: make test\n",
    check=recorded,
)
INCLUDE_LIMIT = Rule(
    "include-limit", Severity.ERROR, "at most 150 includes",
    "GitLab reads at most 150 included files per pipeline, nested includes included.",
    bad="include:\n" + "".join(f"  - ci/part-{i}.yml\n" for i in range(151)) + "\ntest:\n  script: make test\n",
    good="include:\n  - ci/part-0.yml\n\ntest:\n  script: make test\n",
    check=recorded,
)
INCLUDE_UNRESOLVED = Rule(
    "include-unresolved", Severity.INFO, "remote, project, template and component includes are not read offline",
    "cifab cannot fetch includes from other projects, URLs, GitLab's templates or the CI/CD "
    "catalog. It says so, and while any are unread it does not claim that a job, stage or "
    "`extends` target is missing. `cifab lint --remote` asks GitLab, which reads them.",
    bad="include:\n  - template: Jobs/SAST.gitlab-ci.yml\n\ntest:\n  script: make test\n",
    good="test:\n  script: make test\n",
    check=recorded,
)
EXTENDS_UNKNOWN = Rule(
    "extends-unknown", Severity.ERROR, "extends must name jobs or templates that exist",
    "Every name in `extends` must be a job or hidden template of the merged configuration.",
    bad=".base:\n  image: alpine:3.22\n\ntest:\n  extends: .bsae\n  script: make test\n",
    good=".base:\n  image: alpine:3.22\n\ntest:\n  extends: .base\n  script: make test\n",
    check=recorded,
)
EXTENDS_CIRCULAR = Rule(
    "extends-circular", Severity.ERROR, "extends must not form a cycle",
    "A job cannot extend itself, directly or through other templates.",
    bad=".a:\n  extends: .b\n\n.b:\n  extends: .a\n\ntest:\n  extends: .a\n  script: make test\n",
    good=".a:\n  image: alpine:3.22\n\n.b:\n  extends: .a\n\ntest:\n  extends: .b\n  script: make test\n",
    check=recorded,
)
EXTENDS_DEEP = Rule(
    "extends-too-deep", Severity.ERROR, "extends chains are at most 11 levels deep",
    "GitLab follows at most 11 levels of `extends` inheritance.",
    bad="".join(f".l{i}:\n  extends: .l{i + 1}\n" for i in range(12)) + ".l12:\n  image: alpine:3.22\n\n"
        "test:\n  extends: .l0\n  script: make test\n",
    good=".l0:\n  extends: .l1\n.l1:\n  image: alpine:3.22\n\ntest:\n  extends: .l0\n  script: make test\n",
    check=recorded,
)
REFERENCE_MISSING = Rule(
    "reference-missing", Severity.ERROR, "!reference must point at an existing key",
    "`!reference [job, key, ...]` copies a value from another job or template; the path must exist.",
    bad=".setup:\n  script: [make deps]\n\ntest:\n  script:\n"
        "    - !reference [.setup, before_script]\n    - make test\n",
    good=".setup:\n  script: [make deps]\n\ntest:\n  script:\n    - !reference [.setup, script]\n    - make test\n",
    check=recorded,
)
REFERENCE_CIRCULAR = Rule(
    "reference-circular", Severity.ERROR, "!reference chains must not loop",
    "References may point at values that contain references, but never back to themselves, "
    "and at most 10 levels deep.",
    bad="a:\n  script:\n    - !reference [b, script]\n\nb:\n  script:\n    - !reference [a, script]\n",
    good="a:\n  script:\n    - make a\n\nb:\n  script:\n    - !reference [a, script]\n",
    check=recorded,
)



def check_format(ctx: Any) -> Iterable[Finding]:
    root = ctx.pipeline.root
    if root.data is not None and not isinstance(root.data, dict):
        yield FORMAT.finding((root.src, 1, 1), "Invalid configuration format",
                             "the top level must be a mapping of keywords and job names")


FORMAT = Rule(
    "config-format", Severity.ERROR, "the top level must be a mapping",
    "A CI configuration is a mapping of global keywords and job names. A list or a bare "
    "string at the top level is an `Invalid configuration format`.",
    bad="- test\n- build\n",
    good="test:\n  script: make test\n",
    check=check_format,
)

INPUTS = Rule(
    "inputs-invalid", Severity.ERROR, "spec:inputs and $[[ ]] interpolation must be valid",
    "A file with a `spec:` header is interpolated before GitLab merges it: `$[[ inputs.NAME ]]` "
    "takes the value the include (or component) passes, or the input's default, through at most "
    "three functions (expand_vars, truncate, posix_escape, posix_quote, split). GitLab refuses a "
    "missing required input, an unknown one, a value of the wrong type, one outside `options` or "
    "not matching `regex`, an unknown type or function, and an unknown key; cifab reports each "
    "with GitLab's words. A whole value such as `rules: $[[ inputs.rules ]]` keeps the input's type.",
    bad="spec:\n  inputs:\n    stage:\n      options: [test, deploy]\n      default: build\n---\n"
        "job:\n  stage: $[[ inputs.stage ]]\n  script: make\n",
    good="spec:\n  inputs:\n    stage:\n      options: [test, deploy]\n      default: test\n---\n"
         "job:\n  stage: $[[ inputs.stage ]]\n  script: make\n",
    check=recorded,
)

RULES = [SYNTAX, FORMAT, INPUTS, INCLUDE_MISSING, INCLUDE_INVALID, INCLUDE_LIMIT, INCLUDE_UNRESOLVED, EXTENDS_UNKNOWN,
         EXTENDS_CIRCULAR, EXTENDS_DEEP, REFERENCE_MISSING, REFERENCE_CIRCULAR]
