"""Cameras: capture, change detection, events and describers."""
