"""twcm: a manager for Tesla Wall Connectors (gen 2)."""

__version__ = "0.2.0"
