//! Bulk assignment from a spreadsheet: read, validate, match, plan, apply, report.
//! Logic only; the Assign tab draws it.
//!
//! The pure core lives here: [`load`] reads a sheet into [`load::InputRow`]s (with
//! [`header`] detection and [`normalize`]d values) and lists every [`validate::Issue`];
//! [`matching`] pairs rows with stored devices (the query is in `store::assign`);
//! [`options`] offers subscriptions, application/region pairs and tags and turns the
//! user's choices into per-device targets; [`plan`] computes the API operations and their
//! undo; [`diff`] summarises a plan for review. Applying a plan over HTTP comes later and
//! consumes [`plan::Plan`] as it is.

pub mod apply;
pub mod diff;
pub mod family;
pub mod header;
pub mod load;
pub mod matching;
pub mod names;
pub mod normalize;
pub mod options;
pub mod plan;
pub mod recorded;
pub mod refresh;
pub mod report;
pub mod session;
pub mod sheet_limits;
pub mod template;
pub mod tenant;
pub mod validate;
pub mod validate_input;
