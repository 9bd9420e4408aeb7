"""mqtt integration."""
