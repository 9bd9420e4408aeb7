"""hue integration."""
