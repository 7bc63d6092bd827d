"""foodchain: plan the week of a short food supply chain (allocation + routing)."""

__version__ = "0.1.0"
