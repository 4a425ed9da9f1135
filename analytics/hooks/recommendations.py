def register() -> None:
    """What the recommendations area registers when the app starts."""
