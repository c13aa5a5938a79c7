"""The HTTP side of a simulated worker's phone: the API paths of docs/architecture.md.

Worker tokens are issued once per worker with the admin token
(``POST /api/v1/tokens {"role": "worker", "worker_id": ...}``) and kept; every call
is then made as that worker, so the API's scope rules apply as for a real phone.
"""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text[:300]}")
        self.status = status


class ApiClient:
    def __init__(self, base_url: str, admin_token: str, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self.admin = admin_token
        self.tokens: dict[str, str] = {}

    def _call(self, method: str, path: str, token: str, json: dict[str, Any] | None = None) -> Any:
        r = self.http.request(method, path, json=json, headers={"Authorization": f"Bearer {token}"})
        if r.status_code >= 400:
            raise ApiError(r.status_code, r.text)
        return r.json() if r.content else None

    def token(self, worker_id: str) -> str:
        if worker_id not in self.tokens:
            body = self._call("POST", "/api/v1/tokens", self.admin, {"role": "worker", "worker_id": worker_id})
            self.tokens[worker_id] = body["token"]
        return self.tokens[worker_id]

    def act(self, worker_id: str, order_id: int, action: str, note: str = "") -> Any:
        """``accept``, ``en-route``, ``on-site`` or ``resolve`` as the worker."""
        return self._call("POST", f"/api/v1/work-orders/{order_id}/{action}", self.token(worker_id),
                          {"note": note or f"{action} (simulated worker)"})

    def location(self, worker_id: str, lat: float, lon: float) -> Any:
        return self._call("PUT", f"/api/v1/workers/{worker_id}/location", self.token(worker_id),
                          {"lat": round(lat, 6), "lon": round(lon, 6)})

    def on_duty(self, worker_id: str, on: bool = True) -> Any:
        return self._call("PUT", f"/api/v1/workers/{worker_id}/duty", self.token(worker_id), {"on_duty": on})

    def orders(self, **filters: Any) -> list[dict[str, Any]]:
        """Work orders as the admin sees them (``severity=``, ``status=``, ``device_id=``...)."""
        params = "&".join(f"{k}={v}" for k, v in filters.items() if v is not None)
        body = self._call("GET", f"/api/v1/work-orders?{params}", self.admin)
        return body["items"] if isinstance(body, dict) and "items" in body else body

    def order(self, order_id: int) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/work-orders/{order_id}", self.admin)

    def close(self) -> None:
        self.http.close()
