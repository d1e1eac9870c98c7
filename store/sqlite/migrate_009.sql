-- iamwatch SQLite schema, version 9: events by source IP address, and the
-- role of console sessions signed in through OIDC.
--
-- events.source_ip_key is source_ip as a sortable address: 16 bytes, an
-- IPv4 address in its IPv4-mapped form (::ffff:203.0.113.7), so that BLOB
-- order (memcmp) is address order and every CIDR block, IPv4 or IPv6, is
-- one range of keys. NULL when source_ip is not an IP address (a service
-- name such as iam.amazonaws.com, "AWS Internal"). Written by PutEvents;
-- the events stored before this version get theirs from Open, in the
-- migration's transaction (sourceIPBackfill in sourceip.go).
ALTER TABLE events ADD COLUMN source_ip_key BLOB;

-- The index is partial: events from AWS services (no address) are often
-- most of a trail and are never looked up by address. With event_time
-- second, one address's events come out in time order.
CREATE INDEX events_ip_time ON events (source_ip_key, event_time) WHERE source_ip_key IS NOT NULL;

-- console_sessions.read_only is the role of a session whose user is no
-- console account (OIDC sign-in: the role comes from the provider's claims
-- at sign-in, and lasts the session); NULL for a password session, whose
-- role is its account's (console_users.read_only), read at each request.
ALTER TABLE console_sessions ADD COLUMN read_only INTEGER;

-- Down (back to version 8, for an older binary):
--   DROP INDEX events_ip_time; ALTER TABLE events DROP COLUMN source_ip_key;
--   ALTER TABLE console_sessions DROP COLUMN read_only; PRAGMA user_version = 8;
