"""Which jobs run when: the pipeline GitLab would create for a push, a tag, a merge request
or a schedule (event), evaluated offline (expression, pipeline) and shown (report)."""
