"""The FastAPI application: ``create_app(ctx)`` is the one entry point.

``/health`` and ``/metrics`` need no token (INTERFACES §5); everything under
``/api/v1`` does.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from api.context import AppContext
from core.metrics import CONTENT_TYPE, render


def create_app(ctx: AppContext) -> FastAPI:
    """Build the app around a running service's parts."""
    app = FastAPI(title="gridwatch", version="0.1.0", summary="Work orders, devices and grids of a city")
    app.state.ctx = ctx

    @app.get("/health", tags=["service"], summary="Liveness and readiness of the service parts")
    def health() -> JSONResponse:
        report = ctx.health() if ctx.health else {"status": "ok"}
        ok = report.get("status", "ok") == "ok"
        return JSONResponse(report, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", response_class=Response)
    def metrics() -> Response:
        return Response(render(ctx.registry), media_type=CONTENT_TYPE)

    return app
