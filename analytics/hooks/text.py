def register() -> None:
    """What the text area registers when the app starts."""
