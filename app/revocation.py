"""The list of revoked tokens and sessions, kept in the database in both modes.

Logging out revokes the token's ``jti`` and its login session (the ``sid`` claim that every
access and refresh token of one login shares), each until the latest moment a token of it could
still be valid. A token is refused when its ``jti`` or its session is on the list.

Why the database and not Redis: the check runs on every authenticated request and must not
depend on a backend whose outage would otherwise either lock every user out (fail closed) or
let logged-out tokens back in (fail open). The database is needed to serve any request anyway,
and the lookup is one primary-key query. When the database cannot be read, the check raises
:class:`RevocationCheckUnavailable` (503, saying so) instead of calling the token "revoked".
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.models import RevokedToken, utcnow
from app.services import session_scope
from app.services.errors import UpstreamUnavailableError

log = logging.getLogger(__name__)

SESSION_PREFIX = "sid:"


class RevocationCheckUnavailable(UpstreamUnavailableError):
    """The revocation list cannot be read or written right now (the database is down)."""

    code = "auth_unavailable"


class RevocationList:
    """Revoked token ids (``jti``) and session ids (``sid``) until their expiry."""

    def __init__(self, sessions: sessionmaker[Session], session_seconds: int) -> None:
        """``session_seconds``: the refresh-token lifetime (a revoked session is remembered
        that long)."""
        self._sessions, self._session_seconds = sessions, session_seconds

    def revoke(self, payload: dict[str, Any]) -> None:
        """Revoke the token of ``payload`` (until its ``exp``) and its session, if it names one
        (until a refresh token issued now would expire)."""
        now = utcnow()
        entries = {}
        if payload.get("jti"):
            exp = payload.get("exp")
            entries[str(payload["jti"])] = (
                datetime.fromtimestamp(int(exp), UTC).replace(tzinfo=None) if exp is not None
                else now + timedelta(seconds=self._session_seconds))
        if payload.get("sid"):
            entries[SESSION_PREFIX + str(payload["sid"])] = \
                now + timedelta(seconds=self._session_seconds)
        if not entries:
            return
        try:
            with session_scope(self._sessions) as session:
                session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
                for jti, expires_at in entries.items():
                    session.merge(RevokedToken(jti=jti[:64], expires_at=expires_at))
        except SQLAlchemyError as exc:
            log.error("could not record a logout in the revocation list: %s", exc)
            raise RevocationCheckUnavailable(
                "could not log out: the account database is not answering; try again in a "
                "moment") from None

    def is_revoked(self, payload: dict[str, Any]) -> bool:
        """True when the token of ``payload`` or its session was revoked."""
        keys = [str(payload.get("jti", ""))[:64]]
        if payload.get("sid"):
            keys.append((SESSION_PREFIX + str(payload["sid"]))[:64])
        try:
            with self._sessions() as session:
                found = session.scalars(
                    select(RevokedToken.jti).where(RevokedToken.jti.in_(keys))).first()
        except SQLAlchemyError as exc:
            log.error("token revocation list unavailable: %s", exc)
            raise RevocationCheckUnavailable(
                "cannot check the login session right now: the account database is not "
                "answering; try again in a moment") from None
        return found is not None
