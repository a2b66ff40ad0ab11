"""The PostgreSQL backend of the votes database (psycopg 3, an optional dependency: imported when used)."""

from __future__ import annotations

import contextlib

from cpfnet.errors import UserError
from cpfnet.study.store.base import Store


class PostgresStore(Store):
    """A PostgreSQL database through psycopg 3 (`pip install 'cpfnet[postgres]'`)."""

    placeholder = "%s"

    def __init__(self, url: str, study_id: str):
        super().__init__(study_id)
        try:
            import psycopg
        except ImportError:
            raise UserError("PostgreSQL needs psycopg: pip install 'cpfnet[postgres]'") from None
        self._psycopg = psycopg
        self.url = url
        self.integrity_errors = (psycopg.errors.IntegrityError,)

    def _connect(self):
        try:
            return self._psycopg.connect(self.url, connect_timeout=10, autocommit=True)
        except self._psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"cannot connect to PostgreSQL: {first}") from None

    @contextlib.contextmanager
    def _transaction(self, conn):
        with conn.transaction():
            with conn.cursor() as cur:
                yield cur

    def _lock_rater(self, cur, rater_id: str) -> None:
        self._execute(cur, "SELECT id FROM raters WHERE id = ? FOR UPDATE", (rater_id,))
