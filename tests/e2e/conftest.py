"""The e2e tier: generated pipelines run for real. A missing tool fails the run, unless
CIFAB_E2E_SKIP_MISSING=1 allows skipping (`.ci/run` never sets it)."""

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
        if os.environ.get("CIFAB_E2E_SKIP_MISSING") != "1":
            pytest.fail(f"the e2e tier cannot run: {exc}")
        pytest.skip(f"the e2e tier cannot run here: {exc}")
    yield


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
