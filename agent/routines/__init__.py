"""Routines, schedules, event triggers and the heartbeat."""
