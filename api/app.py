"""The FastAPI application: ``create_app(ctx)`` is the one entry point.

``/health`` and ``/metrics`` need no token (INTERFACES §5); everything under
``/api/v1`` does. The dispatcher console (``/``) and the worker's phone view
(``/worker``) are static files served from ``api/static``: no CDN, no build step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from alerts.errors import Conflict, IllegalTransition, NotFound
from api import problems
from api.context import AppContext
from api.routers import areas, departments, devices, events, incidents, tokens, work_orders, workers
from api.sse import Broadcaster
from api.tokenstore import TokenStore
from core.metrics import CONTENT_TYPE, render

STATIC = Path(__file__).parent / "static"
DESCRIPTION = """Work orders, incidents, devices, grids and workers of a gridwatch city.

Every `/api/v1` call needs `Authorization: Bearer <token>` (`gridwatch token issue`, or
`POST /api/v1/tokens` as an admin). Errors are RFC 9457 problem details."""


def create_app(ctx: AppContext) -> FastAPI:
    """Build the app around a running service's parts."""
    def enrich(event: dict) -> dict:
        if event["type"] != "order":
            return event
        return {**event, "data": work_orders.with_place(ctx, event["data"])}

    broadcaster = Broadcaster(ctx.bus, ctx.registry, enrich=enrich)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        broadcaster.start()
        try:
            yield
        finally:
            broadcaster.stop()

    app = FastAPI(title="gridwatch", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.ctx, app.state.broadcaster = ctx, broadcaster
    app.state.tokens = TokenStore(ctx.session_factory, ctx.clock) if ctx.session_factory else None
    problems.install(app)
    _service_errors(app)
    _service_routes(app, ctx)
    api = APIRouter(prefix="/api/v1")
    for module in (work_orders, incidents, devices, workers, departments, tokens, events):
        api.include_router(module.router)
    api.include_router(areas.grids)
    api.include_router(areas.towns)
    api.include_router(areas.targets)
    app.include_router(api)
    _console(app)
    return app


def _service_routes(app: FastAPI, ctx: AppContext) -> None:
    @app.get("/health", tags=["service"], summary="Health of the service parts (503 if any is down)",
             responses={503: {"description": "a part of the service is down"}})
    def health() -> JSONResponse:
        report = ctx.health() if ctx.health else {"status": "ok"}
        ok = report.get("status", "ok") == "ok"
        return JSONResponse(report, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", response_class=Response,
             responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}})
    def metrics() -> Response:
        return Response(render(ctx.registry), media_type=CONTENT_TYPE)


def _service_errors(app: FastAPI) -> None:
    """The work-order service's errors as problem details: 404, 409, 409."""

    def handler(status: int, kind: str):
        async def handle(request: Request, exc: Exception) -> JSONResponse:
            return await problems.handle_problem(request, problems.Problem(status, str(exc), kind))
        return handle

    app.add_exception_handler(NotFound, handler(404, "not-found"))
    app.add_exception_handler(IllegalTransition, handler(409, "illegal-transition"))
    app.add_exception_handler(Conflict, handler(409, "conflict"))


# the pages load nothing from elsewhere; no framing, no referrer (the #token never leaves anyway)
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _console(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(STATIC / "console.html", headers=PAGE_HEADERS)

    @app.get("/worker", include_in_schema=False)
    def worker() -> FileResponse:
        return FileResponse(STATIC / "worker.html", headers=PAGE_HEADERS)
