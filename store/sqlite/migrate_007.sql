-- iamwatch SQLite schema, version 7: distinct thresholds.
--
-- threshold_hits.value is what a hit counts under a rule that counts
-- distinct values (threshold.distinct, or a sequence's step name): its
-- values joined by a newline, '' for a rule that counts events (and for
-- every hit recorded before this version, all of them of such rules).
ALTER TABLE threshold_hits ADD COLUMN value TEXT NOT NULL DEFAULT '';
