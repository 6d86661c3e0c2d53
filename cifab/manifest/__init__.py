"""cifab.yml: load and validate it (load), its shipped JSON Schema (schema), GitLab's schema
for its escape hatches (hatches), positioned problems (problems), the README table (reference)."""
