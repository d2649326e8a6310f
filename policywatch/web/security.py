"""Who may read: anyone on this machine by default (the server binds to loopback); beyond it only
a client presenting the token or the basic-auth credentials given in the environment. Every
answer carries a Content-Security-Policy that allows nothing from outside the server."""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_ENV = "POLICYWATCH_SERVE_TOKEN"
USER_ENV, PASSWORD_ENV = "POLICYWATCH_SERVE_USER", "POLICYWATCH_SERVE_PASSWORD"
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                           "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


@dataclass(frozen=True)
class Credentials:
    """What a client must present: a bearer token, a user and password, or either."""

    token: str | None = None
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Credentials | None:
        """The credentials named by the environment, or None when it names none."""
        token = environ.get(TOKEN_ENV) or None
        user, password = environ.get(USER_ENV) or None, environ.get(PASSWORD_ENV) or None
        if bool(user) != bool(password):
            raise ValueError(f"{USER_ENV} and {PASSWORD_ENV} go together: set both or neither")
        return cls(token, user, password) if token or user else None

    def admit(self, authorization: str) -> bool:
        """Does this Authorization header carry the credentials? (compared in constant time)"""
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and self.token:
            return hmac.compare_digest(value.strip().encode(), self.token.encode())
        if scheme.lower() == "basic" and self.user and self.password:
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            user, _, password = decoded.partition(":")
            return (hmac.compare_digest(user.encode(), self.user.encode())
                    & hmac.compare_digest(password.encode(), self.password.encode()))
        return False


# The Host names a browser on this machine sends to a server on loopback.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """Is `host` an address (or the name) that only this machine reaches?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def binding_refusal(host: str, credentials: Credentials | None) -> str | None:
    """Why the server may not bind to `host`, or None when it may."""
    if is_loopback(host) or credentials is not None:
        return None
    return (f"--host {host}: binding beyond loopback needs credentials: set {TOKEN_ENV}, or "
            f"{USER_ENV} and {PASSWORD_ENV}")


class Guard:
    """ASGI middleware: the security headers on every answer, and a 401 for a client without the
    credentials (when there are any)."""

    def __init__(self, app: ASGIApp, credentials: Credentials | None) -> None:
        self.app = app
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        if self.credentials is not None:
            authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            if not self.credentials.admit(authorization):
                await send_with_headers({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"www-authenticate", b'Basic realm="policywatch", charset="UTF-8"')]})
                await send({"type": "http.response.body", "body": b"credentials required\n"})
                return
        await self.app(scope, receive, send_with_headers)
