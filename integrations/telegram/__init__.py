"""telegram integration."""
