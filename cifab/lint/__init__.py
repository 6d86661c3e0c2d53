"""Offline linting of GitLab CI configuration."""
