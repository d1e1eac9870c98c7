-- iamwatch SQLite schema, version 1 (PRAGMA user_version = 1).
--
-- This file is the first migration; later versions are appended as
-- migrate_NNN.sql and applied in order by Open. Users may query every table
-- directly (`iamwatch query --sql`); column names are stable.
--
-- Conventions
--   * Event times (events.event_time, alerts.time, alerts.window_start/end,
--     threshold_hits.time) are TEXT '2006-01-02T15:04:05Z': RFC 3339, UTC,
--     whole seconds (CloudTrail's precision). They sort as text.
--   * Wall-clock times (alerts.created_at, deliveries.next_try/sent_at,
--     checkpoints.event_time/last_run) are TEXT '2006-01-02T15:04:05.000000000Z':
--     UTC, fixed width, nanoseconds, so they sort as text too.
--   * A zero (unset) time is ''. Text columns hold '' rather than NULL, except
--     the JSON columns request_parameters/response_elements (NULL when absent).
--   * events.raw is the raw CloudTrail record (JSON) compressed as one S2
--     block (github.com/klauspost/compress/s2, a Snappy extension that also
--     decodes Snappy); NULL when the source had none. `iamwatch show ID`
--     prints it. S2 was chosen over zstd by measurement: on ~1 KB records it
--     compresses ~8x faster (1.2 µs vs 9.5 µs a record here) for blobs ~25%
--     larger, and compression is on the hot path of every scan.
--
-- The database uses auto_vacuum=INCREMENTAL (set when the file is created), so
-- pruning gives space back with PRAGMA incremental_vacuum.

-- events: one row per CloudTrail eventID. The implicit integer rowid is the
-- primary key (inserts are much faster than with a text primary key); the
-- unique index on event_id makes PutEvents idempotent.
CREATE TABLE events (
    event_id           TEXT NOT NULL,
    event_time         TEXT NOT NULL,
    event_date         TEXT NOT NULL,           -- YYYY-MM-DD, UTC day of event_time
    event_source       TEXT NOT NULL DEFAULT '',
    event_name         TEXT NOT NULL DEFAULT '',
    event_type         TEXT NOT NULL DEFAULT '', -- iam, sts, signin, sso, other
    user_name          TEXT NOT NULL DEFAULT '',
    identity_type      TEXT NOT NULL DEFAULT '',
    principal_arn      TEXT NOT NULL DEFAULT '',
    account_id         TEXT NOT NULL DEFAULT '',
    aws_region         TEXT NOT NULL DEFAULT '',
    source_ip          TEXT NOT NULL DEFAULT '',
    user_agent         TEXT NOT NULL DEFAULT '', -- attacker-controlled
    request_parameters TEXT,                     -- JSON object or NULL; attacker-controlled
    response_elements  TEXT,                     -- JSON object or NULL
    error_code         TEXT NOT NULL DEFAULT '',
    error_message      TEXT NOT NULL DEFAULT '',
    mfa_used           TEXT NOT NULL DEFAULT '', -- yes, no or ''
    read_only          TEXT NOT NULL DEFAULT '', -- true, false or ''
    category           TEXT NOT NULL DEFAULT '', -- CloudTrail eventType: AwsApiCall, AwsConsoleSignIn, …
    invoked_by         TEXT NOT NULL DEFAULT '',
    target_role        TEXT NOT NULL DEFAULT '',
    raw                BLOB                      -- S2 block of the raw JSON record (see the header)
);
CREATE UNIQUE INDEX events_event_id      ON events (event_id);
CREATE INDEX        events_time          ON events (event_time);
CREATE INDEX        events_user_time     ON events (user_name, event_time);
CREATE INDEX        events_name_time     ON events (event_name, event_time);
-- Each secondary index costs ~4–8 µs per inserted event with this driver,
-- so only the three the queries lean on exist: time ranges, one user, one
-- event name. Account (few distinct values) and source IP filters run over
-- the time index. Add an index in a new migration when a query needs one.

-- alerts: one row per dedup key. A repeat of the key adds its event IDs
-- (set union) and keeps the earliest time.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    dedup_key     TEXT NOT NULL UNIQUE,
    rule          TEXT NOT NULL,
    severity      INTEGER NOT NULL,              -- 0 info, 1 low, 2 medium, 3 high, 4 critical
    severity_name TEXT GENERATED ALWAYS AS (
        CASE severity WHEN 0 THEN 'info' WHEN 1 THEN 'low' WHEN 2 THEN 'medium'
                      WHEN 3 THEN 'high' WHEN 4 THEN 'critical'
                      ELSE 'severity(' || severity || ')' END) VIRTUAL,
    title         TEXT NOT NULL DEFAULT '',
    summary       TEXT NOT NULL DEFAULT '',
    action        TEXT NOT NULL DEFAULT '',
    time          TEXT NOT NULL,                 -- event time of the raising event
    account_id    TEXT NOT NULL DEFAULT '',
    region        TEXT NOT NULL DEFAULT '',
    user_name     TEXT NOT NULL DEFAULT '',
    source_ip     TEXT NOT NULL DEFAULT '',
    event_name    TEXT NOT NULL DEFAULT '',
    event_ids     TEXT NOT NULL DEFAULT '[]',    -- JSON array of event IDs
    grp           TEXT NOT NULL DEFAULT '',      -- threshold group value
    window_start  TEXT NOT NULL DEFAULT '',
    window_end    TEXT NOT NULL DEFAULT '',
    tags          TEXT NOT NULL DEFAULT '[]',    -- JSON array
    refs          TEXT NOT NULL DEFAULT '[]',    -- JSON array: CIS controls, MITRE techniques
    created_at    TEXT NOT NULL                  -- wall-clock time of the first claim
);
CREATE INDEX alerts_time      ON alerts (time);
CREATE INDEX alerts_rule_time ON alerts (rule, time);

-- threshold_hits: events counted towards threshold rules, once per (rule, event).
CREATE TABLE threshold_hits (
    id       INTEGER PRIMARY KEY,
    rule     TEXT NOT NULL,
    grp      TEXT NOT NULL,
    event_id TEXT NOT NULL,
    time     TEXT NOT NULL,                      -- event time
    UNIQUE (rule, event_id)
);
CREATE INDEX threshold_hits_rule_grp_time ON threshold_hits (rule, grp, time);
CREATE INDEX threshold_hits_time          ON threshold_hits (time);

-- deliveries: the outbox, one row per (alert, sink). Deleting an alert
-- deletes its deliveries.
CREATE TABLE deliveries (
    alert_key  TEXT NOT NULL REFERENCES alerts (dedup_key) ON DELETE CASCADE,
    sink       TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_try   TEXT NOT NULL DEFAULT '',         -- wall-clock time of the next attempt
    last_error TEXT NOT NULL DEFAULT '',         -- secrets removed by the notifier
    sent_at    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (alert_key, sink)
);
CREATE INDEX deliveries_due ON deliveries (status, next_try);

-- checkpoints: how far each live source has read.
CREATE TABLE checkpoints (
    key        TEXT PRIMARY KEY,                 -- e.g. lookup/123456789012/us-east-1/iam.amazonaws.com
    position   TEXT NOT NULL DEFAULT '',
    event_time TEXT NOT NULL DEFAULT '',         -- newest event time read
    last_run   TEXT NOT NULL DEFAULT '',
    processed  INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL DEFAULT '',         -- active, paused or error
    last_error TEXT NOT NULL DEFAULT ''
);
