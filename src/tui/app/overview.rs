//! The overview tab's handlers: its figures arriving, the cursor over its numbers, and a
//! number's jump into the table behind it — a drill-down of exactly the ids the figure
//! counted (read by the loader with the figure's own condition), left with Esc as any
//! drill-down is, back to the overview.

use std::collections::HashSet;
use std::sync::Arc;

use super::parts::OverviewItem;
use super::{App, Effect, Tab, TableId, ToastLevel};
use crate::store::overview::{Figures, Jump, JumpTable};
use crate::tui::keys::Action;
use crate::tui::model::drill::Drill;

impl App {
    /// The overview's figures, read for the scope shown.
    pub(super) fn overview_loaded(&mut self, figures: Arc<Figures>) {
        self.overview.figures = Some(figures);
        self.clamp_overview();
    }

    fn clamp_overview(&mut self) {
        let n = self.overview.items().len();
        if self.overview.cursor >= n {
            self.overview.cursor = n.saturating_sub(1);
        }
    }

    /// A normal-mode action on the overview tab; false when it is not the overview's (the
    /// app's own handling follows).
    pub(super) fn overview_act(&mut self, a: Action) -> bool {
        if self.tab != Tab::Overview {
            return false;
        }
        self.clamp_overview();
        let items = self.overview.items();
        let last = items.len().saturating_sub(1);
        let at = self.overview.cursor;
        let panel_start = |i: usize| {
            let p = items.get(i).map(|x| x.panel);
            items.iter().position(|x| Some(x.panel) == p).unwrap_or(0)
        };
        let cursor = match a {
            Action::Up => at.saturating_sub(1),
            Action::Down => (at + 1).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            // The next or previous panel's first number.
            Action::ScrollRight | Action::PageDown | Action::HalfPageDown => {
                let p = items.get(at).map(|x| x.panel);
                items
                    .iter()
                    .position(|x| Some(x.panel) != p && x.panel > p.unwrap_or(x.panel))
                    .unwrap_or(at)
            }
            Action::ScrollLeft | Action::PageUp | Action::HalfPageUp => {
                let start = panel_start(at);
                if start < at {
                    start
                } else {
                    panel_start(start.saturating_sub(1))
                }
            }
            Action::Detail | Action::Drill => {
                if let Some(item) = items.get(at).cloned() {
                    self.overview_jump(item);
                }
                return true;
            }
            // The table keys have no table here.
            Action::Back
            | Action::Filter
            | Action::SortNext
            | Action::SortPrev
            | Action::SortReverse
            | Action::Columns
            | Action::CopyId
            | Action::CopyRow
            | Action::Window
            | Action::FocusExpired
            | Action::Mark
            | Action::MarkAll
            | Action::MarkRange => return true,
            _ => return false,
        };
        self.overview.cursor = cursor;
        true
    }

    /// Ask for the rows behind a number.
    fn overview_jump(&mut self, item: OverviewItem) {
        // The window the figure was counted in (the reload's), not one changed since.
        let window_days = self.overview_window();
        if item.n == 0 {
            let label = item.jump.label(window_days);
            self.toast(ToastLevel::Info, format!("{label}: none"));
            return;
        }
        self.overview.pending = Some(item.jump.clone());
        self.effects.push(Effect::LoadJump {
            jump: item.jump,
            scope: self.ws.scope.clone(),
            now: self.now,
            window_days,
        });
    }

    /// The ids behind a number: open its table on exactly those rows.
    pub(super) fn jump_loaded(&mut self, jump: Jump, ids: Result<Vec<String>, String>) {
        if self.overview.pending.as_ref() != Some(&jump) {
            return;
        }
        self.overview.pending = None;
        let ids = match ids {
            Ok(ids) => ids,
            Err(e) => {
                self.toast(ToastLevel::Error, format!("reading the rows failed: {e}"));
                return;
            }
        };
        if self.tab != Tab::Overview {
            // The user moved on while the rows were read.
            return;
        }
        let (table, tab) = match jump.table() {
            JumpTable::Devices => (TableId::Devices, Tab::Devices),
            JumpTable::Subscriptions => (TableId::Subscriptions, Tab::Subscriptions),
        };
        let drill = Drill {
            label: jump.label(self.overview_window()),
            cell: None,
            values: ids
                .into_iter()
                .map(String::into_boxed_str)
                .collect::<HashSet<_>>(),
        };
        let target = self.tables.get_mut(table);
        target.clear_filter();
        target.set_drill(Some(drill));
        self.drill_from = Some(Tab::Overview);
        self.tab = tab;
    }

    /// The Expiring window the overview's figures were counted in.
    fn overview_window(&self) -> u32 {
        self.overview
            .figures
            .as_ref()
            .map_or(self.window_days, |f| f.window_days)
    }

    /// The overview's number under the cursor.
    pub fn overview_selected(&self) -> Option<OverviewItem> {
        self.overview.items().get(self.overview.cursor).cloned()
    }
}
