"""The ways a person or another system controls and watches `twcm run`: the REST API and
its web page (rest_api.py and its rest_*.py, auth.py, tokens.py; web/), MQTT host topics
(mqtt_control.py, mqtt_topics.py), and TWCManager's WebIPC queue (webipc.py, off by
default). Each one checks a request's shape (requests.Control, the REST API's
pydantic models) and then calls only the public methods of a SiteLoop
(twcm.service.site): charge_now, cancel_charge_now, change_settings, status, set_twc_cap,
set_twc_charging.
"""
from twcm.service.control.mqtt_control import MqttControl
from twcm.service.control.requests import Control, Rejected, UnknownSite
from twcm.service.control.rest_api import Api

__all__ = ["Api", "Control", "MqttControl", "Rejected", "UnknownSite"]
