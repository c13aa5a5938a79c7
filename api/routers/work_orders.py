"""Work orders: list, detail with timeline, and every transition of the state machine.

Scope: a worker sees and moves only orders assigned to it, a department only orders
it was pulled into, a dispatcher its town, an admin everything. An order outside the
caller's scope is 403 (it exists, but not for you); a missing one 404.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import Response

from api import schemas
from api.context import AppContext
from api.deps import CtxDep, CurrentUser, OrdersDep, town_scope
from api.identity import Identity
from api.problems import forbidden, responses

router = APIRouter(prefix="/work-orders", tags=["work orders"])

_STATUS = r"open|created|dispatched|accepted|en_route|on_site|resolved|closed|cancelled"
_SEV = r"blue|yellow|orange|red"
SeverityQ = Annotated[str | None, Query(pattern=rf"^({_SEV})(,({_SEV}))*$", description="e.g. red or red,orange")]
StatusQ = Annotated[str | None, Query(pattern=rf"^({_STATUS})(,({_STATUS}))*$", description="open = not yet resolved")]
OrderId = Annotated[int, Path(ge=1, le=2**62, description="work-order id")]
FIELD_ACTIONS = ("accept", "en_route", "on_site", "resolve", "escalate")  # the assignee's own steps
ALL_ACTIONS = (*FIELD_ACTIONS, "close", "cancel", "reassign")


class OrderPage(schemas.BaseModel):
    items: list[schemas.WorkOrder]
    total: int
    limit: int
    offset: int


def scope_filters(user: Identity) -> dict[str, str | None]:
    """The list filter that keeps the caller inside its scope."""
    if user.role == "worker":
        return {"responsible": user.worker_id}  # assignee or backup
    if user.role == "department":
        return {"department": user.dept_id}
    if user.role == "dispatcher":
        return {"town_id": user.town_id or "\x00"}
    return {}


def visible_order(orders: Any, ctx: AppContext, user: Identity, order_id: int) -> dict[str, Any]:
    """The order's detail (with ``departments``), or 404 / 403."""
    order = orders.get_order(order_id)
    if not user.may_see_order(order, ctx.town_of):
        raise forbidden(f"order {order_id} is outside what this {user.role} token may see")
    return order


def with_place(ctx: AppContext, order: dict[str, Any]) -> dict[str, Any]:
    """Add what the device watches (the city's first text column, e.g. the resident)."""
    devices = ctx.city.devices
    slot = devices.slot(order.get("device_id") or "")
    place = next((str(col[slot]) for col in devices.extra.values() if slot >= 0 and col[slot]), None)
    return {**order, "place": place}


@router.get("", response_model=OrderPage, responses=responses(401, 422), summary="List work orders, red first")
def list_orders(
    user: CurrentUser,
    orders: OrdersDep,
    ctx: CtxDep,
    severity: SeverityQ = None,
    status: StatusQ = None,
    grid_id: Annotated[str | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    town_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    filters = {"severity": severity, "status": status, "grid_id": grid_id, "device_id": device_id, "town_id": town_id}
    filters.update(scope_filters(user))
    town_scope(user, town_id, "orders")
    page = orders.list_orders(limit=limit, offset=offset, **filters)
    page["items"] = [with_place(ctx, o) for o in page["items"]]
    # already JSON-ready (alerts.serialize): skip re-validating on the hot path
    return Response(orjson.dumps(page), media_type="application/json")


@router.get("/{order_id}", response_model=schemas.WorkOrderDetail, responses=responses(401, 403, 404, 422),
            summary="One work order with its timeline")
def get_order(order_id: OrderId, user: CurrentUser, orders: OrdersDep, ctx: CtxDep) -> dict[str, Any]:
    return with_place(ctx, visible_order(orders, ctx, user, order_id))


def _act(action: str, order_id: int, user: Identity, orders: Any, ctx: AppContext, **kwargs: Any) -> dict[str, Any]:
    """Scope and role checks, then the service call (its errors become 404/409).

    A red order's backup worker sees it and may accept it (becoming the assignee);
    every other field step is the assignee's alone."""
    order = visible_order(orders, ctx, user, order_id)
    allowed = FIELD_ACTIONS if user.role == "worker" else () if user.role == "department" else ALL_ACTIONS
    if action not in allowed:
        raise forbidden(f"a {user.role} token cannot {action.replace('_', ' ')} an order")
    if user.role == "worker":
        if action == "accept":
            kwargs["worker_id"] = user.worker_id
        elif order.get("assignee") != user.worker_id:
            raise forbidden(f"order {order_id} is assigned to {order.get('assignee')}; only its assignee can do that")
    return with_place(ctx, getattr(orders, action)(order_id, user.actor, **kwargs))


NoteBody = Annotated[schemas.Note | None, Body()]
_R = {"response_model": schemas.WorkOrder, "responses": responses(401, 403, 404, 409, 422)}


NOTE_ACTIONS = {  # path -> summary; the body is an optional {"note": ...}
    "accept": "The assignee takes the order (first one wins, 409 for the others)",
    "en-route": "The assignee is on the way",
    "on-site": "The assignee has arrived",
    "resolve": "The situation is handled on site",
    "escalate": "Take the next step of the escalation ladder now",
    "cancel": "Withdraw an open order (dispatcher, admin)",
}


def _note_action(action: str):
    def endpoint(order_id: OrderId, user: CurrentUser, orders: OrdersDep, ctx: CtxDep, body: NoteBody = None) -> Any:
        return _act(action, order_id, user, orders, ctx, note=_note(body))

    return endpoint


for _path, _summary in NOTE_ACTIONS.items():
    router.add_api_route(f"/{{order_id}}/{_path}", _note_action(_path.replace("-", "_")), methods=["POST"],
                         summary=_summary, name=f"order_{_path.replace('-', '_')}", **_R)


@router.post("/{order_id}/close", summary="Close a resolved order with the resident's evaluation (dispatcher, admin)",
             **_R)
def close(order_id: OrderId, body: schemas.CloseBody, user: CurrentUser, orders: OrdersDep, ctx: CtxDep) -> Any:
    return _act("close", order_id, user, orders, ctx, evaluation=body.evaluation,
                closure_code=body.closure_code, note=body.note or "")


@router.post("/{order_id}/reassign", summary="Give the order to another worker (dispatcher, admin)", **_R)
def reassign(order_id: OrderId, body: schemas.ReassignBody, user: CurrentUser, orders: OrdersDep, ctx: CtxDep) -> Any:
    return _act("reassign", order_id, user, orders, ctx, worker_id=body.worker_id, note=body.note or "")


def _note(body: schemas.Note | None) -> str:
    return (body.note if body else None) or ""
