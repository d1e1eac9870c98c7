-- iamwatch SQLite schema, version 12: the index of IAM changes without LIKE.
--
-- SQLite gives a statement that writes several rows a statement journal
-- (a copy of every page it touches, to undo it alone) when it may abort
-- half-way, and a call of any function in a partial index's condition
-- counts as such: with version 11's `NOT LIKE 'Get%'` terms, every
-- INSERT of PutEvents (32 rows each) journalled its pages, 2.6% of a
-- 250k-record --keep all scan's CPU and ~20 ms of a 25k-record default
-- scan's 460 (the journal's fresh 64 KiB chunks, faulted in page by
-- page), in profiles. Without: BenchmarkPutEvents 41.9 → 38.7 ms a
-- thousand events, BenchmarkBulkLoad 3.52 → 3.28 s (interleaved runs).
-- The same prefixes as ranges of comparisons call nothing. They are
-- case-sensitive where LIKE was not (CloudTrail's event names are
-- PascalCase), as LIKE is in Athena. permission_changes repeats the terms
-- (query/catalog.go: the planner uses a partial index only for a query
-- that states its condition term for term).
DROP INDEX IF EXISTS events_iam_change_time;
CREATE INDEX events_iam_change_time ON events (event_time) WHERE event_source = 'iam.amazonaws.com'
		AND NOT (event_name >= 'Get' AND event_name < 'Geu') AND NOT (event_name >= 'List' AND event_name < 'Lisu')
		AND NOT (event_name >= 'Generate' AND event_name < 'Generatf') AND NOT (event_name >= 'Simulate' AND event_name < 'Simulatf');
