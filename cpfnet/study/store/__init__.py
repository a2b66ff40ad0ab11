"""The votes database: SQLite (one file, WAL) by default, PostgreSQL through a URL.

Three tables, the same SQL on both:

    raters(id, token_hash, label, user_agent, code, created_at)
    assignments(rater_id, position, item_id, left_method, right_method)     -- a rater's sequence
    votes(rater_id, item_id, position, choice, chosen_method, left_method, right_method,
          client_ms, server_ms, created_at)

A vote is acknowledged only after its transaction has committed: SQLite runs with `synchronous=FULL` in
WAL mode, so a committed vote is in the WAL file, fsynced, before the answer leaves (a kill -9, or a
power cut, loses none); PostgreSQL's commit is durable by default. The database itself refuses a second
vote on a pair (primary key rater + item) and a vote out of sequence (unique rater + position, and the
position must be the rater's next), so no race between two requests can record both.

Raters are known by the SHA-256 of their session token only; the token lives in their browser's cookie.

    schema.py     the tables (SQL both backends run)
    records.py    what the store hands out: Rater, Progress, VoteRefused; token hashing
    base.py       Store: per-thread connections, transactions, the study's queries and the vote rules
    sqlite.py     SQLiteStore (WAL, synchronous=FULL)
    postgres.py   PostgresStore (psycopg 3, row lock per rater)
    __init__.py   open_store: the backend a URL names, its tables made
"""

from __future__ import annotations

import sqlite3

from cpfnet.errors import UserError
from cpfnet.study.store.base import Store
from cpfnet.study.store.postgres import PostgresStore
from cpfnet.study.store.records import Progress, Rater, VoteRefused, hash_token
from cpfnet.study.store.schema import SCHEMA, VOTE_COLUMNS
from cpfnet.study.store.sqlite import SQLiteStore

__all__ = ["SCHEMA", "VOTE_COLUMNS", "PostgresStore", "Progress", "Rater", "SQLiteStore", "Store", "VoteRefused",
           "hash_token", "open_store"]


def open_store(url: str, study_id: str) -> Store:
    """`sqlite:////ABS/PATH`, `sqlite:///REL/PATH`, a plain file path, or `postgresql://...` -> a Store, tables made."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, study_id).init()
    if url.startswith("sqlite:///"):  # as SQLAlchemy: sqlite:///rel.db, sqlite:////abs/votes.db
        path = url[len("sqlite:///"):]
    elif url.startswith("sqlite:"):
        path = url[len("sqlite:"):]
    elif "://" in url:
        raise UserError(f"--db {url}: use sqlite:///PATH or postgresql://USER@HOST/DB")
    else:
        path = url
    if not path:
        raise UserError(f"--db {url}: no file name")
    try:
        return SQLiteStore(path, study_id).init()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: not a usable SQLite database ({exc})") from None
