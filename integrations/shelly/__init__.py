"""shelly integration."""
