def register() -> None:
    """What the predictions area registers when the app starts."""
