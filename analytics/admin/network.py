"""Admin of the network area."""
