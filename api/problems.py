"""RFC 9457 problem details: every error the API returns has one shape.

``application/problem+json`` with ``type``, ``title``, ``status``, ``detail`` and
``instance`` (the request path); validation errors add ``errors`` (pydantic's list).
Routers raise ``Problem`` (or the helpers below); the handlers installed by
``install`` also turn FastAPI's own 404/405/422 into the same shape.

>>> p = not_found("work order 7")
>>> p.status, p.title
(404, 'Not Found')
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://gridwatch.dev/problems/"


class ProblemDetail(BaseModel):
    """An error, per RFC 9457."""

    type: str = Field(description="URI naming the kind of problem")
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(description="HTTP status code")
    detail: str = Field("", description="what went wrong in this case")
    instance: str = Field("", description="the request path")
    errors: list[dict[str, Any]] | None = Field(None, description="validation errors, one per bad field")


class Problem(Exception):
    """Raise from a router or dependency to answer with a problem document."""

    def __init__(self, status: int, detail: str = "", kind: str | None = None, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers
        self.title = HTTPStatus(status).phrase
        self.kind = kind or self.title.lower().replace(" ", "-")


def unauthorized(detail: str = "a valid bearer token is required") -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> Problem:
    return Problem(403, detail)


def not_found(what: str) -> Problem:
    return Problem(404, f"{what} does not exist")


def conflict(detail: str, kind: str = "conflict") -> Problem:
    return Problem(409, detail, kind)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem answers for ``codes``."""
    schema = ProblemDetail.model_json_schema()
    content = {MEDIA_TYPE: {"schema": schema}}
    return {code: {"description": HTTPStatus(code).phrase, "content": content} for code in codes}


def _render(request: Request, status: int, title: str, kind: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail,
            "instance": request.url.path, **extra}
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=MEDIA_TYPE)


async def handle_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    response = _render(request, exc.status, exc.title, exc.kind, exc.detail)
    response.headers.update(exc.headers or {})
    return response


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else ""
    response = _render(request, exc.status_code, phrase, phrase.lower().replace(" ", "-"), detail)
    response.headers.update(exc.headers or {})
    return response


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in exc.errors()]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return _render(request, 422, "Unprocessable Content", "validation-error", detail, errors=errors)


def install(app: FastAPI) -> None:
    """Make every error of ``app`` a problem document."""
    app.add_exception_handler(Problem, handle_problem)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
