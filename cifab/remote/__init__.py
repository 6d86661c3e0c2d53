"""Talking to GitLab: connection settings and the CI Lint API (python-gitlab, imported lazily)."""
