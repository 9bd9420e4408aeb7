"""homeclaw: a self-hosted agent daemon that runs a home."""

__version__ = "0.1.0"
