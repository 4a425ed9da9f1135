"""Browser pages of workflow rules, one module per area."""
