"""What a repository already declares, read before cifab falls back to its defaults: the
commands its task runner runs (runners), its pre-commit hooks (precommit) and its existing
CI (ci). Each finding carries its source, which init prints and the manifest records."""
