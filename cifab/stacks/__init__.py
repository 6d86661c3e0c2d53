"""The stack registry: one module per stack, one record each, listed here once.

Detection tries the stacks in this order; the first that recognises a folder wins.
"""

from __future__ import annotations

from cifab.stacks import docker, generic, go, node, python, rust
from cifab.stacks.base import SHELL_IMAGE, Stack

STACKS: tuple[Stack, ...] = (go.STACK, python.STACK, node.STACK, rust.STACK, docker.STACK, generic.STACK)
BY_NAME: dict[str, Stack] = {stack.name: stack for stack in STACKS}
# Not a stack but a layout: components, each with a stack of its own.
MONOREPO = "monorepo"
CHOICES: tuple[str, ...] = (*BY_NAME, MONOREPO)
ALIASES: dict[str, str] = {alias: stack.name for stack in STACKS for alias in stack.aliases}
# Defaults of manifest sections that are no stack's own, each taken from the stack whose
# tools it runs: the schema is filled from here (cifab.manifest.schema).
SECTION_DEFAULTS: dict[tuple[str, str], str] = {
    ("image", "buildkit"): docker.BUILDKIT_IMAGE,
    ("deploy", "image"): SHELL_IMAGE,
    ("self_check", "image"): python.image(python.DEFAULT_VERSION),  # cifab runs on Python
}
