"""`cifab init`: read the repository (detect), turn what was found into a manifest
(propose), and write it."""
