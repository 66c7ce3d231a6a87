//! The simulator's audit log (`GET /audit-log/v2beta1/logs`, `audit-logs.json`): an entry for
//! every change of the inventory, whoever made it.
//!
//! Changes through the API (PATCH and POST operations) are attributed to the API client
//! (`client_id`); changes through the handle's test controls (`modify_device`, `add_devices`,
//! `remove_device`, `modify_subscription`) to the configurable [`AuditLog::user`], as if a
//! person had made them in the GreenLake UI. Each workspace of an MSP world has its own log
//! (the entry is recorded where the change was made; the log itself is `sim::audit_store`). An entry names the device by serial in
//! `additionalInfo.serverSerial` (the only place the spec's schema has for it) and by serial
//! and id in its description.

use serde_json::{Value, json};

use super::audit_store::{Actor, DEVICE_CATEGORY, PLATFORM_OFFER, SUBSCRIPTION_CATEGORY};
use super::data::ts;
use super::state::{Shared, lock};

/// The top-level fields of a device that differ between `before` and `after` (not
/// `updatedAt`), in key order.
fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| *k != "updatedAt" && b.get(*k) != a.get(*k))
        .cloned()
        .collect()
}

impl Shared {
    fn actor_name(&self, actor: Actor) -> String {
        match actor {
            Actor::Person => lock(&self.audit).user.clone(),
            Actor::ApiClient => self.cfg.client_id.clone(),
        }
    }

    fn workspace_ref(&self) -> Value {
        let kind = if self.is_msp() {
            "MSP"
        } else if self.tenant_meta().is_some() {
            "TENANT"
        } else {
            "STANDALONE"
        };
        let name = self
            .tenant_meta()
            .map_or_else(|| "Simulated workspace".to_string(), |t| t.name.clone());
        json!({"id": super::msp::dashless(&self.cfg.workspace_id), "name": name, "type": kind})
    }

    fn push_entry(&self, actor: Actor, category: &str, description: String, info: Value) {
        let user = self.actor_name(actor);
        let at = ts(self.now_ts());
        let mut e = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "type": "/audit-log/log",
            "category": category,
            "createdAt": at,
            "description": format!("{description} by {user}"),
            "username": user,
            "ipAddress": "127.0.0.1",
            "hasDetails": false,
            "serviceOffer": {"id": PLATFORM_OFFER, "name": "HPE GreenLake Platform",
                "region": "global"},
            "workspace": self.workspace_ref(),
        });
        if !info.is_null() {
            e["additionalInfo"] = info;
        }
        lock(&self.audit).entries.push(e);
    }

    /// Record a device change (`None`: absent before or after). Call with no data lock held.
    pub(crate) fn audit_device(&self, actor: Actor, before: Option<&Value>, after: Option<&Value>) {
        let Some(dev) = after.or(before) else { return };
        let serial = dev["serialNumber"].as_str().unwrap_or_default();
        let id = dev["id"].as_str().unwrap_or_default();
        let what = match (before, after) {
            (None, _) => "added".to_string(),
            (_, None) => "removed".to_string(),
            (Some(b), Some(a)) => {
                let fields = changed_fields(b, a);
                if fields.is_empty() {
                    return;
                }
                format!("updated ({})", fields.join(", "))
            }
        };
        let info = json!({"serverSerial": serial, "deviceType": dev["deviceType"]});
        self.push_entry(
            actor,
            DEVICE_CATEGORY,
            format!("Device {serial} (id {id}) {what}"),
            info,
        );
    }

    /// Record a subscription change.
    pub(crate) fn audit_subscription(&self, actor: Actor, before: &Value, after: &Value) {
        let fields = changed_fields(before, after);
        if fields.is_empty() {
            return;
        }
        let key = after["key"].as_str().unwrap_or_default();
        self.push_entry(
            actor,
            SUBSCRIPTION_CATEGORY,
            format!("Subscription {key} updated ({})", fields.join(", ")),
            Value::Null,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::changed_fields;
    use serde_json::json;

    #[test]
    fn changed_fields_leave_out_updated_at() {
        let b = json!({"a": 1, "b": 2, "updatedAt": "x"});
        let a = json!({"a": 1, "b": 3, "c": null, "updatedAt": "y"});
        assert_eq!(changed_fields(&b, &a), vec!["b", "c"]);
    }
}
