"""twcm: a manager for Tesla Wall Connectors (gen 2)."""

__version__ = "0.1.0"
