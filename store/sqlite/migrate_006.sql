-- iamwatch SQLite schema, version 6: read-only console users (iamwatch serve
-- --add-user NAME --read-only). A read-only user sees every page but can
-- neither triage nor retry deliveries; the console checks it on every POST.
ALTER TABLE console_users ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
