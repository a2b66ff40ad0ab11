"""The votes database, on SQLite and on PostgreSQL (a throwaway server; skipped where none can be had)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from study_support import fresh_database, make_method_folders, shared_postgres

from cpfnet.errors import UserError
from cpfnet.study.manifest import StudyConfig, create_study
from cpfnet.study.sequence import draw_sequence
from cpfnet.study.store import SQLiteStore, VoteRefused, open_store


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    folders = make_method_folders(root / "methods", clips=3)
    return create_study(StudyConfig(out=str(root / "s"), methods=[f"{k}={v}" for k, v in folders.items()],
                                    reference="ours", pairs_per_rater=4, checks_per_rater=1))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'votes.sqlite3'}"
    return fresh_database(shared_postgres())


def _rater(store, study, name="r1", seed=0):
    seq = draw_sequence(study, store.shown_counts(), np.random.default_rng(seed))
    return store.create_rater(name, f"token-{name}", "CODE", seq), seq


def test_votes_in_order_and_refusals_write_nothing(study, db_url):
    store = open_store(db_url, study.study_id)
    rater, seq = _rater(store, study)
    assert store.rater_by_token("token-r1") == rater and store.rater_by_token("nope") is None
    assert store.progress(rater.id).position == 0
    other = next(i for i in study.items if i not in {a.item_id for a in seq})
    refusals = [(other, 404, "not in your sequence"), (seq[1].item_id, 409, "not your current pair")]
    for item, status, message in refusals:
        with pytest.raises(VoteRefused, match=message) as info:
            store.vote(rater, item, "left", 100)
        assert info.value.status == status
    assert store.votes() == []
    row = store.vote(rater, seq[0].item_id, "right", 1234)
    assert (row["position"], row["chosen_method"], row["left_method"]) == (0, seq[0].right, seq[0].left)
    with pytest.raises(VoteRefused, match="already voted") as info:
        store.vote(rater, seq[0].item_id, "left", 10)
    assert info.value.status == 409
    (stored,) = store.votes()
    assert stored["choice"] == "right" and stored["client_ms"] == 1234 and stored["server_ms"] >= 0
    progress = store.progress(rater.id)
    assert progress.position == 1 and progress.votes[0] == "right" and not progress.done
    for a in seq[1:]:
        store.vote(rater, a.item_id, "left", None)
    assert store.progress(rater.id).done and len(store.votes()) == len(seq)
    assert store.raters()[0]["votes"] == len(seq)
    store.close()
    # Everything is still there for a new connection (another process, after a restart).
    again = open_store(db_url, study.study_id)
    assert len(again.votes()) == len(seq) and again.shown_counts()[seq[0].item_id] == 1
    again.close()


def test_concurrent_duplicate_votes_record_one(study, db_url):
    store = open_store(db_url, study.study_id)
    rater, seq = _rater(store, study)
    results = []
    barrier = threading.Barrier(8)

    def vote(choice):
        barrier.wait()
        try:
            store.vote(rater, seq[0].item_id, choice, 5)
            results.append("ok")
        except VoteRefused as exc:
            results.append(exc.status)

    threads = [threading.Thread(target=vote, args=("left" if k % 2 else "right",)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == [409] * 7 + ["ok"]
    assert len(store.votes()) == 1
    store.close()


def test_a_database_of_another_study_is_refused(study, db_url):
    open_store(db_url, study.study_id).close()
    with pytest.raises(UserError, match="another study"):
        open_store(db_url, "someotherstudy")


def test_database_urls(tmp_path, monkeypatch, study):
    monkeypatch.chdir(tmp_path)
    assert isinstance(open_store("sqlite:///rel.db", study.study_id), SQLiteStore)
    assert (tmp_path / "rel.db").exists()
    assert open_store(f"sqlite:///{tmp_path / 'abs.db'}", study.study_id).path == tmp_path / "abs.db"
    assert open_store(str(tmp_path / "plain.db"), study.study_id).path == tmp_path / "plain.db"
    with pytest.raises(UserError, match="sqlite:///PATH or postgresql"):
        open_store("mysql://x/y", study.study_id)
    with pytest.raises(UserError, match="no such folder"):
        open_store(str(tmp_path / "missing" / "v.db"), study.study_id)
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(UserError, match="not a usable SQLite database"):
        open_store(str(tmp_path / "junk.db"), study.study_id)


def test_sqlite_is_in_wal_mode_with_full_sync(tmp_path, study):
    store = open_store(str(tmp_path / "v.db"), study.study_id)
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
