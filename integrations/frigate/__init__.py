"""Frigate NVR as a camera source: its events over MQTT, its pictures over HTTP."""
