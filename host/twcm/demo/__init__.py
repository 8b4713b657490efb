"""`twcm demo`: the whole system on one computer, no hardware.

device.py: the firmware core as a simulated device (simulated Wall Connectors and cars on
an in-process bus, the MQTT contract on paho). scenario.py: when cars come and go.
view.py: the live terminal view, or plain lines; events.py: the device's events in words
for them. app.py: the embedded broker, the host's site loop on the simulated solar day,
and the device, tied together.
"""
