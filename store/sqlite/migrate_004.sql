-- iamwatch SQLite schema, version 4: deliveries remember the severity they
-- notify of, so that an incident whose severity rises (a rule's escalate:)
-- is sent again, once per rise. Existing deliveries take their alert's
-- severity: nothing is re-sent by the upgrade.
ALTER TABLE deliveries ADD COLUMN severity INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET severity = coalesce((SELECT severity FROM alerts WHERE dedup_key = alert_key), 0);
