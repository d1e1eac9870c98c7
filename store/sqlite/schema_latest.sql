-- iamwatch SQLite schema, version 12: the schema a new database is created at, in one
-- transaction. Generated from schema.sql and every migration after it by
-- go test ./store/sqlite -run TestLatestSchema -update; do not edit.
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
, country TEXT NOT NULL DEFAULT '', asn     TEXT NOT NULL DEFAULT '', as_org  TEXT NOT NULL DEFAULT '', source_ip_key BLOB);
CREATE UNIQUE INDEX events_event_id      ON events (event_id);
CREATE INDEX events_time          ON events (event_time);
CREATE INDEX events_user_time     ON events (user_name, event_time);
CREATE INDEX events_name_time     ON events (event_name, event_time);
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
, count      INTEGER NOT NULL DEFAULT 1, first_seen TEXT NOT NULL DEFAULT '', last_seen  TEXT NOT NULL DEFAULT '', event_id   TEXT NOT NULL DEFAULT '', country TEXT NOT NULL DEFAULT '', asn     TEXT NOT NULL DEFAULT '', as_org  TEXT NOT NULL DEFAULT '');
CREATE INDEX alerts_time      ON alerts (time);
CREATE INDEX alerts_rule_time ON alerts (rule, time);
CREATE TABLE deliveries (
    alert_key  TEXT NOT NULL REFERENCES alerts (dedup_key) ON DELETE CASCADE,
    sink       TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_try   TEXT NOT NULL DEFAULT '',         -- wall-clock time of the next attempt
    last_error TEXT NOT NULL DEFAULT '',         -- secrets removed by the notifier
    sent_at    TEXT NOT NULL DEFAULT '', severity INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (alert_key, sink)
);
CREATE INDEX deliveries_due ON deliveries (status, next_try);
CREATE TABLE checkpoints (
    key        TEXT PRIMARY KEY,                 -- e.g. lookup/123456789012/us-east-1/iam.amazonaws.com
    position   TEXT NOT NULL DEFAULT '',
    event_time TEXT NOT NULL DEFAULT '',         -- newest event time read
    last_run   TEXT NOT NULL DEFAULT '',
    processed  INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL DEFAULT '',         -- active, paused or error
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE rollup_hours (
    hour TEXT NOT NULL,
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    n INTEGER NOT NULL,
    n_errors INTEGER NOT NULL,
    PRIMARY KEY (hour, account_id, user_name)
) WITHOUT ROWID;
CREATE TABLE rollup_actions (
    day TEXT NOT NULL,
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    event_type TEXT NOT NULL,
    read_only TEXT NOT NULL,
    n INTEGER NOT NULL,
    n_errors INTEGER NOT NULL,
    first_time TEXT NOT NULL,
    last_time TEXT NOT NULL,
    PRIMARY KEY (day, account_id, user_name, event_source, event_name, event_type, read_only)
) WITHOUT ROWID;
CREATE TABLE rollup_failures (
    day TEXT NOT NULL,
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    source_ip TEXT NOT NULL,
    event_type TEXT NOT NULL,
    error_code TEXT NOT NULL,
    n INTEGER NOT NULL,
    first_time TEXT NOT NULL,
    last_time TEXT NOT NULL,
    PRIMARY KEY (day, account_id, user_name, source_ip, event_type, error_code)
) WITHOUT ROWID;
CREATE TABLE rollup_roles (
    day TEXT NOT NULL,
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    role_arn NOT NULL,
    source_ip TEXT NOT NULL,
    n INTEGER NOT NULL,
    n_errors INTEGER NOT NULL,
    first_time TEXT NOT NULL,
    last_time TEXT NOT NULL,
    PRIMARY KEY (day, account_id, user_name, role_arn, source_ip)
) WITHOUT ROWID;
CREATE TABLE console_users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
, read_only INTEGER NOT NULL DEFAULT 0);
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
, read_only INTEGER);
CREATE TABLE alert_triage (
    dedup_key TEXT PRIMARY KEY REFERENCES alerts (dedup_key) ON DELETE CASCADE,
    status    TEXT NOT NULL,
    by_user   TEXT NOT NULL,
    at        TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT ''
);
CREATE TABLE baselines (
    rule        TEXT NOT NULL,
    identity    TEXT NOT NULL,
    value       TEXT NOT NULL,
    first_time  TEXT NOT NULL,
    first_event TEXT NOT NULL,
    last_time   TEXT NOT NULL,
    PRIMARY KEY (rule, identity, value)
) WITHOUT ROWID;
CREATE INDEX events_ip_time ON events (source_ip_key, event_time) WHERE source_ip_key IS NOT NULL;
CREATE TABLE "threshold_hits" (
    rule     TEXT NOT NULL,
    grp      TEXT NOT NULL,
    event_id TEXT NOT NULL,
    time     TEXT NOT NULL,                      -- event time
    value    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (rule, grp, time, event_id)
) WITHOUT ROWID;
CREATE INDEX threshold_hits_time ON threshold_hits (time);
CREATE INDEX events_root_time ON events (event_time) WHERE identity_type = 'Root';
CREATE INDEX events_iam_change_time ON events (event_time) WHERE event_source = 'iam.amazonaws.com'
		AND NOT (event_name >= 'Get' AND event_name < 'Geu') AND NOT (event_name >= 'List' AND event_name < 'Lisu')
		AND NOT (event_name >= 'Generate' AND event_name < 'Generatf') AND NOT (event_name >= 'Simulate' AND event_name < 'Simulatf');
