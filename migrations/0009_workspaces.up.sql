-- Many workspaces in one database (issue: MSP tenants and multi-workspace inventory).
--
-- Every inventory, history and assignment table carries the workspace its row came from, and
-- `workspace_id` leads each key, so uniqueness and lookups are per workspace and the schema
-- can be distributed by workspace (Citus: `create_distributed_table('<t>', 'workspace_id')`
-- on each table below, `workspaces` as a reference table). Ids are stored normalised: lower
-- case, no dashes (glp-api.md §11: GLP spells one workspace id both ways).
--
-- Rows stored before this migration belong to the single workspace of that configuration,
-- recorded as 'default'.

CREATE TABLE workspaces (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,          -- standalone | msp | tenant
    parent_id            TEXT,                   -- a tenant's MSP
    inventory_ownership  TEXT,                   -- MSP_OWNED_INVENTORY | CUSTOMER_OWNED_INVENTORY
    first_seen_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    removed_at           TIMESTAMPTZ             -- a tenant the MSP no longer lists
);

INSERT INTO workspaces (id, name, kind)
SELECT 'default', 'default', 'standalone'
 WHERE EXISTS (SELECT 1 FROM devices) OR EXISTS (SELECT 1 FROM subscriptions)
    OR EXISTS (SELECT 1 FROM sync_history) OR EXISTS (SELECT 1 FROM assignment_runs);

-- The column is added with a default so existing rows are attributed in place (no table
-- rewrite), then the default is dropped: every writer must say which workspace it writes.
ALTER TABLE devices               ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE subscriptions         ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE device_subscriptions  ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE sync_history          ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE sync_seen             ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE assignment_runs       ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE application_names     ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE devices               ALTER COLUMN workspace_id DROP DEFAULT;
ALTER TABLE subscriptions         ALTER COLUMN workspace_id DROP DEFAULT;
ALTER TABLE device_subscriptions  ALTER COLUMN workspace_id DROP DEFAULT;
ALTER TABLE sync_history          ALTER COLUMN workspace_id DROP DEFAULT;
ALTER TABLE sync_seen             ALTER COLUMN workspace_id DROP DEFAULT;
ALTER TABLE assignment_runs       ALTER COLUMN workspace_id DROP DEFAULT;
ALTER TABLE application_names     ALTER COLUMN workspace_id DROP DEFAULT;

ALTER TABLE devices DROP CONSTRAINT devices_pkey, ADD PRIMARY KEY (workspace_id, id);
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_pkey, ADD PRIMARY KEY (workspace_id, id);
ALTER TABLE device_subscriptions DROP CONSTRAINT device_subscriptions_pkey,
    ADD PRIMARY KEY (workspace_id, device_id, subscription_id);
ALTER TABLE application_names DROP CONSTRAINT application_names_pkey,
    ADD PRIMARY KEY (workspace_id, id);

-- The consolidated views find a device by id across workspaces.
CREATE INDEX devices_id_idx ON devices USING hash (id);
CREATE INDEX subscriptions_id_idx ON subscriptions USING hash (id);
CREATE INDEX sync_history_workspace_idx ON sync_history (workspace_id, started_at DESC);
CREATE INDEX assignment_runs_workspace_idx ON assignment_runs (workspace_id, created_at DESC);

-- The workspace a device is attributed to. An MSP's own view lists devices placed in its
-- tenants (management MSP with tenantWorkspaceId, or management TENANT with inUseWorkspace);
-- such a device belongs to the tenant. Ordinary workspaces (management null) own their rows.
ALTER TABLE devices ADD COLUMN placed_workspace_id TEXT GENERATED ALWAYS AS (
    CASE WHEN management IS NULL THEN workspace_id
         ELSE coalesce(nullif(replace(lower(tenant_workspace_id), '-', ''), ''),
                       nullif(replace(lower(in_use_workspace_id), '-', ''), ''),
                       workspace_id)
    END) STORED;

-- One row per device across all workspaces: live rows first, then the row stored by the
-- workspace the device is placed in, then the lowest workspace id (deterministic).
CREATE VIEW devices_consolidated AS
    SELECT DISTINCT ON (d.id) d.*
      FROM devices d
     ORDER BY d.id, (d.removed_at IS NULL) DESC, (d.workspace_id = d.placed_workspace_id) DESC,
              d.workspace_id;

CREATE VIEW subscriptions_consolidated AS
    SELECT DISTINCT ON (s.id) s.*
      FROM subscriptions s
     ORDER BY s.id, (s.removed_at IS NULL) DESC, s.workspace_id;

CREATE OR REPLACE VIEW device_tags AS
    SELECT d.id AS device_id, t.key AS tag_key, t.value AS tag_value, d.workspace_id
      FROM devices d CROSS JOIN LATERAL jsonb_each_text(d.tags) AS t;

CREATE OR REPLACE VIEW subscription_tags AS
    SELECT s.id AS subscription_id, t.key AS tag_key, t.value AS tag_value, s.workspace_id
      FROM subscriptions s CROSS JOIN LATERAL jsonb_each_text(s.tags) AS t;

DROP FUNCTION subscriptions_expiring(INTEGER);
DROP FUNCTION devices_on_expiring_subscriptions(INTEGER);

-- Subscriptions that are STARTED and end within `days`, across all workspaces (each once);
-- `devices` counts the live devices linked in the subscription's workspace.
CREATE FUNCTION subscriptions_expiring(days INTEGER)
RETURNS TABLE (id TEXT, key TEXT, subscription_type TEXT, tier TEXT, subscription_status TEXT,
               quantity BIGINT, available_quantity BIGINT, end_time TIMESTAMPTZ, days_left INTEGER,
               devices BIGINT, workspace_id TEXT)
LANGUAGE sql STABLE AS $$
    SELECT s.id, s.key, s.subscription_type, s.tier, s.subscription_status, s.quantity,
           s.available_quantity, s.end_time,
           floor(extract(epoch FROM (s.end_time - now())) / 86400)::int,
           (SELECT count(*) FROM device_subscriptions ds
              JOIN devices d ON d.workspace_id = ds.workspace_id AND d.id = ds.device_id
             WHERE ds.workspace_id = s.workspace_id AND ds.subscription_id = s.id
               AND d.removed_at IS NULL),
           s.workspace_id
      FROM subscriptions_consolidated s
     WHERE s.subscription_status = 'STARTED' AND s.removed_at IS NULL
       AND s.end_time >= now() AND s.end_time < now() + make_interval(days => days)
     ORDER BY s.end_time, s.key
$$;

-- Devices covered by a subscription that is STARTED and ends within `days` (each device once
-- per subscription, across workspaces).
CREATE FUNCTION devices_on_expiring_subscriptions(days INTEGER)
RETURNS TABLE (device_id TEXT, serial_number TEXT, mac_address TEXT, device_type TEXT, model TEXT,
               region TEXT, subscription_id TEXT, subscription_key TEXT, end_time TIMESTAMPTZ,
               days_left INTEGER, workspace_id TEXT)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (s.end_time, s.key, d.serial_number, d.id, s.id)
           d.id, d.serial_number, d.mac_address, d.device_type, d.model, d.region,
           s.id, s.key, s.end_time, floor(extract(epoch FROM (s.end_time - now())) / 86400)::int,
           d.workspace_id
      FROM subscriptions s
      JOIN device_subscriptions ds ON ds.workspace_id = s.workspace_id AND ds.subscription_id = s.id
      JOIN devices d ON d.workspace_id = ds.workspace_id AND d.id = ds.device_id
     WHERE s.subscription_status = 'STARTED' AND s.removed_at IS NULL AND d.removed_at IS NULL
       AND s.end_time >= now() AND s.end_time < now() + make_interval(days => days)
     ORDER BY s.end_time, s.key, d.serial_number, d.id, s.id,
              (d.workspace_id = d.placed_workspace_id) DESC
$$;
