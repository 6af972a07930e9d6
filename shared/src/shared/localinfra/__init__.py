"""Real infrastructure on one machine without Docker, for ``make run`` and the tests.

- Apache Kafka in KRaft mode, from its Maven Central jars, with the machine's Java;
- a throw-away PostgreSQL cluster (initdb + pg_ctl);
- an SMTP server (aiosmtpd) that keeps each message as a ``.eml`` file.

Environment variables that name running servers win over starting new ones
(``KAFKA_BOOTSTRAP_SERVERS``, ``TEST_DATABASE_URL``, ``SMTP_HOST``/``SMTP_PORT``).
"""
