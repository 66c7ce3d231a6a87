-- Indexes no query can use (issue #5; measured with benches/sync_full.rs). Each holds a
-- column with a handful of values across the whole inventory (5 regions, 4 applications,
-- ~16 device types, 6 subscription statuses, a few subscription types), so an equality
-- filter on it matches 5–70 % of the rows and PostgreSQL reads the table instead; no
-- statement of glp-console filters on them either. Every device row paid three btree
-- inserts for them during a sync. Dashboards that group or filter by these columns scan
-- the table either way; the expiring view keeps its partial index on STARTED end times.
DROP INDEX IF EXISTS devices_type_idx;
DROP INDEX IF EXISTS devices_region_idx;
DROP INDEX IF EXISTS devices_application_idx;
DROP INDEX IF EXISTS subscriptions_type_idx;
DROP INDEX IF EXISTS subscriptions_status_idx;
