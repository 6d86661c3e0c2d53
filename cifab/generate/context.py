"""The render context: everything the templates need, computed from a manifest."""

from __future__ import annotations

import shlex
from typing import Any, TypedDict

from cifab import __version__
from cifab.gitlab import (
    AUTO_CANCEL_SINCE,
    COMPARE_TO_VARIABLES_SINCE,
    CONTAINER_SCANNING_JOB,
    CONTAINER_SCANNING_TEMPLATE,
    RELEASE_WITH_GLAB_SINCE,
    SAST_TEMPLATE,
    SECRET_DETECTION_TEMPLATE,
    SECURITY_TEMPLATE_STAGE,
    supports,
)
from cifab.manifest.load import Manifest
from cifab.stacks import BY_NAME, SECTION_DEFAULTS, audit
from cifab.stacks.base import (
    COSIGN_IMAGE,
    GLAB_IMAGE,
    IMAGE_JOB,
    JOB_STAGES,
    RELEASE_JOB,
    SELF_CHECK_JOB,
    SIGN_FILES_JOB,
    SIGN_IMAGE_JOB,
    STAGES,
    Stack,
    StackContext,
    commands,
)

# The hidden job whose rules run a job in every pipeline the merge-request workflow starts
# (base/every_pipeline.yml.j2): without rules, a job is left out of merge request pipelines.
EVERY_PIPELINE = ".every-pipeline"
EVERY_PIPELINE_RULES = ('$CI_PIPELINE_SOURCE == "merge_request_event"', "$CI_COMMIT_BRANCH", "$CI_COMMIT_TAG")


# How long each kind of job may run before GitLab stops it: generous for a healthy project
# (GitLab's own default is an hour for every job), short enough that a hung lint or deploy
# does not hold a runner for that hour. A slow suite raises its job's with `jobs:`.
TIMEOUTS = {"lint": "20 minutes", "test": "1 hour", "build": "30 minutes", "image": "1 hour",
            "scan": "30 minutes", "deploy": "30 minutes", "release": "30 minutes", "check": "10 minutes"}


class GitLabFeatures(TypedDict):
    auto_cancel: bool
    compare_to_default_branch: bool  # compare_to: refs/heads/$CI_DEFAULT_BRANCH
    merge_request_pipelines: bool  # pipelines: merge_requests; else branch pipelines only


class SelfCheck(TypedDict):
    job: str
    image: str
    install: str | None  # None: the image has cifab
    comment: bool


def build(manifest: Manifest) -> dict[str, Any]:
    data = manifest.data
    stack = BY_NAME[data["stack"]]
    own = stack.context(data)
    jobs: dict[str, list[str]] = {stage: list(own["jobs"][stage]) for stage in STAGES}  # type: ignore[literal-required]
    ctx: dict[str, Any] = {
        "cifab_version": __version__,
        "gitlab": gitlab_features(data),
        "every_pipeline": {"name": EVERY_PIPELINE, "conditions": EVERY_PIPELINE_RULES},
        "timeout": {**TIMEOUTS, **stack.timeouts},
        "dependency_proxy": data.get("dependency_proxy") is True,
        "project": data["project"],
        "stack": stack.name,
        "image": image_build(data["image"], data.get(IMAGE_REPOSITORY, "$CI_REGISTRY_IMAGE")),
        stack.name: own["section"],
        "jobs": jobs,
        # Each job's name by role: templates write `{{ job.test | yaml }}:`, never a name.
        "job": {**stack.job_names, "image": IMAGE_JOB, "self_check": SELF_CHECK_JOB, "sign_files": SIGN_FILES_JOB},
    }
    environments = [_environment(env) for env in data["deploy"]["environments"]]
    image = data["deploy"]["image"]
    image = image if isinstance(image, dict) else {"name": image}
    ctx["deploy"] = {"image": {"name": image["name"], "entrypoint": image.get("entrypoint")},
                     "environments": environments}
    if own["force_image"]:
        ctx["image"]["build"] = True
    ctx["stack_stages"] = [stage for stage in JOB_STAGES if jobs.get(stage)]
    # Rendered from base/, after the stack's own test jobs.
    ctx["audit"] = dependency_audit(data, stack, own)
    if ctx["audit"]:
        jobs["test"].append(ctx["audit"]["job"])
    sbom = own.get("sbom")
    ctx["sbom"] = {**sbom, "job": stack.job_names["sbom"]} if sbom and data.get("sbom", True) else None
    if ctx["sbom"]:
        jobs["build"].append(ctx["sbom"]["job"])
    ctx["cache_writer"] = cache_writer(stack, jobs)
    if ctx["image"]["build"]:
        jobs["build"].extend(one["job"] for one in ctx["image"]["images"])
    # A deploy waits for every job that vouches for the commit: lint, test and build (the
    # SBOM describes the commit; it does not vouch for it).
    ctx["deploy_needs"] = [job for stage in JOB_STAGES for job in jobs[stage]
                           if not (ctx["sbom"] and job == ctx["sbom"]["job"])]
    ctx["stack_deploy"] = bool(jobs["deploy"])  # a stack's own release job, such as a package upload
    ctx["self_check"] = self_check(data)
    if ctx["self_check"]:
        # Not among deploy_needs: it runs only in merge requests and on the default branch,
        # and a need on a job that a pipeline lacks would break tag pipelines.
        jobs["lint"].append(SELF_CHECK_JOB)
    # GoReleaser (a stack's job of the release role) creates the GitLab release itself.
    ctx["release"] = release(data, own_release=stack.job_names.get("release") in jobs["deploy"])
    jobs["deploy"] = [*jobs["deploy"], *(env["job"] for env in environments)]
    if ctx["release"]:
        jobs["deploy"].append(RELEASE_JOB)
    ctx["security"] = security(data, [stack], ctx["image"])
    ctx["signing"] = signing(data, own, ctx["image"])
    if ctx["signing"]:
        jobs["build"].extend(one["job"] for one in ctx["signing"]["images"])
        if ctx["signing"]["files"]:
            jobs["build"].append(SIGN_FILES_JOB)
    used = {stage for stage in STAGES if jobs.get(stage)} | ({SECURITY_TEMPLATE_STAGE} if ctx["security"]["templates"]
                                                            else set())
    ctx["stages"] = [stage for stage in STAGES if stage in used]
    return ctx


def release(data: dict[str, Any], own_release: bool) -> dict[str, str] | None:
    """The release job of tags (base/release.yml.j2), unless the manifest turns it off or a
    stack's own tool (GoReleaser) creates the release; older GitLab runs release-cli for the
    keyword, which the glab image lacks."""
    with_glab = supports(data.get("gitlab_version"), RELEASE_WITH_GLAB_SINCE)
    if data.get("release", True) and not own_release and with_glab:
        return {"job": RELEASE_JOB, "image": GLAB_IMAGE}
    return None


def dependency_audit(data: dict[str, Any], stack: Stack, own: StackContext) -> dict[str, Any] | None:
    """The stack's dependency audit job (cifab.stacks.audit) as the manifest's `audit` key
    wants it: None when off or when the stack has no package manager to audit."""
    mode = data.get("audit", audit.DEFAULT_MODE)
    scan = own.get("audit")
    # YAML 1.1 reads an unquoted `off` as false.
    if mode in ("off", False) or scan is None:
        return None
    return {**scan, "job": stack.job_names["audit"], "blocking": mode == "fail", "report": audit.REPORT}


def signing(data: dict[str, Any], own: StackContext, image: dict[str, Any]) -> dict[str, Any] | None:
    """Keyless signing (signing: true): a job per pushed image, signing it by the digest its
    image job hands on, and one on tags for the files a release ships."""
    if data.get("signing") is not True:
        return None
    images = [{"job": SIGN_IMAGE_JOB + one["job"].removeprefix(IMAGE_JOB), "image_job": one["job"],
               "repository": one["repository"]} for one in image["images"]] if image.get("build") else []
    files = own.get("release_files")
    if not images and not files:
        return None
    bundles = [f"{path}**/*.sigstore.json" if path.endswith("/") else f"{path}.sigstore.json"
               for path in (files["paths"] if files else [])]
    # Every file the build kept, each signed into a bundle beside it (the paths shell-quoted).
    command = ("find " + " ".join(shlex.quote(path) for path in (files["paths"] if files else []))
               + " -type f ! -name '*.sigstore.json' | while read -r file; do "
               'cosign sign-blob "$file" --bundle "$file.sigstore.json"; done')
    return {"image": COSIGN_IMAGE, "images": images, "stage": None,
            "files": {**files, "bundles": bundles, "command": command} if files else None}


def security(data: dict[str, Any], stacks: list[Stack], image: dict[str, Any] | None) -> dict[str, Any]:
    """GitLab's security templates the pipeline includes, and the container scanning job of
    each image it pushes (the first overrides the template's job, the others extend it)."""
    wanted = data.get("security") or {}
    templates = []
    if wanted.get("secret_detection", True):
        templates.append(SECRET_DETECTION_TEMPLATE)
    if wanted.get("sast", True) and any(stack.sast for stack in stacks):
        templates.append(SAST_TEMPLATE)
    scans = []
    if wanted.get("container_scanning", True) and image and image.get("build"):
        templates.append(CONTAINER_SCANNING_TEMPLATE)
        for i, one in enumerate(image["images"]):
            scans.append({"job": one.get("scan_job") or CONTAINER_SCANNING_JOB + (
                one["job"].removeprefix(IMAGE_JOB) if i else ""),
                          "extends": CONTAINER_SCANNING_JOB if i or one.get("scan_job") else None,
                          "image_job": one["job"], "image": f"{one['repository']}:$CI_COMMIT_SHORT_SHA"})
    # Every scan extends the template's job under a name of its own (a monorepo's, one per
    # component image): the template's job itself would scan an image nobody pushed.
    return {"templates": templates, "scans": scans,
            "template_job_off": bool(scans) and scans[0]["extends"] is not None}


def gitlab_features(data: dict[str, Any]) -> GitLabFeatures:
    """Keywords the oldest GitLab the pipeline targets understands."""
    version = data.get("gitlab_version")
    return GitLabFeatures(auto_cancel=supports(version, AUTO_CANCEL_SINCE),
                          compare_to_default_branch=supports(version, COMPARE_TO_VARIABLES_SINCE),
                          merge_request_pipelines=data.get("pipelines", "merge_requests") == "merge_requests")


def self_check(data: dict[str, Any]) -> SelfCheck | None:
    """The cifab-check job's settings, or None when the manifest does not ask for it."""
    setting = data.get("self_check", False)
    if setting is False:
        return None
    options = setting if isinstance(setting, dict) else {}
    return SelfCheck(job=SELF_CHECK_JOB, image=options.get("image", SECTION_DEFAULTS["self_check", "image"]),
                     install=install_command(options.get("install", {"pypi": __version__})),
                     comment=options.get("comment", False) is True)


def install_command(install: Any) -> str | None:
    """The command that gets cifab into the self-check job, from the manifest's setting."""
    if install is False:
        return None
    if isinstance(install, str):
        return install
    if "pypi" in install:
        return f'pip install --quiet "cifab=={install["pypi"]}"'
    if "git" in install:
        return f'pip install --quiet "cifab @ git+{install["git"]}@{install["ref"]}"'
    project = str(install["registry"]).replace("/", "%2F")
    # GitLab's documented way to read a project's PyPI registry from CI: the job token as
    # the password of gitlab-ci-token. Packages the registry lacks (cifab's dependencies)
    # are forwarded to pypi.org unless the group turned forwarding off.
    index = (f"${{CI_SERVER_PROTOCOL}}://gitlab-ci-token:${{CI_JOB_TOKEN}}@${{CI_SERVER_FQDN}}"
             f"/api/v4/projects/{project}/packages/pypi/simple")
    return f'pip install --quiet --index-url "{index}" "cifab=={install.get("version", __version__)}"'



def _environment(env: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": env["name"],
        "job": f"deploy-{env['name']}",
        "url": env.get("url"),
        "script": commands(env["script"]),
        "when": env["when"],
        "manual": env["manual"],
    }


def _one_image(dockerfile: str, context: str, job: str, repository: str) -> dict[str, str]:
    # buildctl takes the Dockerfile's directory and its file name separately.
    directory, _, name = dockerfile.rpartition("/")
    return {"job": job, "repository": repository, "context": context, "dockerfile": dockerfile,
            "dockerfile_dir": directory or ".", "dockerfile_name": name}


# The data key a monorepo sets on a component's data (never a manifest key): the registry
# repository its images go to, so that two components do not push over each other's tags.
IMAGE_REPOSITORY = "_image_repository"


def image_build(image: dict[str, Any], repository: str = "$CI_REGISTRY_IMAGE") -> dict[str, Any]:
    """The image build: one image, or one per entry of image.builds (a compose file's build
    services), each its own job and repository under the project's ($CI_REGISTRY_IMAGE)."""
    builds = image.get("builds") or []
    images = [_one_image(b["dockerfile"], b["context"], f"{IMAGE_JOB}-{b['name']}",
                         f"{repository}/{b['name']}") for b in builds] or \
        [_one_image(image["dockerfile"], image["context"], IMAGE_JOB, repository)]
    return {**image, "images": images}


def cache_writer(stack: Stack, jobs: dict[str, list[str]]) -> str | None:
    """The one job that writes the stack's shared cache: the first of its cache roles the
    pipeline has."""
    present = {name for names in jobs.values() for name in names}
    return next((name for role in stack.cache_roles
                 if (name := stack.job_names.get(role, role)) in present), None)
