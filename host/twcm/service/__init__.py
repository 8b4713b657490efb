"""`twcm run`: the host service. serve.py starts it, site.py is one site's loop and its
public interface, and the parts it is made of: sources/ (meters), policy/ (claims and the
decision), devicelink/ (leases to the devices over MQTT), control/ (REST API, web page,
MQTT control), config.py, store.py. Nothing here imports `twcm master` (twcm.master).
"""
