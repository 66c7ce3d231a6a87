//! Pairing sheet rows with stored devices: by serial, with the MAC as a cross-check.
//!
//! The query (`Store::devices_by_serials`) fetches every stored device for the whole sheet
//! at once; this module decides, purely, what each row is: found, to be added, archived or
//! removed — and what blocks it.

use std::collections::HashMap;

use serde::Serialize;

use super::header::Field;
use super::load::{InputRow, Sheet};
use super::normalize::{Category, normalize_mac};
use super::validate::{Issue, IssueKind};
use crate::store::assign::StoredDevice;

/// What the database says about a row's serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchState {
    /// In GLP and assignable.
    Found,
    /// Not in the inventory: it will be added (needs MAC for network, part number for
    /// compute/storage).
    NotFound,
    /// In GLP but archived: cannot be assigned until unarchived.
    Archived,
    /// Was in GLP, but the last full sync no longer saw it: it will be added again.
    Removed,
}

/// One row with what it matched.
#[derive(Clone, Debug)]
pub struct RowMatch {
    pub input: InputRow,
    pub state: MatchState,
    /// The stored device (for found, archived and removed rows).
    pub device: Option<StoredDevice>,
    /// Device family: the stored one, else the sheet's, else NETWORK when a MAC is given.
    pub category: Option<Category>,
}

impl RowMatch {
    /// Will this row's device have to be added before it can be assigned?
    pub fn needs_add(&self) -> bool {
        matches!(self.state, MatchState::NotFound | MatchState::Removed)
    }
}

/// Counts for the review screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MatchCounts {
    pub found: usize,
    pub not_found: usize,
    pub archived: usize,
    pub removed: usize,
}

/// Count rows by state.
pub fn count(matches: &[RowMatch]) -> MatchCounts {
    let mut c = MatchCounts::default();
    for m in matches {
        match m.state {
            MatchState::Found => c.found += 1,
            MatchState::NotFound => c.not_found += 1,
            MatchState::Archived => c.archived += 1,
            MatchState::Removed => c.removed += 1,
        }
    }
    c
}

/// Rank stored duplicates of one serial: an active device beats an archived one beats a
/// removed one; then the most recently updated wins.
fn better(a: &StoredDevice, b: &StoredDevice) -> bool {
    let rank = |d: &StoredDevice| (!d.removed, !d.archived, d.updated_at);
    rank(a) > rank(b)
}

/// Match `rows` against `stored` (the result of `Store::devices_by_serials` for their
/// serials). Rows with an empty serial are skipped (validation already reported them).
/// Returns the matches and the issues found: archived, removed, MAC contradicting the
/// stored one, and what an add is missing.
pub fn match_rows(
    sheet: &Sheet,
    rows: &[&InputRow],
    stored: &[StoredDevice],
) -> (Vec<RowMatch>, Vec<Issue>) {
    let mut by_serial: HashMap<String, &StoredDevice> = HashMap::new();
    for d in stored {
        let k = d.serial_number.trim().to_uppercase();
        match by_serial.get(&k) {
            Some(prev) if !better(d, prev) => {}
            _ => {
                by_serial.insert(k, d);
            }
        }
    }
    let col = |f: &Field| sheet.header.column(f).map(|c| c.describe());
    let name = sheet.sheet.as_str();
    let mut out = Vec::new();
    let mut issues = Vec::new();
    for r in rows.iter().filter(|r| !r.serial.is_empty()) {
        let device = by_serial.get(&r.serial).map(|d| (*d).clone());
        let state = match &device {
            None => MatchState::NotFound,
            Some(d) if d.removed => MatchState::Removed,
            Some(d) if d.archived => MatchState::Archived,
            Some(_) => MatchState::Found,
        };
        let stored_cat = device
            .as_ref()
            .and_then(|d| Category::of_stored(d.category.as_deref(), d.device_type.as_deref()));
        let mut category = stored_cat.or(r.category);
        if let (Some(d), Some(mac)) = (&device, &r.mac)
            && let Some(stored_mac) = d.mac_address.as_deref().and_then(normalize_mac)
            && &stored_mac != mac
        {
            issues.push(Issue::error(
                IssueKind::MacContradicts,
                name,
                Some(r.row),
                col(&Field::Mac),
                format!(
                    "GreenLake has MAC {stored_mac} for serial {}, the sheet says {mac}; correct the cell or leave it empty",
                    r.serial
                ),
            ));
        }
        match state {
            MatchState::Archived => issues.push(Issue::error(
                IssueKind::Archived,
                name,
                Some(r.row),
                col(&Field::Serial),
                format!("device {} is archived in GreenLake and cannot be assigned; unarchive it first or delete the row", r.serial),
            )),
            MatchState::Removed => issues.push(Issue::warning(
                IssueKind::Removed,
                name,
                Some(r.row),
                col(&Field::Serial),
                format!("device {} was in GreenLake but the last full sync did not see it; it will be added again", r.serial),
            )),
            _ => {}
        }
        if matches!(state, MatchState::NotFound | MatchState::Removed) {
            if category.is_none() && r.mac.is_some() {
                category = Some(Category::Network);
            }
            match category {
                None => issues.push(Issue::error(
                    IssueKind::AddNeedsDeviceType,
                    name,
                    Some(r.row),
                    col(&Field::DeviceType),
                    format!(
                        "{} is not in GreenLake, so it will be added, which needs its type: give a MAC address (network devices) or a Device Type column with NETWORK, COMPUTE or STORAGE",
                        r.serial
                    ),
                )),
                Some(Category::Network) if r.mac.is_none() && r.mac_raw.is_none() => issues.push(Issue::error(
                    IssueKind::AddNeedsMac,
                    name,
                    Some(r.row),
                    col(&Field::Mac),
                    format!("{} is not in GreenLake; adding a network device needs its MAC address — fill in the MAC cell", r.serial),
                )),
                Some(Category::Compute | Category::Storage) if r.part_number.is_none() => issues.push(Issue::error(
                    IssueKind::AddNeedsPartNumber,
                    name,
                    Some(r.row),
                    col(&Field::PartNumber),
                    format!("{} is not in GreenLake; adding a compute or storage device needs its part number — add a Part Number column", r.serial),
                )),
                _ => {}
            }
        }
        out.push(RowMatch {
            input: (*r).clone(),
            state,
            device,
            category,
        });
    }
    (out, issues)
}
