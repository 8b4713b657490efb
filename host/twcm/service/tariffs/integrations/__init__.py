"""One module per tariff type; each registers itself (twcm.service.tariffs.base)."""
