//! The Changes view's data: the window `:changes` asks for (`24h`, `7d`, `since DATE`), its
//! rows (one per changed field) and, for Enter, which record each row is about. Built in the
//! loader task, never while drawing.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::rows::{WORKSPACE_COL, fmt_datetime, ws_shift};
use super::table::{Column, Mark, Row, TableData, breakdown};
use crate::domain::Resource;
use crate::store::change_views::ChangeView;

/// How far back the Changes view reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeWindow {
    Hours(u32),
    Days(u32),
    /// From midnight (UTC) of that day.
    Since(NaiveDate),
}

impl Default for ChangeWindow {
    fn default() -> Self {
        ChangeWindow::Hours(24)
    }
}

/// What `:changes` accepts, for its refusal and its help.
pub const WINDOW_FORMS: &str = "24h, 48h, 7d, 30d or since YYYY-MM-DD";

impl ChangeWindow {
    /// `:changes`'s arguments: none (24 hours), `NNh` (1–8760), `NNd` (1–3650) or
    /// `since YYYY-MM-DD`.
    pub fn parse(args: &[&str]) -> Result<ChangeWindow, String> {
        let bad = |what: String| format!("{what}: use {WINDOW_FORMS}");
        match args {
            [] => Ok(ChangeWindow::default()),
            ["since", day] => NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map(ChangeWindow::Since)
                .map_err(|_| bad(format!(":changes since {day}: not a date"))),
            [w] => {
                let w = w.to_ascii_lowercase();
                let number =
                    |s: &str, max: u32| s.parse::<u32>().ok().filter(|n| (1..=max).contains(n));
                if let Some(h) = w.strip_suffix('h').and_then(|s| number(s, 8760)) {
                    Ok(ChangeWindow::Hours(h))
                } else if let Some(d) = w.strip_suffix('d').and_then(|s| number(s, 3650)) {
                    Ok(ChangeWindow::Days(d))
                } else {
                    Err(bad(format!(":changes {w}: not a window")))
                }
            }
            _ => Err(bad(format!(":changes {}: not a window", args.join(" ")))),
        }
    }

    /// The earliest change the window holds, seen from `now`.
    pub fn since(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            ChangeWindow::Hours(h) => now - Duration::hours(i64::from(h)),
            ChangeWindow::Days(d) => now - Duration::days(i64::from(d)),
            ChangeWindow::Since(day) => day.and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc()),
        }
    }

    /// "in the last 24h", "since 2026-12-01": what the info line says.
    pub fn label(self) -> String {
        match self {
            ChangeWindow::Hours(h) => format!("in the last {h}h"),
            ChangeWindow::Days(d) => format!("in the last {d}d"),
            ChangeWindow::Since(day) => format!("since {day}"),
        }
    }
}

/// The record a change row is about: what Enter opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeTarget {
    pub resource: Resource,
    pub item_id: String,
    /// Its serial or key, for the detail pane's title.
    pub label: String,
}

/// The Changes table's rows, each row's record by row id, and whether the query was capped.
#[derive(Debug, Clone)]
pub struct ChangesData {
    pub window: ChangeWindow,
    pub table: TableData,
    pub targets: Arc<HashMap<Box<str>, ChangeTarget>>,
    /// The query returned its limit: there may be more, the info line says "latest N".
    pub capped: bool,
}

/// The columns (the Workspace column goes second when `multi`, as in every table).
pub fn change_columns(multi: bool) -> Vec<Column> {
    super::rows::with_workspace(
        vec![
            Column::text("Time", 16),
            Column::text("Resource", 12),
            Column::text("Serial/Key", 20),
            Column::text("Field", 14),
            Column::text("Old", 28),
            Column::text("New", 28),
            Column::num("Run", 6),
            Column::text("Who", 16),
        ],
        multi,
    )
}

/// `y` copies the serial or key.
pub const CHANGE_COPY: usize = 2;
/// The info line counts changes by field.
pub const CHANGE_BREAKDOWN: usize = 3;

/// The copy and breakdown columns in the layout `multi` says.
pub fn change_cols(multi: bool) -> (usize, usize) {
    (
        ws_shift(CHANGE_COPY, multi),
        ws_shift(CHANGE_BREAKDOWN, multi),
    )
}

/// What an empty value shows as (a field that was unset, or is unset now).
pub const NONE: &str = "—";

fn resource_of(s: &str) -> Resource {
    if s == Resource::Subscriptions.as_str() {
        Resource::Subscriptions
    } else {
        Resource::Devices
    }
}

/// Display rows for `changes`; `names` maps workspace ids to names when the table has a
/// Workspace column.
pub fn change_rows(
    changes: &[ChangeView],
    names: Option<&HashMap<String, String>>,
    window: ChangeWindow,
    limit: usize,
) -> ChangesData {
    let mut targets = HashMap::with_capacity(changes.len());
    let rows: Vec<Row> = changes
        .iter()
        .map(|c| {
            // Unique: one run records a field of a record once, at its transaction's time.
            let id = format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
                c.workspace_id,
                c.resource,
                c.item_id,
                c.field,
                c.changed_at.timestamp_micros()
            );
            let resource = resource_of(&c.resource);
            let mark = if c.field == crate::store::changes::PRESENCE
                && c.new_value.as_deref() == Some("removed")
            {
                Mark::Dim
            } else {
                Mark::Normal
            };
            let mut cells = vec![
                fmt_datetime(Some(c.changed_at)),
                if resource == Resource::Devices {
                    "device".to_string()
                } else {
                    "subscription".to_string()
                },
                c.label.clone(),
                c.field.clone(),
                c.old_value.clone().unwrap_or_else(|| NONE.into()),
                c.new_value.clone().unwrap_or_else(|| NONE.into()),
                c.sync_id.map(|s| s.to_string()).unwrap_or_default(),
                c.who.clone().unwrap_or_default(),
            ];
            if let Some(names) = names {
                let name = names.get(&c.workspace_id).unwrap_or(&c.workspace_id);
                cells.insert(WORKSPACE_COL, name.clone());
            }
            targets.insert(
                id.clone().into_boxed_str(),
                ChangeTarget {
                    resource,
                    item_id: c.item_id.clone(),
                    label: c.label.clone(),
                },
            );
            Row::new(id, cells, mark)
        })
        .collect();
    let (_, by) = change_cols(names.is_some());
    let counts = breakdown(rows.iter().map(|r| r.cell(by)));
    ChangesData {
        window,
        capped: changes.len() >= limit,
        table: TableData {
            rows,
            breakdown: counts,
        },
        targets: Arc::new(targets),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_and_bad_ones_name_the_accepted_forms() {
        assert_eq!(ChangeWindow::parse(&[]), Ok(ChangeWindow::Hours(24)));
        assert_eq!(ChangeWindow::parse(&["48h"]), Ok(ChangeWindow::Hours(48)));
        assert_eq!(ChangeWindow::parse(&["7d"]), Ok(ChangeWindow::Days(7)));
        assert_eq!(ChangeWindow::parse(&["30D"]), Ok(ChangeWindow::Days(30)));
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            ChangeWindow::parse(&["since", "2026-12-01"]),
            Ok(ChangeWindow::Since(day))
        );
        for bad in [
            &["week"][..],
            &["0h"],
            &["7"],
            &["since"],
            &["since", "yesterday"],
            &["7d", "extra"],
        ] {
            let e = ChangeWindow::parse(bad).unwrap_err();
            assert!(e.contains(WINDOW_FORMS), "{e}");
        }
        let now = "2026-12-07T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            ChangeWindow::Since(day).since(now).to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(ChangeWindow::Days(7).label(), "in the last 7d");
    }

    /// Several workspaces: the Workspace column second, named; copy and breakdown follow it.
    #[test]
    fn several_workspaces_get_a_named_workspace_column() {
        let at = "2026-12-07T11:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let change = |ws: &str, field: &str| ChangeView {
            workspace_id: ws.into(),
            resource: "devices".into(),
            item_id: format!("id-{ws}"),
            label: format!("SER-{ws}"),
            sync_id: Some(7),
            changed_at: at,
            field: field.into(),
            old_value: None,
            new_value: Some("eu-central".into()),
            who: None,
        };
        let names = HashMap::from([("w1".to_string(), "acme".to_string())]);
        let list = [change("w1", "region"), change("w2", "tags")];
        let d = change_rows(&list, Some(&names), ChangeWindow::default(), 10);
        let cols = change_columns(true);
        assert_eq!(cols[WORKSPACE_COL].name, "Workspace");
        let (copy, by) = change_cols(true);
        assert_eq!(cols[copy].name, "Serial/Key");
        assert_eq!(cols[by].name, "Field");
        let r = &d.table.rows;
        assert_eq!(
            (r[0].cell(WORKSPACE_COL), r[1].cell(WORKSPACE_COL)),
            ("acme", "w2")
        );
        assert_eq!((r[0].cell(copy), r[0].cell(by)), ("SER-w1", "region"));
        assert_eq!(d.targets[&r[1].id].item_id, "id-w2");
        assert!(!d.capped);
        assert!(change_rows(&list, None, ChangeWindow::default(), 2).capped);
    }
}
