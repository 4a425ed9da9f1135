def register() -> None:
    """What the models area registers when the app starts."""
