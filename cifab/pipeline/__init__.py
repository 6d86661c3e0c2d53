"""A pipeline as GitLab reads it: the bottom package that lint, simulate, graph and check
read pipelines through."""
