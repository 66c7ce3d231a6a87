//! Marks on the Devices tab: mark, mark all shown, mark a range, clear; then assign the
//! marked devices (the wizard reads them like a sheet of serials) or export them.

use super::{App, Effect, Tab, TableId, ToastLevel};
use crate::tui::keys::Action;
use crate::tui::model::rows::DEVICE_COPY;
use crate::tui::wizard::Wizard;

/// Where "export marked" writes (the console's working directory, like `:export`).
pub const MARKED_EXPORT: &str = "marked-devices.csv";

impl App {
    /// A mark key: only the Devices tab has marks (elsewhere the key says so).
    pub(super) fn mark_action(&mut self, a: Action) {
        if self.tab != Tab::Devices {
            let devices = self.keymap.say(Action::TabDevices);
            self.toast(
                ToastLevel::Info,
                format!("marks are for devices: switch to the Devices tab ({devices})"),
            );
            return;
        }
        let table = self.tables.get(TableId::Devices);
        match a {
            Action::Mark => {
                if let Some(id) = table.selected_row().map(|r| r.id.clone()) {
                    self.marks.toggle(&id);
                    self.tables.get_mut(TableId::Devices).move_by(1);
                }
            }
            Action::MarkAll => {
                self.marks.mark_shown(table);
            }
            Action::MarkRange => {
                self.marks.mark_range(table);
            }
            Action::ClearMarks => self.marks.clear(),
            Action::AssignMarked => self.assign_marked(),
            Action::ExportMarked => self.export_marked(),
            _ => {}
        }
    }

    /// The marked devices' serials, in the table's load order.
    pub fn marked_serials(&self) -> Vec<String> {
        let table = self.tables.get(TableId::Devices);
        self.marks
            .rows(table)
            .map(|r| r.cell(DEVICE_COPY).to_string())
            .collect()
    }

    /// How many marked devices assign and export act on: the marked ids the loaded rows
    /// still have (a reload may have dropped some, e.g. a device removed since).
    pub fn marked_count(&self) -> usize {
        if self.marks.is_empty() {
            return 0;
        }
        self.marks.rows(self.tables.get(TableId::Devices)).count()
    }

    /// Assign or export with nothing marked: say how to mark.
    fn none_marked(&mut self) {
        let mark = self.keymap.say(Action::Mark);
        self.toast(
            ToastLevel::Info,
            format!("no devices are marked: {mark} marks the selected one"),
        );
    }

    fn assign_marked(&mut self) {
        if self.read_only {
            self.refuse(Action::AssignMarked);
            return;
        }
        let serials = self.marked_serials();
        if serials.is_empty() {
            self.none_marked();
            return;
        }
        self.wizard_start(|cx| Wizard::for_serials(serials, cx));
    }

    /// Export the marked rows in the columns shown (the export `:export` uses).
    fn export_marked(&mut self) {
        let t = self.tables.get(TableId::Devices);
        let (header, rows) = t.export_cells(self.marks.rows(t));
        if rows.is_empty() {
            self.none_marked();
            return;
        }
        self.effects.push(Effect::Export {
            path: MARKED_EXPORT.to_string(),
            header,
            rows,
            overwrite: false,
        });
    }
}
