//! Serde types for GreenLake items (glp-api.md §4).
//!
//! GLP documents most fields as optional and sends `null` or leaves them out freely, adds
//! fields over time, and is vague about some wire types (`quantity` as number or string). So
//! every field here is optional and lenient: a value of an unexpected type becomes `None`
//! instead of failing the page, unknown fields are ignored, and the item's exact JSON is kept
//! in `raw` so nothing the API sent is lost.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// One page of a GLP list endpoint (`{items, count, offset, total}`), items kept raw.
#[derive(Debug, Deserialize)]
pub struct RawPage {
    pub items: Vec<Box<RawValue>>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub offset: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total: Option<u64>,
}

/// A typed item plus the exact JSON it came from.
#[derive(Debug, Clone)]
pub struct Item<T> {
    pub data: T,
    pub raw: Box<RawValue>,
}

/// Why an item in a page could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("item {index} of the page: {reason}")]
pub struct ItemError {
    pub index: usize,
    pub reason: String,
}

/// Parse every item of a page; items without a usable `id` are reported, not fatal.
pub fn parse_items<T: for<'de> Deserialize<'de> + HasId>(
    items: Vec<Box<RawValue>>,
) -> (Vec<Item<T>>, Vec<ItemError>) {
    let mut ok = Vec::with_capacity(items.len());
    let mut bad = Vec::new();
    for (index, raw) in items.into_iter().enumerate() {
        match serde_json::from_str::<T>(raw.get()) {
            Ok(data) if !data.id().is_empty() => ok.push(Item { data, raw }),
            Ok(_) => bad.push(ItemError {
                index,
                reason: "has no id".into(),
            }),
            Err(e) => bad.push(ItemError {
                index,
                reason: e.to_string(),
            }),
        }
    }
    (ok, bad)
}

/// Items are keyed by their GLP id.
pub trait HasId {
    fn id(&self) -> &str;
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Device {
    #[serde(deserialize_with = "lenient_string_req")]
    pub id: String,
    #[serde(rename = "type", deserialize_with = "lenient_string")]
    pub resource_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub serial_number: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub part_number: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub mac_address: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub device_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub category: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub model: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub make: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub assigned_state: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub archived: Option<bool>,
    #[serde(deserialize_with = "lenient_string")]
    pub device_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub secondary_name: Option<String>,
    #[serde(deserialize_with = "lenient_obj")]
    pub application: Option<Reference>,
    #[serde(deserialize_with = "lenient_string")]
    pub region: Option<String>,
    #[serde(deserialize_with = "lenient_tags")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(deserialize_with = "lenient_sub_refs")]
    pub subscription: Option<Vec<SubscriptionRef>>,
    #[serde(deserialize_with = "lenient_string")]
    pub tenant_workspace_id: Option<String>,
    #[serde(deserialize_with = "lenient_obj")]
    pub dedicated_platform_workspace: Option<Reference>,
    #[serde(deserialize_with = "lenient_obj")]
    pub in_use_workspace: Option<Reference>,
    #[serde(deserialize_with = "lenient_obj")]
    pub location: Option<Location>,
    #[serde(deserialize_with = "lenient_obj")]
    pub warranty: Option<Warranty>,
    #[serde(deserialize_with = "lenient_string")]
    pub management: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub ownership: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub source: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_flex: Option<bool>,
    #[serde(deserialize_with = "lenient_string")]
    pub billing_account_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub billing_account_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub billing_tier: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub subscription_category: Option<String>,
    #[serde(deserialize_with = "lenient_time")]
    pub manufactured_date: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient_time")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl HasId for Device {
    fn id(&self) -> &str {
        &self.id
    }
}

/// `{id, resourceUri}` objects: application, workspaces.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Reference {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub resource_uri: Option<String>,
}

/// An entry of a device's `subscription` array.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionRef {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub resource_uri: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub key: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub tier: Option<String>,
    /// Older docs call it `startDate`.
    #[serde(alias = "startDate", deserialize_with = "lenient_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(alias = "endDate", deserialize_with = "lenient_time")]
    pub end_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Location {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub location_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub city: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub state: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub country: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub postal_code: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub street_address: Option<String>,
    #[serde(deserialize_with = "lenient_f64")]
    pub latitude: Option<f64>,
    #[serde(deserialize_with = "lenient_f64")]
    pub longitude: Option<f64>,
    #[serde(deserialize_with = "lenient_string")]
    pub location_source: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Warranty {
    #[serde(deserialize_with = "lenient_obj")]
    pub current_support_level: Option<SupportLevel>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SupportLevel {
    #[serde(deserialize_with = "lenient_string")]
    pub service_level: Option<String>,
    #[serde(deserialize_with = "lenient_time")]
    pub end_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Subscription {
    #[serde(deserialize_with = "lenient_string_req")]
    pub id: String,
    #[serde(rename = "type", deserialize_with = "lenient_string")]
    pub resource_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub key: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub subscription_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub subscription_status: Option<String>,
    /// A number or a numeric string on the wire (glp-api.md §4.2); 0 stays 0.
    #[serde(deserialize_with = "lenient_i64")]
    pub quantity: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub available_quantity: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub sku: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub sku_description: Option<String>,
    #[serde(deserialize_with = "lenient_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient_time")]
    pub end_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient_string")]
    pub tier: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub tier_description: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub product_type: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_eval: Option<bool>,
    #[serde(deserialize_with = "lenient_string")]
    pub contract: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub quote: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub po: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub reseller_po: Option<String>,
    #[serde(deserialize_with = "lenient_tags")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(deserialize_with = "lenient_time")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient_time")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl HasId for Subscription {
    fn id(&self) -> &str {
        &self.id
    }
}

// --- lenient deserializers -------------------------------------------------------------------

fn value_to_string(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.and_then(value_to_string))
}

fn lenient_string_req<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(lenient_string(d)?.unwrap_or_default())
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    })
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(lenient_i64(d)?.and_then(|v| u64::try_from(v).ok()))
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    })
}

fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => parse_time(&s),
        // Older v1beta1 docs show epoch numbers for some dates (milliseconds when large).
        Some(Value::Number(n)) => n.as_i64().and_then(|v| {
            if v > 100_000_000_000 {
                DateTime::from_timestamp_millis(v)
            } else {
                DateTime::from_timestamp(v, 0)
            }
        }),
        _ => None,
    })
}

/// Parse an RFC 3339 timestamp, also accepting a bare date.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc())
}

fn lenient_obj<'de, D: Deserializer<'de>, T: for<'a> Deserialize<'a>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

/// Tags: an object of string values; numbers/bools become strings, `null` becomes "".
fn lenient_tags<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Object(map)) => Some(
            map.into_iter()
                .map(|(k, v)| (k, value_to_string(v).unwrap_or_default()))
                .collect(),
        ),
        _ => None,
    })
}

/// The device `subscription` field: an array (a lone object, as one spec example shows, is
/// taken as a one-element array); entries without an id are dropped.
fn lenient_sub_refs<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<SubscriptionRef>>, D::Error> {
    let entries = match Option::<Value>::deserialize(d)? {
        Some(Value::Array(a)) => a,
        Some(v @ Value::Object(_)) => vec![v],
        _ => return Ok(None),
    };
    Ok(Some(
        entries
            .into_iter()
            .filter_map(|v| serde_json::from_value::<SubscriptionRef>(v).ok())
            .filter(|r| r.id.as_deref().is_some_and(|id| !id.is_empty()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_number_or_string_and_zero_kept() {
        let s: Subscription =
            serde_json::from_str(r#"{"id":"a","quantity":"20","availableQuantity":0}"#).unwrap();
        assert_eq!(s.quantity, Some(20));
        assert_eq!(s.available_quantity, Some(0));
    }

    #[test]
    fn odd_types_become_none_not_errors() {
        let d: Device = serde_json::from_str(
            r#"{"id":"x","serialNumber":123,"archived":"yes","tags":{"a":1,"b":null},
                "subscription":{"id":"s1"},"application":"nope","updatedAt":"garbage","new":[1]}"#,
        )
        .unwrap();
        assert_eq!(d.serial_number.as_deref(), Some("123"));
        assert_eq!(d.archived, None);
        assert_eq!(d.tags.unwrap()["a"], "1");
        assert_eq!(d.subscription.unwrap().len(), 1);
        assert!(d.application.is_none());
        assert!(d.updated_at.is_none());
    }

    #[test]
    fn items_without_id_are_reported() {
        let page: RawPage =
            serde_json::from_str(r#"{"items":[{"id":"a"},{"x":1},5],"total":"3"}"#).unwrap();
        assert_eq!(page.total, Some(3));
        let (ok, bad) = parse_items::<Device>(page.items);
        assert_eq!(ok.len(), 1);
        assert_eq!(bad.len(), 2);
    }
}
