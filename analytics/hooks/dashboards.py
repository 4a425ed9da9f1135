def register() -> None:
    """What the dashboards area registers when the app starts."""
