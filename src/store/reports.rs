//! Read queries for the headless reports (`--expiring-days`, `export`, `status`).

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde::Serialize;

use super::{Store, StoreError};

/// A subscription ending within the window, with how many devices it covers.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExpiringSubscription {
    pub id: String,
    pub key: Option<String>,
    pub subscription_type: Option<String>,
    pub tier: Option<String>,
    pub subscription_status: Option<String>,
    pub quantity: Option<i64>,
    pub available_quantity: Option<i64>,
    pub end_time: Option<DateTime<Utc>>,
    pub days_left: Option<i32>,
    pub devices: Option<i64>,
    /// The workspace the subscription is attributed to (consolidated rule), and its name.
    pub workspace_id: String,
    pub workspace: Option<String>,
}

/// The SQL's `days_left` rounds hours down (tomorrow at 10:00 seen at noon is "0"): every
/// count shown is the calendar-day one of [`crate::domain::days_left`] instead.
fn calendar_days(end: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i32> {
    end.map(|e| crate::domain::days_left(e, now) as i32)
}

fn with_calendar_days(mut rows: Vec<AffectedDevice>) -> Vec<AffectedDevice> {
    let now = Utc::now();
    for r in &mut rows {
        r.days_left = calendar_days(r.end_time, now);
    }
    rows
}

/// A device covered by an expiring subscription.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AffectedDevice {
    pub device_id: String,
    pub serial_number: String,
    pub mac_address: Option<String>,
    pub device_type: Option<String>,
    pub model: Option<String>,
    pub region: Option<String>,
    pub subscription_id: String,
    pub subscription_key: Option<String>,
    pub end_time: Option<DateTime<Utc>>,
    pub days_left: Option<i32>,
    pub workspace_id: String,
    pub workspace: Option<String>,
}

/// The all-workspaces figures, from the consolidated views: a device (or subscription) two
/// workspaces both list counts once.
#[derive(Debug, Clone, Copy, Serialize, sqlx::FromRow)]
pub struct WorkspaceTotals {
    pub devices: i64,
    pub subscriptions: i64,
    /// Subscriptions STARTED and ending within the window.
    pub expiring: i64,
}

/// One device as exported to CSV/XLSX: the columns a person filters on, tags flattened.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeviceExportRow {
    pub id: String,
    pub serial_number: String,
    pub mac_address: Option<String>,
    pub part_number: Option<String>,
    pub device_type: Option<String>,
    pub model: Option<String>,
    pub device_name: Option<String>,
    pub region: Option<String>,
    pub application_id: Option<String>,
    pub assigned_state: Option<String>,
    pub archived: bool,
    pub subscription_keys: Option<String>,
    pub subscription_end: Option<DateTime<Utc>>,
    pub tags: Option<String>,
    pub location_name: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub last_seen_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    /// Name of the workspace the device is attributed to (last, so the columns of earlier
    /// versions keep their places).
    pub workspace: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubscriptionExportRow {
    pub id: String,
    pub key: Option<String>,
    pub subscription_type: Option<String>,
    pub tier: Option<String>,
    pub subscription_status: Option<String>,
    pub quantity: Option<i64>,
    pub available_quantity: Option<i64>,
    pub sku: Option<String>,
    pub sku_description: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub product_type: Option<String>,
    pub is_eval: Option<bool>,
    pub tags: Option<String>,
    pub devices: i64,
    pub removed_at: Option<DateTime<Utc>>,
    pub workspace: Option<String>,
}

impl Store {
    /// Subscriptions STARTED and ending within `days`, across workspaces (the consolidated
    /// rule of `subscriptions_expiring`), or only those attributed to the workspaces `only`
    /// names.
    pub async fn expiring_subscriptions(
        &self,
        days: u32,
        only: Option<&[String]>,
    ) -> Result<Vec<ExpiringSubscription>, StoreError> {
        let mut rows: Vec<ExpiringSubscription> = sqlx::query_as(
            "SELECT e.*, w.name AS workspace FROM subscriptions_expiring($1) e \
             LEFT JOIN workspaces w ON w.id = e.workspace_id \
             WHERE $2::text[] IS NULL OR e.workspace_id = ANY($2) \
             ORDER BY e.end_time, e.key, e.id",
        )
        .bind(days as i32)
        .bind(only)
        .fetch_all(self.pool())
        .await?;
        let now = Utc::now();
        for r in &mut rows {
            r.days_left = calendar_days(r.end_time, now);
        }
        Ok(rows)
    }

    /// Devices covered by those subscriptions (filtered like them).
    pub async fn devices_on_expiring(
        &self,
        days: u32,
        only: Option<&[String]>,
    ) -> Result<Vec<AffectedDevice>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT e.*, w.name AS workspace FROM devices_on_expiring_subscriptions($1) e \
             LEFT JOIN workspaces w ON w.id = e.workspace_id \
             WHERE $2::text[] IS NULL OR e.workspace_id = ANY($2) \
             ORDER BY e.end_time, e.subscription_key, e.serial_number, e.device_id",
        )
        .bind(days as i32)
        .bind(only)
        .fetch_all(self.pool())
        .await?;
        Ok(with_calendar_days(rows))
    }

    /// Devices, subscriptions and expiring subscriptions over every workspace, each counted
    /// once (the consolidated views), live rows only.
    pub async fn all_workspace_totals(&self, days: u32) -> Result<WorkspaceTotals, StoreError> {
        Ok(sqlx::query_as(
            "SELECT (SELECT count(*) FROM devices_consolidated WHERE removed_at IS NULL) AS devices, \
               (SELECT count(*) FROM subscriptions_consolidated WHERE removed_at IS NULL) \
                 AS subscriptions, \
               (SELECT count(*) FROM subscriptions_expiring($1)) AS expiring",
        )
        .bind(days as i32)
        .fetch_one(self.pool())
        .await?)
    }

    /// Stored devices of this store's workspace linked to any of these subscriptions (for
    /// `--expiring-days --live`, where the subscriptions come from that workspace's API).
    pub async fn devices_for_subscriptions(
        &self,
        ids: &[String],
    ) -> Result<Vec<AffectedDevice>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT d.id AS device_id, d.serial_number, d.mac_address, d.device_type, d.model, \
               d.region, ds.subscription_id, ds.key AS subscription_key, ds.end_time, \
               floor(extract(epoch FROM (ds.end_time - now())) / 86400)::int AS days_left, \
               d.workspace_id, w.name AS workspace \
             FROM device_subscriptions ds \
             JOIN devices d ON d.workspace_id = ds.workspace_id AND d.id = ds.device_id \
             LEFT JOIN workspaces w ON w.id = d.workspace_id \
             WHERE ds.workspace_id = $2 AND ds.subscription_id = ANY($1) AND d.removed_at IS NULL \
             ORDER BY ds.end_time, ds.key, d.serial_number",
        )
        .bind(ids)
        .bind(self.workspace().as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(with_calendar_days(rows))
    }

    /// Devices for export, by serial, as a cursor: rows arrive as they are written out, so
    /// an export of 100 000 devices holds one row at a time, not the table. Removed devices
    /// are included (marked) so an export is a faithful picture of the table. One row per
    /// device across workspaces (the consolidated view: a device the MSP and a tenant both
    /// list is the tenant's), or only those attributed to the workspaces `only` names. The
    /// attribution is [`Store::workspace_overview`]'s: the workspace the device is placed in
    /// when that one is stored, else the workspace whose row it is.
    pub fn export_devices(&self, only: Option<&[String]>) -> RowStream<'_, DeviceExportRow> {
        Box::pin(
            sqlx::query_as(
                "SELECT d.id, d.serial_number, d.mac_address, d.part_number, d.device_type, d.model, \
                   d.device_name, d.region, d.application_id, d.assigned_state, d.archived, \
                   (SELECT string_agg(coalesce(ds.key, ds.subscription_id), ' ' ORDER BY ds.end_time) \
                      FROM device_subscriptions ds \
                      WHERE ds.workspace_id = d.workspace_id AND ds.device_id = d.id) \
                      AS subscription_keys, \
                   (SELECT min(ds.end_time) FROM device_subscriptions ds \
                      WHERE ds.workspace_id = d.workspace_id AND ds.device_id = d.id) \
                      AS subscription_end, \
                   (SELECT string_agg(t.key || '=' || t.value, '; ' ORDER BY t.key) \
                      FROM jsonb_each_text(d.tags) t) AS tags, \
                   d.location_name, d.updated_at, d.last_seen_at, d.removed_at, \
                   coalesce(p.name, o.name) AS workspace \
                 FROM devices_consolidated d \
                 LEFT JOIN workspaces p ON p.id = d.placed_workspace_id \
                 LEFT JOIN workspaces o ON o.id = d.workspace_id \
                 WHERE $1::text[] IS NULL OR coalesce(p.id, d.workspace_id) = ANY($1) \
                 ORDER BY d.serial_number, d.id",
            )
            .bind(only.map(<[String]>::to_vec))
            .fetch(self.pool())
            .map(|r| r.map_err(StoreError::from)),
        )
    }

    /// Subscriptions for export (a cursor, like [`Store::export_devices`]).
    pub fn export_subscriptions(
        &self,
        only: Option<&[String]>,
    ) -> RowStream<'_, SubscriptionExportRow> {
        Box::pin(
            sqlx::query_as(
                "SELECT s.id, s.key, s.subscription_type, s.tier, s.subscription_status, s.quantity, \
                   s.available_quantity, s.sku, s.sku_description, s.start_time, s.end_time, \
                   s.product_type, s.is_eval, \
                   (SELECT string_agg(t.key || '=' || t.value, '; ' ORDER BY t.key) \
                      FROM jsonb_each_text(s.tags) t) AS tags, \
                   (SELECT count(*) FROM device_subscriptions ds \
                      WHERE ds.workspace_id = s.workspace_id AND ds.subscription_id = s.id) \
                      AS devices, \
                   s.removed_at, w.name AS workspace \
                 FROM subscriptions_consolidated s LEFT JOIN workspaces w ON w.id = s.workspace_id \
                 WHERE $1::text[] IS NULL OR s.workspace_id = ANY($1) \
                 ORDER BY s.end_time NULLS LAST, s.key, s.id",
            )
            .bind(only.map(<[String]>::to_vec))
            .fetch(self.pool())
            .map(|r| r.map_err(StoreError::from)),
        )
    }

    /// The exact JSON GLP sent, for `export --format json` (lossless), one item's text per
    /// row from a cursor: the export copies it through without building a value. Live items,
    /// one per id across workspaces (consolidated), or of the workspaces `only` names.
    pub fn raw_items(&self, table: RawTable, only: Option<&[String]>) -> RowStream<'_, String> {
        let sql = match table {
            RawTable::Devices => {
                "SELECT d.raw_data::text FROM devices_consolidated d \
                 LEFT JOIN workspaces p ON p.id = d.placed_workspace_id \
                 WHERE d.removed_at IS NULL \
                 AND ($1::text[] IS NULL OR coalesce(p.id, d.workspace_id) = ANY($1)) \
                 ORDER BY d.serial_number, d.id"
            }
            RawTable::Subscriptions => {
                "SELECT raw_data::text FROM subscriptions_consolidated WHERE removed_at IS NULL \
                 AND ($1::text[] IS NULL OR workspace_id = ANY($1)) ORDER BY key, id"
            }
        };
        Box::pin(
            sqlx::query_scalar(sql)
                .bind(only.map(<[String]>::to_vec))
                .fetch(self.pool())
                .map(|r| r.map_err(StoreError::from)),
        )
    }
}

/// Rows read one at a time from a database cursor.
pub type RowStream<'a, T> = BoxStream<'a, Result<T, StoreError>>;

#[derive(Debug, Clone, Copy)]
pub enum RawTable {
    Devices,
    Subscriptions,
}
