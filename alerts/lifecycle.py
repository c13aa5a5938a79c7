"""The work-order state machine as a pure table: which action is allowed from where.

``WorkOrderService`` is the only code that changes an order; it asks this table
first, so an illegal move is refused before anything is written.

>>> next_status("accept", "dispatched")
'accepted'
>>> next_status("accept", "resolved")
Traceback (most recent call last):
...
alerts.errors.IllegalTransition: order ? is resolved; accept needs dispatched
"""

from __future__ import annotations

from alerts.errors import IllegalTransition

STATUSES: tuple[str, ...] = (
    "created", "dispatched", "accepted", "en_route", "on_site", "resolved", "closed", "cancelled",
)
OPEN: frozenset[str] = frozenset(("created", "dispatched", "accepted", "en_route", "on_site"))
TERMINAL: frozenset[str] = frozenset(("closed", "cancelled"))
CLOSURE_CODES: tuple[str, ...] = ("true_event", "false_alarm", "device_fault", "duplicate")

_SAME = "="  # the action keeps the status (escalate while accepted, ...)

# action -> (allowed from, resulting status)
TABLE: dict[str, tuple[tuple[str, ...], str]] = {
    "dispatch": (("created",), "dispatched"),
    "accept": (("dispatched",), "accepted"),
    "en_route": (("accepted",), "en_route"),
    "on_site": (("accepted", "en_route"), "on_site"),
    "resolve": (("on_site",), "resolved"),
    "close": (("resolved",), "closed"),
    "cancel": (("created", "dispatched", "accepted", "en_route", "on_site"), "cancelled"),
    "reassign": (("created", "dispatched", "accepted", "en_route"), "dispatched"),
    "escalate": (("created", "dispatched", "accepted", "en_route", "on_site"), _SAME),
}
ACTIONS: tuple[str, ...] = tuple(TABLE)

# the timestamp column each resulting status sets
STAMP: dict[str, str] = {
    "dispatched": "dispatched_at",
    "accepted": "accepted_at",
    "en_route": "en_route_at",
    "on_site": "on_site_at",
    "resolved": "resolved_at",
    "closed": "closed_at",
    "cancelled": "closed_at",
}


def allowed(action: str, status: str) -> bool:
    """True if ``action`` may be applied to an order in ``status``."""
    return status in TABLE[action][0]


def next_status(action: str, status: str, order_id: int | str = "?") -> str:
    """The status after ``action``; ``IllegalTransition`` with a readable reason if not allowed."""
    if action not in TABLE:
        raise IllegalTransition(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    sources, target = TABLE[action]
    if status not in sources:
        raise IllegalTransition(f"order {order_id} is {status}; {action} needs {' or '.join(sources)}")
    return status if target == _SAME else target
