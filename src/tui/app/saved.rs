//! Saved views: `:save NAME` captures the tab shown with its filter, sort and visible
//! columns; `:view NAME` goes back to that tab and applies them; `:delview NAME` forgets
//! one. The file is `tui::saved_views`'; a view is applied to whatever workspace is shown
//! (the workspace is not part of a view: `:ws` picks it).

use std::path::Path;

use super::messages::OnYes;
use super::{App, InputMode, Tab, TableId, ToastLevel};
use crate::tui::saved_views::{SavedView, ViewsFile, check_name};

/// The tabs a view can name, by the word the file keeps.
const TABLES: [(&str, TableId); 6] = [
    ("devices", TableId::Devices),
    ("subscriptions", TableId::Subscriptions),
    ("expiring", TableId::Expiring),
    ("expired", TableId::Expired),
    ("assign", TableId::Assign),
    ("workspaces", TableId::Workspaces),
];

impl App {
    /// Read the saved views kept in `dir` (at start); a file that cannot be read is a
    /// warning, never a reason not to start.
    pub fn load_views(&mut self, dir: &Path) {
        let (file, warning) = ViewsFile::load(dir);
        self.views = file;
        if let Some(w) = warning {
            self.toast(ToastLevel::Warn, w);
        }
    }

    /// The saved views (help lists them).
    pub fn saved_views(&self) -> &ViewsFile {
        &self.views
    }

    /// The table shown as a view would keep it (none for the wizard's lists).
    fn capture_view(&self) -> Option<SavedView> {
        let id = self.active_table();
        let (tab, _) = TABLES.iter().find(|(_, t)| *t == id)?;
        let t = self.table_by_id(id);
        Some(SavedView {
            tab: (*tab).to_string(),
            filter: t.filter.clone(),
            sort: t
                .sort
                .and_then(|(c, _)| t.columns.get(c))
                .map(|c| c.name.to_string()),
            desc: t.sort.is_some_and(|(_, d)| d),
            columns: t
                .visible_columns()
                .iter()
                .map(|c| t.columns[*c].name.to_string())
                .collect(),
        })
    }

    /// `:save NAME`.
    pub(super) fn command_save(&mut self, args: &[&str]) {
        let name = args.join(" ");
        if let Err(e) = check_name(&name) {
            self.toast(ToastLevel::Warn, format!(":save: {e} (nothing saved)"));
            return;
        }
        let Some(view) = self.capture_view() else {
            self.toast(
                ToastLevel::Warn,
                ":save: the wizard's lists are not kept as views; save from a tab's table",
            );
            return;
        };
        if self.views.get(&name).is_some() {
            let question = format!("view {name} exists: replace it?");
            self.ask = Some((question, OnYes::SaveView(name, Box::new(view))));
            self.mode = InputMode::Ask;
            return;
        }
        self.store_view(&name, view);
    }

    /// Keep the view and say where it went.
    pub(super) fn store_view(&mut self, name: &str, view: SavedView) {
        let summary = view.summary();
        match self.views.insert(name, view) {
            Ok(()) => {
                let at = self
                    .views
                    .path()
                    .map(|p| format!(" in {}", p.display()))
                    .unwrap_or_default();
                self.toast(
                    ToastLevel::Info,
                    format!("view {name} saved{at}: {summary}"),
                );
            }
            Err(e) => self.toast(ToastLevel::Error, format!(":save {name}: {e}")),
        }
    }

    /// `:view [NAME]`: apply one, or list them.
    pub(super) fn command_view(&mut self, args: &[&str]) {
        let name = args.join(" ");
        if name.is_empty() {
            let text = if self.views.is_empty() {
                "no saved views yet: :save NAME keeps this tab's filter, sort and columns".into()
            } else {
                let all: Vec<String> = self
                    .views
                    .iter()
                    .map(|(n, v)| format!("{n} ({})", v.summary()))
                    .collect();
                format!("saved views: {}", all.join("; "))
            };
            self.toast(ToastLevel::Info, text);
            return;
        }
        let Some(view) = self.views.get(&name).cloned() else {
            let known = self.known_views();
            self.toast(
                ToastLevel::Warn,
                format!(":view {name}: no such view ({known})"),
            );
            return;
        };
        self.apply_view(&name, &view);
    }

    /// The saved names, for an error about a name that is not one of them.
    fn known_views(&self) -> String {
        let names: Vec<&str> = self.views.names().collect();
        if names.is_empty() {
            "none are saved yet".into()
        } else {
            format!("saved: {}", names.join(", "))
        }
    }

    /// `:delview NAME`.
    pub(super) fn command_delview(&mut self, args: &[&str]) {
        let name = args.join(" ");
        match self.views.remove(&name) {
            Ok(true) => self.toast(ToastLevel::Info, format!("view {name} deleted")),
            Ok(false) => {
                let known = self.known_views();
                self.toast(
                    ToastLevel::Warn,
                    format!(":delview {name}: no such view ({known})"),
                );
            }
            Err(e) => self.toast(ToastLevel::Error, format!(":delview {name}: {e}")),
        }
    }

    /// Go to the view's tab and apply its columns, sort and filter. Columns the table no
    /// longer has are skipped with a warning: a view outlives changes to the tables.
    fn apply_view(&mut self, name: &str, view: &SavedView) {
        let Some(&(_, id)) = TABLES.iter().find(|(t, _)| *t == view.tab) else {
            self.toast(
                ToastLevel::Warn,
                format!(
                    ":view {name}: unknown tab \"{}\" in the views file (one of devices, \
                     subscriptions, expiring, expired, assign, workspaces); save it again",
                    view.tab
                ),
            );
            return;
        };
        let tab = match id {
            TableId::Devices => Tab::Devices,
            TableId::Subscriptions => Tab::Subscriptions,
            TableId::Expiring | TableId::Expired => Tab::Expiring,
            TableId::Workspaces => Tab::Workspaces,
            _ => Tab::Assign,
        };
        if tab == Tab::Workspaces && !self.ws.multi() {
            self.toast(
                ToastLevel::Warn,
                format!(":view {name}: the Workspaces tab is shown only over several workspaces"),
            );
            return;
        }
        self.go_tab(tab);
        if tab == Tab::Expiring {
            self.focus_expired = id == TableId::Expired;
        }
        if self.active_table() != id {
            self.toast(
                ToastLevel::Warn,
                format!(":view {name}: close the assignment wizard first"),
            );
            return;
        }
        let mut missing = Vec::new();
        let t = self.table_mut();
        if !view.columns.is_empty() {
            let mut wanted = Vec::new();
            for c in &view.columns {
                match t.columns.iter().position(|col| col.name == c.as_str()) {
                    Some(i) => wanted.push(i),
                    None => missing.push(c.clone()),
                }
            }
            if !wanted.is_empty() {
                for (i, c) in t.columns.iter_mut().enumerate() {
                    c.visible = wanted.contains(&i);
                }
            }
        }
        match &view.sort {
            Some(s) => match t.columns.iter().position(|col| col.name == s.as_str()) {
                Some(c) => t.sort_by(c, view.desc),
                None => missing.push(s.clone()),
            },
            None => t.clear_sort(),
        }
        if view.filter.trim().is_empty() {
            t.clear_filter();
        } else {
            t.filter = view.filter.trim().to_string();
            self.request_filter(id);
        }
        missing.dedup();
        if missing.is_empty() {
            self.toast(ToastLevel::Info, format!("view {name}: {}", view.summary()));
        } else {
            self.toast(
                ToastLevel::Warn,
                format!(
                    "view {name}: no column {} here any more, skipped (:save {name} again to \
                     drop it)",
                    missing.join(", ")
                ),
            );
        }
    }
}
