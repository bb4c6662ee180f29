"""Who opens a ``/ws/prices`` socket: the same JWTs as the REST API, checked by the same code.

A handshake carries the access token in ``?token=`` or in the ``access_token_cookie`` cookie.
:func:`decode_and_check` verifies it exactly as an API request with
``Authorization: Bearer <token>`` is verified (flask-jwt-extended with the app's secret, expiry,
the revocation list and the user lookup that :mod:`app.auth` installs), inside a request
context of the Flask app. No CSRF token is involved: a handshake is a GET that changes nothing.

Cookie-authenticated handshakes are also checked for their ``Origin`` (cross-site WebSocket
hijacking: a page on another site would otherwise ride the browser's cookie): it must be the
server's own origin or one of ``LIVE_ALLOWED_ORIGINS``. A ``?token=`` handshake proves itself.
"""

from __future__ import annotations

from flask import Flask
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import (
    JWTExtendedException,
    NoAuthorizationError,
    RevokedTokenError,
    UserLookupError,
    WrongTokenError,
)
from jwt import ExpiredSignatureError, PyJWTError

ACCESS_COOKIE = "access_token_cookie"


class SocketAuthError(Exception):
    """The handshake's credentials are refused; ``reason`` goes into the 1008 close frame."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_and_check(server: Flask, token: str | None) -> int:
    """The user id of a valid, unrevoked access token; raises :class:`SocketAuthError`.

    Blocking (the revocation list and the user live in Redis or the database): call it in a
    thread from async code.
    """
    if not token:
        raise SocketAuthError("no token: log in first, or pass ?token=<access token>")
    headers = {"Authorization": f"Bearer {token}"}
    with server.test_request_context("/ws/prices", headers=headers):
        try:
            verify_jwt_in_request(locations=["headers"])
            return int(get_jwt_identity())
        except ExpiredSignatureError:
            raise SocketAuthError("token expired: refresh it (POST /api/v1/auth/refresh) or "
                                  "log in again") from None
        except RevokedTokenError:
            raise SocketAuthError("token revoked (logged out): log in again") from None
        except UserLookupError:
            raise SocketAuthError("the account of this token no longer exists") from None
        except WrongTokenError:
            raise SocketAuthError("a refresh token cannot open the socket: send the access "
                                  "token") from None
        except NoAuthorizationError:
            raise SocketAuthError("no token: log in first, or pass ?token=<access token>") \
                from None
        except (JWTExtendedException, PyJWTError, ValueError) as exc:
            raise SocketAuthError(f"invalid token ({exc}): log in again") from None


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """True when a cookie-authenticated handshake may proceed (see the module docstring).

    No ``Origin`` header means a non-browser client, which cannot ride a browser's cookie.
    """
    if not origin:
        return True
    origin = origin.rstrip("/")
    if host and origin.split("://", 1)[-1] == host:
        return True
    return origin in allowed
