//! Bulk assignment from a spreadsheet: read, validate, match, plan, apply, report.
//! Logic only; the Assign tab draws it.
