"""The web app's rules, through Flask's test client: bad requests are refused with a clear status and change
nothing; raters only ever see and vote on their own sequence; the admin pages need the token."""

from __future__ import annotations

import json

import pytest
from study_support import make_method_folders

from cpfnet.study.app import ADMIN_COOKIE, MAX_BODY, RATER_COOKIE, create_app
from cpfnet.study.manifest import StudyConfig, create_study
from cpfnet.study.store import open_store

TOKEN = "admin-secret-token"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    folders = make_method_folders(root / "methods", clips=3)
    return create_study(StudyConfig(out=str(root / "s"), methods=[f"{k}={v}" for k, v in folders.items()],
                                    reference="ours", pairs_per_rater=3, checks_per_rater=1))


@pytest.fixture
def app(study, tmp_path):
    store = open_store(str(tmp_path / "votes.db"), study.study_id)
    app = create_app(study, store, TOKEN, seed=0)
    app.store = store
    yield app
    store.close()


def _start(client):
    response = client.post("/api/start")
    assert response.status_code == 200
    return response.get_json()


def _vote(client, item, choice="left", **extra):
    return client.post("/api/vote", json={"item": item, "choice": choice, "elapsed_ms": 800, **extra})


def test_a_rater_goes_through_the_sequence_and_resumes(app, study):
    client = app.test_client()
    assert client.get("/api/state").get_json()["started"] is False
    page = client.get("/")
    assert page.status_code == 200 and b"rate.js" in page.data and page.headers["Cache-Control"] == "no-store"
    state = _start(client)
    assert state["started"] and state["position"] == 0 and state["total"] == study.per_rater == 4
    assert _start(client)["item"] == state["item"]  # Start again (a double click): the same sequence
    seen = []
    while not state["done"]:
        item = state["item"]
        assert item["left"] != item["right"] and item["left"].startswith("/media/")
        assert client.get(item["left"]).status_code == 200
        seen.append(item["id"])
        response = _vote(client, item["id"], "right")
        assert response.status_code == 200, response.get_json()
        state = response.get_json()
        assert state["recorded"] == {"item": item["id"], "position": len(seen) - 1, "choice": "right"}
        # A fresh page load resumes at the next pair.
        assert client.get("/api/state").get_json().get("item", {}).get("id") == state.get("item", {}).get("id")
    assert len(seen) == 4 and state["code"]
    votes = app.store.votes()
    assert [v["item_id"] for v in votes] == seen and all(v["choice"] == "right" for v in votes)
    assert all(v["chosen_method"] == v["right_method"] for v in votes)


def _counts(app):
    return len(app.store.votes()), len(app.store.raters())


def test_bad_votes_are_refused_and_change_nothing(app, study):
    client = app.test_client()
    state = _start(client)
    first = state["item"]["id"]
    assert _vote(client, first).status_code == 200
    current = client.get("/api/state").get_json()["item"]["id"]
    rater_id = app.store.raters()[0]["id"]
    progress_before = app.store.progress(rater_id)
    not_mine = next(i for i in study.items if i not in {a.item_id for a in progress_before.sequence})
    before = _counts(app)
    cases = [
        (_vote(client, not_mine), 404, "not in your sequence"),
        (_vote(client, "p9999"), 404, "not in your sequence"),
        (_vote(client, first), 409, "already voted"),
        (_vote(client, current, "middle"), 400, "choice"),
        (_vote(client, current, elapsed_ms=-5), 400, "elapsed_ms"),
        (_vote(client, current, elapsed_ms="soon"), 400, "elapsed_ms"),
        (_vote(client, current, rater="someone-else"), 400, "unknown field"),
        (client.post("/api/vote", data="{not json", content_type="application/json"), 400, "not a JSON object"),
        (client.post("/api/vote", data="[1, 2]", content_type="application/json"), 400, "not a JSON object"),
        (client.post("/api/vote", data=json.dumps({"item": current, "choice": "left"}), content_type="text/plain"),
         415, "application/json"),
        (client.post("/api/vote", data=json.dumps({"item": current, "choice": "left", "pad": "x" * MAX_BODY}),
                     content_type="application/json"), 413, "larger than"),
        (client.get("/api/vote"), 405, ""),
    ]
    for response, status, message in cases:
        assert response.status_code == status, (status, response.get_json())
        assert message in response.get_json()["error"]
    assert _counts(app) == before
    assert app.store.progress(rater_id) == progress_before
    # The current pair still takes its vote.
    assert _vote(client, current).status_code == 200


def test_raters_are_separate(app):
    alice, bob = app.test_client(), app.test_client()
    a, b = _start(alice), _start(bob)
    assert _vote(alice, a["item"]["id"]).status_code == 200
    # Bob cannot vote on Alice's behalf: he only has his own cookie, and her next pair is not his next one
    # unless the sequences happen to agree, in which case the vote is his own.
    bob_state = bob.get("/api/state").get_json()
    assert bob_state["position"] == 0 and bob_state["item"] == b["item"]
    # No cookie, a forged cookie: no session.
    stranger = app.test_client()
    assert _vote(stranger, a["item"]["id"]).status_code == 401
    stranger.set_cookie(RATER_COOKIE, "forged-token")
    assert _vote(stranger, a["item"]["id"]).status_code == 401
    assert stranger.get("/api/state").get_json()["started"] is False
    assert len(app.store.votes()) == 1
    # The rater API has no way to name another rater, and the admin pages are closed to raters.
    assert alice.get("/admin/results.json").status_code == 401
    assert alice.get("/admin/votes.csv").status_code == 401


def test_admin_needs_the_token(app):
    client = app.test_client()
    _start(client)
    assert client.get("/admin").status_code == 401
    assert client.get("/admin/results.json").get_json()["error"].startswith("admin token required")
    assert client.get("/admin/results.json", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/admin?token=wrong").status_code == 403
    ok = client.get("/admin/results.json", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.get_json()["raters"]["started"] == 1
    # /admin?token= sets an HttpOnly cookie and redirects to a URL without the token.
    login = client.get(f"/admin?token={TOKEN}")
    assert login.status_code == 303 and login.headers["Location"].endswith("/admin")
    cookie = client.get_cookie(ADMIN_COOKIE, path="/admin")
    assert cookie is not None and cookie.http_only
    assert client.get("/admin").status_code == 200
    assert client.get("/admin/votes.csv").data.startswith(b"rater_id,item_id")
    assert client.get("/admin/results.json?allowed_failures=x").status_code == 400


def test_only_the_study_media_are_served(app, study):
    client = app.test_client()
    token = study.pairs[0].media["ours"]
    ranged = client.get(f"/media/{token}.mp4", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.data) == 100
    assert client.get("/media/0123456789abcdef.mp4").status_code == 404
    assert client.get("/media/..%2Fstudy.json").status_code == 404
    assert client.get("/static/../study.json").status_code == 404
    assert client.get("/static/rate.js").status_code == 200
