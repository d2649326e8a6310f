"""Digests: subscriptions, composition (pure), rendering (text, HTML, chart), the outbox, and
sending by SMTP and to notification channels (Apprise URLs)."""
