"""Strict TOML configuration files: one reader and one validator for every config.

Settings, detector and alerts configuration and scenarios all load the same way: read
TOML, validate with a pydantic model that forbids unknown keys, and on failure raise
the caller's error type with a message naming the file and each dotted key.

>>> from pydantic import BaseModel, ConfigDict
>>> class Limits(BaseModel):
...     model_config = ConfigDict(extra="forbid")
...     accept_s: float = 60
>>> validate_model(Limits, {"accept_s": "soon"}, "alerts config x.toml", ValueError)
Traceback (most recent call last):
ValueError: alerts config x.toml: accept_s: Input should be a valid number, unable to parse string as a number
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys are errors, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read_toml(path: Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """The file's TOML as a dict; ``error("<what> <path> not found" | parse error)``."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(f"{what} {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path}: {exc}") from None


def describe_errors(exc: ValidationError) -> str:
    """``key.sub: message; other: message`` for every problem pydantic found."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors())


def validate_model(model: type[M], data: Any, source: str, error: type[Exception]) -> M:
    """``model`` validated from ``data``; ``error("<source>: <problems>")`` if invalid."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(f"{source}: {describe_errors(exc)}") from None
