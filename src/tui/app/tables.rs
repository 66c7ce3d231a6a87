//! The app's handlers for its tables by [`TableId`]: the four tabs' (five, the Expiring tab
//! has two) and, while it is open, the wizard's. Also the filter requests and the Expiring
//! window.

use nucleo_matcher::Matcher;

use super::{App, Effect, Scratch, Tab};
use crate::tui::filter::FilterJob;
use crate::tui::model::rows;
use crate::tui::model::table::{TableData, TableModel};
use crate::tui::model::table_id::TableId;
use crate::tui::theme::Theme;

impl App {
    /// The table the cursor is in.
    pub fn active_table(&self) -> TableId {
        match self.tab {
            // The overview has no table of its own: its keys are taken before a table's.
            Tab::Overview | Tab::Devices => TableId::Devices,
            Tab::Subscriptions => TableId::Subscriptions,
            Tab::Expiring if self.focus_expired => TableId::Expired,
            Tab::Expiring => TableId::Expiring,
            Tab::Assign => self
                .wizard
                .as_ref()
                .and_then(|w| w.current_table())
                .map_or(TableId::Assign, TableId::Wizard),
            Tab::Workspaces => TableId::Workspaces,
            Tab::Changes => TableId::Changes,
        }
    }

    /// The table the cursor is in.
    pub fn table(&self) -> &TableModel {
        self.table_by_id(self.active_table())
    }

    /// A table by name. A wizard list while the wizard is closed reads as the run list.
    pub fn table_by_id(&self, id: TableId) -> &TableModel {
        if let TableId::Wizard(t) = id
            && let Some(w) = self.wizard.as_ref()
        {
            return w.table(t);
        }
        self.tables.get(id)
    }

    /// A table by name, `None` for a wizard list while the wizard is closed.
    pub(super) fn table_mut_opt(&mut self, id: TableId) -> Option<&mut TableModel> {
        match id {
            TableId::Wizard(t) => self.wizard.as_mut().map(|w| w.table_mut(t)),
            _ => Some(self.tables.get_mut(id)),
        }
    }

    /// The table the cursor is in. `active_table` names a wizard list only while the
    /// wizard is open, so the fallback to the run list is never taken.
    pub(super) fn table_mut(&mut self) -> &mut TableModel {
        let id = self.active_table();
        if let TableId::Wizard(t) = id
            && let Some(w) = self.wizard.as_mut()
        {
            return w.table_mut(t);
        }
        self.tables.get_mut(id)
    }

    /// What drawing table `id` needs: the table, the theme and the highlight matcher.
    /// `page_height` is the rows it shows, kept for paging.
    pub fn table_for_draw(
        &self,
        id: TableId,
        page_height: usize,
    ) -> (&TableModel, &Theme, Scratch<'_>) {
        self.page_height.set(page_height);
        let matcher = match self.matcher.try_borrow_mut() {
            Ok(m) => Scratch::Shared(m),
            // Only while another table's draw still holds it: a matcher of its own.
            Err(_) => Scratch::Own(Box::new(Matcher::new(nucleo_matcher::Config::DEFAULT))),
        };
        (self.table_by_id(id), &self.theme, matcher)
    }

    pub(crate) fn set_table(&mut self, id: TableId, data: TableData) {
        if self.table_mut_opt(id).is_some_and(|t| t.set_data(data)) {
            self.request_filter(id);
        }
    }

    pub(super) fn rebuild_expiring(&mut self) {
        let (expiring, expired) = self.expiring_data(self.window_days);
        self.set_table(TableId::Expiring, expiring);
        self.set_table(TableId::Expired, expired);
        self.chart = rows::month_buckets(&self.subscriptions, self.now);
    }

    /// Ask the filter worker for the matches of `id`'s filter (none when it is empty, but
    /// the generation moves on so a result in flight is dropped).
    pub(super) fn request_filter(&mut self, id: TableId) {
        self.generation += 1;
        let generation = self.generation;
        let Some(table) = self.table_mut_opt(id) else {
            return;
        };
        table.awaited = generation;
        if table.filter.is_empty() {
            return;
        }
        match FilterJob::for_table(id, generation, table) {
            Ok(job) => self.effects.push(Effect::Filter(job)),
            Err(e) => table.filter_failed(e.to_string()),
        }
    }

    /// Change the Expiring window (30/60/90 days, or any 1..=3650 from `:window`).
    pub fn set_window(&mut self, days: u32) {
        self.window_days = days;
        let (expiring, _) = self.expiring_data(days);
        self.set_table(TableId::Expiring, expiring);
        if self.ws.multi() {
            // The Workspaces tab counts what expires in the window too.
            self.effects.push(Effect::Reload);
        }
    }
}
