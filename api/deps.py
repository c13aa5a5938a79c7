"""``Annotated`` dependencies: the context, a DB session, the caller and role gates.

Auth failures are raised here, in dependencies, so routers only state what they
need: ``user: CurrentUser`` (any valid token), ``user: StaffUser`` (admin or
dispatcher), ``user: AdminUser``. A missing or unknown token is 401; a known
token of the wrong role is 403. Tokens never reach a log line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.context import AppContext
from api.identity import Identity, is_admin_token
from api.problems import Problem, forbidden, unauthorized

_bearer = HTTPBearer(auto_error=False, description="a token from `gridwatch token issue` or POST /api/v1/tokens")
BOOTSTRAP_ADMIN = Identity(role="admin", name="bootstrap admin (GRIDWATCH_ADMIN_TOKEN)")


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


CtxDep = Annotated[AppContext, Depends(get_ctx)]


def get_session(ctx: CtxDep) -> Iterator[Session]:
    if ctx.session_factory is None:
        raise Problem(503, "the work-order database is not configured")
    with ctx.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_identity(
    request: Request, ctx: CtxDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Identity:
    """The caller behind ``Authorization: Bearer``; 401 if absent, unknown or revoked."""
    if creds is None or not creds.credentials:
        raise unauthorized()
    token = creds.credentials
    admin = ctx.settings.admin_token.get_secret_value() if ctx.settings.admin_token else None
    if is_admin_token(token, admin):
        return BOOTSTRAP_ADMIN
    identity = request.app.state.tokens.lookup(token) if request.app.state.tokens else None
    if identity is None:
        raise unauthorized("the token is unknown or revoked")
    return identity


CurrentUser = Annotated[Identity, Depends(current_identity)]


def require(*roles: str) -> Callable[[Identity], Identity]:
    """A dependency admitting only ``roles`` (403 for any other valid token)."""

    def gate(user: CurrentUser) -> Identity:
        if user.role not in roles:
            raise forbidden(f"a {user.role} token cannot do this; needs {' or '.join(roles)}")
        return user

    return gate


def town_scope(user: Identity, town_id: str | None, what: str) -> str | None:
    """The town a staff list may cover: a dispatcher's own (403 for another), an admin's choice."""
    if user.role != "dispatcher":
        return town_id
    if town_id not in (None, user.town_id):
        raise forbidden(f"a dispatcher of {user.town_id} cannot list {what} of {town_id}")
    return user.town_id


StaffUser = Annotated[Identity, Depends(require("admin", "dispatcher"))]
AdminUser = Annotated[Identity, Depends(require("admin"))]


def get_orders(ctx: CtxDep):  # -> alerts.service.WorkOrderService
    if ctx.orders is None:
        raise Problem(503, "the work-order service is not running")
    return ctx.orders


OrdersDep = Annotated[object, Depends(get_orders)]
