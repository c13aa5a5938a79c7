"""Bearer tokens: admins issue, list and revoke them; anyone can ask who they are."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from alerts.serialize import iso
from api import schemas
from api.deps import AdminUser, CtxDep, CurrentUser
from api.problems import Problem, not_found, responses
from api.tokenstore import SCOPE_FIELD, TokenInfo, TokenStore

router = APIRouter(tags=["identity"])
TokenId = Annotated[int, Path(ge=1, le=2**62)]


def _store(request: Request) -> TokenStore:
    store = request.app.state.tokens
    if store is None:
        raise Problem(503, "the token database is not configured")
    return store


def _out(t: TokenInfo) -> dict[str, Any]:
    return {
        "id": t.id, "person_id": t.person_id, "name": t.name, "role": t.role, "scope": t.scope, "label": t.label,
        "created_at": iso(t.created_at), "revoked_at": iso(t.revoked_at), "last_used_at": iso(t.last_used_at)}


@router.get("/me", response_model=schemas.Me, responses=responses(401), summary="Who the token belongs to")
def me(user: CurrentUser) -> dict[str, Any]:
    return {"role": user.role, "name": user.name, "worker_id": user.worker_id, "dept_id": user.dept_id,
            "town_id": user.town_id}


@router.post("/tokens", status_code=201, response_model=schemas.TokenIssued, responses=responses(401, 403, 404, 422),
             summary="Issue a token for a person with a role (admin); the token is shown only here")
def issue_token(body: schemas.TokenCreate, user: AdminUser, request: Request, ctx: CtxDep) -> dict[str, Any]:
    field = SCOPE_FIELD.get(body.role)
    scope = getattr(body, field) if field else None
    _known(ctx, body.role, scope)
    token_id, token = _store(request).issue(body.role, body.name or scope or body.role, scope, body.label)
    return {"id": token_id, "token": token, "role": body.role, "scope": scope}


def _known(ctx: Any, role: str, scope: str | None) -> None:
    city = ctx.city
    missing = (
        (role == "worker" and city.workers.slot(scope) < 0 and not _db_worker(ctx, scope))
        or (role == "department" and scope not in city.departments)
        or (role == "dispatcher" and not (city.grids.town == scope).any())
    )
    if missing:
        raise not_found(f"{SCOPE_FIELD[role].removesuffix('_id')} {scope}")


def _db_worker(ctx: Any, worker_id: str | None) -> bool:
    from alerts.errors import NotFound

    try:
        return ctx.orders is not None and bool(ctx.orders.get_worker(worker_id))
    except NotFound:
        return False


@router.get("/tokens", response_model=list[schemas.TokenInfo], responses=responses(401, 403),
            summary="Every issued token (never the token itself)")
def list_tokens(user: AdminUser, request: Request) -> list[dict[str, Any]]:
    return [_out(t) for t in _store(request).list()]


@router.delete("/tokens/{token_id}", response_model=schemas.TokenInfo, responses=responses(401, 403, 404, 422),
               summary="Revoke a token (effective on its next request)")
def revoke_token(token_id: TokenId, user: AdminUser, request: Request) -> dict[str, Any]:
    info = _store(request).revoke(token_id)
    if info is None:
        raise not_found(f"token {token_id}")
    return _out(info)
