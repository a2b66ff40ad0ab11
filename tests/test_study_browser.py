"""The real app in a real browser: Debian's headless Chromium, driven by Selenium, against `cpfnet study serve`.

A rater completes a study of 6 pairs (5 method pairs and 1 attention check) by clicking; the database then
holds exactly those 6 votes with the methods that were on screen left and right; a reload mid-way resumes
at the next pair; `cpfnet study results` computes the right table from them. The test's screenshot of the
rating page is the README's (set CPFNET_STUDY_SCREENSHOT=PATH to write it there).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from study_support import chromium, make_method_folders, running_server

from cpfnet.cli import main
from cpfnet.study.manifest import BROKEN, StudyConfig, create_study
from cpfnet.study.stats import binomial_p, wilson_interval
from cpfnet.study.store import open_store

pytestmark = pytest.mark.slow


def _wait(driver, condition, timeout=30, what="the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition(driver)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; page says: "
                         f"{driver.execute_script('return document.body.innerText')!r}")


def _on_pair(driver, position):
    """True once pair `position` is on screen with both videos playing and the buttons enabled."""
    return driver.execute_script(
        "const b = document.body.dataset, l = document.getElementById('left'), r = document.getElementById('right');"
        "return b.state === 'rating' && b.position === arguments[0] && !l.paused && !r.paused"
        " && !document.getElementById('choose-left').disabled;", str(position))


def _screen_pair(driver, media_method):
    """(item id, method on the left, method on the right) as the browser shows them."""
    item, left, right = driver.execute_script(
        "return [document.body.dataset.item, document.getElementById('left').currentSrc,"
        " document.getElementById('right').currentSrc];")
    token = lambda url: url.rsplit("/", 1)[1].removesuffix(".mp4")  # noqa: E731
    return item, media_method[token(left)], media_method[token(right)]


def test_a_rater_completes_the_study_in_chromium(tmp_path):
    folders = make_method_folders(tmp_path / "methods", clips=5, methods=("ours", "p2p"))
    study = create_study(StudyConfig(out=str(tmp_path / "study"), methods=[f"{k}={v}" for k, v in folders.items()],
                                     reference="ours", pairs_per_rater=5, checks_per_rater=1,
                                     title="CPF-Net user study"))
    media_method = {token: method for item in study.items.values() for method, token in item.media.items()}
    db = f"sqlite:///{tmp_path / 'votes.sqlite3'}"
    clicked = []  # (item, left method, right method, side clicked)
    with running_server(study.root, db) as server, chromium() as driver:
        driver.get(server.url + "/")
        _wait(driver, lambda d: d.execute_script("return document.body.dataset.state") == "intro", what="the intro")
        driver.find_element("id", "start").click()
        for position in range(6):
            _wait(driver, lambda d: _on_pair(d, position), what=f"pair {position + 1}")
            item, left, right = _screen_pair(driver, media_method)
            assert driver.find_element("id", "progress").text == f"Pair {position + 1} of 6"
            if position == 0:
                time.sleep(0.3)  # a frame or two into the clips
                shot = Path(os.environ.get("CPFNET_STUDY_SCREENSHOT") or tmp_path / "rating.png")
                driver.save_screenshot(str(shot))
                assert shot.stat().st_size > 5000
            if BROKEN in (left, right):  # an attention check: choose the intact video
                side = "right" if left == BROKEN else "left"
            else:  # otherwise "ours" on pairs 0, 1, 2 (when shown), the baseline after
                wanted = "ours" if position < 3 else "p2p"
                side = "left" if left == wanted else "right"
            clicked.append((item, left, right, side))
            driver.find_element("id", f"choose-{side}").click()
            if position == 2:  # a reload mid-study resumes at the next pair
                _wait(driver, lambda d: d.execute_script("return document.body.dataset.position") == "3",
                      what="the vote's answer")
                driver.refresh()
                _wait(driver, lambda d: _on_pair(d, 3), what="the resumed pair")
                assert driver.find_element("id", "progress").text == "Pair 4 of 6"
                store = open_store(db, study.study_id)  # WAL: reading beside the running server is fine
                (rater,) = store.raters()
                sequence = store.progress(rater["id"]).sequence
                store.close()
                assert _screen_pair(driver, media_method) == (sequence[3].item_id, sequence[3].left,
                                                              sequence[3].right)
        _wait(driver, lambda d: d.execute_script("return document.body.dataset.state") == "done", what="the end")
        code = driver.find_element("id", "code").text
        assert len(code) == 8
        # The admin page shows the table live; the rater's browser never had the token.
        driver.get(server.url + "/admin")
        assert "admin token required" in driver.find_element("tag name", "body").text
        driver.get(f"{server.url}/admin?token={study.admin_token()}")
        assert "token" not in driver.current_url
        _wait(driver, lambda d: "ours vs p2p" in d.find_element("id", "results").text, what="the admin table")
        admin_row = driver.find_element("css selector", "#results tbody tr").text

    store = open_store(db, study.study_id)
    votes = sorted(store.votes(), key=lambda v: v["position"])
    raters = store.raters()
    sequence = store.progress(raters[0]["id"]).sequence
    store.close()
    assert len(raters) == 1 and len(votes) == 6
    assert [(v["item_id"], v["left_method"], v["right_method"], v["choice"]) for v in votes] == clicked
    assert [(a.item_id, a.left, a.right) for a in sequence] == [c[:3] for c in clicked]
    for v in votes:
        assert v["chosen_method"] == (v["left_method"] if v["choice"] == "left" else v["right_method"])
        assert v["client_ms"] is not None and 0 <= v["client_ms"] < 60_000

    # The table from these votes: 5 pairs of ours vs p2p, the check passed.
    pairs = [c for c in clicked if BROKEN not in c[1:3]]
    k = sum((c[1] if c[3] == "left" else c[2]) == "ours" for c in pairs)
    assert main(["study", "results", str(study.root), "--db", db, "--out", str(tmp_path / "table.md")]) == 0
    result = json.loads((tmp_path / "table.json").read_text())
    (row,) = result["rows"]
    assert (row["comparison"], row["votes"], row["a_votes"], row["raters"]) == ("ours vs p2p", 5, k, 1)
    assert row["wilson95"] == pytest.approx(list(wilson_interval(k, 5)))
    assert row["p_binomial"] == pytest.approx(binomial_p(k, 5))
    assert result["votes"]["checks_answered"] == 1 and result["raters"]["excluded_failed_checks"] == 0
    assert result["raters"]["completed"] == 1
    assert f"| ours vs p2p | {k / 5:.2f} vs {1 - k / 5:.2f} |" in (tmp_path / "table.md").read_text()
    assert admin_row.startswith(f"ours vs p2p {k / 5:.2f} vs {1 - k / 5:.2f}") and " 5 1 " in admin_row


def test_phone_sized_window_shows_both_videos_and_buttons(tmp_path):
    folders = make_method_folders(tmp_path / "methods", clips=1, methods=("ours", "p2p"))
    study = create_study(StudyConfig(out=str(tmp_path / "study"), methods=[f"{k}={v}" for k, v in folders.items()],
                                     pairs_per_rater=1, checks_per_rater=0))
    with running_server(study.root, f"sqlite:///{tmp_path / 'v.db'}") as server, chromium(390, 844) as driver:
        driver.get(server.url + "/")
        _wait(driver, lambda d: d.execute_script("return document.body.dataset.state") == "intro")
        driver.find_element("id", "start").click()
        _wait(driver, lambda d: _on_pair(d, 0), what="the pair")
        boxes = driver.execute_script(
            "return ['left', 'right', 'choose-left', 'choose-right'].map(id => {"
            " const r = document.getElementById(id).getBoundingClientRect();"
            " return [r.left, r.right, r.top, r.bottom]; });")
        width = driver.execute_script("return document.documentElement.clientWidth")
        for x0, x1, y0, y1 in boxes:  # all on screen, nothing cut off, side by side
            assert 0 <= x0 < x1 <= width and y1 - y0 > 30
        assert boxes[0][1] <= boxes[1][0] and boxes[2][3] - boxes[2][2] >= 44  # touch-sized buttons
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
