//! The tabs' own tables by [`TableId`] and the draw's highlight matcher: what `App` holds.
//! The app's handlers for them are in `app/tables.rs`.

use std::cell::RefMut;
use std::ops::{Deref, DerefMut};

use nucleo_matcher::Matcher;

use crate::tui::model::table::TableModel;
use crate::tui::model::table_id::TableId;
use crate::tui::model::workspaces;
use crate::tui::model::{changes, rows};

/// The tabs' own tables (the wizard keeps its lists itself).
pub(in crate::tui::app) struct Tables {
    devices: TableModel,
    subscriptions: TableModel,
    expiring: TableModel,
    expired: TableModel,
    assign: TableModel,
    workspaces: TableModel,
    changes: TableModel,
}

impl Default for Tables {
    fn default() -> Self {
        Tables::new(false)
    }
}

impl Tables {
    /// The tables of a database with one workspace, or (`multi`) with a Workspace column in
    /// each inventory table.
    pub(in crate::tui::app) fn new(multi: bool) -> Tables {
        let layout = if multi {
            rows::WsLayout::Column
        } else {
            rows::WsLayout::None
        };
        let ws = |cols| rows::with_workspace(cols, multi);
        let at = |col| Some(rows::ws_shift(col, multi));
        let expiring = |layout: rows::WsLayout| {
            TableModel::new(ws(rows::expiring_columns()), 0, Some(layout.breakdown()))
        };
        Tables {
            devices: TableModel::new(
                ws(rows::device_columns()),
                rows::DEVICE_COPY,
                at(rows::DEVICE_BREAKDOWN),
            ),
            subscriptions: TableModel::new(
                ws(rows::subscription_columns()),
                rows::SUBSCRIPTION_COPY,
                at(rows::SUBSCRIPTION_BREAKDOWN),
            ),
            expiring: expiring(layout),
            expired: expiring(layout),
            assign: TableModel::new(ws(rows::assign_columns()), 0, at(rows::ASSIGN_BREAKDOWN)),
            workspaces: TableModel::new(
                workspaces::workspace_columns(),
                0,
                Some(workspaces::WORKSPACE_BREAKDOWN),
            ),
            changes: {
                let (copy, by) = changes::change_cols(multi);
                TableModel::new(changes::change_columns(multi), copy, Some(by))
            },
        }
    }

    /// The Expiring lists' breakdown column for `layout` (grouped or not by workspace).
    pub(in crate::tui::app) fn set_expiring_layout(&mut self, layout: rows::WsLayout) {
        self.expiring.breakdown_col = Some(layout.breakdown());
        self.expired.breakdown_col = Some(layout.breakdown());
    }

    /// A wizard id names no table of these; it gets the run list, which is what the
    /// Assign tab shows when the wizard is closed.
    pub(in crate::tui::app) fn get(&self, id: TableId) -> &TableModel {
        match id {
            TableId::Devices => &self.devices,
            TableId::Subscriptions => &self.subscriptions,
            TableId::Expiring => &self.expiring,
            TableId::Expired => &self.expired,
            TableId::Assign | TableId::Wizard(_) => &self.assign,
            TableId::Workspaces => &self.workspaces,
            TableId::Changes => &self.changes,
        }
    }

    pub(in crate::tui::app) fn get_mut(&mut self, id: TableId) -> &mut TableModel {
        match id {
            TableId::Devices => &mut self.devices,
            TableId::Subscriptions => &mut self.subscriptions,
            TableId::Expiring => &mut self.expiring,
            TableId::Expired => &mut self.expired,
            TableId::Assign | TableId::Wizard(_) => &mut self.assign,
            TableId::Workspaces => &mut self.workspaces,
            TableId::Changes => &mut self.changes,
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
