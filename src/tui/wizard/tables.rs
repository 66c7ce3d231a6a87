//! The wizard's six lists. They belong to the wizard: a new wizard starts with empty ones,
//! and closing it drops them (a late filter result for a closed wizard finds no table).

use super::rows::{
    application_columns, issue_columns, plan_columns, report_columns, review_columns,
    subscription_columns,
};
use crate::tui::keys::{Keymap, WizardAction};
use crate::tui::model::table::TableModel;
use crate::tui::model::table_id::WizardTable;

/// One [`TableModel`] per [`WizardTable`], in that order.
#[derive(Debug, Clone)]
pub struct WizardTables {
    tables: [TableModel; 6],
}

impl Default for WizardTables {
    /// Lists with the generic empty texts (a wizard opened by [`WizardTables::new`] has its
    /// own).
    fn default() -> Self {
        WizardTables {
            tables: WizardTable::ALL.map(|t| fresh(t, None)),
        }
    }
}

impl WizardTables {
    /// Empty lists whose empty texts name the live keys.
    pub fn new(keys: &Keymap) -> WizardTables {
        WizardTables {
            tables: WizardTable::ALL.map(|t| fresh(t, Some(keys))),
        }
    }

    pub fn get(&self, t: WizardTable) -> &TableModel {
        &self.tables[t.index()]
    }

    pub fn get_mut(&mut self, t: WizardTable) -> &mut TableModel {
        &mut self.tables[t.index()]
    }

    /// Empty `t` again (a new plan or report replaces the old one, sort and filter too).
    /// `None` leaves the generic empty text.
    pub fn reset(&mut self, t: WizardTable, empty_text: Option<String>) {
        let mut m = fresh(t, None);
        m.empty_text = empty_text;
        self.tables[t.index()] = m;
    }
}

/// An empty list with its columns, what `y` copies, what the breakdown counts and what it
/// says while empty (`keys` names the key that skips a chooser; `None` for a list about to
/// get its own text).
fn fresh(t: WizardTable, keys: Option<&Keymap>) -> TableModel {
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
    let skip = || {
        keys.map_or_else(String::new, |k| {
            format!(" — {}", k.press(WizardAction::Skip, "leave as is"))
        })
    };
    m.empty_text = Some(match t {
        WizardTable::Issues => "✓ nothing to fix".to_string(),
        WizardTable::Subscriptions => format!(
            "no subscription fits these devices (compatible, started, enough seats){}",
            skip()
        ),
        WizardTable::Applications => {
            format!("no application is provisioned in this workspace{}", skip())
        }
        WizardTable::Plan => "nothing to send".to_string(),
        _ => "no rows".to_string(),
    });
    m
}
