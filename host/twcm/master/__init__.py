"""`twcm master`: the firmware's bus master (twc.*) on a PC with a USB RS-485 adapter.

serial.py runs it on a serial port, mqtt_link.py serves the device's MQTT contract on
paho-mqtt as the ESP32 does, status.py words what it knows for the console. Nothing here
imports the host service (twcm.service): the two programs meet only over MQTT.
"""
