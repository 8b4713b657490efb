"""Status outputs of `twcm run`: what the sites do, told to other systems. Each reads
`SiteLoop.status()` and never changes the chargers: Home Assistant MQTT discovery
(ha_discovery.py with ha_entities.py and ha_state.py; its controls go to the host's
`/set` topics, carried out by control/mqtt_control.py), HA's REST API (ha_rest.py), and
TWCManager's MQTT status topics (twcmanager_mqtt.py). options.py has their config tables,
checks.py the checks that need the whole config, outputs.py starts the
enabled ones for `twcm run` and `twcm demo`.
"""
