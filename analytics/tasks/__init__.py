"""Celery tasks of analytics, one module per area; importing them here registers them."""

from analytics.tasks import training

__all__ = ["training"]
