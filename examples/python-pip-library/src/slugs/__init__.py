"""Turn titles into URL slugs."""
