"""Cloud uplink: an RSU's participants, events and health to the centre through an MQTT broker."""
