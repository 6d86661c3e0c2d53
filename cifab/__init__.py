"""cifab: fabricate and lint GitLab CI/CD pipelines."""

__version__ = "0.1.0"
