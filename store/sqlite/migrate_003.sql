-- iamwatch SQLite schema, version 3: alerts are incidents.
--
-- A threshold or dedup alert stands for every matching event of its group
-- in its dedup period: count says how many, first_seen/last_seen their
-- event times, and event_ids keeps a bounded sample (the first 20 and the
-- latest). Every event of such an alert is a threshold hit of
-- (rule, grp) between first_seen and last_seen. Fired windows are no longer
-- stored: whether a period fires is computed from the hits.
ALTER TABLE alerts ADD COLUMN count      INTEGER NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN first_seen TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN last_seen  TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN event_id   TEXT NOT NULL DEFAULT '';   -- the event that raised it
UPDATE alerts SET count = max(1, json_array_length(event_ids)), first_seen = time, last_seen = time,
    event_id = coalesce(json_extract(event_ids, '$[0]'), '');
DELETE FROM threshold_hits WHERE rule LIKE '%#window';
