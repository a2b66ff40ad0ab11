"""The study's web app (Flask): the rating page, its JSON API, the videos, the admin page.

Raters:
    GET  /                 the rating page (static HTML + rate.js; works on a phone)
    GET  /api/state        where this rater is: {started, position, total, done, item: {id, left, right}}
    POST /api/start        make this browser a rater (a random sequence, a session cookie); idempotent
    POST /api/vote         {"item": ID, "choice": "left"|"right", "elapsed_ms": N} -> the next state
    GET  /media/TOKEN.mp4  a video (byte ranges, so players can seek)
Admin (token as `Authorization: Bearer TOKEN`, or `/admin?token=TOKEN` once, which sets a cookie):
    GET  /admin            the live results page
    GET  /admin/results.json, /admin/votes.csv

A rater is only ever their session cookie: no route takes a rater id, so nobody can read or change another's
votes. Refusals are JSON `{"error": message}` with a status that says why: 400 malformed body, 401 no session,
404 a pair not in your sequence, 409 a pair already voted on or not your current one, 413 body too large,
415 not JSON; 401 / 403 for a missing / wrong admin token. A refused request writes nothing.
"""

from __future__ import annotations

import csv
import hmac
import io
import re
import secrets
import threading
from pathlib import Path

import numpy as np
from flask import Flask, Response, abort, jsonify, redirect, request, send_file
from werkzeug.exceptions import HTTPException

from cpfnet.study.manifest import Study
from cpfnet.study.sequence import draw_sequence
from cpfnet.study.stats import compute_results
from cpfnet.study.store import Progress, Rater, Store, VoteRefused

STATIC = Path(__file__).with_name("static")
RATER_COOKIE = "cpfnet_rater"
ADMIN_COOKIE = "cpfnet_admin"
MAX_BODY = 4096  # bytes; a vote is about 60
MAX_ELAPSED_MS = 3_600_000
_LABEL = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def create_app(study: Study, store: Store, admin_token: str, secure_cookies: bool = False,
               seed: int | None = None) -> Flask:
    """The app for one study and its store. `secure_cookies` when served over HTTPS (behind a proxy)."""
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    media = {token for item in study.items.values() for token in item.media.values()}
    rng = np.random.default_rng(seed)
    rng_lock = threading.Lock()

    def error(status: int, message: str):
        response = jsonify(error=message)
        response.status_code = status
        return response

    @app.errorhandler(_Refused)
    def _refused(exc: _Refused):
        return error(exc.status, exc.message)

    @app.errorhandler(VoteRefused)
    def _vote_refused(exc: VoteRefused):
        return error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 413:
            return error(413, f"request body larger than {MAX_BODY} bytes")
        if request.path.startswith(("/api/", "/admin/", "/media/")):
            return error(exc.code or 500, exc.description or exc.name)
        return exc

    @app.after_request
    def _headers(response: Response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")  # the admin token never leaks in a Referer
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                    "frame-ancestors 'none'")
        if request.path.startswith(("/api/", "/admin")) or request.path == "/":
            response.headers["Cache-Control"] = "no-store"
        return response

    # -- raters ------------------------------------------------------------------------------------------
    def current_rater() -> Rater | None:
        token = request.cookies.get(RATER_COOKIE)
        if not token or len(token) > 100:
            return None
        return store.rater_by_token(token)

    def state(rater: Rater | None, progress: Progress | None = None) -> dict:
        base = {"title": study.title, "question": study.question, "total": study.per_rater}
        if rater is None:
            return base | {"started": False}
        progress = progress or store.progress(rater.id)
        out = base | {"started": True, "position": progress.position, "total": len(progress.sequence),
                      "done": progress.done}
        if progress.done:
            out["code"] = rater.code
        else:
            a = progress.sequence[progress.position]
            item = study.items[a.item_id]
            out["item"] = {"id": a.item_id, "left": f"/media/{item.media[a.left]}.mp4",
                           "right": f"/media/{item.media[a.right]}.mp4"}
        return out

    def json_body() -> dict:
        if request.mimetype != "application/json":
            raise _Refused(415, "send the body as application/json")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise _Refused(400, "the body is not a JSON object")
        return body

    @app.get("/")
    def index():
        return send_file(STATIC / "rate.html", mimetype="text/html", max_age=0)

    @app.get("/static/<name>")
    def static_file(name: str):
        if name not in ("rate.js", "admin.js", "study.css"):
            abort(404)
        return send_file(STATIC / name, max_age=0)

    @app.get("/healthz")
    def healthz():
        return jsonify(ok=True)

    @app.get("/api/state")
    def api_state():
        return jsonify(state(current_rater()))

    @app.post("/api/start")
    def api_start():
        rater = current_rater()
        if rater is not None:
            return jsonify(state(rater))
        body = json_body() if request.content_length else {}
        label = body.get("label")
        if label is not None and (not isinstance(label, str) or not _LABEL.match(label)):
            raise _Refused(400, "label: 1-64 letters, digits or _.@-")
        with rng_lock:
            sub = np.random.default_rng(rng.integers(1 << 63))
        sequence = draw_sequence(study, store.shown_counts(), sub)
        token = secrets.token_urlsafe(32)
        rater = store.create_rater(f"r{secrets.token_hex(6)}", token, secrets.token_hex(4).upper(), sequence,
                                   label=label, user_agent=request.headers.get("User-Agent", "")[:300])
        response = jsonify(state(rater))
        response.set_cookie(RATER_COOKIE, token, max_age=60 * 60 * 24 * 30, httponly=True, samesite="Lax",
                            secure=secure_cookies)
        return response

    @app.post("/api/vote")
    def api_vote():
        rater = current_rater()
        if rater is None:
            raise _Refused(401, "no rater session: reload the page and press Start")
        body = json_body()
        unknown = set(body) - {"item", "choice", "elapsed_ms"}
        if unknown:
            raise _Refused(400, f"unknown field(s): {', '.join(sorted(unknown))}")
        item, choice, elapsed = body.get("item"), body.get("choice"), body.get("elapsed_ms")
        if not isinstance(item, str) or not item or len(item) > 32:
            raise _Refused(400, "item: the pair's id, a string")
        if choice not in ("left", "right"):
            raise _Refused(400, "choice: \"left\" or \"right\"")
        if elapsed is not None and (isinstance(elapsed, bool) or not isinstance(elapsed, int)
                                    or not 0 <= elapsed <= MAX_ELAPSED_MS):
            raise _Refused(400, f"elapsed_ms: an integer from 0 to {MAX_ELAPSED_MS}")
        if item not in study.items:
            raise _Refused(404, f"pair {item!r} is not in your sequence")
        recorded = store.vote(rater, item, choice, elapsed)
        return jsonify(state(rater) | {"recorded": {"item": item, "position": recorded["position"],
                                                     "choice": choice}})

    @app.get("/media/<token>.mp4")
    def media_file(token: str):
        if token not in media:
            abort(404)
        return send_file(study.media_path(token), mimetype="video/mp4", conditional=True, max_age=3600)

    # -- admin ---------------------------------------------------------------------------------------------
    def check_admin() -> None:
        given = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            given = header[len("Bearer "):].strip()
        given = given or request.args.get("token") or request.cookies.get(ADMIN_COOKIE)
        if not given:
            raise _Refused(401, "admin token required (Authorization: Bearer TOKEN, or /admin?token=TOKEN)")
        if not hmac.compare_digest(given.encode(), admin_token.encode()):
            raise _Refused(403, "wrong admin token")

    @app.get("/admin")
    def admin():
        check_admin()
        if "token" in request.args:  # keep the token out of the address bar and the history
            response = redirect("/admin", code=303)
            response.set_cookie(ADMIN_COOKIE, request.args["token"], httponly=True, samesite="Strict",
                                path="/admin", secure=secure_cookies)
            return response
        return send_file(STATIC / "admin.html", mimetype="text/html", max_age=0)

    @app.get("/admin/results.json")
    def admin_results():
        check_admin()
        allowed = request.args.get("allowed_failures", "0")
        if not allowed.isdigit():
            raise _Refused(400, "allowed_failures: a whole number")
        return jsonify(compute_results(study, store.votes(), store.raters(), allowed_failures=int(allowed)))

    @app.get("/admin/votes.csv")
    def admin_votes():
        check_admin()
        votes = store.votes()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["rater_id", "item_id", "kind", "variant", "video", "position", "left_method",
                         "right_method", "choice", "chosen_method", "client_ms", "server_ms", "created_at"])
        for v in votes:
            item = study.items.get(v["item_id"])
            writer.writerow([v["rater_id"], v["item_id"], item.kind if item else "", item.variant if item else "",
                             item.video if item else "", v["position"], v["left_method"], v["right_method"],
                             v["choice"], v["chosen_method"], v["client_ms"], v["server_ms"], f"{v['created_at']:.3f}"])
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=votes.csv"})

    return app
