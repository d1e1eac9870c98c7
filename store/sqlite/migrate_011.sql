-- iamwatch SQLite schema, version 11: an index of the root user's events.
--
-- root_usage lists the root user's events newest first. Root signs in
-- rarely, so the time index walked backwards read nearly every event of
-- the history to find a page of them: 0.38–0.81 s over 1M real-shaped
-- events holding 9. This partial index holds the root events alone, in
-- time order; an insert of another event only tests the condition, so a
-- bulk load keeps it instead of building it again from the whole table.
CREATE INDEX IF NOT EXISTS events_root_time ON events (event_time) WHERE identity_type = 'Root';
