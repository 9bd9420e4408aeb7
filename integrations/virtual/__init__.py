"""virtual integration."""
