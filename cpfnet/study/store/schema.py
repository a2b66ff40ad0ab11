"""The votes database's tables, in SQL that SQLite and PostgreSQL both run (see `cpfnet.study.store`)."""

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS study_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS raters (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        label TEXT,
        user_agent TEXT,
        code TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS assignments (
        rater_id TEXT NOT NULL REFERENCES raters (id),
        position INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        left_method TEXT NOT NULL,
        right_method TEXT NOT NULL,
        PRIMARY KEY (rater_id, position),
        UNIQUE (rater_id, item_id))""",
    """CREATE TABLE IF NOT EXISTS votes (
        rater_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        choice TEXT NOT NULL CHECK (choice IN ('left', 'right')),
        chosen_method TEXT NOT NULL,
        left_method TEXT NOT NULL,
        right_method TEXT NOT NULL,
        client_ms INTEGER,
        server_ms INTEGER NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (rater_id, item_id),
        UNIQUE (rater_id, position),
        FOREIGN KEY (rater_id, position) REFERENCES assignments (rater_id, position))""",
    "CREATE INDEX IF NOT EXISTS assignments_item ON assignments (item_id)",
)
VOTE_COLUMNS = ("rater_id", "item_id", "position", "choice", "chosen_method", "left_method", "right_method",
                "client_ms", "server_ms", "created_at")
