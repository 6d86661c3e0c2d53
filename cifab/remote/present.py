"""How GitLab's extra answers look in the terminal: the jobs table and the merged YAML."""

from __future__ import annotations

import io
from typing import Any


def jobs_table(src: str, jobs: list[dict[str, Any]]) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Jobs GitLab would create for {src}", title_justify="left")
    for column in ("job", "stage", "when", "allow failure", "needs"):
        table.add_column(column)
    for job in jobs:
        needs = job.get("needs") or []
        names = ", ".join(n.get("name", "?") if isinstance(n, dict) else str(n) for n in needs)
        table.add_row(str(job.get("name", "?")), str(job.get("stage", "")), str(job.get("when", "")),
                      "yes" if job.get("allow_failure") else "no", names)
    buffer = io.StringIO()
    Console(file=buffer, width=120, no_color=True, highlight=False).print(table)
    return buffer.getvalue()


def merged_yaml(src: str, text: str) -> str:
    return f"# GitLab's merged YAML for {src}\n{text.rstrip()}\n\n"
