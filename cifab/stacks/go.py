"""Render context of the go stack."""

from __future__ import annotations

from typing import Any

# Pinned tool versions the Go jobs install; bump them together with the golden files.
GOTESTSUM = "gotest.tools/gotestsum@v1.13.0"
GOCOVER_COBERTURA = "github.com/boumenot/gocover-cobertura@v1.3.0"


def binaries(data: dict[str, Any]) -> list[dict[str, str]]:
    """The manifest's binaries; a manifest that names none builds the project's name from '.'."""
    go = data["go"]
    if "binaries" in go:
        return [{"name": b["name"], "main": b.get("main", ".")} for b in go["binaries"]]
    return [{"name": data["project"], "main": "."}]


def build_matrix(targets: list[str]) -> list[dict[str, Any]]:
    """parallel:matrix entries, one per GOOS with its GOARCH list, in first-seen order."""
    by_os: dict[str, list[str]] = {}
    for target in targets:
        goos, goarch = target.split("/", 1)
        by_os.setdefault(goos, []).append(goarch)
    return [{"GOOS": goos, "GOARCH": arches} for goos, arches in by_os.items()]


def context(data: dict[str, Any]) -> dict[str, Any]:
    go = data["go"]
    bins = binaries(data)
    lint_jobs = ["golangci-lint", "go-vet", "gofmt"]
    test_jobs = ["go-test"]
    build_jobs = ["go-build"]
    return {
        "go": {
            **go,
            "image": f"golang:{go['version']}-bookworm",
            "lint_image": f"golangci/golangci-lint:{go['golangci_lint']}",
            "goreleaser_image": f"goreleaser/goreleaser:{go['goreleaser']}",
            "binaries": bins,
            "matrix": build_matrix(go["targets"]),
            "windows": any(t.startswith("windows/") for t in go["targets"]),
            "gotestsum": GOTESTSUM,
            "gocover_cobertura": GOCOVER_COBERTURA,
        },
        "jobs": {"lint": lint_jobs, "test": test_jobs, "build": build_jobs,
                 "deploy": ["goreleaser"] if go["release"] else []},
    }
