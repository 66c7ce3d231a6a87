-- glp-console inventory schema.
-- Rules (design.md §4, glp-api.md §6.7): ids are TEXT so an odd id never aborts a batch; no CHECK
-- constraint on any API enum; no UNIQUE on serial_number (a serial may re-appear under a new id);
-- device→subscription links carry no foreign key to subscriptions (a link may name one not yet
-- stored). The whole API item is kept in raw_data.

CREATE TABLE devices (
    id                        TEXT PRIMARY KEY,
    serial_number             TEXT NOT NULL,
    part_number               TEXT,
    mac_address               TEXT,
    device_type               TEXT,
    category                  TEXT,
    model                     TEXT,
    make                      TEXT,
    assigned_state            TEXT,
    archived                  BOOLEAN NOT NULL DEFAULT FALSE,
    device_name               TEXT,
    secondary_name            TEXT,
    resource_type             TEXT,
    application_id            TEXT,
    application_resource_uri  TEXT,
    region                    TEXT,
    tenant_workspace_id       TEXT,
    dedicated_platform_id     TEXT,
    in_use_workspace_id       TEXT,
    location_id               TEXT,
    location_name             TEXT,
    location_city             TEXT,
    location_state            TEXT,
    location_country          TEXT,
    location_postal_code      TEXT,
    location_street_address   TEXT,
    location_latitude         DOUBLE PRECISION,
    location_longitude        DOUBLE PRECISION,
    location_source           TEXT,
    management                TEXT,
    ownership                 TEXT,
    source                    TEXT,
    is_flex                   BOOLEAN,
    billing_account_id        TEXT,
    billing_account_name      TEXT,
    billing_tier              TEXT,
    subscription_category     TEXT,
    support_level             TEXT,
    support_end_date          TIMESTAMPTZ,
    manufactured_date         TIMESTAMPTZ,
    created_at                TIMESTAMPTZ,
    updated_at                TIMESTAMPTZ,
    raw_data                  JSONB NOT NULL,
    -- bookkeeping (ours, not the API's). raw_hash: 64-bit FNV-1a of the item's JSON text, so
    -- a sync can skip unchanged items without shipping them to the server.
    raw_hash                  BIGINT,
    first_seen_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    changed_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    removed_at                TIMESTAMPTZ
);

CREATE INDEX devices_serial_idx        ON devices (upper(serial_number));
CREATE INDEX devices_mac_idx           ON devices (mac_address);
CREATE INDEX devices_type_idx          ON devices (device_type);
CREATE INDEX devices_region_idx        ON devices (region);
CREATE INDEX devices_application_idx   ON devices (application_id);
CREATE INDEX devices_removed_idx       ON devices (removed_at) WHERE removed_at IS NOT NULL;
-- Word search over serial, MAC, names and model ('simple': no stemming, so serials and MACs stay
-- whole; prefix queries such as `to_tsquery('simple', 'VNT8:*')` work). Chosen over a trigram
-- index, which cost 40 % of every insert in the sync benchmark.
CREATE INDEX devices_search_idx ON devices USING gin (
    to_tsvector('simple', coalesce(serial_number, '') || ' ' || coalesce(mac_address, '') || ' ' ||
                          coalesce(device_name, '') || ' ' || coalesce(secondary_name, '') || ' ' ||
                          coalesce(model, '')));

CREATE TABLE subscriptions (
    id                   TEXT PRIMARY KEY,
    key                  TEXT,
    resource_type        TEXT,
    subscription_type    TEXT,
    subscription_status  TEXT,
    quantity             BIGINT,
    available_quantity   BIGINT,
    sku                  TEXT,
    sku_description      TEXT,
    start_time           TIMESTAMPTZ,
    end_time             TIMESTAMPTZ,
    tier                 TEXT,
    tier_description     TEXT,
    product_type         TEXT,
    is_eval              BOOLEAN,
    contract             TEXT,
    quote                TEXT,
    po                   TEXT,
    reseller_po          TEXT,
    created_at           TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ,
    raw_data             JSONB NOT NULL,
    raw_hash             BIGINT,
    first_seen_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    changed_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    removed_at           TIMESTAMPTZ
);

CREATE INDEX subscriptions_key_idx      ON subscriptions (upper(key));
CREATE INDEX subscriptions_type_idx     ON subscriptions (subscription_type);
CREATE INDEX subscriptions_status_idx   ON subscriptions (subscription_status);
CREATE INDEX subscriptions_end_idx      ON subscriptions (end_time);
CREATE INDEX subscriptions_expiring_idx ON subscriptions (end_time) WHERE subscription_status = 'STARTED';
CREATE INDEX subscriptions_search_idx ON subscriptions USING gin (
    to_tsvector('simple', coalesce(key, '') || ' ' || coalesce(sku, '') || ' ' || coalesce(tier, '') || ' ' ||
                          coalesce(sku_description, '')));

-- Links as GLP reports them on the device; subscription may not (yet) be in `subscriptions`.
-- Tags and links carry no foreign keys: they are only ever written in the same transaction as
-- their device or subscription (store::inventory), devices are never deleted (only marked
-- removed), and the per-row FK check cost a third of every tag insert during a sync.
CREATE TABLE device_subscriptions (
    device_id        TEXT NOT NULL,
    subscription_id  TEXT NOT NULL,
    resource_uri     TEXT,
    key              TEXT,
    tier             TEXT,
    start_time       TIMESTAMPTZ,
    end_time         TIMESTAMPTZ,
    PRIMARY KEY (device_id, subscription_id)
);
CREATE INDEX device_subscriptions_sub_idx ON device_subscriptions (subscription_id);

CREATE TABLE device_tags (
    device_id  TEXT NOT NULL,
    tag_key    TEXT NOT NULL,
    tag_value  TEXT,
    PRIMARY KEY (device_id, tag_key)
);
CREATE INDEX device_tags_kv_idx ON device_tags (tag_key, tag_value);

CREATE TABLE subscription_tags (
    subscription_id  TEXT NOT NULL,
    tag_key          TEXT NOT NULL,
    tag_value        TEXT,
    PRIMARY KEY (subscription_id, tag_key)
);
CREATE INDEX subscription_tags_kv_idx ON subscription_tags (tag_key, tag_value);

-- One row per sync run (TUI, cron, assignment follow-up, demo).
CREATE TABLE sync_history (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trigger            TEXT NOT NULL,          -- tui | cron | assign | demo | cli
    mode               TEXT NOT NULL,          -- full | incremental
    scope              TEXT NOT NULL,          -- devices | subscriptions | both
    started_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at        TIMESTAMPTZ,
    outcome            TEXT NOT NULL DEFAULT 'running', -- running | succeeded | partial | failed | cancelled | abandoned
    error              TEXT,
    incremental_since  TIMESTAMPTZ,
    requests           INTEGER NOT NULL DEFAULT 0,
    retries            INTEGER NOT NULL DEFAULT 0,
    throttled          INTEGER NOT NULL DEFAULT 0,   -- 429 answers
    breaker_trips      INTEGER NOT NULL DEFAULT 0,
    duration_ms        BIGINT,
    host               TEXT,
    pid                INTEGER
);
CREATE INDEX sync_history_started_idx ON sync_history (started_at DESC);

-- Per-resource counters of a run.
CREATE TABLE sync_history_resources (
    sync_id    BIGINT NOT NULL REFERENCES sync_history (id) ON DELETE CASCADE,
    resource   TEXT NOT NULL,                  -- devices | subscriptions
    pages      INTEGER NOT NULL DEFAULT 0,
    fetched    INTEGER NOT NULL DEFAULT 0,
    inserted   INTEGER NOT NULL DEFAULT 0,
    updated    INTEGER NOT NULL DEFAULT 0,
    unchanged  INTEGER NOT NULL DEFAULT 0,
    removed    INTEGER NOT NULL DEFAULT 0,
    restored   INTEGER NOT NULL DEFAULT 0,
    complete   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (sync_id, resource)
);

-- Ids seen by a running full sync, for reconciling removals at its end. Unlogged: it is
-- scratch space, rebuilt by the next full sync if lost in a crash.
CREATE UNLOGGED TABLE sync_seen (
    sync_id   BIGINT NOT NULL,
    resource  TEXT NOT NULL,
    id        TEXT NOT NULL
);
-- No key or index on purpose: rows are only appended during a run and read once by a hash
-- anti-join at its end; an index would cost more per page than it saves.

-- Assignment audit: what was asked, the values before, every operation and its result.
CREATE TABLE assignment_runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at   TIMESTAMPTZ,
    kind          TEXT NOT NULL DEFAULT 'apply',   -- apply | dry_run | undo
    undo_of       BIGINT REFERENCES assignment_runs (id),
    source_file   TEXT,
    sheet         TEXT,
    requested     JSONB NOT NULL DEFAULT '{}'::jsonb,
    status        TEXT NOT NULL DEFAULT 'running', -- running | succeeded | partial | failed | cancelled
    summary       JSONB,
    operator      TEXT
);

CREATE TABLE assignment_operations (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          BIGINT NOT NULL REFERENCES assignment_runs (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL,              -- add | application | subscription | tags | …
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    payload         JSONB,
    device_ids      TEXT[] NOT NULL DEFAULT '{}',
    serials         TEXT[] NOT NULL DEFAULT '{}',
    http_status     INTEGER,
    operation_id    TEXT,
    status          TEXT NOT NULL DEFAULT 'pending', -- pending | accepted | succeeded | failed
    error           TEXT,
    result          JSONB,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ
);
CREATE INDEX assignment_operations_run_idx ON assignment_operations (run_id, seq);

CREATE TABLE assignment_devices (
    run_id      BIGINT NOT NULL REFERENCES assignment_runs (id) ON DELETE CASCADE,
    serial      TEXT NOT NULL,
    device_id   TEXT,
    row_number  INTEGER,
    before      JSONB,      -- application_id, region, subscription ids, tags as they were
    intended    JSONB,      -- what the plan asked for
    outcome     TEXT NOT NULL DEFAULT 'pending', -- pending | unchanged | succeeded | failed | skipped
    error       TEXT,
    PRIMARY KEY (run_id, serial)
);

-- Views ------------------------------------------------------------------------------------

CREATE VIEW active_devices AS
    SELECT * FROM devices WHERE NOT archived AND removed_at IS NULL;

CREATE VIEW active_subscriptions AS
    SELECT * FROM subscriptions WHERE subscription_status = 'STARTED' AND removed_at IS NULL;

-- Subscriptions that are STARTED and end within `days` (expired ones are excluded; see
-- expired_subscriptions). days_left is whole days, rounded down.
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

CREATE VIEW expired_subscriptions AS
    SELECT s.*, floor(extract(epoch FROM (s.end_time - now())) / 86400)::int AS days_left
      FROM subscriptions s
     WHERE s.removed_at IS NULL AND s.end_time < now();

-- Devices covered by a subscription that is STARTED and ends within `days`.
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

CREATE VIEW device_summary AS
    SELECT device_type, region, assigned_state,
           count(*)                                   AS total,
           count(*) FILTER (WHERE archived)           AS archived,
           count(*) FILTER (WHERE removed_at IS NOT NULL) AS removed
      FROM devices
     GROUP BY device_type, region, assigned_state;

CREATE VIEW subscription_summary AS
    SELECT subscription_type, subscription_status,
           count(*)                AS total,
           sum(quantity)           AS quantity,
           sum(available_quantity) AS available_quantity
      FROM subscriptions
     WHERE removed_at IS NULL
     GROUP BY subscription_type, subscription_status;
