def register() -> None:
    """What the customer_analytics area registers when the app starts."""
