"""The package's shape: packages in layers that import only downwards, no import cycles
(imports inside functions included), one stack registry, one rule-id registry, one
vocabulary."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cifab.registry import BY_ID, RULES, rule_file
from cifab.stacks import BY_NAME, CHOICES, MONOREPO, STACKS

PACKAGE = Path(__file__).resolve().parent.parent / "cifab"
TEMPLATES = PACKAGE.parent / "templates"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Every cifab module this file imports, at the top or inside a function."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("cifab"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cifab"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.add(sub if sub in known else node.module)
    return {m for m in out if m in known}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle_in_the_package() -> None:
    known = modules()
    graph = {name: imports(path, known) - {name} for name, path in known.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


# Every module's layer, lowest first, like ruff's crate boundaries: a module may import its
# own layer and those below it, never one above. A prefix names a package or a module; the
# longest prefix decides (cifab.manifest.rules holds data that the registry lists, below the
# rest of the manifest package, which reads the registry).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core: vocabulary, findings, errors, output, safe I/O", (
        "cifab.__init__", "cifab.gitlab", "cifab.diagnostics", "cifab.frames", "cifab.errors", "cifab.files",
        "cifab.markdown", "cifab.contract", "cifab.spelling", "cifab.git")),
    ("pipeline: a configuration as GitLab reads it", ("cifab.pipeline", "cifab.schemaerrors", "cifab.gitlab_schema")),
    ("stacks: what each stack reads and pins, and what the project declares", ("cifab.stacks", "cifab.declared")),
    ("simulate and graph: read pipelines", ("cifab.simulate", "cifab.graph")),
    ("lint: rules over a pipeline; its creation-time checks simulate", ("cifab.lint",)),
    ("remote: GitLab's API; rule records", ("cifab.remote", "cifab.manifest.rules")),
    ("registry: every rule id", ("cifab.registry",)),
    ("manifest: cifab.yml", ("cifab.manifest",)),
    ("generate and init: write files", ("cifab.generate", "cifab.init")),
    ("check and reports", ("cifab.check", "cifab.report")),
    ("review: the merge request note", ("cifab.review",)),
    ("command line", ("cifab.cli", "cifab.entry", "cifab.__main__")),
]


def layer_of(module: str) -> int:
    module = "cifab.__init__" if module == "cifab" else module
    found = [(len(prefix), i) for i, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
             if module == prefix or module.startswith(prefix + ".")]
    assert found, f"{module} is in no layer: add it to LAYERS"
    return max(found)[1]


def test_every_import_points_down_the_layers() -> None:
    known = modules()
    upward = [f"{name} ({LAYERS[layer_of(name)][0]}) imports {dep} ({LAYERS[layer_of(dep)][0]})"
              for name, path in sorted(known.items()) for dep in sorted(imports(path, known))
              if layer_of(dep) > layer_of(name)]
    assert upward == []


def test_the_layer_check_finds_an_upward_import() -> None:
    assert layer_of("cifab.pipeline.config") < layer_of("cifab.lint.engine") < layer_of("cifab.cli")
    assert layer_of("cifab.manifest.rules") < layer_of("cifab.registry") < layer_of("cifab.manifest.load")


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def _string_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_no_module_outside_the_registry_names_a_stack() -> None:
    """Adding a stack means its module, its templates and its schema section: no other file
    may spell a stack's name as a string."""
    names = set(BY_NAME)
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent.name == "stacks":
            continue
        for line, value in _string_literals(path):
            if value in names:
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {value!r}")
    assert offenders == []


def test_the_registry_matches_the_manifest_schema_and_the_template_folders() -> None:
    from cifab.manifest.schema import schema

    assert schema()["properties"]["stack"]["enum"] == list(CHOICES)
    assert CHOICES[-1] == MONOREPO
    for stack in STACKS:
        assert (TEMPLATES / stack.name).is_dir(), stack.name
        assert stack.name in schema()["properties"], f"no schema section for {stack.name}"


def test_pins_live_in_the_stack_modules_not_in_templates_or_the_schema_file() -> None:
    pinned = re.compile(r"(==\d|@v\d|:v\d+\.\d+)")
    for template in sorted(TEMPLATES.rglob("*.j2")):
        assert not pinned.search(template.read_text(encoding="utf-8")), template
    raw = (PACKAGE / "manifest" / "manifest.schema.json").read_text(encoding="utf-8")
    for stack in STACKS:
        for pin in stack.pins.values():
            assert pin not in raw, f"{stack.name} pin {pin} repeated in the schema file"


IMAGE_OR_VERSION = re.compile(r"^(\S+:[\w.${}-]+|\S+@sha256:[0-9a-f]{64}|v?\d+(\.\d+)+)$")


def test_versions_and_images_live_in_the_stack_modules_not_in_the_schema_or_templates() -> None:
    """A default version or image is a stack's fact: the schema file names none, and takes
    each from the stack module (cifab.manifest.schema fills them in)."""
    import json

    from cifab.manifest.schema import schema
    from cifab.stacks import SECTION_DEFAULTS

    raw = (PACKAGE / "manifest" / "manifest.schema.json").read_text(encoding="utf-8")
    written: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("default"), str) and IMAGE_OR_VERSION.match(node["default"]):
                written.append(node["default"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(raw))
    assert written == []
    facts = [*SECTION_DEFAULTS.values(), *(v for stack in STACKS for v in stack.defaults.values())]
    assert all(fact not in raw for fact in facts)
    for template in sorted(TEMPLATES.rglob("*.j2")):
        text = template.read_text(encoding="utf-8")
        assert all(fact not in text for fact in facts), template
    filled = schema()["properties"]
    assert filled["python"]["properties"]["version"]["default"] == BY_NAME["python"].defaults["version"]
    assert filled["image"]["properties"]["buildkit"]["default"] == SECTION_DEFAULTS["image", "buildkit"]


def test_job_names_live_in_the_stack_modules_not_in_the_templates() -> None:
    names = {name for stack in STACKS for name in stack.job_names.values()} | {"container-image", "cifab-check"}
    for template in sorted(TEMPLATES.rglob("*.j2")):
        keys = re.findall(r"^([^\s#{][^:]*):\s*$", template.read_text(encoding="utf-8"), re.M)
        assert not set(keys) & names, template


def test_an_overridable_pin_is_its_schema_default() -> None:
    from cifab.manifest.schema import schema

    go = schema()["properties"]["go"]["properties"]
    assert go["golangci_lint"]["default"] == BY_NAME["go"].pins["golangci_lint"]


RULE_ID = re.compile(r"^[a-z]+(-[a-z0-9]+)+$")
# Strings of that shape outside cifab/stacks/ that are not rule ids (the stack modules are
# not scanned: they spell job, tool and file-format names, never a rule id).
NOT_IDS = {"get-url", "utf-8", "latin-1", "x-expect", "cifab-check", "container-image", "cifab-sc-", "hand-edited",
           "redis-server", "line-length",  # a Travis service, a yamllint rule
           "ls-files", "symbolic-ref", "merge-base", "rev-parse", "ls-tree", "cat-file", "for-each-ref"}  # git commands


def test_every_rule_id_literal_in_the_package_is_registered_and_declared_once() -> None:
    declared: dict[str, str] = {}
    unknown = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent.name == "stacks":
            continue
        rel = str(path.relative_to(PACKAGE.parent))
        for line, value in _string_literals(path):
            if not RULE_ID.match(value) or value in NOT_IDS or value in BY_NAME:
                continue
            if value not in BY_ID:
                unknown.append(f"{rel}:{line}: {value!r}")
            elif value in declared and declared[value] != f"{rel}:{line}":
                unknown.append(f"{rel}:{line}: {value!r} also spelled at {declared[value]}")
            else:
                declared[value] = f"{rel}:{line}"
    assert unknown == []
    assert set(declared) == {i for i in BY_ID if RULE_ID.match(i)}, "registered ids whose declaration was not found"


@pytest.mark.parametrize("rule_id", ["yaml-syntax", "generated-drift", "gitlab-ci-lint", "manifest-invalid"])
def test_rules_and_explain_know_every_id(cli, rule_id: str) -> None:  # type: ignore[no-untyped-def]
    listed = cli("rules")
    assert listed.exit_code == 0 and any(line.startswith(rule_id + " ") for line in listed.stdout.splitlines())
    explained = cli("explain", rule_id)
    assert explained.exit_code == 0 and explained.stdout.startswith(f"{rule_id} (")


def test_rule_ids_are_unique() -> None:
    assert len({r.id for r in RULES}) == len(RULES)


QUALIFIERS = ("empty", "no")  # an id's first word that names no family: empty-config, no-visible-jobs


def family(rule_id: str) -> str:
    words = rule_id.split("-")
    return words[-1] if words[0] in QUALIFIERS else words[0]


def test_a_lint_rule_lives_in_the_file_named_by_its_family() -> None:
    """As actionlint does: needs-undefined in lint/rules/needs.py, include-missing (which the
    pipeline model reports) in pipeline/include.py."""
    misplaced = []
    for rule in RULES:
        if rule.kind != "lint":
            continue
        where = Path(rule_file(rule))
        stem, wanted = where.stem.rstrip("s"), family(rule.id).rstrip("s")
        if where.parent.as_posix() not in ("lint/rules", "pipeline") or not stem.startswith(wanted):
            misplaced.append(f"{rule.id} is in {where}")
    assert misplaced == []


def test_the_family_check_can_fail() -> None:
    assert family("needs-absent") == "needs" and family("no-visible-jobs") == "jobs"
    assert not "keyword".startswith(family("needs-absent").rstrip("s"))


def test_model_reported_rules_have_no_check_and_checked_rules_do() -> None:
    from cifab.lint.rules import ALL_RULES

    for rule in ALL_RULES:
        reported_by_model = rule_file(rule).startswith("pipeline/")
        assert (rule.check is None) is reported_by_model, rule.id


LIMIT_PROSE = re.compile(r"\b(at most|up to|maximum is|more than|longer than|deeper than|maximum) \d")


def test_gitlabs_limits_in_rule_docs_and_messages_come_from_its_constants() -> None:
    """A limit is written once, in cifab.gitlab; docs and messages format it from there."""
    offenders = []
    for path in sorted([*(PACKAGE / "lint" / "rules").glob("*.py"), *(PACKAGE / "pipeline").glob("*.py")]):
        for line, value in _string_literals(path):
            if LIMIT_PROSE.search(value):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {value!r}")
    assert offenders == []
