-- iamwatch SQLite schema, version 5: the web console (iamwatch serve).
--
-- Console users with a bcrypt password hash; sessions keyed by the SHA-256
-- of the session cookie (the cookie itself is never stored) with their
-- CSRF token; and each alert's triage state, keyed by its dedup key (and
-- pruned with it).
-- Times are wall-clock (wallFormat).
CREATE TABLE console_users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE alert_triage (
    dedup_key TEXT PRIMARY KEY REFERENCES alerts (dedup_key) ON DELETE CASCADE,
    status    TEXT NOT NULL,
    by_user   TEXT NOT NULL,
    at        TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT ''
);
