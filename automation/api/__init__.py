"""The workflow rules API: rules (with their conditions and actions) and their runs."""
