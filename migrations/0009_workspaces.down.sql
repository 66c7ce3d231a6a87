-- Back to one workspace: keeps the rows of 'default' (or, when there is none, of the
-- workspace holding the most devices) and drops the others.
DROP FUNCTION IF EXISTS subscriptions_expiring(INTEGER);
DROP FUNCTION IF EXISTS devices_on_expiring_subscriptions(INTEGER);
DROP VIEW IF EXISTS devices_consolidated;
DROP VIEW IF EXISTS subscriptions_consolidated;
CREATE TEMP TABLE keep_workspace AS
    SELECT coalesce((SELECT 'default' WHERE EXISTS (SELECT 1 FROM devices WHERE workspace_id = 'default')),
                    (SELECT workspace_id FROM devices GROUP BY 1 ORDER BY count(*) DESC, workspace_id LIMIT 1),
                    'default') AS id;
DELETE FROM devices WHERE workspace_id <> (SELECT id FROM keep_workspace);
DELETE FROM subscriptions WHERE workspace_id <> (SELECT id FROM keep_workspace);
DELETE FROM device_subscriptions WHERE workspace_id <> (SELECT id FROM keep_workspace);
DELETE FROM application_names WHERE workspace_id <> (SELECT id FROM keep_workspace);
DROP TABLE keep_workspace;
DROP VIEW IF EXISTS device_tags;
DROP VIEW IF EXISTS subscription_tags;
ALTER TABLE devices DROP COLUMN placed_workspace_id;
ALTER TABLE devices DROP CONSTRAINT devices_pkey, ADD PRIMARY KEY (id);
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_pkey, ADD PRIMARY KEY (id);
ALTER TABLE device_subscriptions DROP CONSTRAINT device_subscriptions_pkey,
    ADD PRIMARY KEY (device_id, subscription_id);
ALTER TABLE application_names DROP CONSTRAINT application_names_pkey, ADD PRIMARY KEY (id);
DROP INDEX IF EXISTS devices_id_idx;
DROP INDEX IF EXISTS subscriptions_id_idx;
DROP INDEX IF EXISTS sync_history_workspace_idx;
DROP INDEX IF EXISTS assignment_runs_workspace_idx;
ALTER TABLE devices DROP COLUMN workspace_id;
ALTER TABLE subscriptions DROP COLUMN workspace_id;
ALTER TABLE device_subscriptions DROP COLUMN workspace_id;
ALTER TABLE sync_history DROP COLUMN workspace_id;
ALTER TABLE sync_seen DROP COLUMN workspace_id;
ALTER TABLE assignment_runs DROP COLUMN workspace_id;
ALTER TABLE application_names DROP COLUMN workspace_id;
DROP TABLE workspaces;
CREATE VIEW device_tags AS
    SELECT d.id AS device_id, t.key AS tag_key, t.value AS tag_value
      FROM devices d CROSS JOIN LATERAL jsonb_each_text(d.tags) AS t;
CREATE VIEW subscription_tags AS
    SELECT s.id AS subscription_id, t.key AS tag_key, t.value AS tag_value
      FROM subscriptions s CROSS JOIN LATERAL jsonb_each_text(s.tags) AS t;
CREATE FUNCTION subscriptions_expiring(days INTEGER)
RETURNS TABLE (id TEXT, key TEXT, subscription_type TEXT, tier TEXT, subscription_status TEXT,
               quantity BIGINT, available_quantity BIGINT, end_time TIMESTAMPTZ, days_left INTEGER,
               devices BIGINT)
LANGUAGE sql STABLE AS $$
    SELECT s.id, s.key, s.subscription_type, s.tier, s.subscription_status, s.quantity,
           s.available_quantity, s.end_time,
           floor(extract(epoch FROM (s.end_time - now())) / 86400)::int,
           (SELECT count(*) FROM device_subscriptions ds JOIN devices d ON d.id = ds.device_id
             WHERE ds.subscription_id = s.id AND d.removed_at IS NULL)
      FROM subscriptions s
     WHERE s.subscription_status = 'STARTED' AND s.removed_at IS NULL
       AND s.end_time >= now() AND s.end_time < now() + make_interval(days => days)
     ORDER BY s.end_time, s.key
$$;
CREATE FUNCTION devices_on_expiring_subscriptions(days INTEGER)
RETURNS TABLE (device_id TEXT, serial_number TEXT, mac_address TEXT, device_type TEXT, model TEXT,
               region TEXT, subscription_id TEXT, subscription_key TEXT, end_time TIMESTAMPTZ,
               days_left INTEGER)
LANGUAGE sql STABLE AS $$
    SELECT d.id, d.serial_number, d.mac_address, d.device_type, d.model, d.region,
           s.id, s.key, s.end_time, floor(extract(epoch FROM (s.end_time - now())) / 86400)::int
      FROM subscriptions s
      JOIN device_subscriptions ds ON ds.subscription_id = s.id
      JOIN devices d ON d.id = ds.device_id
     WHERE s.subscription_status = 'STARTED' AND s.removed_at IS NULL AND d.removed_at IS NULL
       AND s.end_time >= now() AND s.end_time < now() + make_interval(days => days)
     ORDER BY s.end_time, s.key, d.serial_number
$$;
