"""The site as an OCPP 1.6J charge point of a CSMS ([site.ocpp], docs/ocpp.md): each of
its Wall Connectors a connector, the CSMS's charging profiles a claim in the policy."""
from twcm.service.ocpp.session import Session

__all__ = ["Session"]
