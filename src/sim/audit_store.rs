//! The audit log's data: what a workspace's state holds (a leaf, so the state can own it
//! while `sim::audit` adds the recording to the state).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The platform's service offer: entries of no other service exist in the simulator.
pub const PLATFORM_OFFER: &str = "00000000-0000-0000-0000-000000000000";

/// Category of device entries.
pub const DEVICE_CATEGORY: &str = "Device Management";

/// Category of subscription entries.
pub const SUBSCRIPTION_CATEGORY: &str = "Subscription Management";

/// One request to the audit-log list, as received (for tests: which filter a client sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub filter: Option<String>,
    pub sort: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

/// A workspace's audit log and who its control-API changes are attributed to.
#[derive(Debug)]
pub(crate) struct AuditLog {
    /// In creation order (so `createdAt` ascending).
    pub entries: Vec<Value>,
    pub user: String,
    pub queries: Vec<AuditQuery>,
}

impl AuditLog {
    pub fn new(user: &str) -> AuditLog {
        AuditLog {
            entries: Vec::new(),
            user: user.to_string(),
            queries: Vec::new(),
        }
    }
}

/// Who made a change: a person through the UI (the test controls) or the API client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Actor {
    Person,
    ApiClient,
}
