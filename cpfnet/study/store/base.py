"""The votes database over any SQL backend: per-thread connections, transactions, the study's queries
and the rules of a vote. The backends (`sqlite.py`, `postgres.py`) fill in the connection hooks."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator, Sequence

from cpfnet.errors import UserError
from cpfnet.study.sequence import Assignment
from cpfnet.study.store.records import Progress, Rater, VoteRefused, hash_token
from cpfnet.study.store.schema import SCHEMA, VOTE_COLUMNS


class Store:
    """Thread-safe access to one study's votes: each thread gets its own connection."""

    placeholder = "?"

    def __init__(self, study_id: str):
        self.study_id = study_id
        self._local = threading.local()
        self._connections: list = []
        self._lock = threading.Lock()

    # -- backend hooks ---------------------------------------------------------------------------------
    def _connect(self):
        raise NotImplementedError

    @contextlib.contextmanager
    def _transaction(self, conn) -> Iterator:
        raise NotImplementedError

    def _lock_rater(self, cur, rater_id: str) -> None:
        """Serialise this rater's votes (no-op where transactions are serialised anyway)."""

    integrity_errors: tuple[type[BaseException], ...] = ()

    # -- plumbing ----------------------------------------------------------------------------------------
    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._lock:
                self._connections.append(conn)
        return conn

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    @contextlib.contextmanager
    def transaction(self) -> Iterator:
        """A cursor inside one write transaction, committed on exit (rolled back on an exception)."""
        conn = self._conn()
        with self._transaction(conn) as cur:
            yield cur

    def _execute(self, cur, sql: str, params: Sequence = ()):
        cur.execute(self._sql(sql), tuple(params))
        return cur

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        conn = self._conn()
        with self._read(conn) as cur:
            return list(self._execute(cur, sql, params).fetchall())

    @contextlib.contextmanager
    def _read(self, conn) -> Iterator:
        with self._transaction(conn) as cur:
            yield cur

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(Exception):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- the study's data ----------------------------------------------------------------------------------
    def init(self) -> "Store":
        """Create the tables if needed; a UserError when the database belongs to another study."""
        with self.transaction() as cur:
            for statement in SCHEMA:
                self._execute(cur, statement)
            self._execute(cur, "INSERT INTO study_meta (key, value) VALUES ('study_id', ?) "
                               "ON CONFLICT (key) DO NOTHING", (self.study_id,))
            (found,), = self._execute(cur, "SELECT value FROM study_meta WHERE key = 'study_id'").fetchall()
        if found != self.study_id:
            raise UserError(f"the database holds the votes of another study ({found}, this one is {self.study_id}); "
                            "give this study its own database")
        return self

    def shown_counts(self) -> dict[str, int]:
        """item id -> number of raters given it."""
        return dict(self._query("SELECT item_id, COUNT(*) FROM assignments GROUP BY item_id"))

    def create_rater(self, rater_id: str, token: str, code: str, sequence: list[Assignment],
                     label: str | None = None, user_agent: str | None = None) -> Rater:
        now = time.time()
        with self.transaction() as cur:
            self._execute(cur, "INSERT INTO raters (id, token_hash, label, user_agent, code, created_at) "
                               "VALUES (?, ?, ?, ?, ?, ?)", (rater_id, hash_token(token), label, user_agent, code, now))
            for a in sequence:
                self._execute(cur, "INSERT INTO assignments (rater_id, position, item_id, left_method, right_method) "
                                   "VALUES (?, ?, ?, ?, ?)", (rater_id, a.position, a.item_id, a.left, a.right))
        return Rater(rater_id, code, now)

    def rater_by_token(self, token: str) -> Rater | None:
        rows = self._query("SELECT id, code, created_at FROM raters WHERE token_hash = ?", (hash_token(token),))
        return Rater(*rows[0]) if rows else None

    def progress(self, rater_id: str) -> Progress:
        rows = self._query(
            "SELECT a.position, a.item_id, a.left_method, a.right_method, v.choice FROM assignments a "
            "LEFT JOIN votes v ON v.rater_id = a.rater_id AND v.position = a.position "
            "WHERE a.rater_id = ? ORDER BY a.position", (rater_id,))
        return Progress([Assignment(p, i, left, right) for p, i, left, right, _ in rows], [r[4] for r in rows])

    def vote(self, rater: Rater, item_id: str, choice: str, client_ms: int | None) -> dict:
        """Record `rater`'s choice ("left" or "right") on `item_id`; the stored row as a dict.

        Raises VoteRefused: 404 when the pair is not in the rater's sequence, 409 when it was voted on
        already or is not the rater's current pair. Nothing is written then."""
        if choice not in ("left", "right"):
            raise VoteRefused(400, "choice must be \"left\" or \"right\"")
        try:
            with self.transaction() as cur:
                self._lock_rater(cur, rater.id)
                found = self._execute(cur, "SELECT position, left_method, right_method FROM assignments "
                                           "WHERE rater_id = ? AND item_id = ?", (rater.id, item_id)).fetchall()
                if not found:
                    raise VoteRefused(404, f"pair {item_id!r} is not in your sequence")
                (position, left, right), = found
                (count, last), = self._execute(cur, "SELECT COUNT(*), MAX(created_at) FROM votes WHERE rater_id = ?",
                                               (rater.id,)).fetchall()
                if self._execute(cur, "SELECT 1 FROM votes WHERE rater_id = ? AND item_id = ?",
                                 (rater.id, item_id)).fetchall():
                    raise VoteRefused(409, f"you already voted on pair {item_id!r}")
                if position != count:
                    raise VoteRefused(409, f"pair {item_id!r} is not your current pair (that is pair {count + 1})")
                now = time.time()
                row = dict(zip(VOTE_COLUMNS, (rater.id, item_id, position, choice, left if choice == "left" else right,
                                              left, right, client_ms, int(1000 * (now - (last or rater.created_at))),
                                              now)))
                self._execute(cur, f"INSERT INTO votes ({', '.join(VOTE_COLUMNS)}) "
                                   f"VALUES ({', '.join('?' * len(VOTE_COLUMNS))})", tuple(row.values()))
        except self.integrity_errors:  # a concurrent request won the race for this pair
            raise VoteRefused(409, f"you already voted on pair {item_id!r}") from None
        return row

    def votes(self) -> list[dict]:
        rows = self._query(f"SELECT {', '.join(VOTE_COLUMNS)} FROM votes ORDER BY created_at, rater_id")
        return [dict(zip(VOTE_COLUMNS, r)) for r in rows]

    def raters(self) -> list[dict]:
        rows = self._query("SELECT r.id, r.label, r.created_at, COUNT(v.item_id) FROM raters r "
                           "LEFT JOIN votes v ON v.rater_id = r.id GROUP BY r.id, r.label, r.created_at "
                           "ORDER BY r.created_at")
        return [dict(zip(("id", "label", "created_at", "votes"), r)) for r in rows]
