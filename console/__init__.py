"""Incident Console: the core (models, lifecycle, SLA, escalation, config) and the app."""

__version__ = "0.1.0"
