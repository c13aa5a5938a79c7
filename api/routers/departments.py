"""Departments pulled into orders ("the grid blows the whistle, the departments report").

A department token sees and answers its own calls; staff see all (a dispatcher
those of its town's orders) and may answer on a department's behalf.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel

from api import schemas
from api.deps import CtxDep, CurrentUser, OrdersDep
from api.identity import Identity
from api.problems import forbidden, not_found, responses

router = APIRouter(prefix="/departments", tags=["departments"])
DeptId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
CallId = Annotated[int, Path(ge=1, le=2**62)]


class Department(BaseModel):
    dept_id: str
    name: str
    handles: list[str]
    open_calls: int


def _check(user: Identity, dept_id: str) -> None:
    if user.role == "department" and user.dept_id == dept_id:
        return
    if user.role not in ("admin", "dispatcher"):
        raise forbidden(f"a {user.role} token cannot see department {dept_id}")


def _town_scope(user: Identity) -> str | None:
    """A dispatcher sees and answers only the calls of its own town's orders."""
    return (user.town_id or "\x00") if user.role == "dispatcher" else None


@router.get("", response_model=list[Department], responses=responses(401, 403),
            summary="Departments with their calls still waiting for an answer")
def list_departments(user: CurrentUser, orders: OrdersDep, ctx: CtxDep) -> list[dict[str, Any]]:
    if user.role == "worker":
        raise forbidden("a worker token cannot list departments")
    waiting: dict[str, int] = {}
    for call in orders.list_department_calls(status="called"):
        waiting[call["dept_id"]] = waiting.get(call["dept_id"], 0) + 1
    depts = ctx.city.departments.values()
    if user.role == "department":
        depts = [d for d in depts if d.dept_id == user.dept_id]
    return [{"dept_id": d.dept_id, "name": d.name, "handles": sorted(d.handles),
             "open_calls": waiting.get(d.dept_id, 0)} for d in depts]


@router.get("/{dept_id}/calls", response_model=list[schemas.DepartmentCall], responses=responses(401, 403, 404, 422),
            summary="A department's calls, newest first")
def list_calls(dept_id: DeptId, user: CurrentUser, orders: OrdersDep, ctx: CtxDep,
               status: Literal["called", "accepted", "returned", "overdue"] | None = None) -> list[dict[str, Any]]:
    if dept_id not in ctx.city.departments:
        raise not_found(f"department {dept_id}")
    _check(user, dept_id)
    return orders.list_department_calls(dept_id=dept_id, status=status, town_id=_town_scope(user))


def _answer(answer: str, dept_id: str, call_id: int, user: Identity, orders: Any, note: str) -> dict[str, Any]:
    _check(user, dept_id)
    if not any(c["id"] == call_id for c in orders.list_department_calls(dept_id=dept_id)):
        raise not_found(f"call {call_id} of department {dept_id}")
    town = _town_scope(user)
    if town and not any(c["id"] == call_id for c in orders.list_department_calls(dept_id=dept_id, town_id=town)):
        raise forbidden(f"call {call_id} belongs to an order outside this dispatcher's town")
    method = orders.department_accept if answer == "accept" else orders.department_return
    return method(call_id, user.actor, note)


NoteBody = Annotated[schemas.Note | None, Body()]
_R = {"response_model": schemas.DepartmentCall, "responses": responses(401, 403, 404, 409, 422)}


@router.post("/{dept_id}/calls/{call_id}/accept", summary="The department takes the call", **_R)
def accept_call(dept_id: DeptId, call_id: CallId, user: CurrentUser, orders: OrdersDep,
                body: NoteBody = None) -> dict[str, Any]:
    return _answer("accept", dept_id, call_id, user, orders, (body.note if body else None) or "")


@router.post("/{dept_id}/calls/{call_id}/return", summary="The department sends the call back, saying why", **_R)
def return_call(dept_id: DeptId, call_id: CallId, user: CurrentUser, orders: OrdersDep,
                body: NoteBody = None) -> dict[str, Any]:
    return _answer("return", dept_id, call_id, user, orders, (body.note if body else None) or "")
