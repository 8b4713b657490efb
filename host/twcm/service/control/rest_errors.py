"""Every refusal of the REST API has one shape, {"error": "...", "problems": [...]}: `error`
says what is wrong and how to fix it, `problems` has one line per bad field (a body or a
setting refused), each naming the field and what is allowed."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

log = logging.getLogger("twcm.api")


class ErrorOut(BaseModel):
    error: str
    problems: list[str] = []


class ApiError(Exception):
    """A request refused: its HTTP status, the reason, and a line per bad field."""

    def __init__(self, status: int, error: str, problems: list[str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.problems = status, error, problems or []
        self.headers = headers


def error_response(status: int, error: str, problems: list[str] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse({"error": error, "problems": problems or []}, status, headers)


def _where(loc: tuple[Any, ...]) -> str:
    """A pydantic location as the user wrote it: body.amps -> amps, query.start -> start."""
    parts = [str(x) for x in loc if x not in ("body", "query", "path")]
    return ".".join(parts) or "the body"


def _line(e: dict[str, Any]) -> str:
    text = f"{_where(tuple(e.get('loc', ())))}: {e.get('msg', 'not allowed')}"
    if "input" in e and e.get("type") not in ("missing", "json_invalid"):
        given = repr(e["input"])
        text += f" (given {given if len(given) <= 60 else given[:57] + '...'})"
    return text


def install(app: FastAPI) -> None:
    """The handlers that give every refusal the ErrorOut shape."""
    @app.exception_handler(ApiError)
    async def api_error(_: Request, e: ApiError) -> JSONResponse:
        return error_response(e.status, e.error, e.problems, e.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        problems = [_line(x) for x in e.errors()]
        return error_response(422, "the request is not valid: " + "; ".join(problems),
                              problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> JSONResponse:
        headers = dict(e.headers or {})
        if e.status_code == 405:  # every method of the path, not just its first route's
            allow = sorted({m for r in app.router.routes
                            if r.matches(request.scope)[0] == Match.PARTIAL
                            for m in getattr(r, "methods", None) or ()})
            headers["Allow"] = ", ".join(allow)
            error = f"this path takes {', '.join(allow)}: see docs/api.md"
        elif e.status_code == 404:
            error = "no such path: see docs/api.md (GET /api/openapi.json lists them)"
        else:
            error = str(e.detail)
        return error_response(e.status_code, error, headers=headers)

    @app.exception_handler(Exception)
    async def crash(request: Request, e: Exception) -> JSONResponse:
        log.exception("api: %s %s failed", request.method, request.url.path)
        return error_response(500, "internal error: see the service's log")
