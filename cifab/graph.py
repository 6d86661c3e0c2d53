"""`cifab graph`: the pipeline drawn from the same resolved model the linter checks.

Three renderings of one description: a rich tree for the terminal, Mermaid for GitLab
markdown (an MR description renders it), and Graphviz dot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cifab.frames import one_line
from cifab.markdown import mermaid_label
from cifab.pipeline.config import Pipeline, flat_rules
from cifab.pipeline.needs import job_needs


@dataclass(frozen=True)
class Node:
    name: str
    stage: str
    needs: tuple[str, ...]
    manual: bool
    when: str  # a one-line summary of when the job runs


def _paths(value: Any) -> tuple[str, str]:
    """The paths of a changes: or exists: clause, and what it compares to."""
    if isinstance(value, dict):
        against = value.get("compare_to")
        return _paths(value.get("paths"))[0], f" against {against}" if isinstance(against, str) else ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value), ""
    return str(value), ""


def _rule_summary(rule: dict[str, Any]) -> str:
    """One rule as `condition → when`; a rule without a condition is just its when."""
    conditions = []
    if isinstance(rule.get("if"), str):
        conditions.append(rule["if"])
    for key in ("changes", "exists"):
        if key in rule:
            paths, against = _paths(rule[key])
            conditions.append(f"{key}: {paths}{against}")
    when = str(rule.get("when", "on_success"))
    if not conditions:
        return when
    condition = " and ".join(conditions)
    return f"{condition} → {when}" if when != "on_success" else condition


def _rules_summary(rules: list[Any]) -> str:
    return "rules: " + "; ".join(_rule_summary(r) if isinstance(r, dict) else "!reference" for r in rules)


def _when(config: dict[str, Any]) -> tuple[str, bool]:
    if isinstance(config.get("rules"), list):
        rules = flat_rules(config["rules"])
        manual = any(isinstance(r, dict) and r.get("when") == "manual" for r in rules)
        return _rules_summary(rules), manual
    when = config.get("when", "on_success")
    text = f"when: {when}" if when != "on_success" else ""
    for key in ("only", "except"):
        if key in config:
            text = (text + "; " if text else "") + f"{key}: {json.dumps(config[key], default=str)}"
    return text, when == "manual"


def describe(pipeline: Pipeline) -> tuple[list[str], list[Node]]:
    """Stages in order (only those with jobs), and the visible jobs."""
    nodes = []
    names = {j.name for j in pipeline.visible_jobs}
    for job in pipeline.visible_jobs:
        config = job.config if isinstance(job.config, dict) else {}
        needs = tuple(dict.fromkeys(n.name for group in job_needs(job) for n in group if n.name in names))
        when, manual = _when(config)
        nodes.append(Node(job.name, pipeline.stage_of(job) or "(from an unread template)", needs, manual, when))
    used = {n.stage for n in nodes}
    stages = [s for s in pipeline.stages if s in used]
    stages += sorted(used - set(stages))  # stages the file forgot to declare, drawn all the same
    return stages, nodes


def _by_stage(stages: list[str], nodes: list[Node]) -> list[tuple[str, list[Node]]]:
    return [(stage, [n for n in nodes if n.stage == stage]) for stage in stages]


def tree(pipeline: Pipeline, title: str) -> Any:
    from rich.text import Text
    from rich.tree import Tree

    stages, nodes = describe(pipeline)
    # Names reach the terminal: every control and bidi character is shown, not sent.
    root = Tree(Text(one_line(title), style="bold"))
    for stage, members in _by_stage(stages, nodes):
        branch = root.add(Text(f"stage {one_line(stage)}", style="bold cyan"))
        for node in members:
            label = Text(one_line(node.name), style="bold yellow" if node.manual else "bold")
            if node.manual:
                label.append("  ▶ manual", style="yellow")
            if node.needs:
                label.append(f"  needs: {one_line(', '.join(node.needs))}", style="green")
            elif node.needs == () and _has_empty_needs(pipeline, node.name):
                label.append("  needs: [] (starts at once)", style="green")
            if node.when:
                label.append(f"  {one_line(node.when)}", style="dim")
            branch.add(label)
    return root


def _has_empty_needs(pipeline: Pipeline, name: str) -> bool:
    return bool(pipeline.jobs[name].get("needs") == [])


def _ids(stages: list[str], nodes: list[Node]) -> dict[tuple[str, str], str]:
    """Mermaid ids: job and stage names may hold any character, ids may not."""
    ids = {("stage", stage): f"stage{i}" for i, stage in enumerate(stages, 1)}
    ids.update({("job", node.name): f"job{i}" for i, node in enumerate(nodes, 1)})
    return ids


def mermaid(pipeline: Pipeline) -> str:
    stages, nodes = describe(pipeline)
    ids = _ids(stages, nodes)
    lines = ["flowchart LR"]
    for stage, members in _by_stage(stages, nodes):
        lines.append(f'  subgraph {ids["stage", stage]}[{mermaid_label(stage)}]')
        for node in members:
            label = node.name + (" ▶ manual" if node.manual else "")
            lines.append(f'    {ids["job", node.name]}[{mermaid_label(label)}]')
        lines.append("  end")
    for node in nodes:
        for need in node.needs:
            lines.append(f"  {ids['job', need]} --> {ids['job', node.name]}")
    manual = [ids["job", n.name] for n in nodes if n.manual]
    if manual:
        lines.append("  classDef manual stroke-dasharray: 5 5")
        lines.append(f"  class {','.join(manual)} manual")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str, suffix: str = "") -> str:
    # suffix is raw dot text, such as \n (a line break inside a label). Control characters
    # are shown escaped: dot is printed to terminals too.
    return '"' + one_line(text).replace("\\", "\\\\").replace('"', '\\"') + suffix + '"'


def dot(pipeline: Pipeline) -> str:
    stages, nodes = describe(pipeline)
    lines = ["digraph pipeline {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for i, (stage, members) in enumerate(_by_stage(stages, nodes)):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(f"    label={_dot_quote(stage)};")
        for node in members:
            style = ', style="rounded,dashed"' if node.manual else ""
            label = _dot_quote(node.name, "\\n(manual)" if node.manual else "")
            lines.append(f"    {_dot_quote(node.name)} [label={label}{style}];")
        lines.append("  }")
    for node in nodes:
        for need in node.needs:
            lines.append(f"  {_dot_quote(need)} -> {_dot_quote(node.name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
