//! The tabs' own tables by [`TableId`] and the draw's highlight matcher: what `App` holds.
//! The app's handlers for them are in `app/tables.rs`.

use std::cell::RefMut;
use std::ops::{Deref, DerefMut};

use nucleo_matcher::Matcher;

use crate::tui::model::rows;
use crate::tui::model::table::TableModel;
use crate::tui::model::table_id::TableId;
/// The tabs' own tables (the wizard keeps its lists itself).
pub(in crate::tui::app) struct Tables {
    devices: TableModel,
    subscriptions: TableModel,
    expiring: TableModel,
    expired: TableModel,
    assign: TableModel,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            devices: TableModel::new(
                rows::device_columns(),
                rows::DEVICE_COPY,
                Some(rows::DEVICE_BREAKDOWN),
            ),
            subscriptions: TableModel::new(
                rows::subscription_columns(),
                rows::SUBSCRIPTION_COPY,
                Some(rows::SUBSCRIPTION_BREAKDOWN),
            ),
            expiring: TableModel::new(rows::expiring_columns(), 0, Some(3)),
            expired: TableModel::new(rows::expiring_columns(), 0, Some(3)),
            assign: TableModel::new(rows::assign_columns(), 0, Some(3)),
        }
    }
}

impl Tables {
    /// A wizard id names no table of these; it gets the run list, which is what the
    /// Assign tab shows when the wizard is closed.
    pub(in crate::tui::app) fn get(&self, id: TableId) -> &TableModel {
        match id {
            TableId::Devices => &self.devices,
            TableId::Subscriptions => &self.subscriptions,
            TableId::Expiring => &self.expiring,
            TableId::Expired => &self.expired,
            TableId::Assign | TableId::Wizard(_) => &self.assign,
        }
    }

    pub(in crate::tui::app) fn get_mut(&mut self, id: TableId) -> &mut TableModel {
        match id {
            TableId::Devices => &mut self.devices,
            TableId::Subscriptions => &mut self.subscriptions,
            TableId::Expiring => &mut self.expiring,
            TableId::Expired => &mut self.expired,
            TableId::Assign | TableId::Wizard(_) => &mut self.assign,
        }
    }
}

/// The highlight matcher for one table's draw: the app's, or a fresh one if the app's is
/// in use (never, as the views draw one table at a time; but no draw can panic on it).
pub enum Scratch<'a> {
    Shared(RefMut<'a, Matcher>),
    Own(Box<Matcher>),
}

impl Deref for Scratch<'_> {
    type Target = Matcher;
    fn deref(&self) -> &Matcher {
        match self {
            Scratch::Shared(m) => m,
            Scratch::Own(m) => m,
        }
    }
}

impl DerefMut for Scratch<'_> {
    fn deref_mut(&mut self) -> &mut Matcher {
        match self {
            Scratch::Shared(m) => m,
            Scratch::Own(m) => m,
        }
    }
}
