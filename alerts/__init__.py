"""Email digests: subscriptions, composition (pure), rendering (text, HTML, chart), outbox and SMTP."""
