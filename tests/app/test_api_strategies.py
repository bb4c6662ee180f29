"""``/api/v1/strategies``: CRUD, duplicate, versions, and validation errors with field paths."""

from __future__ import annotations

from tests.app.conftest import example_spec
from tests.app.test_auth import error_of


def create(user, name=None, **spec_changes):
    body = {"spec": example_spec(**spec_changes)}
    if name is not None:
        body["name"] = name
    answer = user.post("/strategies", json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["strategy"]


def test_create_stores_the_normalised_spec_and_defaults_the_name(user_a):
    minimal = {"version": 1, "name": "Cross", "symbol": "spy",
               "entry": {"all": [{"left": {"indicator": "sma", "params": {"period": 10}},
                                  "op": "crosses_above",
                                  "right": {"indicator": "sma", "params": {"period": 50}}}]},
               "exit": {"any": [{"left": {"indicator": "sma", "params": {"period": 10}},
                                 "op": "crosses_below",
                                 "right": {"indicator": "sma", "params": {"period": 50}}}]}}
    answer = user_a.post("/strategies", json={"spec": minimal})
    assert answer.status_code == 201
    strategy = answer.get_json()["strategy"]
    assert strategy["name"] == "Cross" and strategy["version"] == 1
    assert strategy["spec"]["symbol"] == "SPY" and strategy["spec"]["benchmark"] == "SPY"
    assert strategy["spec"]["fees_bps"] is not None  # defaults filled in
    assert strategy["created_at"].endswith("Z")
    fetched = user_a.get(f"/strategies/{strategy['id']}").get_json()["strategy"]
    assert fetched == strategy


def test_list_is_newest_first_with_total_and_paging(user_a):
    first, second = create(user_a, "first"), create(user_a, "second")
    listed = user_a.get("/strategies").get_json()
    assert [s["id"] for s in listed["strategies"]] == [second["id"], first["id"]]
    assert listed["total"] == 2
    page = user_a.get("/strategies?limit=1&offset=1").get_json()
    assert [s["id"] for s in page["strategies"]] == [first["id"]] and page["total"] == 2
    bad = user_a.get("/strategies?limit=0")
    assert bad.status_code == 422 and error_of(bad)["fields"] == {
        "limit": "must be between 1 and 500"}
    assert user_a.get("/strategies?offset=x").status_code == 422


def test_update_changes_name_and_spec_and_bumps_the_version(user_a):
    strategy = create(user_a, "before")
    spec = example_spec(fees_bps=25)
    updated = user_a.put(f"/strategies/{strategy['id']}", json={"name": "after", "spec": spec})
    assert updated.status_code == 200
    body = updated.get_json()["strategy"]
    assert body["name"] == "after" and body["spec"]["fees_bps"] == 25 and body["version"] == 2
    renamed = user_a.put(f"/strategies/{strategy['id']}", json={"name": "again", "version": 2})
    assert renamed.get_json()["strategy"]["version"] == 3
    stale = user_a.put(f"/strategies/{strategy['id']}", json={"name": "stale", "version": 2})
    assert stale.status_code == 409
    assert error_of(stale)["fields"] == {"version": "must be the current version 3"}
    empty = user_a.put(f"/strategies/{strategy['id']}", json={})
    assert empty.status_code == 422 and error_of(empty)["fields"] == {"$": "send name and/or spec"}
    assert user_a.get(f"/strategies/{strategy['id']}").get_json()["strategy"]["name"] == "again"


def test_delete_and_duplicate(user_a):
    strategy = create(user_a, "original")
    copy = user_a.post(f"/strategies/{strategy['id']}/duplicate")
    assert copy.status_code == 201
    copied = copy.get_json()["strategy"]
    assert copied["name"] == "original (copy)" and copied["spec"] == strategy["spec"]
    assert copied["id"] != strategy["id"] and copied["version"] == 1
    named = user_a.post(f"/strategies/{strategy['id']}/duplicate", json={"name": "mine"})
    assert named.get_json()["strategy"]["name"] == "mine"
    assert user_a.delete(f"/strategies/{strategy['id']}").status_code == 204
    gone = user_a.get(f"/strategies/{strategy['id']}")
    assert gone.status_code == 404 and error_of(gone)["code"] == "not_found"
    assert user_a.delete(f"/strategies/{strategy['id']}").status_code == 404
    assert user_a.get(f"/strategies/{copied['id']}").status_code == 200


def test_invalid_specs_answer_422_with_paths_under_spec(user_a):
    spec = example_spec()
    spec["entry"]["all"][0]["op"] = "=="
    spec["fees_bps"] = "ten"
    answer = user_a.post("/strategies", json={"spec": spec})
    assert answer.status_code == 422
    fields = error_of(answer)["fields"]
    assert fields["spec.entry.all[0].op"].startswith("must be one of <, <=")
    assert "spec.fees_bps" in fields
    not_object = user_a.post("/strategies", json={"spec": [1]})
    assert error_of(not_object)["fields"] == {"spec": "must be a JSON object"}
    missing = user_a.post("/strategies", json={"name": "x"})
    assert error_of(missing)["fields"] == {"spec": "is required"}
    extra = user_a.post("/strategies", json={"spec": example_spec(), "colour": "red"})
    assert error_of(extra)["fields"] == {"colour": "is not a known field"}
    blank = user_a.post("/strategies", json={"spec": example_spec(), "name": "  "})
    assert error_of(blank)["fields"] == {"name": "must be a non-empty string"}
    long = user_a.post("/strategies", json={"spec": example_spec(), "name": "x" * 201})
    assert error_of(long)["fields"] == {"name": "must have at most 200 characters"}
    bad_update = user_a.put(f"/strategies/{create(user_a)['id']}", json={"spec": {"version": 2}})
    assert bad_update.status_code == 422
    assert all(path.startswith("spec") for path in error_of(bad_update)["fields"])


def test_malformed_json_and_unknown_routes_answer_json_errors(user_a):
    bad = user_a.post("/strategies", data='{"spec": ', content_type="application/json")
    assert bad.status_code == 400 and error_of(bad)["code"] == "bad_json"
    assert "line 1" in error_of(bad)["message"]
    nan = user_a.post("/strategies", data='{"spec": NaN}', content_type="application/json")
    assert nan.status_code == 400
    text = user_a.post("/strategies", data="spec", content_type="text/plain")
    assert text.status_code == 415
    unknown = user_a.get("/nothing-here")
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    method = user_a.call("PATCH", "/strategies")
    assert method.status_code == 405 and error_of(method)["code"] == "method_not_allowed"
    huge = user_a.get(f"/strategies/{2**40}")
    assert huge.status_code == 404 and error_of(huge)["code"] == "not_found"
    assert user_a.get("/strategies/-1").status_code == 404
    assert user_a.get("/strategies/abc").status_code == 404
