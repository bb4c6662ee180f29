"""schemathesis against the real app (WSGI, SQLite, every operation of the OpenAPI document,
authenticated with a real Bearer token): no server errors and no answer that violates the
document (status codes, content types, response schemas, headers)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app import create_app
from app.api import API_PREFIX
from tests.app.conftest import register_and_login, sqlite_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schemathesis")
    dash_app = create_app(sqlite_settings(folder / "instance",
                                          ARENA_REGISTER_RATE_LIMIT="100000"))
    user = register_and_login(dash_app)
    yield dash_app, f"Bearer {user.access_token}"
    dash_app.server.extensions["arena"].close()


def test_every_operation_answers_as_documented_and_never_with_a_server_error(served):
    dash_app, authorization = served
    api = schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", dash_app.server)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 15  # every route of the document is exercised
    failures: dict[str, str] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def exercise(case):
            case.call_and_validate(headers={"Authorization": authorization})

        try:
            exercise()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    assert failures == {}
