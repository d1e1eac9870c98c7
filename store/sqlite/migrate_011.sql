-- iamwatch SQLite schema, version 11: indexes of the root user's events and
-- of IAM changes.
--
-- root_usage and permission_changes list rare events newest first: the
-- root user's, and IAM's calls other than reads. The time index walked
-- backwards read nearly every event of the history to find a page of them
-- (over 1M real-shaped events holding 9 and 50: 0.38–0.81 s and 0.36–0.41
-- s). These partial indexes hold those events alone, in time order, under
-- the very conditions the two queries state (query/catalog.go: the planner
-- uses a partial index only for a query that repeats its WHERE); an insert
-- of any other event only tests them, so a bulk load keeps them instead of
-- building them again from the whole table. Their cost falls on the events
-- they hold: BenchmarkPutEvents, a quarter of whose events are IAM changes,
-- stores 1,000 in 40.5 ms against 35 ms without the IAM index; the probed
-- trail of 100k records (5% IAM changes) scans in 5.11 s against 5.06 s.
CREATE INDEX IF NOT EXISTS events_root_time ON events (event_time) WHERE identity_type = 'Root';
CREATE INDEX IF NOT EXISTS events_iam_change_time ON events (event_time) WHERE event_source = 'iam.amazonaws.com'
		AND event_name NOT LIKE 'Get%' AND event_name NOT LIKE 'List%'
		AND event_name NOT LIKE 'Generate%' AND event_name NOT LIKE 'Simulate%';
