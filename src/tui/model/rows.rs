//! Records → display rows. Runs in the loader task once per load, never while drawing; every
//! relative value is computed from the `now` passed in, so snapshots are stable.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};

use super::table::{Column, Mark, Row, TableData, breakdown, breakdown_of_counts};
use crate::store::views::{AssignmentRunRecord, CoveredDevice, DeviceRecord, SubscriptionRecord};

pub fn device_columns() -> Vec<Column> {
    vec![
        Column::text("Serial", 20),
        Column::text("State", 8),
        Column::text("MAC", 17),
        Column::text("Type", 12),
        Column::text("Model", 18),
        Column::text("Region/App", 20),
        Column::text("Assigned", 10),
        Column::text("Subscription", 18),
        Column::text("Sub end", 10),
        Column::text("Tags", 24),
        Column::num("Last seen", 9),
        Column::text("Name", 24).hidden(),
    ]
}
/// Devices: `y` copies the serial; the breakdown counts types.
pub const DEVICE_COPY: usize = 0;
pub const DEVICE_BREAKDOWN: usize = 3;

pub fn subscription_columns() -> Vec<Column> {
    vec![
        Column::text("Key", 18),
        Column::text("Type", 20),
        Column::text("Tier", 22),
        Column::text("Status", 10),
        Column::num("Used/Qty", 12),
        Column::num("Avail", 7),
        Column::text("Start", 10),
        Column::text("End", 10),
        Column::num("Days left", 9),
        Column::num("Devices", 8),
        Column::text("SKU", 12).hidden(),
    ]
}
pub const SUBSCRIPTION_COPY: usize = 0;
pub const SUBSCRIPTION_BREAKDOWN: usize = 3;

pub fn expiring_columns() -> Vec<Column> {
    vec![
        Column::text("Key", 18),
        Column::num("Days left", 9),
        Column::text("End", 10),
        Column::text("Type", 20),
        Column::text("Tier", 22),
        Column::num("Devices", 8),
        Column::text("Status", 10),
    ]
}

pub fn assign_columns() -> Vec<Column> {
    vec![
        Column::num("Run", 6),
        Column::text("Started", 16),
        Column::text("Kind", 8),
        Column::text("Status", 10),
        Column::text("File", 28),
        Column::num("Devices", 8),
        Column::num("OK", 7),
        Column::num("Failed", 7),
        Column::num("Ops", 6),
        Column::text("Operator", 12),
        Column::text("Finished", 16),
    ]
}

/// Where the Workspace column goes when the database holds several workspaces: second, so
/// it stays in sight when the columns scroll (the first stays put) and the columns the
/// constants above name move one right ([`ws_shift`]).
pub const WORKSPACE_COL: usize = 1;

/// A table's columns with the Workspace column, when `multi`.
pub fn with_workspace(mut cols: Vec<Column>, multi: bool) -> Vec<Column> {
    if multi {
        cols.insert(WORKSPACE_COL, Column::text("Workspace", 20));
    }
    cols
}

/// A column index of the one-workspace layout in the layout `multi` says.
pub const fn ws_shift(col: usize, multi: bool) -> usize {
    if multi && col >= WORKSPACE_COL {
        col + 1
    } else {
        col
    }
}

/// `cells` with the workspace's name at [`WORKSPACE_COL`] (unchanged for `None`).
fn with_ws_cell<'a>(cells: &[&'a str], ws: Option<&'a str>) -> Vec<&'a str> {
    let mut v = cells.to_vec();
    if let Some(w) = ws {
        v.insert(WORKSPACE_COL.min(v.len()), w);
    }
    v
}

/// The Assign tab's status column, counted on its info line.
pub const ASSIGN_BREAKDOWN: usize = 3;

/// `1,234,567`.
pub fn fmt_int(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn fmt_date(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn fmt_datetime(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// `42s`, `5m`, `3h`, `12d` — an age or a countdown, compact.
pub fn fmt_age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Days left until `end`: calendar days in UTC, as everywhere (see [`crate::domain::days_left`]).
pub fn days_left(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    crate::domain::days_left(end, now)
}

fn short_state(s: Option<&str>) -> &str {
    match s {
        Some("ASSIGNED_TO_SERVICE") => "service",
        Some("UNASSIGNED") => "unassigned",
        Some("ASSIGNED_TO_ACTIVATE_CONFIG") => "activate",
        Some("ASSIGNED_TO_DEDICATED_PLATFORM") => "dedicated",
        Some(o) => o,
        None => "",
    }
}

fn o(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

/// One device's display row.
pub fn device_row(d: &DeviceRecord, now: DateTime<Utc>) -> Row {
    device_row_in(d, now, None)
}

/// One device's display row, with its workspace's name when the database holds several.
pub fn device_row_in(d: &DeviceRecord, now: DateTime<Utc>, ws: Option<&str>) -> Row {
    let (state, mark) = if d.removed_at.is_some() {
        ("REMOVED", Mark::Dim)
    } else if d.archived {
        ("archived", Mark::Dim)
    } else {
        ("", Mark::Normal)
    };
    // The application by its name; an id the catalog never named is shortened and marked.
    let app = d.application_id.as_ref().map(|a| {
        d.application_name
            .clone()
            .unwrap_or_else(|| crate::assign::names::unknown_id(a))
    });
    let region_app = match (&d.region, app) {
        (Some(r), Some(a)) => format!("{r} / {a}"),
        (Some(r), None) => r.clone(),
        (None, Some(a)) => a,
        (None, None) => String::new(),
    };
    let sub = match (&d.subscription_key, d.subscription_count) {
        (Some(k), n) if n > 1 => format!("{k} +{}", n - 1),
        (Some(k), _) => k.clone(),
        (None, n) if n > 0 => format!("({n} linked)"),
        _ => String::new(),
    };
    let seen = d
        .last_seen_at
        .map(|t| format!("{} ago", fmt_age((now - t).num_seconds())))
        .unwrap_or_default();
    let sub_end = fmt_date(d.subscription_end);
    let cells: [&str; 12] = [
        &d.serial_number,
        state,
        o(&d.mac_address),
        o(&d.device_type),
        o(&d.model),
        &region_app,
        short_state(d.assigned_state.as_deref()),
        &sub,
        &sub_end,
        o(&d.tags),
        &seen,
        o(&d.device_name),
    ];
    match ws {
        None => Row::from_cells(d.id.as_str(), cells, mark),
        Some(_) => Row::from_cells(d.id.as_str(), with_ws_cell(&cells, ws), mark),
    }
}

pub fn device_rows(recs: &[DeviceRecord], now: DateTime<Utc>) -> TableData {
    let rows: Vec<Row> = recs.iter().map(|d| device_row(d, now)).collect();
    device_table(rows)
}

/// The Devices table from its rows (computes the breakdown).
pub fn device_table(rows: Vec<Row>) -> TableData {
    device_table_in(rows, false)
}

/// [`device_table`] of rows with the Workspace column when `multi`.
pub fn device_table_in(rows: Vec<Row>, multi: bool) -> TableData {
    let col = ws_shift(DEVICE_BREAKDOWN, multi);
    let counts = breakdown(rows.iter().map(|r| r.cell(col)));
    TableData {
        rows,
        breakdown: counts,
    }
}

/// The Devices breakdown from per-type counts made by the database (`None`: no type).
pub fn device_breakdown(counts: &[(Option<String>, i64)]) -> Vec<(String, usize)> {
    breakdown_of_counts(
        counts
            .iter()
            .map(|(k, n)| (k.as_deref().unwrap_or(""), usize::try_from(*n).unwrap_or(0))),
    )
}

fn qty(s: &SubscriptionRecord) -> String {
    match (s.quantity, s.available_quantity) {
        (Some(q), Some(a)) => format!("{}/{}", fmt_int(q - a), fmt_int(q)),
        (Some(q), None) => format!("?/{}", fmt_int(q)),
        _ => String::new(),
    }
}

fn days_cell(end: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    end.map(|e| format!("{}d", days_left(e, now)))
        .unwrap_or_default()
}

pub fn subscription_rows(recs: &[SubscriptionRecord], now: DateTime<Utc>) -> TableData {
    subscription_rows_in(recs, None, now)
}

/// [`subscription_rows`] with each subscription's workspace name (`ws[i]` for `recs[i]`).
pub fn subscription_rows_in(
    recs: &[SubscriptionRecord],
    ws: Option<&[Box<str>]>,
    now: DateTime<Utc>,
) -> TableData {
    let name = |i: usize| ws.map(|w| w.get(i).map_or("", |n| &**n));
    let rows: Vec<Row> = recs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let expired = s.end_time.is_some_and(|e| e < now);
            let mark = if s.removed_at.is_some() || expired {
                Mark::Dim
            } else if s.end_time.is_some_and(|e| days_left(e, now) < 30) {
                Mark::Warn
            } else {
                Mark::Normal
            };
            let status = if s.removed_at.is_some() {
                "REMOVED".to_string()
            } else {
                opt(&s.status)
            };
            let cells = [
                opt(&s.key),
                opt(&s.subscription_type),
                opt(&s.tier),
                status,
                qty(s),
                s.available_quantity.map(fmt_int).unwrap_or_default(),
                fmt_date(s.start_time),
                fmt_date(s.end_time),
                days_cell(s.end_time, now),
                fmt_int(s.devices),
                opt(&s.sku),
            ];
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            Row::from_cells(s.id.as_str(), with_ws_cell(&cells, name(i)), mark)
        })
        .collect();
    let col = ws_shift(SUBSCRIPTION_BREAKDOWN, ws.is_some());
    let counts = breakdown(rows.iter().map(|r| r.cell(col)));
    TableData {
        rows,
        breakdown: counts,
    }
}

fn expiring_row(
    s: &SubscriptionRecord,
    now: DateTime<Utc>,
    expired: bool,
    ws: Option<&str>,
) -> Row {
    let mark = if expired { Mark::Dim } else { Mark::Warn };
    let cells = [
        opt(&s.key),
        days_cell(s.end_time, now),
        fmt_date(s.end_time),
        opt(&s.subscription_type),
        opt(&s.tier),
        fmt_int(s.devices),
        if expired {
            "EXPIRED".into()
        } else {
            opt(&s.status)
        },
    ];
    let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
    Row::from_cells(s.id.as_str(), with_ws_cell(&cells, ws), mark)
}

/// The Expiring tab's type column, counted on its info line.
pub const EXPIRING_BREAKDOWN: usize = 3;

/// How the Expiring tab's lists show workspaces: not at all (one workspace), in a column,
/// or in a column with the rows grouped by workspace (all workspaces at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsLayout {
    None,
    Column,
    Grouped,
}

impl WsLayout {
    /// The column the info line counts: the workspace when grouped, else the type.
    pub const fn breakdown(self) -> usize {
        match self {
            WsLayout::None => EXPIRING_BREAKDOWN,
            WsLayout::Column => EXPIRING_BREAKDOWN + 1,
            WsLayout::Grouped => WORKSPACE_COL,
        }
    }
}

/// Pick, order and build the rows of one Expiring list: grouped by workspace name first
/// when the layout says so (`names[i]` is `recs[i]`'s).
fn expiring_list(
    recs: &[SubscriptionRecord],
    names: Option<&[Box<str>]>,
    layout: WsLayout,
    keep: impl Fn(&SubscriptionRecord) -> bool,
    order: impl Fn(&SubscriptionRecord, &SubscriptionRecord) -> std::cmp::Ordering,
    row: impl Fn(&SubscriptionRecord, Option<&str>) -> Row,
) -> TableData {
    let name = |i: usize| match layout {
        WsLayout::None => None,
        _ => Some(names.and_then(|n| n.get(i)).map_or("", |n| &**n)),
    };
    let mut sel: Vec<usize> = (0..recs.len()).filter(|i| keep(&recs[*i])).collect();
    sel.sort_by(|a, b| {
        let by_ws = if layout == WsLayout::Grouped {
            name(*a).cmp(&name(*b))
        } else {
            std::cmp::Ordering::Equal
        };
        by_ws.then_with(|| order(&recs[*a], &recs[*b]))
    });
    let rows: Vec<Row> = sel.iter().map(|i| row(&recs[*i], name(*i))).collect();
    let counts = breakdown(rows.iter().map(|r| r.cell(layout.breakdown())));
    TableData {
        rows,
        breakdown: counts,
    }
}

/// STARTED subscriptions ending within `days`, soonest first.
pub fn expiring_rows(recs: &[SubscriptionRecord], now: DateTime<Utc>, days: u32) -> TableData {
    expiring_rows_in(recs, None, WsLayout::None, now, days)
}

/// [`expiring_rows`] with the workspaces as `layout` says (`names[i]` is `recs[i]`'s).
pub fn expiring_rows_in(
    recs: &[SubscriptionRecord],
    names: Option<&[Box<str>]>,
    layout: WsLayout,
    now: DateTime<Utc>,
    days: u32,
) -> TableData {
    let until = now + chrono::Duration::days(i64::from(days));
    expiring_list(
        recs,
        names,
        layout,
        |s| {
            s.removed_at.is_none()
                && s.status.as_deref() == Some("STARTED")
                && s.end_time.is_some_and(|e| e >= now && e < until)
        },
        |a, b| a.end_time.cmp(&b.end_time).then_with(|| a.key.cmp(&b.key)),
        |s, ws| expiring_row(s, now, false, ws),
    )
}

/// Subscriptions already past their end, most recently expired first.
pub fn expired_rows(recs: &[SubscriptionRecord], now: DateTime<Utc>) -> TableData {
    expired_rows_in(recs, None, WsLayout::None, now)
}

/// [`expired_rows`] with the workspaces as `layout` says.
pub fn expired_rows_in(
    recs: &[SubscriptionRecord],
    names: Option<&[Box<str>]>,
    layout: WsLayout,
    now: DateTime<Utc>,
) -> TableData {
    expiring_list(
        recs,
        names,
        layout,
        |s| s.removed_at.is_none() && s.end_time.is_some_and(|e| e < now),
        |a, b| b.end_time.cmp(&a.end_time).then_with(|| a.key.cmp(&b.key)),
        |s, ws| expiring_row(s, now, true, ws),
    )
}

/// One bar of the Expiring chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthBucket {
    pub label: String,
    pub subscriptions: u64,
    pub devices: u64,
}

/// "Already expired" first, then the 12 calendar months starting with the current one.
pub fn month_buckets(recs: &[SubscriptionRecord], now: DateTime<Utc>) -> Vec<MonthBucket> {
    let mut out = vec![MonthBucket {
        label: "past".into(),
        subscriptions: 0,
        devices: 0,
    }];
    let (y0, m0) = (now.year(), now.month0() as i32);
    for i in 0..12 {
        let m = (m0 + i) % 12;
        let y = y0 + (m0 + i) / 12;
        let name = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ][m as usize];
        let label = if i == 0 || m == 0 {
            format!("{name}{:02}", y % 100)
        } else {
            name.to_string()
        };
        out.push(MonthBucket {
            label,
            subscriptions: 0,
            devices: 0,
        });
    }
    for s in recs.iter().filter(|s| s.removed_at.is_none()) {
        let Some(end) = s.end_time else { continue };
        let idx = if end < now {
            Some(0)
        } else if s.status.as_deref() == Some("STARTED") {
            let months = (end.year() - y0) * 12 + end.month0() as i32 - m0;
            (0..12).contains(&months).then(|| months as usize + 1)
        } else {
            None
        };
        if let Some(i) = idx {
            out[i].subscriptions += 1;
            out[i].devices += s.devices.max(0) as u64;
        }
    }
    out
}

/// Devices covered per subscription (the Expiring tab's side pane), stored compactly: each
/// device is its pane line in one shared string, and a subscription maps to the indices of
/// its lines. 100 000 covered devices cost ~5 MB this way instead of ~30 MB as records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Covered {
    text: String,
    /// End offset of each line in `text`.
    ends: Vec<u32>,
    by_sub: HashMap<Box<str>, Vec<u32>>,
}

impl Covered {
    /// Add one device (any order; a subscription lists its devices in the order added).
    pub fn push(&mut self, d: &CoveredDevice) {
        use std::fmt::Write;
        let n = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        // Writing to a String cannot fail.
        let _ = write!(
            self.text,
            "{:<14} {} {}",
            d.serial_number,
            d.device_type.as_deref().unwrap_or(""),
            d.model.as_deref().unwrap_or("")
        );
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        match self.by_sub.get_mut(d.subscription_id.as_str()) {
            Some(v) => v.push(n),
            None => {
                self.by_sub
                    .insert(d.subscription_id.as_str().into(), vec![n]);
            }
        }
    }

    /// Release the spare capacity left by growing (call once after the last push).
    pub fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        for v in self.by_sub.values_mut() {
            v.shrink_to_fit();
        }
        self.by_sub.shrink_to_fit();
    }

    /// How many devices the subscription covers.
    pub fn count(&self, sub_id: &str) -> usize {
        self.by_sub.get(sub_id).map_or(0, Vec::len)
    }

    /// The pane lines (`serial type model`) of the subscription's devices.
    pub fn lines<'a>(&'a self, sub_id: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.by_sub
            .get(sub_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|i| self.line(*i as usize))
    }

    /// The serial numbers of the subscription's devices (each pane line starts with one).
    pub fn serials<'a>(&'a self, sub_id: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.lines(sub_id)
            .filter_map(|l| l.split_whitespace().next())
    }

    /// The ids of the subscriptions covering the device with this serial number (a scan:
    /// asked once per drill-down, not per frame).
    pub fn subscriptions_of<'a>(&'a self, serial: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.by_sub.iter().filter_map(move |(sub, lines)| {
            lines
                .iter()
                .any(|i| self.line(*i as usize).split_whitespace().next() == Some(serial))
                .then_some(&**sub)
        })
    }

    fn line(&self, i: usize) -> &str {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |e| *e as usize),
            None => 0,
        };
        let end = self.ends.get(i).map_or(start, |e| *e as usize);
        self.text.get(start..end).unwrap_or("")
    }
}

/// Covered devices grouped by subscription id.
pub fn group_covered(devs: Vec<CoveredDevice>) -> Covered {
    let mut c = Covered::default();
    for d in &devs {
        c.push(d);
    }
    c.shrink();
    c
}

pub fn assign_rows(recs: &[AssignmentRunRecord]) -> TableData {
    assign_rows_in(recs, None)
}

/// [`assign_rows`] with each run's workspace name (`ws[i]` for `recs[i]`).
pub fn assign_rows_in(recs: &[AssignmentRunRecord], ws: Option<&[Box<str>]>) -> TableData {
    let name = |i: usize| ws.map(|w| w.get(i).map_or("", |n| &**n));
    let rows: Vec<Row> = recs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mark = match r.status.as_str() {
                "failed" => Mark::Error,
                "partial" => Mark::Warn,
                _ => Mark::Normal,
            };
            let cells = [
                r.id.to_string(),
                fmt_datetime(Some(r.created_at)),
                r.kind.clone(),
                r.status.clone(),
                opt(&r.source_file),
                fmt_int(r.devices),
                fmt_int(r.succeeded),
                fmt_int(r.failed),
                fmt_int(r.operations),
                opt(&r.operator),
                fmt_datetime(r.finished_at),
            ];
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            Row::from_cells(r.id.to_string(), with_ws_cell(&cells, name(i)), mark)
        })
        .collect();
    let col = ws_shift(ASSIGN_BREAKDOWN, ws.is_some());
    let counts = breakdown(rows.iter().map(|r| r.cell(col)));
    TableData {
        rows,
        breakdown: counts,
    }
}
