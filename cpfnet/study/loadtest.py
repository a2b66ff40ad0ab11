"""Simulated raters against a running study server (localhost only), for the load and crash tests.

Each rater is a thread with its own keep-alive connection and cookie: Start, then vote on its current pair
as fast as the server answers (no think time: real raters spend seconds per pair, so this is a stress
bound), a new rater when a sequence is done, until the deadline. Every acknowledged vote (HTTP 200) is
remembered with the rater's session token, so a test can check that the database holds each one.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse


@dataclass
class Ack:
    token: str
    item: str
    choice: str
    position: int


@dataclass
class LoadReport:
    raters: int
    seconds: float
    acks: list[Ack] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)  # of every vote request
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    sessions: int = 0
    tokens_done: dict[str, int] = field(default_factory=dict)  # token -> votes acknowledged

    def percentile(self, q: float) -> float:
        values = sorted(self.latencies_ms)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]

    def summary(self) -> dict:
        return {"raters": self.raters, "seconds": round(self.seconds, 2), "sessions": self.sessions,
                "requests": self.requests, "votes": len(self.acks), "errors": len(self.errors),
                "votes_per_s": round(len(self.acks) / self.seconds, 1),
                "requests_per_s": round(self.requests / self.seconds, 1),
                "vote_ms_p50": round(self.percentile(50), 1), "vote_ms_p95": round(self.percentile(95), 1),
                "vote_ms_p99": round(self.percentile(99), 1), "vote_ms_max": round(max(self.latencies_ms or [0]), 1)}


def _check_local(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"{url}: load tests only target this machine (127.0.0.1, localhost, ::1)")
    return parsed.hostname, parsed.port or 80


class _Rater:
    def __init__(self, host: str, port: int, timeout: float):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None
        self.token = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.token:
            headers["Cookie"] = f"cpfnet_rater={self.token}"
        try:
            self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("cpfnet_rater="):
                self.token = value.split(";", 1)[0].split("=", 1)[1]
        return response.status, json.loads(data) if data else {}


def run_load(url: str, raters: int = 50, seconds: float = 10.0, timeout: float = 15.0, seed: int = 0,
             stop: threading.Event | None = None, report: LoadReport | None = None) -> LoadReport:
    """`raters` simulated raters voting against the server at `url` for `seconds` (or until `stop` is set).

    Pass `report` to watch it fill while the raters run (from another thread)."""
    host, port = _check_local(url)
    report = report or LoadReport(raters, seconds)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    stop = stop or threading.Event()

    def rater_loop(k: int):
        rng = random.Random(seed * 1000 + k)
        client = _Rater(host, port, timeout)
        state = None
        while time.monotonic() < deadline and not stop.is_set():
            try:
                if state is None or state.get("done"):
                    client.token = None
                    status, state = client.request("POST", "/api/start")
                    with lock:
                        report.requests += 1
                        report.sessions += status == 200
                    if status != 200:
                        raise RuntimeError(f"start: {status} {state}")
                    continue
                choice = rng.choice(("left", "right"))
                item = state["item"]["id"]
                t0 = time.perf_counter()
                status, answer = client.request("POST", "/api/vote", {"item": item, "choice": choice,
                                                                      "elapsed_ms": rng.randint(500, 9000)})
                ms = 1000 * (time.perf_counter() - t0)
                with lock:
                    report.requests += 1
                    report.latencies_ms.append(ms)
                    if status == 200:
                        report.acks.append(Ack(client.token, item, choice, answer["recorded"]["position"]))
                        report.tokens_done[client.token] = report.tokens_done.get(client.token, 0) + 1
                if status != 200:
                    raise RuntimeError(f"vote: {status} {answer}")
                state = answer
            except Exception as exc:  # noqa: BLE001 (every failure is counted, then the rater goes on)
                with lock:
                    report.errors.append(f"{type(exc).__name__}: {exc}")
                state = None if client.token is None else state
                time.sleep(0.05)
                if client.token is not None:
                    try:
                        status, fresh = client.request("GET", "/api/state")
                        state = fresh if status == 200 else None
                    except Exception:  # noqa: BLE001
                        pass

    threads = [threading.Thread(target=rater_loop, args=(k,), daemon=True) for k in range(raters)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 2 * timeout + 5)
    report.seconds = time.monotonic() - start
    return report
