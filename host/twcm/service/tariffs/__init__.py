"""Prices per time slot (base.py: the interface; integrations/: one module per tariff;
feed.py: fetching them on time, with back-off)."""
from twcm.service.tariffs.base import Slot, Tariff, TariffError, kinds, register

__all__ = ["Slot", "Tariff", "TariffError", "kinds", "register"]
