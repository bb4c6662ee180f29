"""The edge checks every request passes before any route sees it: body size and text hygiene.

- Size: Flask's ``MAX_CONTENT_LENGTH`` is set from :attr:`Settings.max_request_bytes`; a larger
  body (by its ``Content-Length``, or while a chunked body is read) answers 413 in the API's
  JSON error shape and is never buffered.
- Text: a NUL character or a lone UTF-16 surrogate (``"\\ud800"`` in JSON) can't be stored
  (PostgreSQL refuses NUL in text, UTF-8 can't encode a lone surrogate) and is never
  legitimate in an email, a password, a name or a spec. Query parameters and form fields of
  every request are checked here; JSON bodies (keys and string values at any depth) where they
  are decoded, by the same :func:`unsafe_json_path`: in :func:`app.api.validation.json_body`
  for the API and in :mod:`app.callback_guard` for Dash callbacks (a body nobody reads is not
  decoded at all). So no route, service or Dash callback turns them into a 500: they answer
  422 ``invalid_text`` naming the field, and an HTML form's blueprint may render its own answer
  by handling :class:`UnsafeTextError`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.api.errors import ApiError, error_response
from app.config import Settings

#: NUL, and any UTF-16 surrogate code point (only a lone one survives JSON decoding).
UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")
UNSAFE_TEXT_MESSAGE = "must not contain NUL characters or unpaired UTF-16 surrogates"
#: Longest field path reported back (a hostile key could be long).
MAX_PATH_LENGTH = 200


class UnsafeTextError(ApiError):
    """A request field holds a NUL character or a lone surrogate."""

    def __init__(self, where: str) -> None:
        super().__init__(422, "invalid_text", f"invalid characters in {where}",
                         {where: UNSAFE_TEXT_MESSAGE})
        self.where = where


def install_request_guard(server: Flask, settings: Settings) -> None:
    """Limit body sizes and refuse unsafe text in every request of ``server``."""
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    server.before_request(_check_request)
    server.register_error_handler(RequestEntityTooLarge, _too_large)


def _too_large(_error: RequestEntityTooLarge) -> Response:
    limit = request.max_content_length or 0
    return error_response(413, "too_large", f"the request body is larger than the limit of "
                                            f"{limit} bytes ({limit // 1024} KiB)")


def _check_request() -> None:
    """Raise :class:`UnsafeTextError` for the first unsafe field of this request."""
    if request.content_length is not None and request.max_content_length is not None \
            and request.content_length > request.max_content_length:
        raise RequestEntityTooLarge()
    for name, value in request.args.items(multi=True):
        if UNSAFE_TEXT.search(name) or UNSAFE_TEXT.search(value):
            raise UnsafeTextError(_clip(name))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if UNSAFE_TEXT.search(name) or UNSAFE_TEXT.search(value):
                raise UnsafeTextError(_clip(name))


def check_json_text(document: Any) -> None:
    """Raise :class:`UnsafeTextError` naming the first unsafe key or string of ``document``."""
    where = unsafe_json_path(document)
    if where is not None:
        raise UnsafeTextError(where)


def unsafe_json_path(document: Any) -> str | None:
    """The path (``spec.entry.all[0].op``, ``$`` for the root) of the first key or string in
    ``document`` holding unsafe text, or None. Iterative, so deep nesting can't overflow."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if UNSAFE_TEXT.search(value):
                return _clip(path or "$")
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if UNSAFE_TEXT.search(key):
                    return _clip(path or "$")
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return None


def _clip(path: str) -> str:
    """``path`` made safe to echo: unsafe characters replaced, length bounded."""
    return UNSAFE_TEXT.sub("\ufffd", path)[:MAX_PATH_LENGTH]
