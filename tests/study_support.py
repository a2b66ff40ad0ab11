"""Shared pieces of the `cpfnet study` tests: tiny method folders, a running server, a throwaway PostgreSQL,
a headless Chromium.

What a test needs and cannot get (no Chromium, no PostgreSQL binaries) makes it skip with the reason, except
under CI (CI=true), where it fails: there `make system-deps` has installed them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from cpfnet.io.video import VideoWriter

REPO = Path(__file__).resolve().parents[1]
SIZE, FRAMES, FPS = 64, 6, 8.0


def unavailable(reason: str):
    """Skip, or fail under CI, where everything the tests need must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it: see `make system-deps`)")
    pytest.skip(reason)


def dancer_frames(phase: float, blur: int = 0, colour=(200, 70, 60), frames: int = FRAMES) -> list[np.ndarray]:
    """A stick figure waving its arms on a light floor, [FRAMES] x [64, 64, 3] uint8; `blur` > 0 for a worse
    'method'."""
    out = []
    for t in range(frames):
        img = np.full((SIZE, SIZE, 3), 235, np.uint8)
        img[46:] = (205, 200, 190)
        a = np.sin(phase + 2 * np.pi * t / frames)
        x = 26 + 2 * t  # the figure also steps to the right, so no two frames are alike
        cv2.circle(img, (x, 14), 5, colour, -1)
        cv2.line(img, (x, 19), (x, 38), colour, 3)
        for side in (-1, 1):
            cv2.line(img, (x, 24), (x + side * 12, int(24 - 10 * a * side)), colour, 2)
            cv2.line(img, (x, 38), (x + side * 7, 56), colour, 3)
        if blur:
            img = cv2.GaussianBlur(img, (0, 0), blur)
        out.append(img)
    return out


def write_video(path: Path, frames: list[np.ndarray], fps: float = FPS) -> Path:
    with VideoWriter(path, fps, preset="ultrafast") as writer:
        for frame in frames:
            writer.write(frame)
    return path


def make_method_folders(root: Path, clips: int = 3, methods=("ours", "p2p", "v2v")) -> dict[str, Path]:
    """One folder of `clips` tiny videos per method; the same file name = the same transfer."""
    looks = {"ours": dict(blur=0, colour=(200, 70, 60)), "p2p": dict(blur=2, colour=(150, 90, 80)),
             "v2v": dict(blur=1, colour=(90, 90, 160))}
    folders = {}
    for m in methods:
        folder = root / m
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(clips):
            write_video(folder / f"clip{k}.mp4", dancer_frames(k, **looks.get(m, {})))
        folders[m] = folder
    return folders


# -- a running server ------------------------------------------------------------------------------------
class Server:
    """`cpfnet study serve` in a subprocess on a free localhost port."""

    def __init__(self, study: Path, db: str, threads: int = 8):
        self.study, self.db, self.threads = study, db, threads
        self.proc = None
        self.url = None

    def start(self, timeout: float = 60) -> "Server":
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        # Output goes to a file, not a pipe: a pipe nobody reads fills up and blocks the server.
        self.log = Path(tempfile.mkstemp(prefix="cpfnet-study-server-", suffix=".log")[1])
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "cpfnet.cli", "study", "serve", str(self.study),
                                          "--port", "0", "--db", self.db, "--threads", str(self.threads)],
                                         stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            match = re.search(r"^rating page: (http://\S+?)/\s*$", self.log.read_text(), re.M)
            if match:
                self.url = match.group(1)
                return self
            time.sleep(0.05)
        output = self.log.read_text()
        self.kill()
        raise RuntimeError("the server did not start:\n" + output)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind in the server, as a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._drop_log()

    def _drop_log(self) -> None:
        if getattr(self, "log", None):
            self.log.unlink(missing_ok=True)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._drop_log()


@contextlib.contextmanager
def running_server(study: Path, db: str, threads: int = 8):
    server = Server(study, db, threads).start()
    try:
        yield server
    finally:
        server.stop()


# -- PostgreSQL -------------------------------------------------------------------------------------------
def _pg_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


@contextlib.contextmanager
def postgres_server():
    """A PostgreSQL URL: $CPFNET_TEST_POSTGRES_URL, else a throwaway cluster on a Unix socket in /tmp.

    The cluster runs as the `postgres` user when we are root (PostgreSQL refuses to run as root) and is
    removed at the end."""
    url = os.environ.get("CPFNET_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bindir = _pg_bindir()
    if bindir is None:
        unavailable("no PostgreSQL server binaries (initdb); install the postgresql package")
    root = os.geteuid() == 0
    if root:
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root and there is no postgres user to run PostgreSQL as")
    work = Path(tempfile.mkdtemp(prefix="cpfnet-pg-"))
    data = work / "data"
    if root:
        os.chown(work, owner.pw_uid, owner.pw_gid)
    as_owner = ["runuser", "-u", "postgres", "--"] if root else []

    def run(*cmd):
        return subprocess.run([*as_owner, *cmd], capture_output=True, text=True, timeout=120)

    try:
        result = run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                     "--no-sync")
        if result.returncode:
            unavailable(f"initdb failed: {result.stderr.strip()[-300:]}")
        options = f"-k {work} -c listen_addresses='' -p 5432 -c max_connections=200 -c fsync=on"
        result = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(work / "log"), "-o", options, "-w",
                     "-t", "60", "start")
        if result.returncode:
            log = (work / "log").read_text() if (work / "log").exists() else ""
            unavailable(f"PostgreSQL did not start: {(result.stderr + log).strip()[-300:]}")
        yield f"postgresql://postgres@/postgres?host={work}&port=5432"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(work, ignore_errors=True)


_SHARED_PG: dict = {}


def shared_postgres() -> str:
    """One throwaway PostgreSQL for the whole test run (started on first use, stopped at exit); skips (fails
    under CI) where none can be had."""
    if "url" not in _SHARED_PG and "reason" not in _SHARED_PG:
        stack = contextlib.ExitStack()
        try:
            _SHARED_PG["url"] = stack.enter_context(postgres_server())
            atexit.register(stack.close)
        except BaseException as exc:  # pytest's skip and fail are BaseExceptions
            stack.close()
            _SHARED_PG["reason"] = exc
    if "reason" in _SHARED_PG:
        raise _SHARED_PG["reason"]
    return _SHARED_PG["url"]


def fresh_database(server_url: str) -> str:
    """A new, empty database on the server; its URL."""
    import secrets

    import psycopg

    name = f"cpfnet_study_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, query = server_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


# -- Chromium ---------------------------------------------------------------------------------------------
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required", "--disable-dev-shm-usage")


@contextlib.contextmanager
def chromium(width: int = 960, height: int = 720):
    """Debian's Chromium driven by Debian's chromedriver (Selenium Manager is never asked to download one)."""
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    driver_path = shutil.which("chromedriver")
    if not browser or not driver_path:
        unavailable("no chromium and chromedriver (Debian: apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    profile = tempfile.mkdtemp(prefix="cpfnet-chromium-")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
