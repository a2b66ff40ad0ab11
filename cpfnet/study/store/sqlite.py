"""The SQLite backend of the votes database: one file in WAL mode, fsynced at every commit."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from cpfnet.errors import UserError
from cpfnet.study.store.base import Store


class SQLiteStore(Store):
    """One file in WAL mode: readers never block the writer; writes are serialised (one lock in this
    process, SQLite's own lock across processes)."""

    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path, study_id: str):
        super().__init__(study_id)
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise UserError(f"{self.path.parent}: no such folder for the database")
        self._write_lock = threading.Lock()

    def _connect(self):
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # the WAL is fsynced at every commit
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextlib.contextmanager
    def _transaction(self, conn):
        with self._write_lock:
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    @contextlib.contextmanager
    def _read(self, conn):
        cur = conn.cursor()  # autocommit: one statement is one consistent snapshot
        yield cur
