//! The plan: the API operations that bring each device from its current state to its
//! target, and nothing more.
//!
//! Pure and deterministic. Order of phases: add (POST) → application → subscription (GLP
//! wants the application first) → tags → application removal (after subscriptions are
//! gone) → tenant placement (an MSP moving its own devices; never in the same PATCH as an
//! application or subscription change, §12). Each PATCH groups devices that need the identical merge-patch body, at most 25
//! ids per call (§2.4). Devices being added get their tags in the POST and their
//! application/subscription in PATCH steps marked `awaits_add`, whose ids the apply step
//! fills in ([`Plan::resolve_added`]) once the adds are done — so new devices are never
//! left half-assigned (GLP-Sync-2 bugs 1 and 2), and every device of a batch is sent (bug 3).
//!
//! Adds use `POST /devices/v2beta1/devices`, one device per call: each add then has its own
//! async operation, so a failure names exactly one serial, and new devices that failed are
//! simply left out of the follow-up PATCHes. The v1 batch (≤5) would save calls but reports
//! partial failures only as a list of failed serials on a FAILED operation.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::normalize::Category;
use crate::domain::WorkspaceId;
use crate::store::assign::StoredDevice;

/// Most device ids GLP accepts in one v2beta1 PATCH.
pub const MAX_IDS_PER_PATCH: usize = 25;
/// Path of the device PATCH and add endpoints.
pub const DEVICES_PATH: &str = "/devices/v2beta1/devices";
/// Content type GLP wants for device PATCHes (RFC 7396 merge patch).
pub const MERGE_PATCH: &str = "application/merge-patch+json";

/// The values assignment changes, as they are (before) or will be (after). Stored with
/// every run so an apply can audit it and [`plan_undo`] can reverse it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    pub application_id: Option<String>,
    pub region: Option<String>,
    /// Sorted subscription ids.
    pub subscription_ids: Vec<String>,
    pub tags: BTreeMap<String, String>,
    /// The MSP tenant an MSP-owned device is placed in (dashless, lower case); `None` in
    /// the MSP's pool or outside an MSP's view. Absent in runs recorded before tenants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// GreenLake's `management` (`MSP`, `TENANT`); only MSP-owned devices can be moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management: Option<String>,
}

/// A tenant id as the plan compares it: dashless, lower case (GreenLake spells it both
/// ways, glp-api §11).
pub fn tenant_key(raw: &str) -> String {
    WorkspaceId::parse(raw)
        .map(|w| w.as_str().to_string())
        .unwrap_or_else(|| raw.trim().to_lowercase())
}

impl DeviceState {
    /// The current state of a stored device.
    pub fn from_stored(d: &StoredDevice) -> DeviceState {
        let mut subscription_ids: Vec<String> =
            d.subscriptions.iter().map(|s| s.id.clone()).collect();
        subscription_ids.sort();
        subscription_ids.dedup();
        DeviceState {
            application_id: d.application_id.clone(),
            region: d.region.clone(),
            subscription_ids,
            tags: d.tags.clone(),
            tenant: d
                .tenant_workspace_id
                .as_deref()
                .map(tenant_key)
                .filter(|t| !t.is_empty()),
            management: d.management.clone(),
        }
    }

    fn application(&self) -> Option<AppTarget> {
        Some(AppTarget {
            application_id: self.application_id.clone()?,
            region: self.region.clone().unwrap_or_default(),
        })
    }
}

/// An application (service-manager id) in a region; GLP only accepts the two together.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AppTarget {
    pub application_id: String,
    pub region: String,
}

/// What to do with one value: leave it, set it, or remove it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Desired<T> {
    #[default]
    Keep,
    Set(T),
    Clear,
}

/// What an add needs (§2.5): the family, and the MAC (network) or part number (compute,
/// storage).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddDevice {
    pub category: Category,
    pub mac: Option<String>,
    pub part_number: Option<String>,
}

/// One device's target, as the wizard resolved it from the sheet and the user's choices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceTarget {
    pub serial: String,
    /// Spreadsheet row, for the diff and the audit (none for an undo).
    pub row: Option<u32>,
    /// GLP id; `None` for a device still to be added.
    pub device_id: Option<String>,
    /// Current values; `None` for a device to be added (it starts unassigned, untagged).
    pub current: Option<DeviceState>,
    pub add: Option<AddDevice>,
    pub application: Desired<AppTarget>,
    /// Subscription ids the device should carry.
    pub subscription: Desired<Vec<String>>,
    /// Tags to set (`Some`) or remove (`None`); keys not named are left alone.
    pub tags: BTreeMap<String, Option<String>>,
    /// The MSP tenant to place the device in ([`Desired::Clear`]: back to the MSP's pool).
    pub tenant: Desired<TenantTarget>,
}

/// A tenant of the MSP, as the sheet named it and the store knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantTarget {
    /// Dashless, lower case ([`tenant_key`]).
    pub id: String,
    /// Its workspace name (for the diff); empty when unknown.
    pub name: String,
}

/// Phases in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Add,
    Application,
    Subscription,
    Tags,
    /// Removing an application (undo), after subscriptions are gone.
    Unassign,
    /// Placing MSP-owned devices in a tenant (or back in the MSP's pool).
    Tenant,
}

impl Phase {
    /// The `assignment_operations.kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Add => "add",
            Phase::Application => "application",
            Phase::Subscription => "subscription",
            Phase::Tags => "tags",
            Phase::Unassign => "unassign_application",
            Phase::Tenant => "tenant",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    Post,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// One API call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub phase: Phase,
    pub method: Method,
    /// Path without query; PATCH ids go in repeated `id=` query keys.
    pub path: String,
    /// `application/json` for POST, [`MERGE_PATCH`] for PATCH.
    pub content_type: String,
    pub body: Value,
    /// Device ids (≤ 25); empty until resolved for `awaits_add` steps.
    pub device_ids: Vec<String>,
    /// Serials, in the same order as `device_ids`.
    pub serials: Vec<String>,
    /// The devices are being added by this plan; fill `device_ids` with
    /// [`Plan::resolve_added`] before sending.
    pub awaits_add: bool,
}

/// One value that changes on one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Add {
        category: Category,
    },
    Application {
        from: Option<AppTarget>,
        to: Option<AppTarget>,
    },
    Subscription {
        from: Vec<String>,
        to: Vec<String>,
    },
    Tag {
        key: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// Tenant ids (dashless); `None` is the MSP's pool. `to_name` names the target.
    Tenant {
        from: Option<String>,
        to: Option<String>,
        #[serde(default)]
        to_name: String,
    },
}

/// A device the plan touches: before, after, and the changes in between.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceChange {
    pub serial: String,
    pub row: Option<u32>,
    pub device_id: Option<String>,
    /// `None` for an added device.
    pub before: Option<DeviceState>,
    pub after: DeviceState,
    pub changes: Vec<Change>,
}

/// Everything to send, and per device what changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Devices with at least one change.
    pub devices: Vec<DeviceChange>,
    /// Serials already as asked: no call touches them.
    pub unchanged: Vec<String>,
    /// Things the plan cannot do, in words (e.g. undoing an add).
    pub notes: Vec<String>,
}

impl Plan {
    /// Nothing to send.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// After the add phase: fill the ids of `awaits_add` steps from `serial → id` (serials
    /// upper-case). Serials without an id (their add failed) are dropped from the steps, and
    /// steps left empty are removed. Returns the dropped serials.
    pub fn resolve_added(&mut self, ids: &HashMap<String, String>) -> Vec<String> {
        let mut dropped = Vec::new();
        for step in self.steps.iter_mut().filter(|s| s.awaits_add) {
            let mut serials = Vec::new();
            let mut dev_ids = Vec::new();
            for s in &step.serials {
                match ids.get(s) {
                    Some(id) => {
                        serials.push(s.clone());
                        dev_ids.push(id.clone());
                    }
                    None => dropped.push(s.clone()),
                }
            }
            step.serials = serials;
            step.device_ids = dev_ids;
            step.awaits_add = false;
        }
        self.steps
            .retain(|s| s.method == Method::Post || !s.device_ids.is_empty());
        dropped.sort();
        dropped.dedup();
        dropped
    }
}

/// The add body (§2.5, v2beta1): serial, family, MAC or part number, and the tags to set.
fn add_body(serial: &str, add: &AddDevice, tags: &BTreeMap<String, String>) -> Value {
    let mut m = Map::new();
    m.insert("serialNumber".into(), json!(serial));
    m.insert("deviceType".into(), json!(add.category.as_api()));
    if let Some(mac) = &add.mac {
        m.insert("macAddress".into(), json!(mac));
    }
    if let Some(pn) = &add.part_number {
        m.insert("partNumber".into(), json!(pn));
    }
    if !tags.is_empty() {
        m.insert("tags".into(), json!(tags));
    }
    Value::Object(m)
}

/// The merge-patch for tags: only keys that are new, differ or must go. A key is matched
/// exactly first — a device can carry case variants (`Owner` and `owner`, from before GLP
/// refused them) and each stays as it is unless named exactly — and otherwise
/// case-insensitively (GLP refuses `Location` next to `LOCATION`), the change then sent
/// under the key's existing spelling.
fn tag_patch(
    current: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, Option<String>>,
) -> (BTreeMap<String, Option<String>>, Vec<Change>) {
    let mut patch = BTreeMap::new();
    let mut changes = Vec::new();
    for (k, v) in wanted {
        let existing = current.get_key_value(k).or_else(|| {
            current
                .iter()
                .find(|(ck, _)| ck.to_lowercase() == k.to_lowercase())
        });
        match (existing, v) {
            (Some((_, cv)), Some(v)) if cv == v => {}
            (Some((ck, cv)), Some(v)) => {
                patch.insert(ck.clone(), Some(v.clone()));
                changes.push(Change::Tag {
                    key: ck.clone(),
                    from: Some(cv.clone()),
                    to: Some(v.clone()),
                });
            }
            (None, Some(v)) => {
                patch.insert(k.clone(), Some(v.clone()));
                changes.push(Change::Tag {
                    key: k.clone(),
                    from: None,
                    to: Some(v.clone()),
                });
            }
            (Some((ck, cv)), None) => {
                patch.insert(ck.clone(), None);
                changes.push(Change::Tag {
                    key: ck.clone(),
                    from: Some(cv.clone()),
                    to: None,
                });
            }
            (None, None) => {}
        }
    }
    (patch, changes)
}

/// Phase, "devices are being added", body text.
type GroupKey = (Phase, bool, String);

/// Groups of devices sharing one body, kept in first-seen order for a stable plan.
#[derive(Default)]
struct Groups {
    order: Vec<(Phase, bool, String)>,
    members: HashMap<GroupKey, (Value, Vec<(String, String)>)>,
}

impl Groups {
    fn push(&mut self, phase: Phase, awaits_add: bool, body: Value, serial: &str, id: &str) {
        let key = (phase, awaits_add, body.to_string());
        let entry = self.members.entry(key.clone()).or_insert_with(|| {
            self.order.push(key.clone());
            (body, Vec::new())
        });
        entry.1.push((serial.to_string(), id.to_string()));
    }

    fn into_steps(mut self) -> Vec<Step> {
        // Phase order first, then existing devices before ones being added, then first seen.
        let mut order: Vec<(usize, (Phase, bool, String))> =
            self.order.into_iter().enumerate().collect();
        order.sort_by_key(|(i, (p, a, _))| (*p, *a, *i));
        let mut steps = Vec::new();
        for (_, key) in order {
            let Some((body, members)) = self.members.remove(&key) else {
                continue;
            };
            for chunk in members.chunks(MAX_IDS_PER_PATCH) {
                steps.push(Step {
                    phase: key.0,
                    method: Method::Patch,
                    path: DEVICES_PATH.into(),
                    content_type: MERGE_PATCH.into(),
                    body: body.clone(),
                    device_ids: if key.1 {
                        Vec::new()
                    } else {
                        chunk.iter().map(|(_, id)| id.clone()).collect()
                    },
                    serials: chunk.iter().map(|(s, _)| s.clone()).collect(),
                    awaits_add: key.1,
                });
            }
        }
        steps
    }
}

/// Compute the plan for `targets`: per device only what is missing or different, grouped
/// by identical body, ≤ 25 ids per PATCH, adds first.
pub fn plan(targets: &[DeviceTarget]) -> Plan {
    let mut notes = Vec::new();
    let mut adds = Vec::new();
    let mut groups = Groups::default();
    let mut devices = Vec::new();
    let mut unchanged = Vec::new();
    for t in targets {
        let before = t.current.clone().unwrap_or_default();
        let mut after = before.clone();
        let mut changes = Vec::new();
        let new = t.add.is_some() || t.device_id.is_none();
        let id = t.device_id.clone().unwrap_or_default();
        // Tags first in computing (they go into the POST for new devices).
        let (tpatch, tchanges) = tag_patch(&before.tags, &t.tags);
        if let Some(add) = &t.add {
            let set: BTreeMap<String, String> = tpatch
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                .collect();
            adds.push(Step {
                phase: Phase::Add,
                method: Method::Post,
                path: DEVICES_PATH.into(),
                content_type: "application/json".into(),
                body: add_body(&t.serial, add, &set),
                device_ids: Vec::new(),
                serials: vec![t.serial.clone()],
                awaits_add: false,
            });
            changes.push(Change::Add {
                category: add.category,
            });
        }
        match &t.application {
            Desired::Set(a) if before.application().as_ref() != Some(a) => {
                let body = json!({"application": {"id": a.application_id}, "region": a.region});
                groups.push(Phase::Application, new, body, &t.serial, &id);
                changes.push(Change::Application {
                    from: before.application(),
                    to: Some(a.clone()),
                });
                after.application_id = Some(a.application_id.clone());
                after.region = Some(a.region.clone());
            }
            Desired::Clear if before.application_id.is_some() => {
                // The spec text says both go null; the example sends only the application.
                let body = json!({"application": {"id": null}, "region": null});
                groups.push(Phase::Unassign, new, body, &t.serial, &id);
                changes.push(Change::Application {
                    from: before.application(),
                    to: None,
                });
                after.application_id = None;
                after.region = None;
            }
            _ => {}
        }
        let wanted_subs = match &t.subscription {
            Desired::Set(ids) => {
                let mut ids = ids.clone();
                ids.sort();
                ids.dedup();
                Some(ids)
            }
            Desired::Clear => Some(Vec::new()),
            Desired::Keep => None,
        };
        if let Some(ids) = wanted_subs
            && ids != before.subscription_ids
        {
            let body =
                json!({"subscription": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>()});
            groups.push(Phase::Subscription, new, body, &t.serial, &id);
            changes.push(Change::Subscription {
                from: before.subscription_ids.clone(),
                to: ids.clone(),
            });
            after.subscription_ids = ids;
        }
        if !tpatch.is_empty() {
            if t.add.is_none() {
                groups.push(Phase::Tags, new, json!({"tags": tpatch}), &t.serial, &id);
            }
            for (k, v) in &tpatch {
                match v {
                    Some(v) => after.tags.insert(k.clone(), v.clone()),
                    None => after.tags.remove(k),
                };
            }
            changes.extend(tchanges);
        }
        if let Some(c) = tenant_change(t, &before, &mut after, &mut notes) {
            let to = c.1.as_ref().map(|w| w.dashed());
            groups.push(
                Phase::Tenant,
                new,
                json!({"tenantWorkspaceId": to}),
                &t.serial,
                &id,
            );
            changes.push(c.0);
        }
        if changes.is_empty() {
            unchanged.push(t.serial.clone());
        } else {
            devices.push(DeviceChange {
                serial: t.serial.clone(),
                row: t.row,
                device_id: t.device_id.clone(),
                before: t.current.clone().filter(|_| t.add.is_none()),
                after,
                changes,
            });
        }
    }
    let mut steps = adds;
    steps.extend(groups.into_steps());
    Plan {
        steps,
        devices,
        unchanged,
        notes,
    }
}

/// The tenant move `t` asks for, if its placement differs: the change and the target
/// (`None`: the MSP's pool). A device that is not MSP-owned (a tenant manages it, or it is
/// not in an MSP's view, or it is still to be added) is refused with a note instead:
/// GreenLake cannot move it, so nothing is sent for it.
fn tenant_change(
    t: &DeviceTarget,
    before: &DeviceState,
    after: &mut DeviceState,
    notes: &mut Vec<String>,
) -> Option<(Change, Option<WorkspaceId>)> {
    let (to, to_name) = match &t.tenant {
        Desired::Keep => return None,
        Desired::Set(x) => (Some(x.id.clone()), x.name.clone()),
        Desired::Clear => (None, String::new()),
    };
    if before.tenant == to {
        return None;
    }
    let msp_owned = t.current.is_some()
        && before
            .management
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("MSP"));
    if !msp_owned {
        let row = t.row.map(|r| format!(" (row {r})")).unwrap_or_default();
        let why = match (&t.current, before.management.as_deref()) {
            (None, _) => "it is not in GreenLake yet".to_string(),
            (_, Some(m)) => format!("it is managed by {m}, not owned by the MSP"),
            (_, None) => "it is not an MSP-owned device".to_string(),
        };
        notes.push(format!(
            "{}{row}: not moved to {}: {why}; GreenLake moves only MSP-owned devices",
            t.serial,
            if to_name.is_empty() {
                to.clone().unwrap_or_else(|| "the MSP pool".into())
            } else {
                to_name
            }
        ));
        return None;
    }
    after.tenant = to.clone();
    let target = to.as_deref().and_then(WorkspaceId::parse);
    Some((
        Change::Tenant {
            from: before.tenant.clone(),
            to,
            to_name,
        },
        target,
    ))
}

/// What an apply recorded for one device: enough to reverse it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoRecord {
    pub serial: String,
    pub device_id: String,
    /// `None` when the run added the device.
    pub before: Option<DeviceState>,
    pub after: DeviceState,
}

impl UndoRecord {
    /// The record for a planned change, once its device id is known.
    pub fn from_change(c: &DeviceChange, device_id: &str) -> UndoRecord {
        UndoRecord {
            serial: c.serial.clone(),
            device_id: device_id.to_string(),
            before: c.before.clone(),
            after: c.after.clone(),
        }
    }
}

/// The plan that puts every device back to its "before" values: tags restored (and the
/// added ones removed), subscriptions and application put back. Devices the run added
/// are stripped of what the run gave them, but they stay in the workspace (there is no
/// delete call); a note says so.
///
/// Tag keys are taken exactly as recorded: a key in `after` but not in `before` is removed,
/// every key in `before` is set back. The caller limits both to the keys the run changed
/// ([`changed_tag_keys`]), so case variants the run never touched stay as they are.
pub fn plan_undo(records: &[UndoRecord]) -> Plan {
    let mut notes = Vec::new();
    let targets: Vec<DeviceTarget> = records
        .iter()
        .map(|r| {
            let before = r.before.clone().unwrap_or_default();
            if r.before.is_none() {
                notes.push(format!(
                    "{} was added by the run; it stays in GreenLake (archive it there if it is not wanted)",
                    r.serial
                ));
            }
            let mut tags: BTreeMap<String, Option<String>> = BTreeMap::new();
            for k in r.after.tags.keys() {
                if !before.tags.contains_key(k) {
                    tags.insert(k.clone(), None);
                }
            }
            for (k, v) in &before.tags {
                tags.insert(k.clone(), Some(v.clone()));
            }
            DeviceTarget {
                serial: r.serial.clone(),
                row: None,
                device_id: Some(r.device_id.clone()),
                current: Some(r.after.clone()),
                add: None,
                application: match before.application() {
                    Some(a) => Desired::Set(a),
                    None => Desired::Clear,
                },
                subscription: if before.subscription_ids.is_empty() {
                    Desired::Clear
                } else {
                    Desired::Set(before.subscription_ids.clone())
                },
                tags,
                // The caller keeps `before.tenant` equal to the current one when the run
                // did not move the device, so only moves the run made are reversed.
                tenant: match (&r.before, &before.tenant) {
                    (None, _) => Desired::Keep,
                    (Some(_), Some(id)) => Desired::Set(TenantTarget {
                        id: id.clone(),
                        name: String::new(),
                    }),
                    (Some(_), None) => Desired::Clear,
                },
            }
        })
        .collect();
    let mut p = plan(&targets);
    p.notes = notes;
    p
}

/// The tag keys a run changed on a device, spelled as it recorded them: those whose value
/// (or presence) differs between the values before and the values asked for.
pub fn changed_tag_keys(
    before: Option<&DeviceState>,
    intended: &DeviceState,
) -> std::collections::BTreeSet<String> {
    let empty = BTreeMap::new();
    let before = before.map_or(&empty, |b| &b.tags);
    before
        .keys()
        .chain(intended.tags.keys())
        .filter(|k| before.get(*k) != intended.tags.get(*k))
        .cloned()
        .collect()
}
