//! Applying a validated patch to one device or a tag merge to one item: the state-dependent
//! rules that fail a single device of an operation rather than the whole request.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::model::{DevicePatch, Patch};
use crate::sim::data::{Data, sub_ref};

fn qty(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Apply a patch to one device (a copy); state-dependent rules fail the device.
pub(super) fn apply_patch(
    dev: &mut Value,
    patch: &Patch,
    data: &Data,
    q: &mut Vec<(String, i64)>,
) -> Result<(), String> {
    let archived = dev["archived"].as_bool().unwrap_or(false);
    match patch {
        Patch::Archive(b) => {
            dev["archived"] = json!(b);
        }
        Patch::Subscriptions(ids) => set_subscriptions(dev, ids, archived, data, q)?,
        Patch::Device(p) => apply_device_patch(dev, p, archived)?,
    }
    Ok(())
}

/// The `subscription` operation: the device's subscriptions become `ids`; each newly
/// assigned one must be STARTED with quantity left, and `q` collects the quantity changes.
fn set_subscriptions(
    dev: &mut Value,
    ids: &[String],
    archived: bool,
    data: &Data,
    q: &mut Vec<(String, i64)>,
) -> Result<(), String> {
    let current: Vec<String> = dev["subscription"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !ids.is_empty() {
        if archived {
            return Err("device is archived: unarchive it before assigning a subscription".into());
        }
        if dev["application"]
            .get("id")
            .and_then(Value::as_str)
            .is_none()
        {
            return Err("device has no application: assign an application (and region) before a subscription".into());
        }
    }
    let mut refs = Vec::new();
    for sid in ids {
        let Some(s) = data.subscriptions.get(sid) else {
            return Err(format!("subscription {sid} not found"));
        };
        let s = &s.value;
        if !current.contains(sid) {
            if s["subscriptionStatus"] != "STARTED" {
                return Err(format!(
                    "subscription {} is {}, not STARTED",
                    s["key"].as_str().unwrap_or(sid),
                    s["subscriptionStatus"].as_str().unwrap_or("?")
                ));
            }
            if qty(&s["availableQuantity"]) <= 0 {
                return Err(format!(
                    "subscription {} has no available quantity",
                    s["key"].as_str().unwrap_or(sid)
                ));
            }
            q.push((sid.clone(), -1));
        }
        refs.push(sub_ref(s));
    }
    for old in current.iter().filter(|c| !ids.contains(c)) {
        if data.subscriptions.get(old).is_some() {
            q.push((old.clone(), 1));
        }
    }
    dev["subscription"] = if refs.is_empty() {
        Value::Null
    } else {
        Value::Array(refs)
    };
    Ok(())
}

/// The device operations of one PATCH (application, tenant, tags, location, contact, warranty).
fn apply_device_patch(dev: &mut Value, p: &DevicePatch, archived: bool) -> Result<(), String> {
    if let Some(app) = &p.application {
        match app {
            Some(id) => {
                if archived {
                    return Err(
                        "device is archived: unarchive it before assigning an application".into(),
                    );
                }
                dev["application"] = json!({"id": id, "resourceUri": format!("/service-catalog/v1beta1/service-managers/{id}")});
                dev["region"] = json!(p.region);
                dev["assignedState"] = json!("ASSIGNED_TO_SERVICE");
            }
            None => {
                dev["application"] = Value::Null;
                dev["region"] = Value::Null;
                dev["assignedState"] = json!("UNASSIGNED");
            }
        }
    }
    if let Some(t) = &p.tenant {
        dev["tenantWorkspaceId"] = t.clone();
    }
    if let Some(tags) = &p.tags {
        dev["tags"] = merge_tags(&dev["tags"], tags, "device")?;
    }
    if let Some(l) = &p.location {
        dev["location"] = match l.get("id").and_then(Value::as_str) {
            Some(id) => {
                json!({"id": id, "resourceUri": format!("/locations/v1/locations/{id}")})
            }
            None => Value::Null,
        };
    }
    if let Some(c) = &p.contact {
        dev["contact"] = if c.as_object().is_some_and(|o| o.is_empty()) {
            Value::Null
        } else {
            c.clone()
        };
    }
    if let Some(w) = &p.warranty {
        if !dev["warranty"].is_object() {
            dev["warranty"] = json!({});
        }
        dev["warranty"]["currentSupportLevel"] = w.clone();
    }
    Ok(())
}

/// Merge-patch `tags` into an item's tags: a new key is added, an existing one (same
/// spelling) updated, `None` deletes; a key differing only in case from an existing one is
/// refused (keys are case-insensitive, glp-api.md §2.4).
pub(super) fn merge_tags(
    current: &Value,
    tags: &[(String, Option<String>)],
    what: &str,
) -> Result<Value, String> {
    let mut cur: BTreeMap<String, Value> = current
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (k, v) in tags {
        // The exact key first: an item can carry case variants (`Owner` and `owner`), and a
        // PATCH naming one must not touch the other.
        let existing = if cur.contains_key(k) {
            Some(k.clone())
        } else {
            cur.keys().find(|e| e.eq_ignore_ascii_case(k)).cloned()
        };
        match (v, existing) {
            (None, Some(e)) => {
                cur.remove(&e);
            }
            (None, None) => {}
            (Some(v), Some(e)) if e == *k => {
                cur.insert(e, json!(v));
            }
            (Some(_), Some(e)) => {
                return Err(format!(
                    "tag key '{k}' clashes with existing key '{e}' (keys are case-insensitive)"
                ));
            }
            (Some(v), None) => {
                cur.insert(k.clone(), json!(v));
            }
        }
    }
    if cur.len() > 50 {
        return Err(format!(
            "{what} would have {} tags; at most 50 are allowed",
            cur.len()
        ));
    }
    Ok(json!(cur))
}
