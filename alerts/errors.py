"""Errors of the work-order service, each with a message a person can act on.

The API maps them to HTTP: ``NotFound`` 404, ``IllegalTransition`` 409, ``Conflict`` 409.

>>> str(IllegalTransition("order 42 is resolved; accept needs dispatched"))
'order 42 is resolved; accept needs dispatched'
"""

from __future__ import annotations


class AlertsError(Exception):
    """Base of every error the alerts package raises on purpose."""


class NotFound(AlertsError):
    """No such order, worker, department call or person."""


class IllegalTransition(AlertsError):
    """The action is not allowed from the order's current status."""


class Conflict(AlertsError):
    """Someone else changed the order first (e.g. another worker accepted it)."""

    def __init__(self, message: str, by: str | None = None) -> None:
        super().__init__(message)
        self.by = by


class ConfigError(AlertsError, ValueError):
    """The alerts configuration file is invalid (unknown key, bad value)."""
