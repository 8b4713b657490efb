"""Cars reached through their maker's API (base.py: the interface; one module per kind)."""
from twcm.service.vehicles.base import CarState, Vehicle, VehicleError

__all__ = ["CarState", "Vehicle", "VehicleError"]
