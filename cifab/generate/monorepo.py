"""Monorepos: each component rendered with its own stack's templates, then moved into one
pipeline (or one child pipeline each) under its own name, folder and change rules.

A component's jobs are the stack's jobs, rewritten: names get the component's prefix
(references follow), every script starts in the component's folder, relative paths
(caches, artifacts, reports) and the cache variables that point into the project move
into that folder, and jobs without rules run when the component's files (or the shared
paths) change, and always on the default branch and for tags.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cifab.generate import context, render
from cifab.generate.context import EVERY_PIPELINE
from cifab.generate.transform import dump, load
from cifab.gitlab import (
    CONTAINER_SCANNING_JOB,
    JOB_REFERENCE_KEYS,
    PROJECT_PATH_KEYS,
    SECURITY_TEMPLATE_STAGE,
    is_job_name,
)
from cifab.manifest.load import Manifest
from cifab.manifest.schema import fill_defaults, schema
from cifab.stacks import BY_NAME
from cifab.stacks.base import COSIGN_IMAGE, IMAGE_JOB, SIGN_IMAGE_JOB, STAGES

ALWAYS = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH || $CI_COMMIT_TAG"
MERGE_REQUEST = '$CI_PIPELINE_SOURCE == "merge_request_event"'
DEFAULT_BRANCH_REF = "refs/heads/$CI_DEFAULT_BRANCH"
CHILD_DIR = ".gitlab/cifab"
# The hidden job whose rules run a job in every pipeline (base/every_pipeline.yml.j2). A
# component's jobs that use it get its change rules instead; in a child pipeline, whose
# trigger job has those, every pipeline its parent starts.
PARENT_PIPELINE = '$CI_PIPELINE_SOURCE == "parent_pipeline"'
IN_CHILD_PIPELINE = [{"when": "on_success"}]  # the workflow and the trigger job decided already
# Settings a component may give, as a repository's manifest would: its stack's section
# (by the stack's name), its image build and its deploys.
COMPONENT_KEYS = (*BY_NAME, "image", "deploy")
# The top-level settings every component renders with.
INHERITED_KEYS = ("gitlab_version", "pipelines", "dependency_proxy", "sbom", "audit", "signing")
# The parent pipeline's stage where it signs its children's images (after "components").
SIGN_STAGE = "sign"


@dataclass(frozen=True)
class Component:
    name: str
    path: str
    stack: str
    data: dict[str, Any]  # a whole manifest's data, as if the component were a repository

    @property
    def changes(self) -> list[str]:
        return ["**/*"] if self.at_root else [f"{self.path}/**/*"]

    @property
    def at_root(self) -> bool:
        """The repository root as a component (its own Dockerfile or stack): its jobs stay
        where they are, and any change runs them."""
        return self.path in (".", "")

    @property
    def manifest(self) -> Manifest:
        return Manifest(path=Path("cifab.yml"), data=self.data)


def components(m: Manifest) -> list[Component]:
    out = []
    top = m.data
    for raw in top["components"]:
        data: dict[str, Any] = {"cifab": 1, "project": raw["name"], "stack": raw["stack"]}
        for key in COMPONENT_KEYS:
            if key in raw:
                data[key] = copy.deepcopy(raw[key])
        data = fill_defaults(schema(), data)
        # The whole pipeline includes GitLab's scanners once (_skeleton), not each component.
        data["security"] = {"secret_detection": False, "sast": False, "container_scanning": False}
        # One tag is one release, not one per component: the whole pipeline's (_release).
        data["release"] = False
        # How the whole pipeline meets GitLab holds for each component's jobs too.
        for key in INHERITED_KEYS:
            if key in top:
                data[key] = top[key]
        # Each component's images under a repository of its own (the root keeps the project's).
        if raw["path"].rstrip("/") not in (".", ""):
            data[context.IMAGE_REPOSITORY] = f"$CI_REGISTRY_IMAGE/{raw['name']}"
        # Child pipelines cannot request id_tokens: their parent signs (_parent_signing).
        if top.get("child_pipelines"):
            data["signing"] = False
        out.append(Component(raw["name"], raw["path"].rstrip("/"), raw["stack"], data))
    return out


def _prefix(component: Component, name: str) -> str:
    if name.startswith("."):
        return f".{component.name}-{name[1:]}"
    return f"{component.name}-{name}"


def _slots(node: Any, path: tuple[str, ...]) -> list[tuple[Any, Any]]:
    """(container, key) of every value at `path` in a job: a list on the way stands for each
    of its items, and `*` for every key of a mapping."""
    if not path:
        return []
    holders = node if isinstance(node, list) else [node]
    head, rest = path[0], path[1:]
    out: list[tuple[Any, Any]] = []
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        keys = list(holder) if head == "*" else [head] if head in holder else []
        for key in keys:
            out.extend([(holder, key)] if not rest else _slots(holder[key], rest))
    return out


def _each(value: Any, change: Callable[[str], str], field: str) -> Any:
    """A name or path, a list of them, or a mapping holding one under `field`, changed."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _each(item, change, field)  # in place: the list keeps its comments
    elif isinstance(value, dict) and isinstance(value.get(field), str):
        value[field] = change(value[field])
    return value


def _rename_refs(job: Any, rename: dict[str, str]) -> None:
    """Every name of a renamed job in this job (cifab.gitlab.JOB_REFERENCE_KEYS)."""
    for path in JOB_REFERENCE_KEYS:
        for holder, key in _slots(job, path):
            holder[key] = _each(holder[key], lambda name: rename.get(name, name), "job")


def _in_folder(path: str, folder: str) -> str:
    if path.startswith(("$", "/")) or folder in (".", ""):
        return path
    # A path up from the component (a workspace's ../uv.lock) is the root's file: GitLab
    # takes cache key files as written, so ".." must not stay in it.
    return posixpath.normpath(f"{folder}/{path}") if path.startswith("..") else f"{folder}/{path}"


def _move_paths(job: Any, folder: str) -> None:
    """Relative paths in caches, artifacts and reports now live in the component's folder
    (cifab.gitlab.PROJECT_PATH_KEYS)."""
    for path in PROJECT_PATH_KEYS:
        for holder, key in _slots(job, path):
            holder[key] = _each(holder[key], lambda p: _in_folder(p, folder), "path")


def _cd(folder: str) -> str:
    # Absolute, so that changing into it twice in one shell is harmless.
    return f'cd "$CI_PROJECT_DIR/{folder}" || exit 1'


def _prepend(job: Any, key: str, command: str) -> None:
    value = job.get(key)
    job[key] = [command, value] if isinstance(value, str) else [command, *value]


def _start_in_folder(job: Any, folder: str, inherited_before: bool) -> None:
    """before_script and script share one shell, so a cd at the start of before_script
    reaches the script without touching it (and its comments). after_script runs in a
    shell of its own."""
    cd = _cd(folder)
    if "before_script" in job:
        _prepend(job, "before_script", cd)
    elif not inherited_before:  # a template's before_script, with its own cd, applies otherwise
        job.insert(_after(job, "interruptible"), "before_script", [cd])
    if "after_script" in job:
        _prepend(job, "after_script", cd)


def _after(job: Any, key: str) -> int:
    """Where to insert a key, as soon after `key` as possible: not right behind a key that
    carries a comment, which would then seem to describe the inserted key."""
    keys = list(job)
    start = keys.index(key) + 1 if key in keys else len(keys)
    items = getattr(getattr(job, "ca", None), "items", {})
    for position in range(start, len(keys)):
        tokens = items.get(keys[position - 1])
        if not (tokens and len(tokens) > 2 and tokens[2]):
            return position
    return len(keys)


def _folder_variables(variables: dict[str, Any], folder: str) -> dict[str, Any]:
    """Cache folders that pointed into the project now point into the component."""
    out = {}
    for name, value in variables.items():
        if isinstance(value, str) and value.startswith("$CI_PROJECT_DIR/") and folder not in (".", ""):
            value = value.replace("$CI_PROJECT_DIR/", f"$CI_PROJECT_DIR/{folder}/", 1)
        out[name] = value
    return out


def change_paths(component: Component, shared: list[str]) -> list[str]:
    return [*component.changes, *(p + "**/*" if p.endswith("/") else p for p in shared)]


def change_rules(changes: list[str], compare_to: bool) -> list[dict[str, Any]]:
    """When a component's jobs run: always on the default branch and for tags; in a merge
    request when it changes the component (against the target branch, GitLab's own base
    there); on another branch when the branch differs from the default branch there. Without
    compare_to a new branch's first push counts every file as changed, and later pushes only
    their own commits. compare_to takes the variable from GitLab 17.2; older ones get the
    plain rule."""
    if not compare_to:
        return [{"if": ALWAYS}, {"changes": {"paths": list(changes)}}]
    return [{"if": ALWAYS}, {"if": MERGE_REQUEST, "changes": {"paths": list(changes)}},
            {"if": "$CI_COMMIT_BRANCH", "changes": {"paths": list(changes), "compare_to": DEFAULT_BRANCH_REF}}]


def component_jobs(component: Component, rendered: str, shared: list[str],
                   gate: bool = True, compare_to: bool = True) -> tuple[dict[str, Any], list[str]]:
    """The component's jobs, renamed and moved into its folder, and the stages they use.
    gate: give jobs without rules the component's change rules (not in a child pipeline,
    whose trigger job has them)."""
    doc = load(rendered)
    names = [k for k in doc if is_job_name(k) and k != EVERY_PIPELINE]
    moves = not component.at_root
    rename = {name: _prefix(component, name) for name in names}
    variables = _folder_variables(dict(doc.get("variables") or {}), component.path)
    # A user template may still set the legacy global image: it means the same as default:image.
    default_image = (doc.get("default") or {}).get("image") or doc.get("image")
    changes = change_paths(component, shared)
    jobs: dict[str, Any] = {}
    for name in names:
        job = doc[name]
        parents = [doc[p] for p in _parents(job) if isinstance(doc.get(p), dict)]
        _rename_refs(job, rename)
        _move_paths(job, component.path)
        if name.startswith("."):
            for key in ("before_script", "after_script"):
                if key in job and moves:
                    _prepend(job, key, _cd(component.path))
        else:
            if moves:
                _start_in_folder(job, component.path, any("before_script" in p for p in parents))
            own = job.get("variables")
            if variables and own is None:
                job.insert(_after(job, "interruptible"), "variables", dict(variables))
            for key, value in variables.items() if own is not None else ():
                own.setdefault(key, value)  # in place: the template's comments stay
            if default_image and "image" not in job and not any("image" in p for p in parents):
                job.insert(_after(job, "stage"), "image", default_image)
            if gate and ("rules" not in job or in_every_pipeline(job)):
                job["rules"] = change_rules(changes, compare_to)
        jobs[rename[name]] = job
    stages = list(doc.get("stages") or [])
    return jobs, stages


def in_every_pipeline(job: Any) -> bool:
    """Whether the job's rules are the shared `!reference [.every-pipeline, rules]`."""
    rules = job.get("rules")
    tag = getattr(getattr(rules, "tag", None), "value", None)
    return tag == "!reference" and list(rules) == [EVERY_PIPELINE, "rules"]


def _parents(job: Any) -> list[str]:
    ext = job.get("extends")
    return [ext] if isinstance(ext, str) else list(ext or [])


def _images(component: Component) -> list[dict[str, str]]:
    """The images the component's jobs build (asked for, or its stack's: docker), each with
    its image job's name before the component's prefix and its registry repository."""
    builds = bool((component.data.get("image") or {}).get("build")) or (
        component.stack in BY_NAME and BY_NAME[component.stack].context(component.data)["force_image"])
    if not builds:
        return []
    repository = component.data.get(context.IMAGE_REPOSITORY, "$CI_REGISTRY_IMAGE")
    return list(context.image_build(component.data["image"], repository)["images"])


def _security(m: Manifest, members: list[Component], scan_images: bool) -> dict[str, Any]:
    """GitLab's scanners for the whole pipeline, which reads the whole repository, so it
    includes them once (their jobs are in the test stage); with scan_images, a container
    scanning job per component image, each under the component's name (in one pipeline only:
    a child pipeline would need the template included again)."""
    images = [{"job": _prefix(c, one["job"]), "repository": one["repository"],
               "scan_job": _prefix(c, CONTAINER_SCANNING_JOB + one["job"].removeprefix(IMAGE_JOB))}
              for c in members if scan_images for one in _images(c)]
    return context.security(m.data, [BY_NAME[c.stack] for c in members if c.stack in BY_NAME],
                            {"build": True, "images": images} if images else None)


def _skeleton(m: Manifest, stages: list[str], search_path: list[Path], security: dict[str, Any]) -> Any:
    """Workflow, stages, defaults and the includes of GitLab's scanners (_security) for the
    whole pipeline, and the self-check job if asked for."""
    check = context.self_check(m.data)
    if check and "lint" not in stages:
        stages = ["lint", *stages]
    if security["templates"] and SECURITY_TEMPLATE_STAGE not in stages:
        stages = _ordered([*stages, SECURITY_TEMPLATE_STAGE])
    ctx = {"gitlab": context.gitlab_features(m.data), "stages": stages, "self_check": check,
           "timeout": context.TIMEOUTS, "dependency_proxy": m.data.get("dependency_proxy") is True,
           "security": security}
    env = render.environment(search_path)
    templates = ["base/workflow.yml.j2", "base/stages.yml.j2", "base/default.yml.j2"] + \
        (["base/self_check.yml.j2"] if check else [])
    if security["templates"]:
        templates.insert(0, "base/includes.yml.j2")
    text = "\n".join(env.get_template(name).render(**ctx) for name in templates)
    return load(text)


def _ordered(stages: list[str]) -> list[str]:
    known = [s for s in STAGES if s in stages]
    return known + [s for s in dict.fromkeys(stages) if s not in known]


def compose(m: Manifest, rendered: list[tuple[Component, str]],
            search_path: list[Path]) -> tuple[str, dict[str, str]]:
    """The components' rendered pipelines, composed once: into one pipeline, or into a
    parent that triggers one child pipeline each (child_pipelines)."""
    shared = list(m.data.get("shared_paths") or [])
    if m.data.get("child_pipelines"):
        return _children(m, rendered, shared, search_path)
    return _single(m, rendered, shared, search_path), {}


def _single(m: Manifest, rendered: list[tuple[Component, str]], shared: list[str], search_path: list[Path]) -> str:
    """All components in one pipeline."""
    compare_to = context.gitlab_features(m.data)["compare_to_default_branch"]
    parts = [(c, *component_jobs(c, text, shared, compare_to=compare_to)) for c, text in rendered]
    stages = _ordered([s for _, _, used in parts for s in used])
    members = [c for c, _ in rendered]
    security = _security(m, members, scan_images=True)
    doc = _skeleton(m, stages, search_path, security)
    for component, jobs, _ in parts:
        _append(doc, jobs, f"Component {component.name}: {component.path} ({component.stack}). Its jobs run when "
                           "its files change,\nand always on the default branch and for tags.")
    if security["scans"]:
        _append(doc, _render_jobs(m, search_path, "base/container_scanning.yml.j2", security=security),
                "Container scanning (from GitLab's template) of each component image this pipeline pushes: "
                "the\ndefault branch and tags push them; a merge request only proves that they build. The\n"
                "template's own job is off: each image's job extends it.")
    _add_release(m, doc, members, search_path)
    return dump(doc)


def _render_jobs(m: Manifest, search_path: list[Path], template: str, **ctx: Any) -> dict[str, Any]:
    """The jobs a base template renders for the whole pipeline (not a component's), with the
    settings every template reads."""
    ctx = {"timeout": context.TIMEOUTS, "dependency_proxy": m.data.get("dependency_proxy") is True, **ctx}
    return dict(load(render.environment(search_path).get_template(template).render(**ctx)))


def _append(doc: Any, jobs: dict[str, Any], comment: str, retry: Any = None) -> None:
    """Jobs at the end of the pipeline, the comment before the first; with retry, each gets
    the retries a parent pipeline lacks (its other jobs are triggers: it has no defaults)."""
    for i, (name, job) in enumerate(jobs.items()):
        if retry is not None:
            job["retry"] = copy.deepcopy(retry)
        doc[name] = job
        if i == 0:
            doc.yaml_set_comment_before_after_key(name, before=comment)


def _add_release(m: Manifest, doc: Any, members: list[Component], search_path: list[Path],
                 retry: Any = None) -> None:
    """The one release job of a tag, at the end of the deploy stage (added when missing),
    unless a component's GoReleaser makes its own."""
    # A stack's own release job (GoReleaser) among a component's deploy jobs.
    own = any(BY_NAME[c.stack].job_names.get("release") in BY_NAME[c.stack].context(c.data)["jobs"]["deploy"]
              for c in members if c.stack in BY_NAME)
    settings = context.release(m.data, own_release=own)
    if settings is None:
        return
    if "deploy" not in doc["stages"]:
        doc["stages"].append("deploy")
    _append(doc, _render_jobs(m, search_path, "base/release.yml.j2", release=settings),
            "The repository's release of a tag, once every component's jobs passed (no `needs:`). Its notes:\nthe "
            "tag's message, else the CHANGELOG.md section of the version, else the tag's name.", retry)


def child_file(component: Component) -> str:
    return f"{CHILD_DIR}/{component.name}.yml"


def _children(m: Manifest, rendered: list[tuple[Component, str]], shared: list[str],
              search_path: list[Path]) -> tuple[str, dict[str, str]]:
    """A parent pipeline that triggers one child pipeline per component, and the children."""
    children: dict[str, str] = {}
    doc = _skeleton(m, ["components"], search_path, _security(m, [c for c, _ in rendered], scan_images=False))
    # The retries go to the children's jobs: the parent's are trigger jobs, which GitLab
    # does not retry (and a self-check, which can do without).
    defaults = doc.pop("default")
    for component, text in rendered:
        jobs, used = component_jobs(component, text, shared, gate=False)
        if all(name.startswith(".") for name in jobs):  # nothing to run: GitLab refuses an empty child
            continue
        child = load("stages: []\n")
        child["stages"] = _ordered(used)
        child["default"] = defaults
        if any(in_every_pipeline(job) for job in jobs.values()):
            # A child pipeline exists when its parent's trigger job runs, in merge request,
            # branch and tag pipelines alike; its jobs need rules to run in the first.
            child.insert(0, "workflow", {"rules": [{"if": PARENT_PIPELINE}]})
            child.yaml_set_comment_before_after_key(
                "workflow", before="Started only by the parent pipeline's trigger job, which runs when the "
                                   "component changes.")
            child[EVERY_PIPELINE] = {"rules": IN_CHILD_PIPELINE}
            child.yaml_set_comment_before_after_key(
                EVERY_PIPELINE, before="Every job runs in the child pipeline its parent starts (merge request, "
                                       "branch or tag):\na job without rules would be left out of a merge request "
                                       "pipeline's child.")
        for name, job in jobs.items():
            child[name] = job
        children[child_file(component)] = dump(child)
        doc[component.name] = {
            "stage": "components",
            "trigger": {"include": child_file(component), "strategy": "depend"},
            "rules": change_rules(change_paths(component, shared),
                                  context.gitlab_features(m.data)["compare_to_default_branch"]),
        }
        doc.yaml_set_comment_before_after_key(
            component.name, before=f"Component {component.name}: {component.path} ({component.stack}), as a child "
                                   "pipeline that\nruns when its files change, and always on the default branch "
                                   "and for tags.")
    signers = _parent_signing(m, [c for c, _ in rendered if child_file(c) in children], search_path)
    if signers:
        doc["stages"].append(SIGN_STAGE)
        _append(doc, signers, "Child pipelines cannot request id_tokens, which keyless signing needs: the parent "
                              "signs each\ncomponent's image once its child pipeline built and pushed it, by the "
                              "commit's tag (cosign\nresolves it to the digest).", defaults["retry"])
    _add_release(m, doc, [c for c, _ in rendered], search_path, retry=defaults.get("retry"))
    return dump(doc), children


def _parent_signing(m: Manifest, members: list[Component], search_path: list[Path]) -> dict[str, Any]:
    """The parent's job per image its children push, when the manifest asks for signing: each
    waits for its component's trigger job. Release files are not signed: the parent cannot
    see its children's artifacts."""
    if m.data.get("signing") is not True:
        return {}
    images = []
    for component in members:
        images += [{"job": _prefix(component, SIGN_IMAGE_JOB + one["job"].removeprefix(IMAGE_JOB)),
                    "image_job": component.name, "repository": one["repository"]} for one in _images(component)]
    if not images:
        return {}
    return _render_jobs(m, search_path, "base/signing.yml.j2",
                        signing={"image": COSIGN_IMAGE, "images": images, "files": None, "stage": SIGN_STAGE})
