"""InfluxDB writers: one ``write(body)`` method, failures sorted by what to do about them.

Like telegraf's outputs (``plugins/outputs/influxdb_v2/http.go``), a writer turns an
HTTP answer into one of four outcomes, so the runner (``ingest.influx_sink``) never
looks at status codes:

* ``Dropped``   — 400/422: InfluxDB will never take these lines (InfluxDB writes the
  good lines of a "partial write" and reports the rest); count, log, move on;
* ``TooLarge``  — 413: split the body and write the halves;
* ``Throttled`` — 429/503: wait ``retry_after`` seconds (the header, or a default);
* ``Retryable`` — other 5xx, 401/403/404 (an operator can fix those), timeouts and
  connection errors: keep the body, back off, retry.

``V1Writer`` speaks InfluxDB 1.x's ``/write`` over one keep-alive connection with the
standard library; ``V2Writer`` uses influxdb-client for InfluxDB 2.x, 3.x and Cloud.
Both write with ``precision=ms``.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import logging
from typing import Protocol
from urllib.parse import quote, urlsplit

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_S = 5.0
TIMEOUT_S = 30.0


class WriteError(Exception):
    """A failed write; the subclass says what to do."""

    reason = "error"


class Dropped(WriteError):
    reason = "bad_request"


class TooLarge(WriteError):
    reason = "too_large"


class Throttled(WriteError):
    reason = "throttled"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Retryable(WriteError):
    reason = "unavailable"


class Writer(Protocol):
    def write(self, body: bytes) -> None:
        """Write line-protocol ``body`` (ms timestamps); raise a ``WriteError`` on failure.

        Called from the sink's sender thread only, one call at a time."""
        ...

    def close(self) -> None: ...

    @property
    def target(self) -> str:
        """Where the writer writes, for logs (no secrets)."""
        ...


def classify(status: int, message: str, retry_after: str | None) -> WriteError:
    """The ``WriteError`` for an HTTP status that is not 2xx."""
    text = f"HTTP {status}: {message.strip()[:300]}"
    if status in (400, 422):
        return Dropped(text)
    if status == 413:
        return TooLarge(text)
    if status in (429, 503):
        return Throttled(text, _retry_after(retry_after))
    return Retryable(text)


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value), 0.0), 300.0) if value else DEFAULT_RETRY_AFTER_S
    except ValueError:  # an HTTP date: not worth parsing, wait the default
        return DEFAULT_RETRY_AFTER_S


class V1Writer:
    """InfluxDB 1.x ``POST /write?db=...&precision=ms`` (``token`` = ``user:password``)."""

    def __init__(self, url: str, database: str, token: str | None = None, gzip_body: bool = False) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r}: expected http(s)://HOST:PORT")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port or (443 if self._https else 80)
        self._path = f"{parts.path.rstrip('/')}/write?db={quote(database)}&precision=ms"
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        if token:
            self._headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        if gzip_body:
            self._headers["Content-Encoding"] = "gzip"
        self._gzip = gzip_body
        self._conn: http.client.HTTPConnection | None = None
        self.target = f"{parts.scheme}://{self._host}:{self._port} (v1, db {database})"

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=TIMEOUT_S)
        return self._conn

    def write(self, body: bytes) -> None:
        data = gzip.compress(body, compresslevel=1) if self._gzip else body
        try:
            conn = self._connection()
            conn.request("POST", self._path, data, self._headers)
            resp = conn.getresponse()
            text = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Retryable(f"{type(exc).__name__}: {exc}") from None
        if resp.status >= 300:
            if resp.will_close:
                self.close()
            raise classify(resp.status, text.decode("utf-8", "replace"), resp.getheader("Retry-After"))
        if resp.will_close:
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class V2Writer:
    """InfluxDB 2.x / 3.x / Cloud through influxdb-client (``/api/v2/write``, token auth)."""

    def __init__(self, url: str, bucket: str, org: str | None, token: str | None, gzip_body: bool = False) -> None:
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self._client = InfluxDBClient(url=url, token=token or "", org=org or "", enable_gzip=gzip_body,
                                      timeout=int(TIMEOUT_S * 1000), retries=False)
        self._api = self._client.write_api(write_options=SYNCHRONOUS)
        self._bucket, self._org = bucket, org or ""
        self.target = f"{url} (v2, bucket {bucket}, org {org or '-'})"

    def write(self, body: bytes) -> None:
        from influxdb_client.client.write_api import WritePrecision
        from influxdb_client.rest import ApiException

        try:
            self._api.write(bucket=self._bucket, org=self._org, record=body, write_precision=WritePrecision.MS)
        except ApiException as exc:
            headers = exc.headers or {}
            raise classify(exc.status or 0, str(exc.body or exc.reason or ""), headers.get("Retry-After")) from None
        except Exception as exc:  # urllib3 connection errors and timeouts: all retryable
            raise Retryable(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self._api.close()
        self._client.close()
