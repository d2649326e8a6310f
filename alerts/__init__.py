"""Email digests: composition, rendering, outbox and SMTP: not built yet."""
