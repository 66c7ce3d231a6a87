//! The detail pane: the row's fields at once, then everything the database holds about the
//! record (loaded on a task), scrolled with the movement keys.

use crossterm::event::KeyEvent;

use super::changes::history_lines;
use super::{App, DetailStyle, DetailView, Effect, InputMode, Tab, TableId, ToastLevel};
use crate::domain::Resource;
use crate::store::changes::ChangeRecord;
use crate::store::views::Detail;
use crate::tui::keys::{Context, ModalAction as M};
use crate::tui::model::rows;
use crate::tui::wizard::{DetailLine, RowDetail};

impl App {
    pub(super) fn open_detail(&mut self) {
        let t = self.active_table();
        let table = self.table_by_id(t);
        let Some(row) = table.selected_row() else {
            return;
        };
        let mut id = row.id.to_string();
        let copy = row.cell(table.copy_col).to_string();
        let mut title = format!("{} {}", self.tab.title().trim_end_matches('s'), copy);
        // A change is about a device or subscription: Enter opens that record.
        let mut load = t;
        if t == TableId::Changes {
            let Some(target) = self.change_target() else {
                return;
            };
            (load, id, title) = match target.resource {
                Resource::Devices => (
                    TableId::Devices,
                    target.item_id.clone(),
                    format!("Device {}", target.label),
                ),
                Resource::Subscriptions => (
                    TableId::Subscriptions,
                    target.item_id.clone(),
                    format!("Subscription {}", target.label),
                ),
            };
        }
        let mut lines = Vec::new();
        for (c, col) in table.columns.iter().enumerate() {
            lines.push((
                DetailStyle::Field,
                format!("{:<14}{}", col.name, row.cell(c)),
            ));
        }
        self.detail = Some(DetailView {
            title,
            lines,
            scroll: 0,
            copy,
            loading: true,
        });
        self.mode = InputMode::Detail;
        if t == TableId::Assign {
            self.want_run_detail(&id);
        } else {
            self.effects.push(Effect::LoadDetail { table: load, id });
        }
    }

    /// A wizard row in full (an issue, a plan line, a report call or device): its fields,
    /// then its texts wrapped, so GreenLake's whole reason can be read.
    pub(super) fn open_row_detail(&mut self, d: RowDetail) {
        let lines = d
            .lines
            .into_iter()
            .map(|l| match l {
                DetailLine::Field(name, v) => (DetailStyle::Field, format!("{name:<14}{v}")),
                DetailLine::Heading(h) => (DetailStyle::Heading, h),
                DetailLine::Text(t) => (DetailStyle::Text, t),
            })
            .collect();
        self.detail = Some(DetailView {
            title: d.title,
            lines,
            scroll: 0,
            copy: d.copy,
            loading: false,
        });
        self.mode = InputMode::Detail;
    }

    /// `:messages`: every toast raised so far, oldest first, in the detail pane (which
    /// scrolls, wraps long texts and copies the whole log with the copy key).
    pub(super) fn open_messages(&mut self) {
        let mut lines = Vec::new();
        for m in self.toasts.log() {
            let level = match m.level {
                ToastLevel::Info => "info ",
                ToastLevel::Warn => "warn ",
                ToastLevel::Error => "error",
            };
            let at = m.at.with_timezone(&chrono::Local).format("%H:%M:%S");
            lines.push((DetailStyle::Text, format!("{at} {level} {}", m.text)));
        }
        if lines.is_empty() {
            lines.push((DetailStyle::Text, "no messages yet".to_string()));
        }
        let copy = lines
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        // The newest at the bottom of the first screenful.
        let scroll = lines.len().saturating_sub(self.page_height.get().max(1));
        self.detail = Some(DetailView {
            title: format!("Messages ({})", self.toasts.log().count()),
            lines,
            scroll,
            copy,
            loading: false,
        });
        self.mode = InputMode::Detail;
    }

    pub(super) fn fill_detail(
        &mut self,
        table: TableId,
        id: &str,
        detail: Option<Detail>,
        history: Result<Vec<ChangeRecord>, String>,
    ) {
        let current = if self.tab == Tab::Changes {
            self.change_target().map(|t| t.item_id.clone())
        } else {
            self.table().selected_row().map(|r| r.id.to_string())
        };
        let Some(view) = self.detail.as_mut() else {
            return;
        };
        if current.as_deref() != Some(id) {
            return;
        }
        view.loading = false;
        let Some(d) = detail else {
            view.lines.push((
                DetailStyle::Heading,
                "This record is no longer in the database.".into(),
            ));
            return;
        };
        // What changed first: it is what a record's detail is opened for after a sync.
        history_lines(history, &mut view.lines);
        // Every field GLP sent, flattened.
        view.lines.push((DetailStyle::Heading, String::new()));
        view.lines.push((DetailStyle::Heading, "All fields".into()));
        flatten("", &d.raw, &mut view.lines);
        let heading = if table == TableId::Devices {
            "Subscriptions"
        } else {
            "Devices covered"
        };
        view.lines.push((DetailStyle::Heading, String::new()));
        view.lines.push((
            DetailStyle::Heading,
            format!("{heading} ({})", d.links_total),
        ));
        for l in &d.links {
            let end = l
                .end_time
                .map(|t| format!(" ends {}", rows::fmt_date(Some(t))))
                .unwrap_or_default();
            view.lines.push((
                DetailStyle::Text,
                format!("  {:<20} {}{}", l.name, l.info, end),
            ));
        }
        if (d.links.len() as i64) < d.links_total {
            view.lines.push((
                DetailStyle::Text,
                format!("  … and {} more", d.links_total - d.links.len() as i64),
            ));
        }
        view.lines.push((DetailStyle::Heading, String::new()));
        view.lines.push((DetailStyle::Heading, "Raw JSON".into()));
        let pretty = serde_json::to_string_pretty(&d.raw).unwrap_or_default();
        for l in pretty.lines() {
            view.lines.push((DetailStyle::Json, l.to_string()));
        }
    }

    pub(super) fn key_detail(&mut self, ev: KeyEvent) {
        if self.run_detail_key(&ev) {
            return;
        }
        let page = self.page_height.get().max(1);
        let Some(d) = self.detail.as_mut() else {
            self.mode = InputMode::Normal;
            return;
        };
        let max = d.lines.len().saturating_sub(1);
        match self.keymap.modal(Context::Pane, &ev) {
            Some(M::PaneClose) => {
                self.detail = None;
                self.run_detail = None;
                self.mode = InputMode::Normal;
            }
            Some(M::PaneDown) => d.scroll = (d.scroll + 1).min(max),
            Some(M::PaneUp) => d.scroll = d.scroll.saturating_sub(1),
            Some(M::PanePageDown) => d.scroll = (d.scroll + page / 2).min(max),
            Some(M::PanePageUp) => d.scroll = d.scroll.saturating_sub(page / 2),
            Some(M::PaneTop) => d.scroll = 0,
            Some(M::PaneBottom) => d.scroll = max,
            Some(M::PaneCopy) => {
                let v = d.copy.clone();
                self.effects.push(Effect::Copy(v.clone()));
                self.toast(ToastLevel::Info, format!("copied {v}"));
            }
            _ => {}
        }
    }
}

/// Flatten JSON into `path  value` lines (objects by key, arrays by index).
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(DetailStyle, String)>) {
    use serde_json::Value;
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => out.push((DetailStyle::Field, format!("  {prefix:<28} {s}"))),
        other => out.push((DetailStyle::Field, format!("  {prefix:<28} {other}"))),
    }
}
