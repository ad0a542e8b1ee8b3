"""Shipped style models: one folder per style (weights, config, model card)."""
