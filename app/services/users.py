"""Accounts: registration and password checks (argon2id; the plaintext is never stored or logged).

Emails are trimmed and lower-cased before they are stored or looked up, which makes them
unique case-insensitively. A new password (:func:`check_password`, at registration) needs
:data:`MIN_PASSWORD_LENGTH` characters and must not be one of the common passwords shipped in
``common_passwords.txt`` (attackers try those first, on every account); the upper bound only
stops absurd inputs from turning hashing into a denial of service. Logging in never applies
these rules, so accounts created under older rules keep working.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import EMAIL_MAX_LENGTH, User
from app.services.errors import AuthenticationError, ConflictError, InvalidInputError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def default_hasher() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, t=3, p=4)."""
    return PasswordHasher()


#: Tests swap in a cheaper hasher through :func:`set_password_hasher`.
_hasher = default_hasher()
# A real hash to verify against when the email is unknown, so both cases take the same time.
_dummy_hash: str | None = None


def set_password_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Replace the hasher (tests use cheap parameters); returns the previous one."""
    global _hasher, _dummy_hash
    previous, _hasher, _dummy_hash = _hasher, hasher, None
    return previous


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str) -> str:
    """The normalised email, or :class:`InvalidInputError` at ``email``."""
    email = normalise_email(email)
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.fullmatch(email):
        raise InvalidInputError("invalid email address",
                                {"email": "must be an email address like name@example.com"})
    return email


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def check_password(password: str) -> None:
    """Raise :class:`InvalidInputError` at ``password`` saying why a new password is refused."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            "password too short",
            {"password": f"must have at least {MIN_PASSWORD_LENGTH} characters"},
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            "password too long",
            {"password": f"must have at most {MAX_PASSWORD_LENGTH} characters"},
        )
    if password.strip().lower() in common_passwords():
        raise InvalidInputError(
            "password too common",
            {"password": "is one of the most common passwords, which attackers try first; "
                         "choose another (a few unrelated words make a good one)"},
        )


def register_user(session: Session, email: str, password: str) -> User:
    """Create an account. Raises InvalidInputError (bad email/password) or ConflictError."""
    email = check_email(email)
    check_password(password)
    if find_user_by_email(session, email) is not None:
        raise ConflictError("an account with this email already exists",
                            {"email": "is already registered"})
    user = User(email=email, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def authenticate(session: Session, email: str, password: str) -> User:
    """The user with this email and password, else :class:`AuthenticationError`.

    An unknown email costs one hash verification too, so timing does not reveal which
    emails have accounts. A hash with outdated parameters is upgraded on success.
    """
    global _dummy_hash
    user = find_user_by_email(session, email) if len(email) <= EMAIL_MAX_LENGTH else None
    if user is None or len(password) > MAX_PASSWORD_LENGTH:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("not the password of anyone")
        _verify(_dummy_hash, password[:MAX_PASSWORD_LENGTH])
        raise AuthenticationError("wrong email or password")
    if not _verify(user.password_hash, password):
        raise AuthenticationError("wrong email or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
