//! The wizard's six lists. They belong to the wizard: a new wizard starts with empty ones,
//! and closing it drops them (a late filter result for a closed wizard finds no table).

use super::rows::{
    application_columns, issue_columns, plan_columns, report_columns, review_columns,
    subscription_columns,
};
use crate::tui::model::table::TableModel;
use crate::tui::model::table_id::WizardTable;

/// One [`TableModel`] per [`WizardTable`], in that order.
#[derive(Debug, Clone)]
pub struct WizardTables {
    tables: [TableModel; 6],
}

impl Default for WizardTables {
    fn default() -> Self {
        WizardTables {
            tables: WizardTable::ALL.map(fresh),
        }
    }
}

impl WizardTables {
    pub fn get(&self, t: WizardTable) -> &TableModel {
        &self.tables[t.index()]
    }

    pub fn get_mut(&mut self, t: WizardTable) -> &mut TableModel {
        &mut self.tables[t.index()]
    }

    /// Empty `t` again (a new plan or report replaces the old one, sort and filter too).
    /// `None` leaves the generic empty text.
    pub fn reset(&mut self, t: WizardTable, empty_text: Option<&'static str>) {
        let mut m = fresh(t);
        m.empty_text = empty_text;
        self.tables[t.index()] = m;
    }
}

/// An empty list with its columns, what `y` copies and what the breakdown counts.
fn fresh(t: WizardTable) -> TableModel {
    // What `y` copies: the message, the serial, the key, the application id.
    let (columns, copy, breakdown) = match t {
        WizardTable::Issues => (issue_columns(), 4, Some(0)),
        WizardTable::Review => (review_columns(), 1, Some(2)),
        WizardTable::Subscriptions => (subscription_columns(), 0, None),
        WizardTable::Applications => (application_columns(), 3, None),
        WizardTable::Plan => (plan_columns(), 1, None),
        WizardTable::Report => (report_columns(), 2, None),
    };
    let mut m = TableModel::new(columns, copy, breakdown);
    m.empty_text = Some(match t {
        WizardTable::Issues => "✓ nothing to fix",
        WizardTable::Subscriptions => {
            "no subscription fits these devices (compatible, started, enough seats) — press - to leave as is"
        }
        WizardTable::Applications => {
            "no application is provisioned in this workspace — press - to leave as is"
        }
        WizardTable::Plan => "nothing to send",
        _ => "no rows",
    });
    m
}
