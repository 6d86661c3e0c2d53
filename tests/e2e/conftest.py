"""The e2e tier: generated pipelines run for real. With CI=true a missing tool fails the run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import toolbox


@pytest.fixture(scope="session")
def tools() -> Iterator[None]:
    try:
        toolbox.gitlab_ci_local()
        toolbox.debian("rsync")
        toolbox.debian("git")
    except toolbox.Missing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the e2e tier cannot run: {exc}")
        pytest.skip(f"the e2e tier cannot run here: {exc}")
    yield


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
