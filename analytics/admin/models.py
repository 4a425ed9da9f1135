"""Admin of the models area."""
