"""One module per stack: each turns a validated manifest into its render context."""
