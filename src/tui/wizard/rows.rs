//! The wizard's lists as display rows: computed once per load or plan (off the UI task for
//! the big ones), so a 5 000-row sheet scrolls like the inventory.

use crate::assign::diff::Diff;
use crate::assign::matching::{MatchState, RowMatch};
use crate::assign::names::Names;
use crate::assign::options::{ApplicationRegion, Catalog};
use crate::assign::report::{ApplyReport, DeviceStatus, OpStatus};
use crate::assign::session::Planned;
use crate::assign::validate::{Issue, Severity};
use crate::tui::model::table::{Column, Mark, Row, TableData, breakdown};

/// The Validate list: where each problem is (sheet, row, column as the spreadsheet shows
/// them) so the user can find and fix it.
pub fn issue_columns() -> Vec<Column> {
    vec![
        Column::text("Severity", 9),
        Column::text("Sheet", 16),
        Column::num("Row", 6),
        Column::text("Column", 22),
        Column::text("Message", 200),
    ]
}

/// Issues as rows, errors first, then by row.
pub fn issue_rows(issues: &[Issue]) -> TableData {
    let mut v: Vec<(usize, &Issue)> = issues.iter().enumerate().collect();
    v.sort_by_key(|(i, is)| (!is.is_error(), is.row.unwrap_or(0), *i));
    let rows: Vec<Row> = v
        .into_iter()
        .map(|(i, is)| {
            let (sev, mark) = match is.severity {
                Severity::Error => ("✖ error", Mark::Error),
                Severity::Warning => ("⚠ warning", Mark::Warn),
            };
            Row::from_cells(
                i.to_string(),
                [
                    sev,
                    is.sheet.as_str(),
                    &is.row.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
                    is.column.as_deref().unwrap_or("—"),
                    is.message.as_str(),
                ],
                mark,
            )
        })
        .collect();
    let counts = breakdown(rows.iter().map(|r| r.cell(0)));
    TableData {
        rows,
        breakdown: counts,
    }
}

/// The Review list: what GreenLake has now for each row, to judge the plan before choosing.
pub fn review_columns() -> Vec<Column> {
    vec![
        Column::num("Row", 6),
        Column::text("Serial", 16),
        Column::text("State", 20),
        Column::text("Family", 8),
        Column::text("Application / region", 24),
        Column::text("Subscription", 18),
        Column::text("Tags", 40),
    ]
}

/// One row per matched sheet row: what the inventory says about it now.
pub fn review_rows(matches: &[RowMatch], catalog: Option<&Catalog>) -> TableData {
    let names = Names::of_catalog(catalog);
    let rows: Vec<Row> = matches
        .iter()
        .map(|m| {
            let (state, mark) = match m.state {
                MatchState::Found => ("found", Mark::Normal),
                MatchState::NotFound => ("not found → add", Mark::Warn),
                MatchState::Archived => ("archived (skipped)", Mark::Dim),
                MatchState::Removed => ("removed → add again", Mark::Warn),
            };
            let d = m.device.as_ref();
            let app = match d.map(|d| (&d.application_id, &d.region)) {
                Some((Some(a), Some(r))) => format!("{} / {r}", names.label(a)),
                Some((Some(a), None)) => names.label(a),
                Some((None, Some(r))) => r.clone(),
                _ => String::new(),
            };
            let sub = d
                .map(|d| {
                    let keys: Vec<&str> = d
                        .subscriptions
                        .iter()
                        .map(|s| s.key.as_deref().unwrap_or(s.id.as_str()))
                        .collect();
                    keys.join(", ")
                })
                .unwrap_or_default();
            let tags = d
                .map(|d| {
                    d.tags
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            Row::from_cells(
                m.input.row.to_string(),
                [
                    m.input.row.to_string().as_str(),
                    m.input.serial.as_str(),
                    state,
                    m.category.map(|c| c.as_api()).unwrap_or(""),
                    &app,
                    &sub,
                    &tags,
                ],
                mark,
            )
        })
        .collect();
    let counts = breakdown(rows.iter().map(|r| r.cell(2)));
    TableData {
        rows,
        breakdown: counts,
    }
}

/// The subscription chooser: key, type, tier, end, days left and seats — what decides the
/// choice.
pub fn subscription_columns() -> Vec<Column> {
    vec![
        Column::text("Key", 18),
        Column::text("Type", 20),
        Column::text("Tier", 24),
        Column::text("Ends", 10),
        Column::num("Days left", 9),
        Column::num("Available", 9),
        Column::num("Needed", 7),
    ]
}

/// The application/region chooser (names first; the id for the ones people script with).
pub fn application_columns() -> Vec<Column> {
    vec![
        Column::text("Application", 28),
        Column::text("Region", 14),
        Column::text("Region name", 24),
        Column::text("Application id", 36),
    ]
}

pub(super) fn application_rows(apps: &[ApplicationRegion]) -> TableData {
    let rows: Vec<Row> = apps
        .iter()
        .map(|a| {
            Row::from_cells(
                format!("{}|{}", a.application_id, a.region),
                [
                    a.application_name.as_deref().unwrap_or("(unnamed)"),
                    a.region.as_str(),
                    a.region_name.as_str(),
                    a.application_id.as_str(),
                ],
                Mark::Normal,
            )
        })
        .collect();
    let counts = breakdown(rows.iter().map(|r| r.cell(0)));
    TableData {
        rows,
        breakdown: counts,
    }
}

/// The plan per device: one line of changes, the row to find it in the sheet.
pub fn plan_columns() -> Vec<Column> {
    vec![
        Column::num("Row", 6),
        Column::text("Serial", 16),
        Column::text("Changes", 200),
    ]
}

/// The plan per device, after the rows the choices left out (with why), ids named.
pub(super) fn plan_rows(planned: &Planned, d: &Diff, catalog: &Catalog) -> TableData {
    let names = Names::of_catalog(Some(catalog));
    let mut rows: Vec<Row> = Vec::new();
    for (i, is) in planned.issues.iter().enumerate() {
        let row = is.row.map(|r| r.to_string()).unwrap_or_else(|| "—".into());
        let (glyph, mark) = if is.is_error() {
            ("✖ left out: ", Mark::Error)
        } else {
            ("⚠ ", Mark::Warn)
        };
        rows.push(Row::from_cells(
            format!("issue-{i}"),
            [row.as_str(), "", &format!("{glyph}{}", is.message)],
            mark,
        ));
    }
    for l in &d.devices {
        let row = l.row.map(|r| r.to_string()).unwrap_or_default();
        rows.push(Row::from_cells(
            format!("dev-{}", l.serial),
            [row.as_str(), l.serial.as_str(), &names.changes(&l.changes)],
            Mark::Normal,
        ));
    }
    TableData {
        rows,
        breakdown: Vec::new(),
    }
}

/// The report: calls and devices, failures first, with GreenLake's reason.
pub fn report_columns() -> Vec<Column> {
    vec![
        Column::text("What", 10),
        Column::text("Status", 11),
        Column::text("Device / call", 22),
        Column::text("Detail", 200),
    ]
}

/// The report: failed calls and failed devices first, then the rest.
pub fn report_rows(r: &ApplyReport, catalog: Option<&Catalog>) -> TableData {
    let names = Names::of_catalog(catalog);
    let mut failed = Vec::new();
    let mut rest = Vec::new();
    for o in r.operations_failures_first() {
        let serials = if o.serials.len() > 3 {
            format!("{} +{}", o.serials[..3].join(" "), o.serials.len() - 3)
        } else {
            o.serials.join(" ")
        };
        let (mark, glyph) = match o.status {
            OpStatus::Failed => (Mark::Error, "✖ "),
            OpStatus::Skipped => (Mark::Warn, "⚠ "),
            OpStatus::Succeeded => (Mark::Normal, "✓ "),
            OpStatus::NotCheckable => (Mark::Dim, "? "),
        };
        let detail = match &o.error {
            Some(e) => format!("{}: {e}", o.phase.as_str()),
            None => format!(
                "{} ({} device{})",
                o.phase.as_str(),
                o.serials.len(),
                if o.serials.len() == 1 { "" } else { "s" }
            ),
        };
        let row = Row::from_cells(
            format!("op-{}", o.seq),
            [
                "call",
                &format!("{glyph}{}", o.status.as_str()),
                &format!("#{} {serials}", o.seq),
                &detail,
            ],
            mark,
        );
        if matches!(o.status, OpStatus::Succeeded | OpStatus::NotCheckable) {
            rest.push(row);
        } else {
            failed.push(row);
        }
    }
    for d in &r.devices {
        let (mark, glyph) = match d.status {
            DeviceStatus::Failed => (Mark::Error, "✖ "),
            DeviceStatus::Skipped => (Mark::Warn, "⚠ "),
            DeviceStatus::Succeeded => (Mark::Normal, "✓ "),
            DeviceStatus::Unchanged => (Mark::Dim, "· "),
            DeviceStatus::NotCheckable => (Mark::Dim, "? "),
        };
        let detail = match &d.error {
            Some(e) => e.clone(),
            None => names.changes(&d.changes),
        };
        let row = Row::from_cells(
            format!("dev-{}", d.serial),
            [
                "device",
                &format!("{glyph}{}", d.status.as_str()),
                &d.serial,
                &detail,
            ],
            mark,
        );
        if matches!(d.status, DeviceStatus::Failed | DeviceStatus::Skipped) {
            failed.push(row);
        } else {
            rest.push(row);
        }
    }
    failed.extend(rest);
    TableData {
        rows: failed,
        breakdown: Vec::new(),
    }
}
