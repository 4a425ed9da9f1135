"""Admin of analytics, one module per area; importing them registers them."""

from analytics.admin import customer_values, models, network, recommendations, rollups, scores, text

__all__ = ["customer_values", "models", "network", "recommendations", "rollups", "scores", "text"]
