-- iamwatch SQLite schema, version 10: threshold hits in group and time order.
--
-- threshold_hits becomes a WITHOUT ROWID table keyed (rule, grp, time,
-- event_id): a group's hits sit together in time order, so recording a
-- batch's hits writes near the end of each group's run, and reading a
-- window back is one range of the table. Before, each hit went into the
-- table, a (rule, grp, time) index and a UNIQUE (rule, event_id) index
-- whose random keys (event IDs are UUIDs) missed the page cache once the
-- table outgrew it, and reading a window looked each row up by rowid.
-- A trail of 1M records, 80% of them calls three IAM users were denied
-- (flaws.cloud's shape), scanned in 78 s before and 55 s after.
--
-- A hit is still recorded once per (rule, event): an event ID has one
-- event time (the pipeline drops a record whose ID is stored with other
-- content before it matches rules) and one group under a rule. The id
-- column, the old rowid, goes.
CREATE TABLE threshold_hits_v10 (
    rule     TEXT NOT NULL,
    grp      TEXT NOT NULL,
    event_id TEXT NOT NULL,
    time     TEXT NOT NULL,                      -- event time
    value    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (rule, grp, time, event_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO threshold_hits_v10 (rule, grp, event_id, time, value)
    SELECT rule, grp, event_id, time, value FROM threshold_hits;
DROP TABLE threshold_hits;
ALTER TABLE threshold_hits_v10 RENAME TO threshold_hits;
CREATE INDEX threshold_hits_time ON threshold_hits (time);
PRAGMA incremental_vacuum;                       -- the old table's pages

-- Down (back to version 9, for an older binary):
--   CREATE TABLE threshold_hits_v9 (id INTEGER PRIMARY KEY, rule TEXT NOT NULL,
--       grp TEXT NOT NULL, event_id TEXT NOT NULL, time TEXT NOT NULL,
--       value TEXT NOT NULL DEFAULT '', UNIQUE (rule, event_id));
--   INSERT OR IGNORE INTO threshold_hits_v9 (rule, grp, event_id, time, value)
--       SELECT rule, grp, event_id, time, value FROM threshold_hits;
--   DROP TABLE threshold_hits; ALTER TABLE threshold_hits_v9 RENAME TO threshold_hits;
--   CREATE INDEX threshold_hits_rule_grp_time ON threshold_hits (rule, grp, time);
--   CREATE INDEX threshold_hits_time ON threshold_hits (time); PRAGMA user_version = 9;
