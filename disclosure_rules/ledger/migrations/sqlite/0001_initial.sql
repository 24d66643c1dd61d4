-- The ledger's first schema (SQLite). Hashes are raw 32-byte SHA-256 digests.
CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- One row: the last record's sequence number and hash. Writers update it in the transaction that appends,
-- so a deleted tail of records no longer matches it.
CREATE TABLE ledger_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash BLOB NOT NULL);
INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, zeroblob(32));
-- Each distinct request and decision is stored once, keyed by the SHA-256 of its canonical JSON.
CREATE TABLE requests (
    sha BLOB PRIMARY KEY,
    body TEXT NOT NULL,
    disclosed_on TEXT,
    element TEXT,
    holder TEXT,
    recipient TEXT,
    purpose TEXT
) WITHOUT ROWID;
CREATE TABLE decisions (
    sha BLOB PRIMARY KEY,
    body TEXT NOT NULL,
    decision TEXT NOT NULL,
    status TEXT NOT NULL,
    rule TEXT,
    citations TEXT NOT NULL,
    ruleset_hash TEXT
) WITHOUT ROWID;
CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    decision_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    request_sha BLOB NOT NULL,
    decision_sha BLOB NOT NULL,
    request_id TEXT,
    subject TEXT,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
CREATE INDEX records_subject ON records (subject) WHERE subject IS NOT NULL;
