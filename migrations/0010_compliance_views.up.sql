-- Compliance and utilisation views (issue 16, items 3 and 4), for the console's reports and
-- for dashboards that read the database directly.
--
-- Every view has `workspace_id` (the workspace whose row it is) and `consolidated`: true on
-- the one row per id the all-workspaces figures use (the row devices_consolidated or
-- subscriptions_consolidated picks), so "this workspace" is `WHERE workspace_id = …` and
-- "all workspaces" is `WHERE consolidated`. Only live rows (removed_at IS NULL) appear.
-- Links and linked devices are those of the row's own workspace, as in subscriptions_expiring.

-- The device and subscription families of src/assign/family.rs and the categories of
-- Category::parse (src/assign/normalize.rs), encoded here the same way: the wizard refuses
-- exactly the pairs compliance_type_mismatches lists. Change both together.
CREATE FUNCTION glp_norm(t TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT nullif(translate(upper(btrim(t)), ' -', '__'), '')
$$;

-- NETWORK, COMPUTE, STORAGE or NULL for a category or device type (Category::parse).
CREATE FUNCTION glp_category_of(t TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN glp_norm(t) IN ('NETWORK', 'NETWORKING', 'AP', 'IAP', 'SWITCH', 'GATEWAY',
             'CONTROLLER', 'MC', 'SD_WAN_GW', 'BRIDGE', 'BRIDGES', 'LTE_MODEM', 'SENSOR', 'BLE',
             'NW_THIRD_PARTY', 'ALS', 'EINAR', 'EINR') THEN 'NETWORK'
        WHEN glp_norm(t) IN ('COMPUTE', 'SERVER', 'DHCI_COMPUTE', 'PCE') THEN 'COMPUTE'
        WHEN glp_norm(t) IN ('STORAGE', 'DHCI_STORAGE') THEN 'STORAGE'
    END
$$;

-- Category::of_stored: the stored category, else the device type's.
CREATE FUNCTION glp_device_category(category TEXT, device_type TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(glp_category_of(category), glp_category_of(device_type))
$$;

-- family::subscription_types_for: the subscription types a device type takes (NULL: no
-- known family, anything of its category fits).
CREATE FUNCTION glp_subscription_types_for(device_type TEXT) RETURNS TEXT[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE upper(btrim(device_type))
        WHEN 'AP' THEN ARRAY['CENTRAL_AP']
        WHEN 'IAP' THEN ARRAY['CENTRAL_AP']
        WHEN 'SWITCH' THEN ARRAY['CENTRAL_SWITCH']
        WHEN 'GATEWAY' THEN ARRAY['CENTRAL_GW', 'CENTRAL_CONTROLLER']
        WHEN 'CONTROLLER' THEN ARRAY['CENTRAL_GW', 'CENTRAL_CONTROLLER']
        WHEN 'SD_WAN_GW' THEN ARRAY['CENTRAL_GW', 'CENTRAL_CONTROLLER']
        WHEN 'COMPUTE' THEN ARRAY['CENTRAL_COMPUTE']
        WHEN 'STORAGE' THEN ARRAY['CENTRAL_STORAGE']
    END
$$;

-- family::compatible_categories: the device categories a subscription type covers.
CREATE FUNCTION glp_compatible_categories(subscription_type TEXT) RETURNS TEXT[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN subscription_type IN ('CENTRAL_AP', 'CENTRAL_SWITCH', 'CENTRAL_GW', 'CENTRAL_BRIDGE',
             'CENTRAL_CONTROLLER', 'CENTRAL_NW_THIRD_PARTY') THEN ARRAY['NETWORK']
        WHEN subscription_type = 'CENTRAL_COMPUTE' THEN ARRAY['COMPUTE']
        WHEN subscription_type = 'CENTRAL_STORAGE' THEN ARRAY['STORAGE']
        ELSE ARRAY['NETWORK', 'COMPUTE', 'STORAGE']
    END
$$;

-- Live device rows with the consolidated flag: no other live row of the id ranks before this
-- one under devices_consolidated's order (placed workspace first, then the lowest workspace
-- id). Written as NOT EXISTS so PostgreSQL runs it as one anti-join, and a per-workspace
-- query that does not read the flag never computes it.
CREATE VIEW compliance_device_rows AS
    SELECT d.workspace_id, d.id AS device_id, d.serial_number, d.mac_address, d.device_type,
           d.category, d.model, d.assigned_state, d.archived, d.application_id, d.region,
           d.management, d.tenant_workspace_id, d.in_use_workspace_id,
           NOT EXISTS (SELECT 1 FROM devices x
                        WHERE x.id = d.id AND x.workspace_id <> d.workspace_id
                          AND x.removed_at IS NULL
                          AND ((x.workspace_id = x.placed_workspace_id)
                                 > (d.workspace_id = d.placed_workspace_id)
                               OR ((x.workspace_id = x.placed_workspace_id)
                                     = (d.workspace_id = d.placed_workspace_id)
                                   AND x.workspace_id < d.workspace_id))) AS consolidated
      FROM devices d
     WHERE d.removed_at IS NULL;

-- Live subscription rows with the consolidated flag (subscriptions_consolidated's order: the
-- lowest workspace id among live rows) and their live linked devices.
CREATE VIEW compliance_subscription_rows AS
    SELECT s.workspace_id, s.id, s.key, s.subscription_type, s.tier, s.subscription_status,
           s.quantity, s.available_quantity, s.start_time, s.end_time, s.is_eval, s.sku,
           (SELECT count(*) FROM device_subscriptions ds
              JOIN devices d ON d.workspace_id = ds.workspace_id AND d.id = ds.device_id
             WHERE ds.workspace_id = s.workspace_id AND ds.subscription_id = s.id
               AND d.removed_at IS NULL) AS devices,
           NOT EXISTS (SELECT 1 FROM subscriptions x
                        WHERE x.id = s.id AND x.removed_at IS NULL
                          AND x.workspace_id < s.workspace_id) AS consolidated
      FROM subscriptions s
     WHERE s.removed_at IS NULL;

-- Devices (not archived) with no application.
CREATE VIEW compliance_no_application AS
    SELECT * FROM compliance_device_rows
     WHERE NOT archived AND nullif(btrim(application_id), '') IS NULL;

-- Devices assigned to a service (ASSIGNED_TO_SERVICE: the simulator's and GLP's state for a
-- device running in an application) with no subscription link at all.
CREATE VIEW compliance_assigned_no_subscription AS
    SELECT r.* FROM compliance_device_rows r
     WHERE NOT r.archived AND r.assigned_state = 'ASSIGNED_TO_SERVICE'
       AND NOT EXISTS (SELECT 1 FROM device_subscriptions ds
                        WHERE ds.workspace_id = r.workspace_id AND ds.device_id = r.device_id);

CREATE VIEW compliance_archived AS
    SELECT * FROM compliance_device_rows WHERE archived;

-- Devices parked in the MSP's pool: managed by the MSP, in no tenant, in use by no workspace.
CREATE VIEW compliance_msp_pool AS
    SELECT * FROM compliance_device_rows
     WHERE management = 'MSP'
       AND nullif(btrim(tenant_workspace_id), '') IS NULL
       AND nullif(btrim(in_use_workspace_id), '') IS NULL;

-- Devices linked to a subscription that has expired (ENDED, or its end time passed) or is
-- STARTED and ends within `days`; one row per (device, subscription).
CREATE FUNCTION compliance_expiring_devices(days INTEGER)
RETURNS TABLE (workspace_id TEXT, consolidated BOOLEAN, device_id TEXT, serial_number TEXT,
               device_type TEXT, model TEXT, subscription_id TEXT, subscription_key TEXT,
               subscription_type TEXT, subscription_status TEXT, end_time TIMESTAMPTZ,
               expired BOOLEAN)
LANGUAGE sql STABLE AS $$
    SELECT r.workspace_id, r.consolidated, r.device_id, r.serial_number, r.device_type, r.model,
           s.id, s.key, s.subscription_type, s.subscription_status, s.end_time,
           (s.subscription_status = 'ENDED' OR s.end_time < now())
      FROM compliance_device_rows r
      JOIN device_subscriptions ds ON ds.workspace_id = r.workspace_id AND ds.device_id = r.device_id
      JOIN subscriptions s ON s.workspace_id = ds.workspace_id AND s.id = ds.subscription_id
     WHERE s.removed_at IS NULL
       AND (s.subscription_status = 'ENDED' OR s.end_time < now()
            OR (s.subscription_status = 'STARTED'
                AND s.end_time < now() + make_interval(days => days)))
$$;

-- Subscriptions ENDED or SUSPENDED that still have live devices linked.
CREATE VIEW compliance_ended_with_devices AS
    SELECT * FROM compliance_subscription_rows
     WHERE subscription_status IN ('ENDED', 'SUSPENDED') AND devices > 0;

CREATE VIEW compliance_eval_subscriptions AS
    SELECT * FROM compliance_subscription_rows WHERE is_eval;

-- A device linked to a subscription whose type cannot cover it (the wizard's rule, above).
CREATE VIEW compliance_type_mismatches AS
    SELECT r.workspace_id, r.consolidated, r.device_id, r.serial_number, r.device_type,
           glp_device_category(r.category, r.device_type) AS device_category,
           s.id AS subscription_id, s.key AS subscription_key, s.subscription_type
      FROM compliance_device_rows r
      JOIN device_subscriptions ds ON ds.workspace_id = r.workspace_id AND ds.device_id = r.device_id
      JOIN subscriptions s ON s.workspace_id = ds.workspace_id AND s.id = ds.subscription_id
     WHERE s.removed_at IS NULL
       AND ((glp_device_category(r.category, r.device_type) IS NOT NULL
             AND NOT glp_device_category(r.category, r.device_type)
                     = ANY (glp_compatible_categories(s.subscription_type)))
            OR (glp_subscription_types_for(r.device_type) IS NOT NULL
                AND NOT coalesce(s.subscription_type = ANY (glp_subscription_types_for(r.device_type)),
                                 FALSE)));

-- Seats per subscription: GLP's used (quantity - available), the linked devices we store,
-- the share used, idle seats, and over-use (more devices than seats, or available < 0).
CREATE VIEW subscription_utilisation AS
    SELECT workspace_id, consolidated, id, key, subscription_type, tier, subscription_status,
           end_time, is_eval, quantity, available_quantity,
           quantity - available_quantity AS used,
           devices AS linked_devices,
           CASE WHEN quantity > 0
                THEN round(100.0 * (quantity - available_quantity) / quantity, 1)::float8 END
               AS percent_used,
           greatest(coalesce(available_quantity, 0), 0) AS idle,
           (devices > coalesce(quantity, 0) OR coalesce(available_quantity, 0) < 0) AS over_use
      FROM compliance_subscription_rows;

-- Totals per workspace, subscription type and tier.
CREATE VIEW subscription_utilisation_totals AS
    SELECT workspace_id, subscription_type, tier, count(*) AS subscriptions,
           sum(quantity)::bigint AS quantity, sum(used)::bigint AS used,
           sum(available_quantity)::bigint AS available, sum(linked_devices)::bigint AS linked_devices,
           sum(idle)::bigint AS idle, count(*) FILTER (WHERE over_use) AS over_used
      FROM subscription_utilisation
     GROUP BY workspace_id, subscription_type, tier;

-- STARTED subscriptions ending in the next 12 months, per workspace and calendar month (UTC):
-- how many, their seats and the live devices they cover.
CREATE VIEW subscription_renewals AS
    SELECT workspace_id, to_char(end_time AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
           count(*) AS subscriptions, sum(quantity)::bigint AS seats,
           sum(linked_devices)::bigint AS devices
      FROM subscription_utilisation
     WHERE subscription_status = 'STARTED'
       AND end_time >= now() AND end_time < now() + interval '12 months'
     GROUP BY workspace_id, to_char(end_time AT TIME ZONE 'UTC', 'YYYY-MM');
