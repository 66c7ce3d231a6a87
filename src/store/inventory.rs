//! Set-based writes of device and subscription pages.
//!
//! One page = one transaction: the rows, their tags and links, and (for a full sync) the
//! "seen" marks commit together or not at all. Rows are sent as one JSON array and expanded
//! server-side with `jsonb_to_recordset`, so a page of 2000 devices is a handful of
//! statements, never a statement per row. Values were already validated by the lenient
//! model, so no cast in SQL can fail and abort the page.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::{Postgres, Transaction};

use super::{Store, StoreError};
use crate::glp::model::{Device, Item, Subscription};

/// What one page write did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows that had been marked removed and came back.
    pub restored: u64,
}

impl UpsertCounts {
    pub fn add(&mut self, o: UpsertCounts) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.restored += o.restored;
    }
}

/// Which resource a row belongs to (used for seen-marks and history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Devices,
    Subscriptions,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Devices => "devices",
            Resource::Subscriptions => "subscriptions",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn ts(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

#[derive(Serialize)]
struct DeviceRow<'a> {
    id: &'a str,
    serial_number: &'a str,
    part_number: Option<&'a str>,
    mac_address: Option<&'a str>,
    device_type: Option<&'a str>,
    category: Option<&'a str>,
    model: Option<&'a str>,
    make: Option<&'a str>,
    assigned_state: Option<&'a str>,
    archived: bool,
    device_name: Option<&'a str>,
    secondary_name: Option<&'a str>,
    resource_type: Option<&'a str>,
    application_id: Option<&'a str>,
    application_resource_uri: Option<&'a str>,
    region: Option<&'a str>,
    tenant_workspace_id: Option<&'a str>,
    dedicated_platform_id: Option<&'a str>,
    in_use_workspace_id: Option<&'a str>,
    location_id: Option<&'a str>,
    location_name: Option<&'a str>,
    location_city: Option<&'a str>,
    location_state: Option<&'a str>,
    location_country: Option<&'a str>,
    location_postal_code: Option<&'a str>,
    location_street_address: Option<&'a str>,
    location_latitude: Option<f64>,
    location_longitude: Option<f64>,
    location_source: Option<&'a str>,
    management: Option<&'a str>,
    ownership: Option<&'a str>,
    source: Option<&'a str>,
    is_flex: Option<bool>,
    billing_account_id: Option<&'a str>,
    billing_account_name: Option<&'a str>,
    billing_tier: Option<&'a str>,
    subscription_category: Option<&'a str>,
    support_level: Option<&'a str>,
    support_end_date: Option<String>,
    manufactured_date: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    raw_data: &'a RawValue,
    raw_hash: i64,
}

impl<'a> DeviceRow<'a> {
    fn new(item: &'a Item<Device>) -> Self {
        let d = &item.data;
        let loc = d.location.as_ref();
        let support = d
            .warranty
            .as_ref()
            .and_then(|w| w.current_support_level.as_ref());
        let s = |v: &'a Option<String>| v.as_deref();
        DeviceRow {
            id: &d.id,
            serial_number: d.serial_number.as_deref().unwrap_or(""),
            part_number: s(&d.part_number),
            mac_address: s(&d.mac_address),
            device_type: s(&d.device_type),
            category: s(&d.category),
            model: s(&d.model),
            make: s(&d.make),
            assigned_state: s(&d.assigned_state),
            archived: d.archived.unwrap_or(false),
            device_name: s(&d.device_name),
            secondary_name: s(&d.secondary_name),
            resource_type: s(&d.resource_type),
            application_id: d.application.as_ref().and_then(|a| a.id.as_deref()),
            application_resource_uri: d
                .application
                .as_ref()
                .and_then(|a| a.resource_uri.as_deref()),
            region: s(&d.region),
            tenant_workspace_id: s(&d.tenant_workspace_id),
            dedicated_platform_id: d
                .dedicated_platform_workspace
                .as_ref()
                .and_then(|a| a.id.as_deref()),
            in_use_workspace_id: d.in_use_workspace.as_ref().and_then(|a| a.id.as_deref()),
            location_id: loc.and_then(|l| l.id.as_deref()),
            location_name: loc.and_then(|l| l.location_name.as_deref()),
            location_city: loc.and_then(|l| l.city.as_deref()),
            location_state: loc.and_then(|l| l.state.as_deref()),
            location_country: loc.and_then(|l| l.country.as_deref()),
            location_postal_code: loc.and_then(|l| l.postal_code.as_deref()),
            location_street_address: loc.and_then(|l| l.street_address.as_deref()),
            location_latitude: loc.and_then(|l| l.latitude).filter(|f| f.is_finite()),
            location_longitude: loc.and_then(|l| l.longitude).filter(|f| f.is_finite()),
            location_source: loc.and_then(|l| l.location_source.as_deref()),
            management: s(&d.management),
            ownership: s(&d.ownership),
            source: s(&d.source),
            is_flex: d.is_flex,
            billing_account_id: s(&d.billing_account_id),
            billing_account_name: s(&d.billing_account_name),
            billing_tier: s(&d.billing_tier),
            subscription_category: s(&d.subscription_category),
            support_level: support.and_then(|l| l.service_level.as_deref()),
            support_end_date: support.and_then(|l| ts(&l.end_date)),
            manufactured_date: ts(&d.manufactured_date),
            created_at: ts(&d.created_at),
            updated_at: ts(&d.updated_at),
            raw_data: &item.raw,
            raw_hash: raw_hash(&item.raw),
        }
    }
}

const DEVICE_COLUMNS: &str = "id text, serial_number text, part_number text, mac_address text, \
    device_type text, category text, model text, make text, assigned_state text, archived boolean, \
    device_name text, secondary_name text, resource_type text, application_id text, \
    application_resource_uri text, region text, tenant_workspace_id text, \
    dedicated_platform_id text, in_use_workspace_id text, location_id text, location_name text, \
    location_city text, location_state text, location_country text, location_postal_code text, \
    location_street_address text, location_latitude double precision, \
    location_longitude double precision, location_source text, management text, ownership text, \
    source text, is_flex boolean, billing_account_id text, billing_account_name text, \
    billing_tier text, subscription_category text, support_level text, \
    support_end_date timestamptz, manufactured_date timestamptz, created_at timestamptz, \
    updated_at timestamptz, raw_data jsonb, raw_hash bigint";

#[derive(Serialize)]
struct SubscriptionRow<'a> {
    id: &'a str,
    key: Option<&'a str>,
    resource_type: Option<&'a str>,
    subscription_type: Option<&'a str>,
    subscription_status: Option<&'a str>,
    quantity: Option<i64>,
    available_quantity: Option<i64>,
    sku: Option<&'a str>,
    sku_description: Option<&'a str>,
    start_time: Option<String>,
    end_time: Option<String>,
    tier: Option<&'a str>,
    tier_description: Option<&'a str>,
    product_type: Option<&'a str>,
    is_eval: Option<bool>,
    contract: Option<&'a str>,
    quote: Option<&'a str>,
    po: Option<&'a str>,
    reseller_po: Option<&'a str>,
    created_at: Option<String>,
    updated_at: Option<String>,
    raw_data: &'a RawValue,
    raw_hash: i64,
}

impl<'a> SubscriptionRow<'a> {
    fn new(item: &'a Item<Subscription>) -> Self {
        let d = &item.data;
        let s = |v: &'a Option<String>| v.as_deref();
        SubscriptionRow {
            id: &d.id,
            key: s(&d.key),
            resource_type: s(&d.resource_type),
            subscription_type: s(&d.subscription_type),
            subscription_status: s(&d.subscription_status),
            quantity: d.quantity,
            available_quantity: d.available_quantity,
            sku: s(&d.sku),
            sku_description: s(&d.sku_description),
            start_time: ts(&d.start_time),
            end_time: ts(&d.end_time),
            tier: s(&d.tier),
            tier_description: s(&d.tier_description),
            product_type: s(&d.product_type),
            is_eval: d.is_eval,
            contract: s(&d.contract),
            quote: s(&d.quote),
            po: s(&d.po),
            reseller_po: s(&d.reseller_po),
            created_at: ts(&d.created_at),
            updated_at: ts(&d.updated_at),
            raw_data: &item.raw,
            raw_hash: raw_hash(&item.raw),
        }
    }
}

const SUBSCRIPTION_COLUMNS: &str = "id text, key text, resource_type text, \
    subscription_type text, subscription_status text, quantity bigint, \
    available_quantity bigint, sku text, sku_description text, start_time timestamptz, \
    end_time timestamptz, tier text, tier_description text, product_type text, is_eval boolean, \
    contract text, quote text, po text, reseller_po text, created_at timestamptz, \
    updated_at timestamptz, raw_data jsonb, raw_hash bigint";

/// Content hash of an item's JSON text (see the `raw_hash` column).
fn raw_hash(raw: &RawValue) -> i64 {
    super::fnv1a64(raw.get().as_bytes()) as i64
}

fn column_names(def: &str) -> Vec<&str> {
    def.split(',')
        .filter_map(|c| c.split_whitespace().next())
        .collect()
}

/// `INSERT … SELECT … FROM jsonb_to_recordset($1) ON CONFLICT (id) DO UPDATE … WHERE changed
/// RETURNING id, inserted, restored`. Unchanged rows are not touched (no dead tuples, no
/// trigger of `changed_at`).
fn upsert_sql(table: &str, def: &str) -> String {
    let cols = column_names(def);
    let list = cols.join(", ");
    let set: Vec<String> = cols
        .iter()
        .filter(|c| **c != "id")
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    format!(
        "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x({def})), \
         prior AS (SELECT t.id, t.removed_at FROM {table} t JOIN input i ON i.id = t.id) \
         INSERT INTO {table} AS t ({list}) SELECT {list} FROM input \
         ON CONFLICT (id) DO UPDATE SET {set}, last_seen_at = now(), changed_at = now(), \
           removed_at = NULL \
         WHERE t.raw_hash IS DISTINCT FROM EXCLUDED.raw_hash OR t.removed_at IS NOT NULL \
         RETURNING t.id, (xmax = 0) AS inserted, \
           EXISTS (SELECT 1 FROM prior p WHERE p.id = t.id AND p.removed_at IS NOT NULL) AS restored",
        set = set.join(", ")
    )
}

/// Keep the last occurrence of each id: a page that (wrongly) repeats an item must not make
/// `ON CONFLICT` fail with "cannot affect row a second time".
fn dedup_last<T, F: Fn(&T) -> &str>(items: &[T], id: F) -> Vec<&T> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<&T> = items.iter().rev().filter(|i| seen.insert(id(i))).collect();
    out.reverse();
    out
}

struct Returned {
    changed: Vec<String>,
    counts: UpsertCounts,
}

/// Page transactions commit without waiting for the WAL flush. A crash can lose the last few
/// pages — never consistency: each page is all-or-nothing, WAL order means the run's final
/// (synchronous) commit makes every page before it durable, and an unfinished run is redone.
async fn async_commit(tx: &mut Transaction<'_, Postgres>) -> Result<(), StoreError> {
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ids of `ids` whose stored row is identical (same hash, not removed): nothing to write.
async fn unchanged_ids(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    ids: &[&str],
    hashes: &[i64],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let sql = format!(
        "SELECT t.id FROM {table} t JOIN unnest($1::text[], $2::bigint[]) AS i(id, h) \
         ON i.id = t.id WHERE t.raw_hash = i.h AND t.removed_at IS NULL"
    );
    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .bind(hashes)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Skip rows whose stored copy is identical (same content hash), upsert the rest.
async fn write_changed<R: Serialize>(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    columns: &str,
    rows: Vec<R>,
    key: impl Fn(&R) -> (&str, i64),
) -> Result<Returned, StoreError> {
    let total = rows.len();
    let (ids, hashes): (Vec<&str>, Vec<i64>) = rows.iter().map(&key).unzip();
    let same = unchanged_ids(tx, table, &ids, &hashes).await?;
    let rows: Vec<&R> = rows.iter().filter(|r| !same.contains(key(r).0)).collect();
    if rows.is_empty() {
        return Ok(Returned {
            changed: Vec::new(),
            counts: UpsertCounts {
                unchanged: total as u64,
                ..Default::default()
            },
        });
    }
    let json = serde_json::to_string(&rows).map_err(|e| StoreError::Other(e.to_string()))?;
    run_upsert(tx, &upsert_sql(table, columns), json, total).await
}

async fn run_upsert(
    tx: &mut Transaction<'_, Postgres>,
    sql: &str,
    json: String,
    total: usize,
) -> Result<Returned, StoreError> {
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(json)
        .fetch_all(&mut **tx)
        .await?;
    let mut counts = UpsertCounts::default();
    let mut changed = Vec::with_capacity(rows.len());
    for (id, inserted, restored) in rows {
        if inserted {
            counts.inserted += 1;
        } else {
            counts.updated += 1;
        }
        if restored {
            counts.restored += 1;
        }
        changed.push(id);
    }
    counts.unchanged = total as u64 - counts.inserted - counts.updated;
    Ok(Returned { changed, counts })
}

async fn mark_seen(
    tx: &mut Transaction<'_, Postgres>,
    sync_id: i64,
    resource: Resource,
    ids: Vec<&str>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sync_seen (sync_id, resource, id) SELECT $1, $2, unnest($3::text[])")
        .bind(sync_id)
        .bind(resource.as_str())
        .bind(ids)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Store one page of devices in one transaction. `seen_by` is the full sync that fetched
    /// it (so rows absent at the end can be marked removed).
    pub async fn upsert_devices(
        &self,
        items: &[Item<Device>],
        seen_by: Option<i64>,
    ) -> Result<UpsertCounts, StoreError> {
        if items.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let items = dedup_last(items, |i| i.data.id.as_str());
        let mut tx = self.pool().begin().await?;
        async_commit(&mut tx).await?;
        let rows: Vec<DeviceRow> = items.iter().map(|i| DeviceRow::new(i)).collect();
        let ret = write_changed(&mut tx, "devices", DEVICE_COLUMNS, rows, |r| {
            (r.id, r.raw_hash)
        })
        .await?;
        if !ret.changed.is_empty() {
            let changed: std::collections::HashSet<&str> =
                ret.changed.iter().map(String::as_str).collect();
            let mut tag_dev = Vec::new();
            let mut tag_key = Vec::new();
            let mut tag_val = Vec::new();
            let mut link_dev = Vec::new();
            let mut link_sub = Vec::new();
            let mut link_uri: Vec<Option<&str>> = Vec::new();
            let mut link_key: Vec<Option<&str>> = Vec::new();
            let mut link_tier: Vec<Option<&str>> = Vec::new();
            let mut link_start: Vec<Option<DateTime<Utc>>> = Vec::new();
            let mut link_end: Vec<Option<DateTime<Utc>>> = Vec::new();
            for it in items
                .iter()
                .filter(|i| changed.contains(i.data.id.as_str()))
            {
                let d = &it.data;
                for (k, v) in d.tags.iter().flatten() {
                    tag_dev.push(d.id.as_str());
                    tag_key.push(k.as_str());
                    tag_val.push(v.as_str());
                }
                let mut seen_subs = std::collections::HashSet::new();
                for s in d.subscription.iter().flatten() {
                    let Some(sid) = s.id.as_deref() else { continue };
                    if !seen_subs.insert(sid) {
                        continue;
                    }
                    link_dev.push(d.id.as_str());
                    link_sub.push(sid);
                    link_uri.push(s.resource_uri.as_deref());
                    link_key.push(s.key.as_deref());
                    link_tier.push(s.tier.as_deref());
                    link_start.push(s.start_time);
                    link_end.push(s.end_time);
                }
            }
            sqlx::query("DELETE FROM device_tags WHERE device_id = ANY($1)")
                .bind(&ret.changed)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM device_subscriptions WHERE device_id = ANY($1)")
                .bind(&ret.changed)
                .execute(&mut *tx)
                .await?;
            if !tag_dev.is_empty() {
                sqlx::query(
                    "INSERT INTO device_tags (device_id, tag_key, tag_value) \
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[])",
                )
                .bind(tag_dev)
                .bind(tag_key)
                .bind(tag_val)
                .execute(&mut *tx)
                .await?;
            }
            if !link_dev.is_empty() {
                sqlx::query(
                    "INSERT INTO device_subscriptions \
                       (device_id, subscription_id, resource_uri, key, tier, start_time, end_time) \
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], \
                       $5::text[], $6::timestamptz[], $7::timestamptz[])",
                )
                .bind(link_dev)
                .bind(link_sub)
                .bind(link_uri)
                .bind(link_key)
                .bind(link_tier)
                .bind(link_start)
                .bind(link_end)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Some(sync_id) = seen_by {
            let ids = items.iter().map(|i| i.data.id.as_str()).collect();
            mark_seen(&mut tx, sync_id, Resource::Devices, ids).await?;
        }
        tx.commit().await?;
        Ok(ret.counts)
    }

    /// Store one page of subscriptions in one transaction (see [`Store::upsert_devices`]).
    pub async fn upsert_subscriptions(
        &self,
        items: &[Item<Subscription>],
        seen_by: Option<i64>,
    ) -> Result<UpsertCounts, StoreError> {
        if items.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let items = dedup_last(items, |i| i.data.id.as_str());
        let mut tx = self.pool().begin().await?;
        async_commit(&mut tx).await?;
        let rows: Vec<SubscriptionRow> = items.iter().map(|i| SubscriptionRow::new(i)).collect();
        let ret = write_changed(&mut tx, "subscriptions", SUBSCRIPTION_COLUMNS, rows, |r| {
            (r.id, r.raw_hash)
        })
        .await?;
        if !ret.changed.is_empty() {
            let changed: std::collections::HashSet<&str> =
                ret.changed.iter().map(String::as_str).collect();
            let mut ids = Vec::new();
            let mut keys = Vec::new();
            let mut vals = Vec::new();
            for it in items
                .iter()
                .filter(|i| changed.contains(i.data.id.as_str()))
            {
                for (k, v) in it.data.tags.iter().flatten() {
                    ids.push(it.data.id.as_str());
                    keys.push(k.as_str());
                    vals.push(v.as_str());
                }
            }
            sqlx::query("DELETE FROM subscription_tags WHERE subscription_id = ANY($1)")
                .bind(&ret.changed)
                .execute(&mut *tx)
                .await?;
            if !ids.is_empty() {
                sqlx::query(
                    "INSERT INTO subscription_tags (subscription_id, tag_key, tag_value) \
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[])",
                )
                .bind(ids)
                .bind(keys)
                .bind(vals)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Some(sync_id) = seen_by {
            let ids = items.iter().map(|i| i.data.id.as_str()).collect();
            mark_seen(&mut tx, sync_id, Resource::Subscriptions, ids).await?;
        }
        tx.commit().await?;
        Ok(ret.counts)
    }

    /// After a complete full sync: mark rows the sync did not see as removed (with a
    /// timestamp, never deleted) and drop the sync's seen-marks. Returns how many were marked.
    pub async fn reconcile_removed(
        &self,
        sync_id: i64,
        resource: Resource,
    ) -> Result<u64, StoreError> {
        let table = match resource {
            Resource::Devices => "devices",
            Resource::Subscriptions => "subscriptions",
        };
        let mut tx = self.pool().begin().await?;
        // sync_seen is scratch space that autovacuum has not analysed yet: without fresh
        // statistics the planner takes it for tiny and picks a nested-loop anti-join with a
        // sequential scan inside — quadratic (minutes at 100k rows). ANALYZE first.
        sqlx::query("ANALYZE sync_seen").execute(&mut *tx).await?;
        let sql = format!(
            "UPDATE {table} t SET removed_at = now(), changed_at = now() \
             WHERE t.removed_at IS NULL AND NOT EXISTS \
               (SELECT 1 FROM sync_seen s WHERE s.sync_id = $1 AND s.resource = $2 AND s.id = t.id)"
        );
        let marked = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(sync_id)
            .bind(resource.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        self.forget_seen_tx(&mut tx, sync_id).await?;
        tx.commit().await?;
        Ok(marked)
    }

    /// Drop a sync's seen-marks (after reconciling, or when a full sync did not complete).
    pub async fn forget_seen(&self, sync_id: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        self.forget_seen_tx(&mut tx, sync_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn forget_seen_tx(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        sync_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sync_seen WHERE sync_id = $1")
            .bind(sync_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
