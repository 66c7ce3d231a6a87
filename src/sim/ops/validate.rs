//! Synchronous validation of write bodies: what answers 400 before any operation starts
//! (ids, body shape, mixing rules, tag syntax, application/region pairs).

use serde_json::Value;

use super::model::{DevicePatch, Patch};
use crate::sim::errors::ApiError;
use crate::sim::state::{Shared, read};

const TAG_CHARS: &str = " _.:=+-@";

fn valid_tag_key(k: &str) -> Result<(), String> {
    let n = k.chars().count();
    if !(1..=128).contains(&n) {
        return Err(format!("tag key '{k}' must be 1 to 128 characters"));
    }
    if let Some(c) = k
        .chars()
        .find(|c| !(c.is_alphanumeric() || TAG_CHARS.contains(*c)))
    {
        return Err(format!(
            "tag key '{k}' contains '{c}'; allowed: letters, digits, spaces and _ . : = + - @"
        ));
    }
    Ok(())
}

fn valid_tag_value(k: &str, v: &str) -> Result<(), String> {
    if v.chars().count() > 256 {
        return Err(format!("tag '{k}' value is longer than 256 characters"));
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_alphanumeric() || TAG_CHARS.contains(*c)))
    {
        return Err(format!(
            "tag '{k}' value contains '{c}'; allowed: letters, digits, spaces and _ . : = + - @"
        ));
    }
    Ok(())
}

/// Validate a `tags` object of a PATCH (null values delete) or POST (`allow_null` false).
pub(crate) fn parse_tags(
    v: &Value,
    allow_null: bool,
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let Some(obj) = v.as_object() else {
        return Err(ApiError::bad_field(
            "tags",
            "tags must be an object of strings",
        ));
    };
    if obj.len() > 50 {
        return Err(ApiError::bad_field("tags", "at most 50 tags per device"));
    }
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (k, val) in obj {
        valid_tag_key(k).map_err(|e| ApiError::bad_field("tags", e))?;
        let lower = k.to_lowercase();
        if seen.contains(&lower) {
            return Err(ApiError::bad_field(
                "tags",
                format!("tag key '{k}' given twice (keys are case-insensitive)"),
            ));
        }
        seen.push(lower);
        match val {
            Value::String(s) => {
                valid_tag_value(k, s).map_err(|e| ApiError::bad_field("tags", e))?;
                out.push((k.clone(), Some(s.clone())));
            }
            Value::Null if allow_null => out.push((k.clone(), None)),
            _ => {
                return Err(ApiError::bad_field(
                    "tags",
                    format!("tag '{k}' value must be a string"),
                ));
            }
        }
    }
    Ok(out)
}

const DEVICE_OPS: &[&str] = &[
    "application",
    "region",
    "tenantWorkspaceId",
    "tags",
    "location",
    "contact",
    "warranty/currentSupportLevel",
];

/// Validate a v2beta1 PATCH body against the mixing rules (§2.4).
pub(crate) fn parse_patch(body: &Value, sh: &Shared) -> Result<Patch, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad_field(
            "body",
            "the body must be a JSON object",
        ));
    };
    if obj.is_empty() {
        return Err(ApiError::bad_field("body", "the body names no operation"));
    }
    if let Some(k) = obj
        .keys()
        .find(|k| !DEVICE_OPS.contains(&k.as_str()) && *k != "archived" && *k != "subscription")
    {
        return Err(ApiError::bad_field(k, format!("unknown field '{k}'")));
    }
    let has_device_op = obj.keys().any(|k| DEVICE_OPS.contains(&k.as_str()));
    if let Some(a) = obj.get("archived") {
        if obj.len() > 1 {
            return Err(ApiError::bad_field(
                "archived",
                "archived must be the only operation in the request",
            ));
        }
        let Some(b) = a.as_bool() else {
            return Err(ApiError::bad_field(
                "archived",
                "archived must be true or false",
            ));
        };
        return Ok(Patch::Archive(b));
    }
    if let Some(s) = obj.get("subscription") {
        if has_device_op {
            return Err(ApiError::bad_field(
                "subscription",
                "a subscription operation cannot be combined with device operations",
            ));
        }
        return Ok(Patch::Subscriptions(subscription_ids(s, sh)?));
    }
    let mut p = DevicePatch::default();
    if let Some(app) = obj.get("application") {
        let Some(o) = app.as_object() else {
            return Err(ApiError::bad_field(
                "application",
                "application must be an object {id}",
            ));
        };
        match o.get("id") {
            Some(Value::Null) => {
                if obj.get("region").is_some_and(|r| !r.is_null()) {
                    return Err(ApiError::bad_field(
                        "region",
                        "region must be null when unassigning the application",
                    ));
                }
                p.application = Some(None);
            }
            Some(Value::String(id)) => {
                let Some(region) = obj.get("region").and_then(Value::as_str) else {
                    return Err(ApiError::bad_field(
                        "region",
                        "region is required when assigning an application",
                    ));
                };
                if !sh.data_catalog_knows(id) {
                    return Err(ApiError::bad_field(
                        "application.id",
                        format!("application '{id}' is not a known service manager"),
                    ));
                }
                if !sh.data_catalog_provisioned(id, region) {
                    return Err(ApiError::bad_field(
                        "region",
                        format!("application '{id}' is not provisioned in region '{region}'"),
                    ));
                }
                p.application = Some(Some(id.clone()));
                p.region = Some(region.to_string());
            }
            _ => {
                return Err(ApiError::bad_field(
                    "application.id",
                    "application.id is required (a UUID, or null to unassign)",
                ));
            }
        }
    } else if obj.get("region").is_some() {
        return Err(ApiError::bad_field(
            "region",
            "region can only be sent with application",
        ));
    }
    if let Some(t) = obj.get("tenantWorkspaceId") {
        p.tenant = Some(t.clone());
    }
    if let Some(t) = obj.get("tags") {
        p.tags = Some(parse_tags(t, true)?);
    }
    object_fields(obj, &mut p)?;
    if k_location_bad(&p) {
        return Err(ApiError::bad_field(
            "location.id",
            "location needs an id ({} removes it)",
        ));
    }
    Ok(Patch::Device(p))
}

/// The ids of a `subscription` operation: each a UUID of a subscription that exists.
fn subscription_ids(s: &Value, sh: &Shared) -> Result<Vec<String>, ApiError> {
    let Some(arr) = s.as_array() else {
        return Err(ApiError::bad_field(
            "subscription",
            "subscription must be an array of {id}",
        ));
    };
    let mut ids = Vec::new();
    for e in arr {
        let Some(id) = e.get("id").and_then(Value::as_str) else {
            return Err(ApiError::bad_field(
                "subscription.id",
                "each subscription needs an id",
            ));
        };
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ApiError::bad_field(
                "subscription.id",
                format!("subscription ID '{id}' is not a valid UUID."),
            ));
        }
        if read(&sh.data).subscriptions.get(id).is_none() {
            return Err(ApiError::bad_field(
                "subscription.id",
                format!("subscription '{id}' does not exist"),
            ));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// `location`, `contact` and `warranty/currentSupportLevel`: objects (`{}` removes one).
fn object_fields(
    obj: &serde_json::Map<String, Value>,
    p: &mut DevicePatch,
) -> Result<(), ApiError> {
    for (k, slot) in [
        ("location", &mut p.location),
        ("contact", &mut p.contact),
        ("warranty/currentSupportLevel", &mut p.warranty),
    ] {
        if let Some(v) = obj.get(k) {
            if !v.is_object() {
                return Err(ApiError::bad_field(
                    k,
                    format!("{k} must be an object ({{}} removes it)"),
                ));
            }
            *slot = Some(v.clone());
        }
    }
    Ok(())
}

fn k_location_bad(p: &DevicePatch) -> bool {
    p.location.as_ref().is_some_and(|l| {
        l.as_object()
            .is_some_and(|o| !o.is_empty() && !o.get("id").is_some_and(Value::is_string))
    })
}

impl Shared {
    fn data_catalog_knows(&self, app: &str) -> bool {
        read(&self.data).catalog.knows(app)
    }
    fn data_catalog_provisioned(&self, app: &str, region: &str) -> bool {
        read(&self.data).catalog.is_provisioned(app, region)
    }
}
