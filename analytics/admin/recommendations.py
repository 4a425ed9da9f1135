"""Admin of the recommendations area."""
