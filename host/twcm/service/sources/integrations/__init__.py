"""One module per source type; each registers itself with twcm.service.sources.register."""
