"""Admin of analytics, one module per area; importing them registers them."""

from analytics.admin import models, network, recommendations, scores, text

__all__ = ["models", "network", "recommendations", "scores", "text"]
