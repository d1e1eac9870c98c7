-- iamwatch SQLite schema, version 8: GeoIP and first-seen baselines.
--
-- events and alerts say where the source IP is, when a GeoIP database is
-- configured: country (ISO 3166-1 alpha-2), asn ('AS64496') and as_org.
ALTER TABLE events ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN asn     TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN as_org  TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN asn     TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN as_org  TEXT NOT NULL DEFAULT '';

-- baselines: what each first-seen rule remembers of each identity, one row
-- per distinct value (a country, an ASN, a region), never one per event.
-- value '' is the identity's own row: its first and last event under the
-- rule (the learning period runs from its first_time). Times are event
-- times; first_event is the event ID of the first (ties: the smaller ID).
CREATE TABLE baselines (
    rule        TEXT NOT NULL,
    identity    TEXT NOT NULL,
    value       TEXT NOT NULL,
    first_time  TEXT NOT NULL,
    first_event TEXT NOT NULL,
    last_time   TEXT NOT NULL,
    PRIMARY KEY (rule, identity, value)
) WITHOUT ROWID;
