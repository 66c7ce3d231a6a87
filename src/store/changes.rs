//! Change history: what a sync changed in a stored row, field by field (`inventory_changes`).
//!
//! Recorded set-based inside the page's transaction, only for rows the page actually rewrites
//! (the content hash already told unchanged rows apart): one read of the tracked fields of
//! those rows before the upsert, a comparison in memory with the page's items, one COPY of the
//! fields that moved. A page with nothing changed costs nothing; the full-sync path of new rows
//! costs nothing either (a new row has no history yet).
//!
//! Each field has one text spelling on both sides, written once here: the SQL expression that
//! reads the stored value and the Rust function that spells the item's value must agree, and a
//! test compares them over the simulator's data (a sync that changed nothing records nothing).

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{Postgres, Transaction};

use super::copy::BinaryCopy;
use super::{Store, StoreError};
use crate::domain::Resource;
use crate::glp::model::{Device, Item, Subscription};

/// The field name that records removal and restoration.
pub const PRESENCE: &str = "presence";

/// One recorded change.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChangeRecord {
    pub workspace_id: String,
    pub resource: String,
    pub item_id: String,
    pub sync_id: Option<i64>,
    pub changed_at: DateTime<Utc>,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// A resource whose changes are tracked: which fields, read how from the table and from an
/// item. The order of [`Tracked::FIELDS`] is the order of the SQL expressions' values.
pub(super) trait Tracked {
    const RESOURCE: Resource;
    const FIELDS: &'static [&'static str];
    /// `SELECT id, ARRAY[…]::text[]` over the table aliased `t`, one array element per field.
    const SQL: &'static str;
    fn id(&self) -> &str;
    fn values(&self) -> Vec<Option<String>>;
}

fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn tags(t: &Option<std::collections::BTreeMap<String, String>>) -> Option<String> {
    let t = t.as_ref().filter(|t| !t.is_empty())?;
    Some(
        t.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// Tags as the Rust side spells them: `k=v; …` in byte order of the keys.
const TAGS_SQL: &str = "(SELECT string_agg(key || '=' || value, '; ' ORDER BY key COLLATE \"C\") \
                        FROM jsonb_each_text(t.tags))";

impl Tracked for Device {
    const RESOURCE: Resource = Resource::Devices;
    const FIELDS: &'static [&'static str] = &[
        "application",
        "region",
        "subscriptions",
        "tags",
        "assigned_state",
        "archived",
        "name",
        "location",
    ];
    const SQL: &'static str = "SELECT t.id, ARRAY[t.application_id, t.region, \
        (SELECT string_agg(ds.subscription_id, ',' ORDER BY ds.subscription_id COLLATE \"C\") \
           FROM device_subscriptions ds \
          WHERE ds.workspace_id = t.workspace_id AND ds.device_id = t.id), \
        {tags}, t.assigned_state, t.archived::text, t.device_name, t.location_name]::text[] \
        FROM devices t WHERE t.workspace_id = $1 AND t.id = ANY($2)";

    fn id(&self) -> &str {
        &self.id
    }

    fn values(&self) -> Vec<Option<String>> {
        let mut subs: Vec<&str> = self
            .subscription
            .iter()
            .flatten()
            .filter_map(|s| s.id.as_deref())
            .collect();
        subs.sort_unstable();
        subs.dedup();
        vec![
            self.application.as_ref().and_then(|a| a.id.clone()),
            self.region.clone(),
            (!subs.is_empty()).then(|| subs.join(",")),
            tags(&self.tags),
            self.assigned_state.clone(),
            Some(self.archived.unwrap_or(false).to_string()),
            self.device_name.clone(),
            self.location.as_ref().and_then(|l| l.location_name.clone()),
        ]
    }
}

impl Tracked for Subscription {
    const RESOURCE: Resource = Resource::Subscriptions;
    const FIELDS: &'static [&'static str] = &["status", "quantity", "end_time", "tier", "tags"];
    const SQL: &'static str = "SELECT t.id, ARRAY[t.subscription_status, t.quantity::text, \
        to_char(t.end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), t.tier, \
        {tags}]::text[] \
        FROM subscriptions t WHERE t.workspace_id = $1 AND t.id = ANY($2)";

    fn id(&self) -> &str {
        &self.id
    }

    fn values(&self) -> Vec<Option<String>> {
        vec![
            self.subscription_status.clone(),
            self.quantity.map(|q| q.to_string()),
            time(self.end_time),
            self.tier.clone(),
            tags(&self.tags),
        ]
    }
}

/// The tracked values stored for `ids`, read before the page overwrites them.
pub(super) async fn stored_values<T: Tracked>(
    tx: &mut Transaction<'_, Postgres>,
    ws: &str,
    ids: &[String],
) -> Result<HashMap<String, Vec<Option<String>>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = T::SQL.replace("{tags}", TAGS_SQL);
    let rows: Vec<(String, Vec<Option<String>>)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(ws)
        .bind(ids)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.into_iter().collect())
}

/// One row of `inventory_changes` to write.
struct Moved<'a> {
    id: &'a str,
    field: &'a str,
    old: Option<String>,
    new: Option<String>,
}

/// Compare the page's rewritten items with their stored values and COPY the fields that
/// moved; `restored` are ids that had been marked removed.
pub(super) async fn record<T: Tracked>(
    tx: &mut Transaction<'_, Postgres>,
    ws: &str,
    run: Option<i64>,
    items: &[&Item<T>],
    before: &HashMap<String, Vec<Option<String>>>,
    restored: &[String],
) -> Result<(), StoreError> {
    let mut moved = Vec::new();
    for item in items {
        let id = item.data.id();
        let Some(old) = before.get(id) else { continue };
        for ((field, new), old) in T::FIELDS.iter().zip(item.data.values()).zip(old) {
            if &new != old {
                moved.push(Moved {
                    id,
                    field,
                    old: old.clone(),
                    new,
                });
            }
        }
    }
    for id in restored {
        moved.push(Moved {
            id,
            field: PRESENCE,
            old: Some("removed".into()),
            new: Some("present".into()),
        });
    }
    if moved.is_empty() {
        return Ok(());
    }
    let mut copy = BinaryCopy::begin(
        tx,
        "inventory_changes",
        &[
            "workspace_id",
            "resource",
            "item_id",
            "sync_id",
            "field",
            "old_value",
            "new_value",
        ],
    )
    .await?;
    for m in moved {
        copy.row();
        copy.text(Some(ws));
        copy.text(Some(T::RESOURCE.as_str()));
        copy.text(Some(m.id));
        copy.int8(run);
        copy.text(Some(m.field));
        copy.text(m.old.as_deref());
        copy.text(m.new.as_deref());
        copy.flush_if_full().await?;
    }
    copy.finish().await?;
    Ok(())
}

impl Store {
    /// Changes of this workspace since `since`, newest first (at most `limit`).
    pub async fn changes_since(
        &self,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, resource, item_id, sync_id, changed_at, field, old_value, \
                    new_value FROM inventory_changes \
              WHERE workspace_id = $1 AND changed_at >= $2 \
              ORDER BY changed_at DESC, item_id, field LIMIT $3",
        )
        .bind(self.ws())
        .bind(since)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// One item's history, newest first.
    pub async fn item_history(
        &self,
        resource: Resource,
        id: &str,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, resource, item_id, sync_id, changed_at, field, old_value, \
                    new_value FROM inventory_changes \
              WHERE workspace_id = $1 AND resource = $2 AND item_id = $3 \
              ORDER BY changed_at DESC, field",
        )
        .bind(self.ws())
        .bind(resource.as_str())
        .bind(id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Drop this workspace's changes older than `days`; how many went.
    pub async fn prune_changes(&self, days: u32) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM inventory_changes WHERE workspace_id = $1 \
               AND changed_at < now() - make_interval(days => $2)",
        )
        .bind(self.ws())
        .bind(i32::try_from(days).unwrap_or(i32::MAX))
        .execute(self.pool())
        .await?
        .rows_affected())
    }
}
