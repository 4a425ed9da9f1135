def register() -> None:
    """What the builder area registers when the app starts."""
