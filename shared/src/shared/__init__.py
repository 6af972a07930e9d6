"""Contracts and plumbing shared by the SEND mediation services.

Only what is truly shared lives here: event contracts (CloudEvents models),
Kafka plumbing, the transactional outbox and idempotent inbox, settings,
logging, metrics, the working-day calendar, webhook signing and the local
infrastructure used by ``make run`` and the test suite. No service's rules.
"""
