-- GreenLake's audit log (issue 16, "who did it"): the entries of `GET /audit-log/v2beta1/logs`,
-- synced incrementally after the inventory. An entry's id is unique per workspace (a re-read
-- overlap is deduplicated on it); `target` is the device serial the entry names
-- (`additionalInfo.serverSerial`), upper case, when it names one. The whole entry is kept in
-- `raw`. The incremental watermark is the latest `occurred_at` stored per workspace. Pruned
-- with the change history after `[sync] history_retention_days`.
CREATE TABLE audit_log (
    workspace_id  TEXT NOT NULL,
    id            TEXT NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    username      TEXT,
    category      TEXT,
    description   TEXT,
    target        TEXT,
    raw           JSONB NOT NULL,
    fetched_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX audit_log_time_idx ON audit_log (workspace_id, occurred_at);
CREATE INDEX audit_log_target_idx ON audit_log (workspace_id, target, occurred_at DESC)
    WHERE target IS NOT NULL;
