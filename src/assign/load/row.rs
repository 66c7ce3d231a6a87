//! One device row of a sheet as the rest of the assignment sees it: read, cleaned and
//! normalised, whatever file it came from.

use std::collections::BTreeMap;

use crate::assign::normalize::Category;

/// Written in a `tag:<key>` cell, removes that tag from the device (an empty cell leaves
/// the tag alone, because GLP allows empty tag values and an empty cell cannot say which).
pub const TAG_REMOVE: &str = "<remove>";

/// Written in the Tenant cell, moves the device back to the MSP's pool.
pub const TENANT_POOL: &str = "<pool>";

/// A data row after normalisation. Raw texts are kept where validation must quote them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputRow {
    /// Row number as the spreadsheet shows it (1-based, header counted).
    pub row: u32,
    /// Trimmed, upper-cased; empty when the cell is empty.
    pub serial: String,
    /// The MAC cell as written (`None` when empty).
    pub mac_raw: Option<String>,
    /// `AA:BB:CC:DD:EE:FF`, or `None` when empty or not a MAC (see `mac_raw`).
    pub mac: Option<String>,
    /// Upper-cased subscription key.
    pub subscription_key: Option<String>,
    /// Region code (`us-west`).
    pub region: Option<String>,
    /// Application id or name, as written (trimmed).
    pub application: Option<String>,
    /// Upper-cased part number (needed to add COMPUTE/STORAGE devices).
    pub part_number: Option<String>,
    pub device_type_raw: Option<String>,
    pub category: Option<Category>,
    /// The Tenant cell as written (trimmed): a tenant's name or id, or [`TENANT_POOL`].
    pub tenant: Option<String>,
    /// `tag:<key>` cells: `Some(value)` sets, `None` removes ([`TAG_REMOVE`]); empty cells
    /// are absent.
    pub tags: BTreeMap<String, Option<String>>,
}
