"""Signed webhooks: POST the event JSON with an HMAC-SHA256 signature of the body.

Header ``X-Gridwatch-Signature: sha256=<hex>`` where hex = HMAC-SHA256(secret, body);
a receiver recomputes it over the raw body and compares in constant time.

>>> sign(b"secret", b'{"event":"created"}')
'sha256=...'
>>> verify(b"secret", b"{}", sign(b"secret", b"{}"))
True
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

HEADER = "X-Gridwatch-Signature"


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body), header)


class WebhookSender:
    """Delivers one body to one URL; says whether a failure is worth retrying."""

    def __init__(self, secret: str | None, timeout: float = 5.0) -> None:
        self._secret = (secret or "").encode()
        self._http = httpx.Client(timeout=timeout)

    def send(self, url: str, body: str, delivery_id: int) -> tuple[str | None, bool]:
        """``(None, _)`` when accepted (2xx); else ``(reason, retryable)``."""
        raw = body.encode()
        headers = {"Content-Type": "application/json", "X-Gridwatch-Delivery": str(delivery_id)}
        if self._secret:
            headers[HEADER] = sign(self._secret, raw)
        try:
            r = self._http.post(url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}", True
        if 200 <= r.status_code < 300:
            return None, False
        retryable = r.status_code >= 500 or r.status_code in (408, 425, 429)
        return f"HTTP {r.status_code}", retryable

    def close(self) -> None:
        self._http.close()
