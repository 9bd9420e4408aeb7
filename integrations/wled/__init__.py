"""wled integration."""
