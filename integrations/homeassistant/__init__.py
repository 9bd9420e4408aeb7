"""homeassistant integration."""
