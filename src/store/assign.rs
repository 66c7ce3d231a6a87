//! Read-only queries for the bulk-assignment wizard: the stored devices behind a sheet's
//! serials (one set-based query, not one per row) and what the wizard can offer
//! (subscriptions, application/region pairs, tags), and the application names the service
//! catalog gave, kept for when it cannot be read.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;

use super::{Store, StoreError};

/// A subscription link on a stored device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLink {
    pub id: String,
    pub key: Option<String>,
}

/// A stored device as assignment needs it: identity, family, and the current values the
/// plan compares with (and keeps as "before" for audit and undo).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredDevice {
    pub id: String,
    pub serial_number: String,
    pub mac_address: Option<String>,
    pub device_type: Option<String>,
    pub category: Option<String>,
    pub part_number: Option<String>,
    pub application_id: Option<String>,
    pub region: Option<String>,
    pub archived: bool,
    /// Gone from GLP at the last full sync (`removed_at` set).
    pub removed: bool,
    pub updated_at: Option<DateTime<Utc>>,
    pub subscriptions: Vec<StoredLink>,
    pub tags: BTreeMap<String, String>,
    /// `MSP` (owned by the MSP), `TENANT`, or `None` outside an MSP's view.
    pub management: Option<String>,
    /// The tenant an MSP-owned device is placed in, as GreenLake spells it.
    pub tenant_workspace_id: Option<String>,
}

/// A stored subscription, for key lookup and the wizard's choices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredSubscription {
    pub id: String,
    pub key: Option<String>,
    pub subscription_type: Option<String>,
    pub status: Option<String>,
    pub tier: Option<String>,
    pub sku: Option<String>,
    pub quantity: Option<i64>,
    pub available_quantity: Option<i64>,
    pub end_time: Option<DateTime<Utc>>,
}

/// An application/region pair some stored device already uses.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RegionPair {
    pub application_id: String,
    pub region: String,
}

/// A tag key/value in use, and on how many devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagUse {
    pub key: String,
    pub value: String,
    pub devices: i64,
}

impl Store {
    /// Every stored device (archived and removed ones included, so the wizard can say why a
    /// row cannot be assigned) whose serial is in `serials`, compared case-insensitively.
    /// One query for the whole sheet.
    pub async fn devices_by_serials(
        &self,
        serials: &[String],
    ) -> Result<Vec<StoredDevice>, StoreError> {
        if serials.is_empty() {
            return Ok(Vec::new());
        }
        let upper: Vec<String> = serials.iter().map(|s| s.to_uppercase()).collect();
        let rows = sqlx::query(
            "SELECT d.id, d.serial_number, d.mac_address, d.device_type, d.category, d.part_number, \
                    d.application_id, d.region, d.archived, d.removed_at IS NOT NULL AS removed, d.updated_at, \
                    COALESCE((SELECT jsonb_agg(jsonb_build_object('id', ds.subscription_id, 'key', ds.key) \
                                ORDER BY ds.subscription_id) \
                              FROM device_subscriptions ds \
                             WHERE ds.workspace_id = d.workspace_id AND ds.device_id = d.id), \
                             '[]'::jsonb) AS subs, \
                    d.tags, d.management, d.tenant_workspace_id \
               FROM devices d WHERE upper(d.serial_number) = ANY($1) AND d.workspace_id = $2 \
              ORDER BY d.serial_number, d.id",
        )
        .bind(&upper)
        .bind(self.ws())
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let subs: Value = r.try_get("subs")?;
            let tags: Value = r.try_get("tags")?;
            out.push(StoredDevice {
                id: r.try_get("id")?,
                serial_number: r.try_get("serial_number")?,
                mac_address: r.try_get("mac_address")?,
                device_type: r.try_get("device_type")?,
                category: r.try_get("category")?,
                part_number: r.try_get("part_number")?,
                application_id: r.try_get("application_id")?,
                region: r.try_get("region")?,
                archived: r.try_get("archived")?,
                removed: r.try_get("removed")?,
                updated_at: r.try_get("updated_at")?,
                subscriptions: subs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| {
                        Some(StoredLink {
                            id: s.get("id")?.as_str()?.to_string(),
                            key: s.get("key").and_then(Value::as_str).map(str::to_string),
                        })
                    })
                    .collect(),
                tags: tags
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect(),
                management: r.try_get("management")?,
                tenant_workspace_id: r.try_get("tenant_workspace_id")?,
            });
        }
        Ok(out)
    }

    /// All subscriptions not removed from GLP (any status: the wizard tells "unknown key"
    /// from "key of an ended subscription").
    pub async fn assign_subscriptions(&self) -> Result<Vec<StoredSubscription>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, key, subscription_type, subscription_status, tier, sku, quantity, \
                    available_quantity, end_time \
               FROM subscriptions WHERE removed_at IS NULL AND workspace_id = $1 \
              ORDER BY subscription_type, tier, end_time, key",
        )
        .bind(self.ws())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredSubscription {
                    id: r.try_get("id")?,
                    key: r.try_get("key")?,
                    subscription_type: r.try_get("subscription_type")?,
                    status: r.try_get("subscription_status")?,
                    tier: r.try_get("tier")?,
                    sku: r.try_get("sku")?,
                    quantity: r.try_get("quantity")?,
                    available_quantity: r.try_get("available_quantity")?,
                    end_time: r.try_get("end_time")?,
                })
            })
            .collect()
    }

    /// Application/region pairs on active stored devices: the fallback list of targets
    /// until the service catalog is read from the API.
    pub async fn assign_region_pairs(&self) -> Result<Vec<RegionPair>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT application_id, region FROM devices \
              WHERE application_id IS NOT NULL AND region IS NOT NULL \
                AND NOT archived AND removed_at IS NULL AND workspace_id = $1 \
              ORDER BY region, application_id",
        )
        .bind(self.ws())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(application_id, region)| RegionPair {
                application_id,
                region,
            })
            .collect())
    }

    /// Tag keys and values on active stored devices, with how many devices carry each.
    pub async fn assign_tags(&self) -> Result<Vec<TagUse>, StoreError> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT t.key, t.value, count(*) FROM devices d, jsonb_each_text(d.tags) t \
              WHERE NOT d.archived AND d.removed_at IS NULL AND d.workspace_id = $1 \
              GROUP BY t.key, t.value ORDER BY t.key, t.value",
        )
        .bind(self.ws())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(key, value, devices)| TagUse {
                key,
                value: value.unwrap_or_default(),
                devices,
            })
            .collect())
    }

    /// Application names by id, as the service catalog last gave them.
    pub async fn application_names(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, name FROM application_names WHERE workspace_id = $1")
                .bind(self.ws())
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Keep the names the service catalog gave (newer names replace older ones).
    pub async fn save_application_names(
        &self,
        names: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        if names.is_empty() {
            return Ok(());
        }
        // Kept by the id in lower case, and looked up by `lower(application_id)`: ids are
        // UUIDs, whose case means nothing (as in `assign::names`).
        let lower: BTreeMap<String, &str> = names
            .iter()
            .map(|(i, n)| (i.to_lowercase(), n.as_str()))
            .collect();
        let (ids, ns): (Vec<&str>, Vec<&str>) = lower.iter().map(|(i, n)| (i.as_str(), *n)).unzip();
        sqlx::query(
            "INSERT INTO application_names (workspace_id, id, name) \
             SELECT $3, * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (workspace_id, id) DO UPDATE SET name = EXCLUDED.name, updated_at = now() \
              WHERE application_names.name IS DISTINCT FROM EXCLUDED.name",
        )
        .bind(&ids)
        .bind(&ns)
        .bind(self.ws())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
