//! The workspaces of a database holding several (MSP tenants, several workspaces): their rows
//! in the Workspaces tab, what the engine said about each one's sync since the console
//! started, the status bar's summary of them, and finding one by what was typed after `:ws`.
//! A leaf like the rest of `model`: records and events in, display rows and figures out.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::rows::{fmt_datetime, fmt_int};
use super::table::{Column, Mark, Row, TableData, breakdown};
use crate::domain::WorkspaceId;
use crate::glp::breaker::BreakerState;
use crate::glp::patience::WaitReason;
use crate::store::inventory::Resource;
use crate::store::workspaces::WorkspaceOverview;

/// What the engine said about one workspace's sync since the console started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkspaceLive {
    pub running: bool,
    /// The resource being fetched and how far it is.
    pub resource: Option<Resource>,
    pub page: u64,
    pub pages_total: Option<u64>,
    pub items: u64,
    pub items_total: Option<u64>,
    pub breaker: BreakerState,
    /// The run waits for GreenLake to come back.
    pub waiting: Option<WaitReason>,
    /// How the last run that ended went (`succeeded`, `failed`…), and when it ended.
    pub outcome: Option<(String, DateTime<Utc>)>,
    /// Why the last run failed, until one succeeds.
    pub error: Option<String>,
    /// When a sync of this workspace last succeeded.
    pub last_good: Option<DateTime<Utc>>,
}

/// Where a workspace's sync stands: the live word when there is one, else the database's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    Running,
    Synced,
    /// The last run failed (or only partly succeeded).
    Failing,
    /// No run ended yet (or the last was cancelled before any succeeded).
    Never,
}

/// A workspace's sync state from its stored figures and the live events.
pub fn sync_state(o: &WorkspaceOverview, live: Option<&WorkspaceLive>) -> SyncState {
    if live.is_some_and(|l| l.running) {
        return SyncState::Running;
    }
    let outcome = live
        .and_then(|l| l.outcome.as_ref().map(|(o, _)| o.as_str()))
        .or(o.last_run_outcome.as_deref());
    match outcome {
        Some("succeeded") => SyncState::Synced,
        Some("failed" | "partial") => SyncState::Failing,
        _ if last_good(o, live).is_some() => SyncState::Synced,
        _ => SyncState::Never,
    }
}

/// When a sync of the workspace last succeeded, stored or live.
pub fn last_good(o: &WorkspaceOverview, live: Option<&WorkspaceLive>) -> Option<DateTime<Utc>> {
    o.last_good_sync.max(live.and_then(|l| l.last_good))
}

/// The status bar's figures: how many workspaces (not removed) there are, synced, failing
/// (by name, for the first few) and syncing now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub synced: usize,
    pub failing: Vec<String>,
    pub running: usize,
}

impl Summary {
    /// `212/214 workspaces synced · 2 failing (acme, beta)`, `· 3 syncing` while some run.
    pub fn text(&self) -> String {
        let mut s = format!(
            "{}/{} workspaces synced",
            fmt_int(self.synced as i64),
            fmt_int(self.total as i64)
        );
        if self.running > 0 {
            s.push_str(&format!(" · {} syncing", fmt_int(self.running as i64)));
        }
        if !self.failing.is_empty() {
            let names: Vec<&str> = self.failing.iter().take(3).map(String::as_str).collect();
            let more = if self.failing.len() > 3 { ", …" } else { "" };
            s.push_str(&format!(
                " · {} failing ({}{more})",
                fmt_int(self.failing.len() as i64),
                names.join(", ")
            ));
        }
        s
    }
}

/// The summary of the workspaces (removed tenants left out: nothing syncs them).
pub fn summary(list: &[WorkspaceOverview], live: &BTreeMap<WorkspaceId, WorkspaceLive>) -> Summary {
    let mut s = Summary::default();
    for o in list.iter().filter(|o| o.ws.removed_at.is_none()) {
        s.total += 1;
        match sync_state(o, live.get(&o.ws.id)) {
            SyncState::Running => s.running += 1,
            SyncState::Synced => s.synced += 1,
            SyncState::Failing => s.failing.push(o.ws.name.clone()),
            SyncState::Never => {}
        }
    }
    s
}

pub fn workspace_columns() -> Vec<Column> {
    vec![
        Column::text("Workspace", 28),
        Column::text("Kind", 16),
        Column::num("Devices", 9),
        Column::num("Subs", 7),
        Column::num("Expiring", 8),
        Column::text("Last good sync", 16),
        Column::text("Sync", 40),
        Column::text("Breaker", 9),
        Column::text("Id", 32).hidden(),
    ]
}
/// Workspaces: `y` copies the name; the breakdown counts kinds.
pub const WORKSPACE_BREAKDOWN: usize = 1;

/// The Sync cell: live progress, the wait, the failure, or how the last run went.
fn sync_cell(o: &WorkspaceOverview, live: Option<&WorkspaceLive>) -> String {
    let state = sync_state(o, live);
    if let Some(l) = live.filter(|l| l.running) {
        if let Some(w) = l.waiting {
            return format!("⏸ waiting for GreenLake ({})", w.label());
        }
        let Some(r) = l.resource else {
            return "⟳ starting…".into();
        };
        let pages = match l.pages_total {
            Some(t) => format!("p{}/{t}", l.page),
            None => format!("p{}", l.page),
        };
        let items = match l.items_total {
            Some(t) => format!("{}/{}", fmt_int(l.items as i64), fmt_int(t as i64)),
            None => fmt_int(l.items as i64),
        };
        return format!("⟳ {} {pages} {items}", r.as_str());
    }
    let error = live
        .and_then(|l| l.error.clone())
        .or_else(|| o.last_run_error.clone());
    match state {
        SyncState::Failing => {
            let outcome = live
                .and_then(|l| l.outcome.as_ref().map(|(o, _)| o.clone()))
                .or_else(|| o.last_run_outcome.clone())
                .unwrap_or_default();
            match error {
                Some(e) => format!("✖ {outcome}: {}", e.replace(['\n', '\r'], " ")),
                None => format!("✖ {outcome}"),
            }
        }
        SyncState::Synced => "✓ synced".into(),
        SyncState::Never => "· never synced".into(),
        SyncState::Running => "⟳".into(),
    }
}

/// The kind as the tab shows it: a tenant's ownership of its inventory, a removed tenant.
fn kind_cell(o: &WorkspaceOverview) -> String {
    let kind = o.ws.kind.as_str();
    if o.ws.removed_at.is_some() {
        return format!("{kind} (removed)");
    }
    match o.ws.inventory_ownership.as_deref() {
        Some("MSP_OWNED_INVENTORY") => format!("{kind} msp-owned"),
        Some("CUSTOMER_OWNED_INVENTORY") => format!("{kind} own inv."),
        _ => kind.to_string(),
    }
}

/// The Workspaces tab's rows, in the store's order (by name); each row's id is the
/// workspace id.
pub fn workspace_rows(
    list: &[WorkspaceOverview],
    live: &BTreeMap<WorkspaceId, WorkspaceLive>,
) -> TableData {
    let rows: Vec<Row> = list
        .iter()
        .map(|o| {
            let l = live.get(&o.ws.id);
            let state = sync_state(o, l);
            let breaker = l.map(|l| l.breaker).unwrap_or_default();
            let mark = if o.ws.removed_at.is_some() {
                Mark::Dim
            } else if state == SyncState::Failing {
                Mark::Error
            } else if breaker != BreakerState::Closed || l.is_some_and(|l| l.waiting.is_some()) {
                Mark::Warn
            } else {
                Mark::Normal
            };
            Row::new(
                o.ws.id.as_str(),
                vec![
                    o.ws.name.clone(),
                    kind_cell(o),
                    fmt_int(o.devices),
                    fmt_int(o.subscriptions),
                    fmt_int(o.expiring),
                    fmt_datetime(last_good(o, l)),
                    sync_cell(o, l),
                    breaker.label().to_string(),
                    o.ws.id.to_string(),
                ],
                mark,
            )
        })
        .collect();
    let counts = breakdown(rows.iter().map(|r| r.cell(WORKSPACE_BREAKDOWN)));
    TableData {
        rows,
        breakdown: counts,
    }
}

/// A workspace name as `:ws` takes it and Tab completes it: lower case, spaces as `_` (the
/// command line splits words at spaces, as `:sort sub_end` spells a column).
pub fn slug(name: &str) -> String {
    name.trim().to_lowercase().replace(' ', "_")
}

/// The workspace `typed` names: its name (as [`slug`] spells it) or its id in either
/// spelling, else a prefix only one name has. Else the names it fits (none, or several).
pub fn find<'a>(
    list: &'a [WorkspaceOverview],
    typed: &str,
) -> Result<&'a WorkspaceOverview, Vec<&'a str>> {
    let t = slug(typed);
    if let Some(o) = list.iter().find(|o| slug(&o.ws.name) == t) {
        return Ok(o);
    }
    if let Some(id) = WorkspaceId::parse(typed)
        && let Some(o) = list.iter().find(|o| o.ws.id == id)
    {
        return Ok(o);
    }
    let fits: Vec<&WorkspaceOverview> = list
        .iter()
        .filter(|o| slug(&o.ws.name).starts_with(&t))
        .collect();
    match fits[..] {
        [one] => Ok(one),
        _ => Err(fits.iter().map(|o| o.ws.name.as_str()).collect()),
    }
}

/// Workspace id → name, for the Workspace column of the other tables.
pub fn names(list: &[WorkspaceOverview]) -> HashMap<String, String> {
    list.iter()
        .map(|o| (o.ws.id.to_string(), o.ws.name.clone()))
        .collect()
}
