//! Read-only queries behind the console's tabs.
//!
//! One query per tab, returning plain records: the TUI turns them into display strings once
//! per load, off the draw path. The queries are written for full scans of ~100 000 devices:
//! hash joins over pre-aggregated link and tag sets instead of a sub-query per row.
//! Devices are ordered by serial in byte order (`COLLATE "C"`): the same on every server
//! locale, and a plain memory compare — under a `C.UTF-8` or `en_US` default collation,
//! picking the first 200 of 100 000 serials spent ~100 ms in `strcoll` alone.
//! Relative values (days left, ages) are *not* computed here — the caller owns "now", so
//! screens and snapshots stay stable.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{Store, StoreError};

/// One line of the Devices tab.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRecord {
    pub id: String,
    pub serial_number: String,
    pub mac_address: Option<String>,
    pub device_type: Option<String>,
    pub model: Option<String>,
    pub region: Option<String>,
    pub application_id: Option<String>,
    /// The application's name as the service catalog last gave it (`None`: never read).
    pub application_name: Option<String>,
    pub assigned_state: Option<String>,
    pub archived: bool,
    pub removed_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub device_name: Option<String>,
    /// The linked subscription that ends first (a device usually has one).
    pub subscription_key: Option<String>,
    pub subscription_end: Option<DateTime<Utc>>,
    pub subscription_count: i64,
    /// `key=value` pairs, sorted by key, comma separated.
    pub tags: Option<String>,
}

/// One line of the Subscriptions tab (also the source of the Expiring tab).
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRecord {
    pub id: String,
    pub key: Option<String>,
    pub subscription_type: Option<String>,
    pub tier: Option<String>,
    pub status: Option<String>,
    pub quantity: Option<i64>,
    pub available_quantity: Option<i64>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub sku: Option<String>,
    pub is_eval: Option<bool>,
    pub removed_at: Option<DateTime<Utc>>,
    /// Devices (not removed) linked to this subscription.
    pub devices: i64,
}

/// A device covered by a subscription, for the Expiring tab's "devices covered" pane.
#[derive(Debug, Clone, PartialEq)]
pub struct CoveredDevice {
    pub subscription_id: String,
    pub device_id: String,
    pub serial_number: String,
    pub device_type: Option<String>,
    pub model: Option<String>,
}

/// One past assignment run (the Assign tab).
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentRunRecord {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub kind: String,
    pub status: String,
    pub source_file: Option<String>,
    pub operator: Option<String>,
    pub devices: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub operations: i64,
}

/// A linked record shown in a detail pane.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub id: String,
    /// Serial (for devices) or key (for subscriptions).
    pub name: String,
    pub info: String,
    pub end_time: Option<DateTime<Utc>>,
}

/// Everything the detail pane shows for one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    /// The record exactly as GLP sent it.
    pub raw: serde_json::Value,
    pub links: Vec<Link>,
    /// Total linked records (the list may be capped).
    pub links_total: i64,
}

/// How many links a detail pane lists at most (a subscription may cover 50 000 devices).
pub const DETAIL_LINK_CAP: i64 = 500;

pub use super::view_scope::ViewScope;
use super::view_scope::{CHOICE, CONSOLIDATED, SINGLE_DEVICES};

/// A device's links in its own workspace (every key of 0009 leads with the workspace).
const DEVICES_SQL: &str = "
WITH firstsub AS (
    SELECT DISTINCT ON (ds.workspace_id, ds.device_id) ds.workspace_id, ds.device_id,
           coalesce(ds.key, s.key) AS key,
           coalesce(ds.end_time, s.end_time) AS end_time,
           count(*) OVER (PARTITION BY ds.workspace_id, ds.device_id) AS n
      FROM device_subscriptions ds
      LEFT JOIN subscriptions s ON s.workspace_id = ds.workspace_id AND s.id = ds.subscription_id
     ORDER BY ds.workspace_id, ds.device_id, coalesce(ds.end_time, s.end_time) NULLS LAST
)
SELECT d.id, d.serial_number, d.mac_address, d.device_type, d.model, d.region, d.application_id,
       d.assigned_state, d.archived, d.removed_at, d.last_seen_at, d.device_name,
       f.key AS sub_key, f.end_time AS sub_end, coalesce(f.n, 0) AS sub_count,
       (SELECT string_agg(key || '=' || value, ',' ORDER BY key)
          FROM jsonb_each_text(d.tags)) AS tags,
       an.name AS application_name, d.ws_of
  FROM (SELECT d.*, d.workspace_id AS ws_of FROM devices d) d
  LEFT JOIN firstsub f ON f.workspace_id = d.workspace_id AND f.device_id = d.id
  LEFT JOIN application_names an
         ON an.workspace_id = d.workspace_id AND an.id = lower(d.application_id)
 ORDER BY d.serial_number COLLATE \"C\", d.id COLLATE \"C\"";

/// Devices linked per subscription, counted in the subscription's own workspace (as
/// `subscriptions_expiring` counts them).
const SUBSCRIPTIONS_SQL: &str = "
WITH counts AS (
    SELECT ds.workspace_id, ds.subscription_id, count(*) AS n
      FROM device_subscriptions ds
      JOIN devices d ON d.workspace_id = ds.workspace_id AND d.id = ds.device_id
     WHERE d.removed_at IS NULL
     GROUP BY ds.workspace_id, ds.subscription_id
)
SELECT s.id, s.key, s.subscription_type, s.tier, s.subscription_status, s.quantity,
       s.available_quantity, s.start_time, s.end_time, s.sku, s.is_eval, s.removed_at,
       coalesce(c.n, 0) AS devices, s.ws_of
  FROM (SELECT s.*, s.workspace_id AS ws_of FROM subscriptions s) s
  LEFT JOIN counts c ON c.workspace_id = s.workspace_id AND c.subscription_id = s.id
 ORDER BY s.end_time NULLS LAST, s.key, s.id";

/// Turns off PostgreSQL's JIT for the rest of the transaction. The planner's cost of the
/// device queries passes `jit_above_cost` (more so before the first ANALYZE after a bulk
/// sync), and compiling them took ~50 ms of the ~150 ms the 200-row head took; row-at-a-time
/// reads of 100 000 rows gain nothing from it.
const NO_JIT: &str = "SET LOCAL jit = off";

/// Memory for one hash or sort of a count over every device, for the rest of the
/// transaction (one console query at a time uses it).
const HASH_MEMORY: &str = "SET LOCAL work_mem = '64MB'";

/// The first `$1` devices in the Devices tab's order. The serial's first 256 characters lead
/// the order, as in the index that serves it (0013; a whole serial can be too long for a
/// btree entry): byte-wise, that prefix then the serial orders exactly as the serial alone,
/// so the head and the full list agree row for row. Every join is a lateral lookup by
/// primary key (`LIMIT 1` keeps PostgreSQL from flattening it back into a join), so the plan stays "top-N of one scan, then 200 index probes" even with
/// stale statistics (a hash join against all subscriptions per device cost ~60 ms).
#[doc(hidden)]
pub const DEVICES_HEAD_SQL: &str = "
SELECT d.id, d.serial_number, d.mac_address, d.device_type, d.model, d.region, d.application_id,
       d.assigned_state, d.archived, d.removed_at, d.last_seen_at, d.device_name,
       f.key AS sub_key, f.end_time AS sub_end, coalesce(f.n, 0) AS sub_count,
       (SELECT string_agg(key || '=' || value, ',' ORDER BY key)
          FROM jsonb_each_text(d.tags)) AS tags,
       (SELECT name FROM application_names
         WHERE workspace_id = d.workspace_id AND id = lower(d.application_id)) AS application_name,
       d.ws_of
  FROM (SELECT workspace_id, id, serial_number, mac_address, device_type, model, region,
               application_id, assigned_state, archived, removed_at, last_seen_at, device_name,
               tags, ws_of
          FROM (SELECT d.*, d.workspace_id AS ws_of FROM devices d) d ORDER BY left(serial_number, 256) COLLATE \"C\", serial_number COLLATE \"C\", id COLLATE \"C\" LIMIT $1) d
  LEFT JOIN LATERAL (
        SELECT coalesce(ds.key, s.key) AS key, coalesce(ds.end_time, s.end_time) AS end_time,
               count(*) OVER () AS n
          FROM device_subscriptions ds
          LEFT JOIN LATERAL (SELECT key, end_time FROM subscriptions
                              WHERE workspace_id = ds.workspace_id AND id = ds.subscription_id
                              LIMIT 1) s ON true
         WHERE ds.workspace_id = d.workspace_id AND ds.device_id = d.id
         ORDER BY coalesce(ds.end_time, s.end_time) NULLS LAST
         LIMIT 1) f ON true
 ORDER BY d.serial_number COLLATE \"C\", d.id COLLATE \"C\"";

const COVERED_SQL: &str = "
SELECT s.id AS sid, d.id AS did, d.serial_number, d.device_type, d.model
  FROM (SELECT s.*, s.workspace_id AS ws_of FROM subscriptions s) s
  JOIN device_subscriptions ds ON ds.workspace_id = s.workspace_id AND ds.subscription_id = s.id
  JOIN devices d ON d.workspace_id = ds.workspace_id AND d.id = ds.device_id
 WHERE s.removed_at IS NULL AND d.removed_at IS NULL
 ORDER BY s.id, d.serial_number";

fn device_record(r: &PgRow) -> Result<DeviceRecord, sqlx::Error> {
    Ok(DeviceRecord {
        id: r.try_get("id")?,
        serial_number: r.try_get("serial_number")?,
        mac_address: r.try_get("mac_address")?,
        device_type: r.try_get("device_type")?,
        model: r.try_get("model")?,
        region: r.try_get("region")?,
        application_id: r.try_get("application_id")?,
        application_name: r.try_get("application_name")?,
        assigned_state: r.try_get("assigned_state")?,
        archived: r.try_get("archived")?,
        removed_at: r.try_get("removed_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        device_name: r.try_get("device_name")?,
        subscription_key: r.try_get("sub_key")?,
        subscription_end: r.try_get("sub_end")?,
        subscription_count: r.try_get("sub_count")?,
        tags: r.try_get("tags")?,
    })
}

fn covered_device(r: &PgRow) -> Result<CoveredDevice, sqlx::Error> {
    Ok(CoveredDevice {
        subscription_id: r.try_get("sid")?,
        device_id: r.try_get("did")?,
        serial_number: r.try_get("serial_number")?,
        device_type: r.try_get("device_type")?,
        model: r.try_get("model")?,
    })
}

fn subscription_record(r: &PgRow) -> Result<SubscriptionRecord, sqlx::Error> {
    Ok(SubscriptionRecord {
        id: r.try_get("id")?,
        key: r.try_get("key")?,
        subscription_type: r.try_get("subscription_type")?,
        tier: r.try_get("tier")?,
        status: r.try_get("subscription_status")?,
        quantity: r.try_get("quantity")?,
        available_quantity: r.try_get("available_quantity")?,
        start_time: r.try_get("start_time")?,
        end_time: r.try_get("end_time")?,
        sku: r.try_get("sku")?,
        is_eval: r.try_get("is_eval")?,
        removed_at: r.try_get("removed_at")?,
        devices: r.try_get("devices")?,
    })
}

fn run_record(r: &PgRow) -> Result<AssignmentRunRecord, sqlx::Error> {
    Ok(AssignmentRunRecord {
        id: r.try_get("id")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
        kind: r.try_get("kind")?,
        status: r.try_get("status")?,
        source_file: r.try_get("source_file")?,
        operator: r.try_get("operator")?,
        devices: r.try_get("devices")?,
        succeeded: r.try_get("succeeded")?,
        failed: r.try_get("failed")?,
        operations: r.try_get("operations")?,
    })
}

/// A record with the id of the workspace it is attributed to (see [`ViewScope`]).
pub type InWorkspace<T> = (String, T);

const RUNS_SQL: &str = "
SELECT r.id, r.created_at, r.finished_at, r.kind, r.status, r.source_file, r.operator,
       COALESCE((r.summary->'counts'->>'devices')::bigint,
         (SELECT count(*) FROM assignment_devices d WHERE d.run_id = r.id)) AS devices,
       COALESCE((r.summary->'counts'->>'devices_succeeded')::bigint,
         (SELECT count(*) FROM assignment_devices d
           WHERE d.run_id = r.id AND d.outcome IN ('succeeded', 'validated'))) AS succeeded,
       COALESCE((r.summary->'counts'->>'devices_failed')::bigint,
         (SELECT count(*) FROM assignment_devices d
           WHERE d.run_id = r.id AND d.outcome = 'failed')) AS failed,
       COALESCE((r.summary->'counts'->>'operations')::bigint,
         (SELECT count(*) FROM assignment_operations o WHERE o.run_id = r.id)) AS operations,
       r.workspace_id AS ws_of
  FROM assignment_runs r WHERE {R} ORDER BY r.created_at DESC, r.id DESC LIMIT 1000";

impl Store {
    /// Every device in the Devices tab's order, handed to `each` one at a time as the rows
    /// arrive: the caller builds its display rows while streaming, so the driver's result
    /// rows, the records and the display rows never all sit in memory at once (100 000
    /// devices held three ways cost ~100 MB).
    pub async fn view_devices_each(
        &self,
        mut each: impl FnMut(DeviceRecord),
    ) -> Result<(), StoreError> {
        self.view_devices_each_in(&ViewScope::Single, |_, d| each(d))
            .await
    }

    /// [`Store::view_devices_each`] over the devices in `scope`, each with its workspace.
    pub async fn view_devices_each_in(
        &self,
        scope: &ViewScope,
        mut each: impl FnMut(String, DeviceRecord),
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(NO_JIT).execute(&mut *tx).await?;
        {
            let mut q = sqlx::query(scope.sql(DEVICES_SQL, 1));
            if let Some(w) = scope.param() {
                q = q.bind(w);
            }
            let mut rows = q.fetch(&mut *tx);
            while let Some(r) = rows.try_next().await? {
                each(r.try_get("ws_of")?, device_record(&r)?);
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The first `limit` devices in the Devices tab's order — a screenful the console shows
    /// within milliseconds of starting while the full list streams in behind it. The
    /// per-device joins run only for those rows (lateral), not for the whole inventory.
    pub async fn view_devices_head(&self, limit: i64) -> Result<Vec<DeviceRecord>, StoreError> {
        let head = self.view_devices_head_in(&ViewScope::Single, limit).await?;
        Ok(head.into_iter().map(|(_, d)| d).collect())
    }

    /// [`Store::view_devices_head`] of the devices in `scope`, each with its workspace.
    pub async fn view_devices_head_in(
        &self,
        scope: &ViewScope,
        limit: i64,
    ) -> Result<Vec<InWorkspace<DeviceRecord>>, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(NO_JIT).execute(&mut *tx).await?;
        let sql = match scope {
            // Every row of a device carries its serial, so the first `limit` consolidated
            // devices are among the first `limit` (serial, id) pairs of all rows: only
            // those ids are consolidated, read in the list's order from its index (0013).
            // The ids go out in the default collation: compared as "C" they could not use
            // the id index, and every device was read to find 200.
            ViewScope::All => sqlx::AssertSqlSafe(DEVICES_HEAD_SQL.replace(
                SINGLE_DEVICES,
                &format!(
                    "(SELECT * FROM ({CONSOLIDATED} WHERE d.id IN (SELECT i COLLATE \"default\" \
                       FROM (SELECT DISTINCT left(serial_number, 256) COLLATE \"C\" AS p, \
                               serial_number COLLATE \"C\" AS s, id COLLATE \"C\" AS i \
                          FROM devices ORDER BY 1, 2, 3 LIMIT $1) t) ORDER BY {CHOICE}) c)"
                ),
            )),
            _ => scope.sql(DEVICES_HEAD_SQL, 2),
        };
        let mut q = sqlx::query(sql).bind(limit);
        if let Some(w) = scope.param() {
            q = q.bind(w);
        }
        let rows = q.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| Ok((r.try_get("ws_of")?, device_record(r)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Device count per type (`None`: no type), for tab titles and the breakdown line before
    /// the full list is loaded.
    pub async fn view_device_type_counts(&self) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        self.view_device_type_counts_in(&ViewScope::Single).await
    }

    /// [`Store::view_device_type_counts`] of the devices in `scope`.
    pub async fn view_device_type_counts_in(
        &self,
        scope: &ViewScope,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        let sql = match scope {
            // One per device id, hashed rather than consolidated (a sort of every row): the
            // total is exact; a device whose rows disagree on its type is counted under one
            // of them until the full list (whose rows are counted) replaces these figures.
            ViewScope::All => sqlx::AssertSqlSafe(
                "SELECT t, count(*) FROM (SELECT min(device_type) AS t FROM devices GROUP BY id) x \
                  GROUP BY t"
                    .to_string(),
            ),
            _ => scope.sql(
                &format!("SELECT device_type, count(*) FROM {SINGLE_DEVICES} d GROUP BY device_type"),
                1,
            ),
        };
        let mut tx = self.pool().begin().await?;
        // The hash of every device id (~160 000 for 301 workspaces) spilled to disk in
        // batches at the default 4 MB: ~310 ms instead of ~220.
        sqlx::query(HASH_MEMORY).execute(&mut *tx).await?;
        let mut q = sqlx::query_as(sql);
        if let Some(w) = scope.param() {
            q = q.bind(w);
        }
        let counts = q.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Every subscription with its count of covered devices.
    pub async fn view_subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StoreError> {
        let subs = self.view_subscriptions_in(&ViewScope::Single).await?;
        Ok(subs.into_iter().map(|(_, s)| s).collect())
    }

    /// [`Store::view_subscriptions`] of the subscriptions in `scope`, each with its workspace.
    pub async fn view_subscriptions_in(
        &self,
        scope: &ViewScope,
    ) -> Result<Vec<InWorkspace<SubscriptionRecord>>, StoreError> {
        let mut q = sqlx::query(scope.sql(SUBSCRIPTIONS_SQL, 1));
        if let Some(w) = scope.param() {
            q = q.bind(w);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("ws_of")?, subscription_record(r)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Devices (not removed) covered by each subscription (not removed) — every one, those
    /// without an end date too, as the drill-downs answer "which devices does it cover"
    /// for any of them — streamed to `each` in (subscription, serial) order without
    /// holding the whole result.
    pub async fn view_covered_devices_each(
        &self,
        each: impl FnMut(CoveredDevice),
    ) -> Result<(), StoreError> {
        self.view_covered_devices_each_in(&ViewScope::Single, each)
            .await
    }

    /// [`Store::view_covered_devices_each`] for the subscriptions in `scope`.
    pub async fn view_covered_devices_each_in(
        &self,
        scope: &ViewScope,
        mut each: impl FnMut(CoveredDevice),
    ) -> Result<(), StoreError> {
        let mut q = sqlx::query(scope.sql(COVERED_SQL, 1));
        if let Some(w) = scope.param() {
            q = q.bind(w);
        }
        let mut rows = q.fetch(self.pool());
        while let Some(r) = rows.try_next().await? {
            each(covered_device(&r)?);
        }
        Ok(())
    }

    /// Past assignment runs, newest first, with per-device outcome counts: a finished run's
    /// counts are those of its report (its summary), so the list, the report and the live
    /// progress agree; a run without a summary (running, abandoned) is counted from its
    /// device rows. Runs left
    /// `running` by processes that are gone are marked `abandoned` first, so the list never
    /// shows a dead run as in progress.
    pub async fn view_assignment_runs(&self) -> Result<Vec<AssignmentRunRecord>, StoreError> {
        let runs = self.view_assignment_runs_in(&ViewScope::Single).await?;
        Ok(runs.into_iter().map(|(_, r)| r).collect())
    }

    /// [`Store::view_assignment_runs`] of the workspaces in `scope`, each with its workspace.
    pub async fn view_assignment_runs_in(
        &self,
        scope: &ViewScope,
    ) -> Result<Vec<InWorkspace<AssignmentRunRecord>>, StoreError> {
        self.sweep_abandoned_assignment_runs().await?;
        let sql = RUNS_SQL.replace("{R}", &scope.rows_of(1));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(w) = scope.param() {
            q = q.bind(w);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("ws_of")?, run_record(r)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// A device's raw JSON and its linked subscriptions. A device several workspaces list is
    /// read as the consolidated view has it (the row the console shows), with the links of
    /// that row's workspace.
    pub async fn view_device_detail(&self, id: &str) -> Result<Option<Detail>, StoreError> {
        let raw: Option<(serde_json::Value, String)> =
            sqlx::query_as("SELECT raw_data, workspace_id FROM devices_consolidated WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        let Some((raw, ws)) = raw else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT ds.subscription_id, coalesce(ds.key, s.key, ds.subscription_id) AS name,
                    concat_ws(' ', coalesce(s.subscription_type, ''), coalesce(ds.tier, s.tier, ''),
                              coalesce(s.subscription_status, 'not synced')) AS info,
                    coalesce(ds.end_time, s.end_time) AS end_time
               FROM device_subscriptions ds
               LEFT JOIN subscriptions s
                      ON s.workspace_id = ds.workspace_id AND s.id = ds.subscription_id
              WHERE ds.workspace_id = $2 AND ds.device_id = $1 ORDER BY 4 NULLS LAST, 2",
        )
        .bind(id)
        .bind(&ws)
        .fetch_all(self.pool())
        .await?;
        let links = rows
            .iter()
            .map(|r| {
                Ok(Link {
                    id: r.try_get("subscription_id")?,
                    name: r.try_get("name")?,
                    info: r.try_get("info")?,
                    end_time: r.try_get("end_time")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let links_total = links.len() as i64;
        Ok(Some(Detail {
            raw,
            links,
            links_total,
        }))
    }

    /// A subscription's raw JSON and the devices it covers (at most [`DETAIL_LINK_CAP`]),
    /// read like [`Store::view_device_detail`].
    pub async fn view_subscription_detail(&self, id: &str) -> Result<Option<Detail>, StoreError> {
        let raw: Option<(serde_json::Value, String)> = sqlx::query_as(
            "SELECT raw_data, workspace_id FROM subscriptions_consolidated WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some((raw, ws)) = raw else {
            return Ok(None);
        };
        let links_total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM device_subscriptions WHERE workspace_id = $2 AND subscription_id = $1",
        )
        .bind(id)
        .bind(&ws)
        .fetch_one(self.pool())
        .await?;
        let rows = sqlx::query(
            "SELECT d.id, d.serial_number,
                    concat_ws(' ', coalesce(d.device_type, ''), coalesce(d.model, ''),
                              CASE WHEN d.removed_at IS NOT NULL THEN 'REMOVED'
                                   WHEN d.archived THEN 'archived' ELSE '' END) AS info
               FROM device_subscriptions ds
               JOIN devices d ON d.workspace_id = ds.workspace_id AND d.id = ds.device_id
              WHERE ds.workspace_id = $3 AND ds.subscription_id = $1
              ORDER BY d.serial_number LIMIT $2",
        )
        .bind(id)
        .bind(DETAIL_LINK_CAP)
        .bind(&ws)
        .fetch_all(self.pool())
        .await?;
        let links = rows
            .iter()
            .map(|r| {
                Ok(Link {
                    id: r.try_get("id")?,
                    name: r.try_get("serial_number")?,
                    info: r.try_get::<String, _>("info")?.trim().to_string(),
                    end_time: None,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(Some(Detail {
            raw,
            links,
            links_total,
        }))
    }

    /// When the last successful sync finished (before the engine reports its own status).
    pub async fn view_last_good_sync(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.view_last_good_sync_in(&ViewScope::Single).await
    }

    /// [`Store::view_last_good_sync`] of the workspaces in `scope` (all: the latest of any).
    pub async fn view_last_good_sync_in(
        &self,
        scope: &ViewScope,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = format!(
            "SELECT max(finished_at) FROM sync_history WHERE outcome = 'succeeded' AND {}",
            scope.rows_of(1)
        );
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        if let Some(w) = scope.param() {
            q = q.bind(w);
        }
        Ok(q.fetch_one(self.pool()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::view_scope::SINGLE_SUBSCRIPTIONS;
    use super::*;
    use crate::domain::WorkspaceId;

    /// Every statement names the one-workspace tables exactly as [`ViewScope::sql`] replaces
    /// them: a statement that drifted would read every workspace in every scope.
    #[test]
    fn every_statement_is_scoped() {
        for sql in [DEVICES_SQL, DEVICES_HEAD_SQL] {
            assert!(sql.contains(SINGLE_DEVICES), "{sql}");
        }
        for sql in [SUBSCRIPTIONS_SQL, COVERED_SQL] {
            assert!(sql.contains(SINGLE_SUBSCRIPTIONS), "{sql}");
        }
        let one = ViewScope::One(WorkspaceId::default_id());
        assert!(!one.sql(DEVICES_SQL, 1).0.contains(SINGLE_DEVICES));
        assert!(!one.sql(COVERED_SQL, 1).0.contains(SINGLE_SUBSCRIPTIONS));
    }
}
