"""Issued tokens in the database: ``people`` and ``api_tokens`` (models in ``alerts.models``).

Only the SHA-256 of a token is stored; ``issue`` returns the clear text once.
Used by the API (admins issue and revoke) and by ``gridwatch token``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alerts.models import ApiToken, Person, utc
from api.identity import ROLES, Identity, hash_token, new_token
from core.clock import Clock, SystemClock

LAST_USED_RESOLUTION_S = 60.0
SCOPE_FIELD = {"worker": "worker_id", "department": "dept_id", "dispatcher": "town_id"}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never the token itself."""

    id: int
    person_id: str
    name: str
    role: str
    scope: str | None
    label: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenStore:
    """Issue, look up, list and revoke bearer tokens."""

    def __init__(self, sessions: Callable[[], Session], clock: Clock | None = None) -> None:
        self._sessions, self._clock = sessions, clock or SystemClock()

    def issue(self, role: str, name: str, scope: str | None = None, label: str | None = None) -> tuple[int, str]:
        """A new token for the person (created if new); returns ``(token_id, token)``."""
        _check_scope(role, scope)
        token, now = new_token(), utc(self._clock.now())
        with self._sessions() as s, s.begin():
            person = _find_or_add_person(s, role, name, scope, now)
            row = ApiToken(person_id=person.id, token_hash=hash_token(token), label=label, created_at=now)
            s.add(row)
            s.flush()
            return row.id, token

    def lookup(self, token: str) -> Identity | None:
        """The identity behind a live token, or ``None`` (unknown, revoked, disabled)."""
        with self._sessions() as s:
            row = s.execute(
                select(ApiToken, Person).join(Person, Person.id == ApiToken.person_id)
                .where(ApiToken.token_hash == hash_token(token))
            ).first()
        if row is None or row[0].revoked_at is not None or row[1].disabled:
            return None
        tok, p = row
        self._touch(tok)
        return Identity(role=p.role, name=p.name, worker_id=p.worker_id, dept_id=p.dept_id,  # type: ignore[arg-type]
                        town_id=p.town_id, token_id=tok.id)

    def _touch(self, tok: ApiToken) -> None:
        """Record use, at most once a minute per token, so ``token list`` shows stale tokens
        without a write on every request."""
        now = utc(self._clock.now())
        if tok.last_used_at is not None and (now - tok.last_used_at).total_seconds() < LAST_USED_RESOLUTION_S:
            return
        with self._sessions() as s, s.begin():
            s.execute(update(ApiToken).where(ApiToken.id == tok.id).values(last_used_at=now))

    def list(self) -> list[TokenInfo]:
        with self._sessions() as s:
            rows = s.execute(select(ApiToken, Person).join(Person).order_by(ApiToken.id)).all()
        return [_info(t, p) for t, p in rows]

    def revoke(self, token_id: int) -> TokenInfo | None:
        """Revoke a token (idempotent); ``None`` if no such token."""
        with self._sessions() as s, s.begin():
            tok = s.get(ApiToken, token_id)
            if tok is None:
                return None
            if tok.revoked_at is None:
                tok.revoked_at = utc(self._clock.now())
            return _info(tok, s.get(Person, tok.person_id))


def _check_scope(role: str, scope: str | None) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if role in SCOPE_FIELD and not scope:
        raise ValueError(f"a {role} token needs --{SCOPE_FIELD[role].replace('_', '-')}")
    if role == "admin" and scope:
        raise ValueError("an admin token has no scope")


def _find_or_add_person(s: Session, role: str, name: str, scope: str | None, now: datetime) -> Person:
    field = SCOPE_FIELD.get(role)
    q = select(Person).where(Person.role == role, Person.name == name)
    if field:
        q = q.where(getattr(Person, field) == scope)
    person = s.execute(q.limit(1)).scalar_one_or_none()
    if person is None:
        slug = re.sub(r"[^a-z0-9]+", "-", f"{role}-{scope or name}".lower()).strip("-")[:40]
        person = Person(id=f"{slug}-{uuid.uuid4().hex[:8]}", name=name, role=role, created_at=now, disabled=False)
        if field:
            setattr(person, field, scope)
        s.add(person)
        s.flush()
    return person


def _info(t: ApiToken, p: Person | None) -> TokenInfo:
    role = p.role if p else "?"
    scope = getattr(p, SCOPE_FIELD[role]) if p and role in SCOPE_FIELD else None
    return TokenInfo(t.id, t.person_id, p.name if p else "?", role, scope, t.label,
                     t.created_at, t.revoked_at, t.last_used_at)
