"""Who is calling: bearer tokens, roles and what each role may see.

Tokens are ``gw_`` + 32 random bytes (``secrets.token_urlsafe``), shown once when
issued and stored only as their SHA-256, so a database leak yields no usable token.
``GRIDWATCH_ADMIN_TOKEN`` is compared in constant time and acts as an admin.

Scope rules (INTERFACES §5): an admin sees everything; a dispatcher its town; a
worker the orders assigned to it; a department the orders it was pulled into.

>>> t = new_token(); t.startswith("gw_") and len(t) > 40
True
>>> hash_token("abc")[:16]
'ba7816bf8f01cfea'
>>> w = Identity(role="worker", name="Liu Min", worker_id="w-001")
>>> w.may_see_order({"assignee": "w-001"}), w.may_see_order({"assignee": "w-002"})
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["admin", "dispatcher", "worker", "department"]
ROLES: tuple[Role, ...] = ("admin", "dispatcher", "worker", "department")
TOKEN_PREFIX = "gw_"


def new_token() -> str:
    """A fresh bearer token; the only time it exists in clear text."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored and looked up: hex SHA-256 of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_admin_token(token: str, admin_token: str | None) -> bool:
    return bool(admin_token) and hmac.compare_digest(token.encode(), str(admin_token).encode())


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller, as the API's scope checks need it."""

    role: Role
    name: str
    worker_id: str | None = None
    dept_id: str | None = None
    town_id: str | None = None
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """How the caller appears in an order's timeline, e.g. ``worker:w-001``."""
        return f"{self.role}:{self.worker_id or self.dept_id or self.name}"

    def may_see_order(self, order: Mapping[str, Any], town_of: Callable[[str], str | None] = lambda g: None) -> bool:
        """Scope check on a JSON-ready order (``assignee``, ``departments``, ``grid_id``)."""
        if self.role == "admin":
            return True
        if self.role == "worker":
            return self.worker_id in (order.get("assignee"), order.get("backup"))
        if self.role == "department":
            return self.dept_id in _dept_ids(order)
        town = order.get("town_id") or town_of(order.get("grid_id") or "")
        return self.town_id is not None and town == self.town_id

    def may_see_grid(self, grid_id: str, town_of: Callable[[str], str | None]) -> bool:
        """Devices, incidents and grids: admins all, dispatchers their town, others none."""
        if self.role == "admin":
            return True
        return self.role == "dispatcher" and self.town_id is not None and town_of(grid_id) == self.town_id


def _dept_ids(order: Mapping[str, Any]) -> set[str]:
    out = set()
    for d in order.get("departments") or ():
        out.add(d.get("dept_id") if isinstance(d, Mapping) else d)
    return out
