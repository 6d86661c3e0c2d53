"""`cifab generate`: manifest → render context (context) → YAML text (render, monorepo) →
escape hatches applied (transform) → header and checksum (contract) → what would change
(plan) → atomic write (write)."""
