-- What changed, field by field (issue: history, compliance and utilisation). A sync that
-- stores a changed device or subscription records each tracked field whose value moved, with
-- the run and the time; removals and restorations are recorded as the field `presence`.
-- Values are text in one spelling per field (ids sorted and comma-joined, tags `k=v; …` in
-- byte order, times RFC 3339 in UTC with milliseconds), so old and new compare as written.
-- Pruned by the sync after `[sync] history_retention_days` (default 180).
CREATE TABLE inventory_changes (
    workspace_id  TEXT NOT NULL,
    resource      TEXT NOT NULL,            -- devices | subscriptions
    item_id       TEXT NOT NULL,
    sync_id       BIGINT,                   -- the run that stored it (NULL outside a run)
    changed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    field         TEXT NOT NULL,
    old_value     TEXT,
    new_value     TEXT
);
CREATE INDEX inventory_changes_item_idx ON inventory_changes (workspace_id, resource, item_id, changed_at DESC);
CREATE INDEX inventory_changes_time_idx ON inventory_changes (workspace_id, changed_at);
