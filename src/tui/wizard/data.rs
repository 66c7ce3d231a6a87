//! The matched sheet as the wizard shows it, built on the loader task (not the UI task) so
//! a 5 000-row sheet costs the screen nothing.

use chrono::{DateTime, Utc};

use super::rows::{issue_rows, review_rows};
use crate::assign::options::Catalog;
use crate::assign::session::Prepared;
use crate::tui::model::table::TableData;

/// What the loader task hands back: the matched sheet and its display rows.
#[derive(Debug, Clone)]
pub struct WizardData {
    pub prepared: Prepared,
    pub issues: TableData,
    pub review: TableData,
    /// Rows that go on to the plan (no error in the sheet or in matching).
    pub valid: usize,
    /// Errors and warnings among the sheet's and the matching issues.
    pub errors: usize,
    pub warnings: usize,
    /// Time from the request to the result (shown on the review).
    pub elapsed_ms: u128,
}

/// Build the loader's result (display rows included) from a prepared sheet; runs on the
/// loader task, not the UI task.
pub fn wizard_data(
    prepared: Prepared,
    known: Option<&Catalog>,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> WizardData {
    let cat = known;
    let issues = issue_rows(&prepared.issues());
    let review = review_rows(&prepared.matches, cat);
    let valid = prepared.valid_matches().len();
    let all = prepared.issues();
    let errors = all.iter().filter(|i| i.is_error()).count();
    WizardData {
        valid,
        errors,
        warnings: all.len() - errors,
        prepared,
        issues,
        review,
        elapsed_ms: (now - started).num_milliseconds().max(0) as u128,
    }
}
