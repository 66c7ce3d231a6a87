//! Drill-downs between the inventory tables: from a subscription to the devices it covers,
//! from a device to its subscriptions, and back (Esc) to where the drill started.

use std::collections::HashSet;

use super::{App, Tab, TableId, ToastLevel};
use crate::tui::model::drill::Drill;

impl App {
    /// The drill-down of the selected row, if it has one.
    pub(super) fn drill(&mut self) {
        let from = self.tab;
        let Some(row) = self.table().selected_row() else {
            return;
        };
        let (id, first) = (row.id.to_string(), row.cell(0).to_string());
        let (to, drill) = match self.active_table() {
            TableId::Subscriptions | TableId::Expiring | TableId::Expired => {
                let values: HashSet<Box<str>> = self.covered.serials(&id).map(Into::into).collect();
                let label = format!("devices of {first}");
                // The serial is the Devices table's first cell.
                (
                    TableId::Devices,
                    Drill {
                        label,
                        cell: Some(0),
                        values,
                    },
                )
            }
            TableId::Devices => {
                let values: HashSet<Box<str>> = self
                    .covered
                    .subscriptions_of(&first)
                    .map(Into::into)
                    .collect();
                let label = format!("subscriptions of {first}");
                (
                    TableId::Subscriptions,
                    Drill {
                        label,
                        cell: None,
                        values,
                    },
                )
            }
            _ => return,
        };
        let (n, label) = (drill.values.len(), drill.label.clone());
        let target = self.tables.get_mut(to);
        target.clear_filter();
        target.set_drill(Some(drill));
        self.drill_from = Some(from);
        self.tab = if to == TableId::Devices {
            Tab::Devices
        } else {
            Tab::Subscriptions
        };
        if n == 0 {
            self.toast(ToastLevel::Info, format!("{label}: none"));
        }
    }

    /// Back out of a drill-down to the tab it started from; false when there was none.
    pub(super) fn undrill(&mut self) -> bool {
        let id = self.active_table();
        if self.table().drill().is_none() {
            return false;
        }
        if let Some(t) = self.table_mut_opt(id) {
            t.set_drill(None);
        }
        if let Some(tab) = self.drill_from.take() {
            self.tab = tab;
        }
        true
    }
}
