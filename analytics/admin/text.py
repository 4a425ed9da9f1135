"""Admin of the text area."""
