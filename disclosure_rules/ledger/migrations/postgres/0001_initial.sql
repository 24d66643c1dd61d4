-- The ledger's first schema (PostgreSQL); the same tables as the SQLite schema.
CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE ledger_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash BYTEA NOT NULL);
INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
CREATE TABLE requests (
    sha BYTEA PRIMARY KEY,
    body TEXT NOT NULL,
    disclosed_on TEXT,
    element TEXT,
    holder TEXT,
    recipient TEXT,
    purpose TEXT
);
CREATE TABLE decisions (
    sha BYTEA PRIMARY KEY,
    body TEXT NOT NULL,
    decision TEXT NOT NULL,
    status TEXT NOT NULL,
    rule TEXT,
    citations TEXT NOT NULL,
    ruleset_hash TEXT
);
CREATE TABLE records (
    seq BIGINT PRIMARY KEY,
    decision_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    request_sha BYTEA NOT NULL,
    decision_sha BYTEA NOT NULL,
    request_id TEXT,
    subject TEXT,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX records_subject ON records (subject) WHERE subject IS NOT NULL;
