"""The password rule for new accounts: at least 10 characters and not a common password, with the
reason when refused; existing accounts with older, shorter passwords still log in."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from app.models import User
from app.services import session_scope
from app.services.demo import DEMO_PASSWORD
from app.services.errors import InvalidInputError
from app.services.users import check_password, common_passwords
from tests.app.conftest import API, create_user, new_client, unique_email
from tests.app.test_auth import error_of, form_token


@pytest.mark.parametrize("password", ["password123", "Password123", "QWERTYUIOP", "1234567890",
                                      " correcthorsebatterystaple "])
def test_common_passwords_are_refused_whatever_their_case(app, password):
    answer = new_client(app).post(f"{API}/auth/register",
                                  json={"email": unique_email(), "password": password})
    assert answer.status_code == 422
    assert error_of(answer)["message"] == "password too common"
    assert "most common passwords" in error_of(answer)["fields"]["password"]


def test_nine_characters_are_too_short_and_ten_are_enough():
    with pytest.raises(InvalidInputError) as short:
        check_password("nine char")
    assert short.value.fields == {"password": "must have at least 10 characters"}
    check_password("ten chars!")


def test_the_shipped_list_is_read_lower_cased_without_comments():
    words = common_passwords()
    assert 100 <= len(words) < 1000
    assert "password123" in words and "qwertyuiop" in words
    assert not any(word.startswith("#") or word != word.lower() for word in words)
    assert DEMO_PASSWORD not in words and len(DEMO_PASSWORD) >= 10


def test_the_register_form_says_why_a_password_is_refused(app):
    client = new_client(app)
    token = form_token(client.get("/register"))
    answer = client.post("/register", data={"email": unique_email(), "password": "password123",
                                            "confirm": "password123", "form_token": token})
    assert answer.status_code == 422
    assert b"most common passwords" in answer.data


def test_an_account_with_an_old_short_password_still_logs_in(app):
    user = create_user(app)
    with session_scope(app.server.extensions["arena"].sessions) as session:
        session.execute(update(User).where(User.id == user.id).values(
            password_hash=PasswordHasher(time_cost=1, memory_cost=1024,
                                         parallelism=1).hash("eight ch")))
    answer = new_client(app).post(f"{API}/auth/login",
                                  json={"email": user.email, "password": "eight ch"})
    assert answer.status_code == 200
