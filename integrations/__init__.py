"""Everything outside the daemon: device vendors, messaging channels, discovery."""
