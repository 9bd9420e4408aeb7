"""sonos integration."""
