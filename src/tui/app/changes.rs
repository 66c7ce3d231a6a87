//! `:changes`: what syncs changed, as a table entered by the command and left with Esc (back
//! to where it was typed, as a drill-down goes back), and the History section of a device's
//! or subscription's detail pane.
//!
//! The view is a tab the tab keys do not cycle through: it is a query over a time window the
//! command names, not a standing list, and as a tab it gets the filter, sort, columns, copy
//! and Enter of every table for nothing.

use super::{App, DetailStyle, Effect, Tab, TableId, ToastLevel};
use crate::store::changes::ChangeRecord;
use crate::tui::model::changes::{ChangeTarget, ChangeWindow, ChangesData, NONE};
use crate::tui::model::rows::{fmt_datetime, fmt_int};
use crate::tui::model::table::TableData;
use crate::tui::model::table_id::TableId as Id;

/// The tab a table belongs to (where Esc returns from the Changes view).
fn tab_of(t: Id) -> Tab {
    match t {
        Id::Devices => Tab::Devices,
        Id::Subscriptions => Tab::Subscriptions,
        Id::Expiring | Id::Expired => Tab::Expiring,
        Id::Assign | Id::Wizard(_) => Tab::Assign,
        Id::Workspaces => Tab::Workspaces,
        Id::Changes => Tab::Changes,
    }
}

impl App {
    /// `:changes [24h|7d|since DATE]`: read the window's changes and show them.
    pub(super) fn open_changes(&mut self, args: &[&str]) {
        let window = match ChangeWindow::parse(args) {
            Ok(w) => w,
            Err(e) => {
                self.toast(ToastLevel::Warn, e);
                return;
            }
        };
        if self.tab != Tab::Changes {
            self.changes.from = Some(self.active_table());
            self.tab = Tab::Changes;
        }
        if self.changes.window != Some(window) {
            // Another window's rows are not this one's: none until they arrive.
            self.changes.targets = Default::default();
            self.changes.capped = false;
            self.set_table(
                TableId::Changes,
                TableData {
                    rows: Vec::new(),
                    breakdown: Vec::new(),
                },
            );
            self.tables.get_mut(TableId::Changes).loaded = false;
        }
        self.changes.window = Some(window);
        self.changes.loading = true;
        self.effects.push(Effect::LoadChanges { window });
    }

    /// The window shown, once `:changes` opened the view (reloads read it again).
    pub fn changes_window(&self) -> Option<ChangeWindow> {
        self.changes.window
    }

    /// Esc in the Changes view (no filter left to clear): back where `:changes` was typed.
    pub(super) fn leave_changes(&mut self) -> bool {
        if self.tab != Tab::Changes {
            return false;
        }
        self.tab = self.changes.from.take().map_or(Tab::Devices, tab_of);
        true
    }

    /// A window's changes arrived; dropped when read for another window or workspace scope.
    pub(super) fn changes_loaded(
        &mut self,
        scope: &crate::store::views::ViewScope,
        d: ChangesData,
    ) {
        if self.changes.window != Some(d.window) || *scope != self.reload_scope() {
            return;
        }
        self.changes.loading = false;
        self.changes.targets = d.targets;
        self.changes.capped = d.capped;
        let t = self.tables.get_mut(TableId::Changes);
        t.empty_text = Some(format!(
            "no recorded changes {} — a sync records each field it changes in a device or \
             subscription",
            d.window.label()
        ));
        self.set_table(TableId::Changes, d.table);
    }

    /// The info line: "changes in the last 24h · 1,234", "· latest 5,000" when capped.
    pub fn changes_info(&self) -> String {
        let Some(w) = self.changes.window else {
            return String::new();
        };
        let n = self.tables.get(TableId::Changes).total();
        let count = if self.changes.loading && n == 0 {
            "reading…".to_string()
        } else if self.changes.capped {
            format!("latest {}", fmt_int(n as i64))
        } else {
            fmt_int(n as i64)
        };
        format!("changes {} · {count}", w.label())
    }

    /// The record the selected change is about.
    pub(super) fn change_target(&self) -> Option<&ChangeTarget> {
        let row = self.tables.get(TableId::Changes).selected_row()?;
        self.changes.targets.get(&row.id)
    }
}

/// The History section of a detail pane: each change newest first (as read).
pub(super) fn history_lines(
    history: Result<Vec<ChangeRecord>, String>,
    out: &mut Vec<(DetailStyle, String)>,
) {
    out.push((DetailStyle::Heading, String::new()));
    let h = match history {
        Err(e) => {
            out.push((DetailStyle::Heading, "History".into()));
            out.push((
                DetailStyle::Text,
                format!("  reading the history from the database failed: {e}"),
            ));
            return;
        }
        Ok(h) => h,
    };
    out.push((DetailStyle::Heading, format!("History ({})", h.len())));
    if h.is_empty() {
        out.push((DetailStyle::Text, "  no recorded changes".into()));
    }
    for c in &h {
        let run = c
            .sync_id
            .map(|r| format!("  (sync {r})"))
            .unwrap_or_default();
        out.push((
            DetailStyle::Text,
            format!(
                "  {}  {:<14} {} → {}{run}",
                fmt_datetime(Some(c.changed_at)),
                c.field,
                c.old_value.as_deref().unwrap_or(NONE),
                c.new_value.as_deref().unwrap_or(NONE),
            ),
        ));
    }
}
