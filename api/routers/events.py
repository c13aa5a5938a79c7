"""``GET /api/v1/events``: the live stream of order, alert and worker changes (SSE).

Authenticated like every other endpoint, with ``Authorization: Bearer``: the
console reads the stream with ``fetch`` and a stream reader rather than
``EventSource`` (which cannot send headers), so a token never appears in a URL or
an access log. Each client sees only what its token may see.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from api.context import AppContext
from api.deps import CtxDep, CurrentUser
from api.identity import Identity
from api.problems import responses

router = APIRouter(tags=["events"])


def visibility(user: Identity, ctx: AppContext):
    """A predicate over bus events for this caller."""
    if user.role == "admin":
        return lambda event: True
    if user.role == "dispatcher":
        def town_event(event: dict[str, Any]) -> bool:
            data = event["data"]
            return (data.get("town_id") or ctx.town_of(data.get("grid_id") or "")) == user.town_id
        return town_event
    if user.role == "worker":
        def own(event: dict[str, Any]) -> bool:
            data = event["data"]
            if event["type"] == "worker":
                return data.get("id") == user.worker_id
            moved = ((data.get("event") or {}).get("data") or {}).get("from")
            return event["type"] == "order" and user.worker_id in (data.get("assignee"), moved)
        return own
    return _department(user, ctx)


def _department(user: Identity, ctx: AppContext):
    calls = ctx.orders.list_department_calls(dept_id=user.dept_id) if ctx.orders else []
    mine = {c["order_id"] for c in calls}

    def called(event: dict[str, Any]) -> bool:
        data = event["data"]
        if event["type"] != "order":
            return False
        if ((data.get("event") or {}).get("data") or {}).get("dept_id") == user.dept_id:
            mine.add(data.get("id"))
        return data.get("id") in mine
    return called


@router.get(
    "/events",
    summary="Server-Sent Events of order, alert and worker changes",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                     "description": "event: order|alert|worker, id: sequence, data: the JSON record"},
               **responses(401, 422)},
)
async def events(
    request: Request,
    user: CurrentUser,
    ctx: CtxDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    last = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    stream = request.app.state.broadcaster.stream(visibility(user, ctx), last, ctx.sse_heartbeat_s)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
