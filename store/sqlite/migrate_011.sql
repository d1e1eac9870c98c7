-- iamwatch SQLite schema, version 11: the time index names each event.
--
-- events_time becomes UNIQUE (event_time, event_id): it serves every query
-- by time as before (event_time leads), and a bulk load keeps it while it
-- drops the other indexes, unique event_id's included, so that it is what
-- skips a record already stored. CloudTrail delivers an event again with
-- the same time, and a load inserts in about time order, so that index
-- grows at a few places where the event_id index, on random UUIDs, took a
-- page the cache did not hold for each insert once a load passed its
-- size. A bulk load needs no set of the stored IDs in memory any more
-- (14 MB at its 400,000 bound, past which it built the event_id index and
-- went on through it).
--
-- Unique because event_id is: no stored database can fail to build it.
DROP INDEX events_time;
CREATE UNIQUE INDEX events_time ON events (event_time, event_id);

-- Down (back to version 10, for an older binary):
--   DROP INDEX events_time; CREATE INDEX events_time ON events (event_time);
--   PRAGMA user_version = 10;
