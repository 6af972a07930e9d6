"""Scheduling: independent mediators, statutory booking rules and the mediation provider's webhooks."""
