def register() -> None:
    """What the network area registers when the app starts."""
