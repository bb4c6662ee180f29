"""The JSON error shape of the API, and the handlers that produce it.

Every error answers ``{"error": {"code": "...", "message": "...", "fields": {"path": "..."}}}``:
400 malformed JSON, 401 no or bad credentials, 404 not found (including someone else's
objects), 405 wrong method, 409 conflicts, 415 not JSON, 422 invalid values with field paths,
429 rate limited (with Retry-After). An unexpected exception is logged and answers a 500 in
the same shape, without internals.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from app.services.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotAvailableError,
    NotFoundError,
    RateLimitedError,
    ServiceError,
    UpstreamUnavailableError,
)

log = logging.getLogger(__name__)

SERVICE_STATUS: dict[type[ServiceError], int] = {
    AuthenticationError: 401,
    NotFoundError: 404,
    ConflictError: 409,
    InvalidInputError: 422,
    NotAvailableError: 422,
    UpstreamUnavailableError: 503,
    RateLimitedError: 429,
}
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large",
              415: "unsupported_media_type", 422: "validation_failed", 429: "rate_limited"}


class ApiError(Exception):
    """An error the web layer raises itself (bad JSON, bad query parameter)."""

    def __init__(self, status: int, code: str, message: str,
                 fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = dict(fields or {})


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    response = jsonify(error={"code": code, "message": message, "fields": dict(fields or {})})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def service_error_response(error: ServiceError) -> Response:
    status = next((code for kind, code in SERVICE_STATUS.items() if isinstance(error, kind)), 400)
    headers = ({"Retry-After": str(error.retry_after)}
               if isinstance(error, RateLimitedError) else None)
    return error_response(status, error.code, error.message, error.fields, headers)


def is_page_catch_all(rule: object) -> bool:
    """True for Dash's ``/<path:path>`` rule, which serves the page shell for ANY unknown URL."""
    return getattr(rule, "rule", None) == "/<path:path>"


def _no_such_endpoint() -> Response:
    return error_response(404, "not_found", f"no such endpoint: {request.method} {request.path}")


def _api_path_exists(path: str) -> bool:
    """True when some method of some API route serves ``path``."""
    adapter = current_app.url_map.bind("localhost")
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if not is_page_catch_all(rule):
            return True
    return False


def register_error_handlers(server: Flask) -> None:
    """App-wide handlers (a blueprint-level ``Exception`` handler would shadow the JWT ones)."""

    @server.before_request
    def _api_urls_are_never_pages() -> Response | None:
        if request.path.startswith("/api/") and is_page_catch_all(request.url_rule):
            return _no_such_endpoint()
        return None

    @server.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message, error.fields)

    @server.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> Response:
        return service_error_response(error)

    @server.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        if not request.path.startswith("/api/"):
            return error
        status = error.code or 500
        if status == 405 and not _api_path_exists(request.path):
            return _no_such_endpoint()
        message = {404: f"no such endpoint: {request.method} {request.path}",
                   405: f"{request.method} is not allowed on {request.path}"}.get(
            status, error.description or error.name)
        response = error_response(status, HTTP_CODES.get(status, "error"), message)
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response

    @server.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response | HTTPException:
        if isinstance(error, HTTPException):
            return _http_error(error)
        log.exception("unhandled error in %s %s", request.method, request.path)
        if not request.path.startswith("/api/"):
            return InternalServerError(original_exception=error)
        return error_response(500, "internal", "internal server error; the server log has "
                                               "the details")
