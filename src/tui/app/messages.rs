//! What goes between the app and the run loop: [`Effect`]s out, [`Loaded`] data back.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::assign::apply::UndoPlan;
use crate::assign::recorded::RecordedRun;
use crate::store::changes::ChangeRecord;
use crate::store::history::RunRecord;
use crate::store::overview::{Figures, Jump};
use crate::store::views::{Detail, SubscriptionRecord, ViewScope};
use crate::store::workspaces::WorkspaceOverview;
use crate::sync::events::SyncCommand;
use crate::tui::filter::FilterJob;
use crate::tui::model::changes::{ChangeWindow, ChangesData};
use crate::tui::model::rows;
use crate::tui::model::table::TableData;
use crate::tui::model::table_id::TableId;
use crate::tui::saved_views::SavedView;
use crate::tui::wizard::{WizardEffect, WizardMsg};

/// Work the run loop carries out for the app.
#[derive(Debug, Clone)]
pub enum Effect {
    Sync(SyncCommand),
    /// Reload every tab from the database (start, and after a sync lands).
    Reload,
    LoadDetail {
        table: TableId,
        id: String,
    },
    Filter(FilterJob),
    /// Write this text to the clipboard (OSC 52).
    Copy(String),
    Export {
        path: String,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
        /// Replace a file of that name (the user said yes); otherwise ask first.
        overwrite: bool,
    },
    /// Leave the terminal to the shell until `fg` (Ctrl-Z).
    Suspend,
    /// The assignment wizard's work; its answer comes back as [`Loaded::Wizard`].
    Wizard(WizardEffect),
    /// Plan the undo of an assignment run (as `assign --undo` does); the answer is
    /// [`Loaded::UndoPlanned`].
    PlanUndo {
        run_id: i64,
    },
    /// Read a run's calls and devices for its detail; the answer is [`Loaded::RunDetail`].
    LoadRunDetail {
        run_id: i64,
    },
    /// Write a recorded run's report again (.xlsx or .json by the extension).
    ExportRun {
        run_id: i64,
        path: PathBuf,
    },
    /// Read the sync runs for `:history`; the answer is [`Loaded::History`].
    LoadHistory,
    /// Read the ids behind one of the overview's numbers, for `scope` at `now`; the answer is
    /// [`Loaded::Jump`].
    LoadJump {
        jump: Jump,
        scope: ViewScope,
        now: DateTime<Utc>,
        window_days: u32,
    },
    /// Read the changes of a window for `:changes`; the answer is [`Loaded::Changes`].
    LoadChanges {
        window: ChangeWindow,
    },
    Quit,
}

/// Data arriving from the loader task.
#[derive(Debug, Clone)]
pub enum Loaded {
    /// The first screenful of devices, shown while the rest loads; the count of all of them
    /// follows in [`Loaded::DeviceCounts`] (counting reads every device, the screenful only
    /// the first rows: it does not wait for the count).
    DevicesHead {
        data: TableData,
    },
    /// The number of devices in scope and their count per type, for the tab title and the
    /// breakdown line while only the head is loaded.
    DeviceCounts {
        breakdown: Vec<(String, usize)>,
        total: usize,
    },
    Devices(TableData),
    Subscriptions {
        records: Arc<Vec<SubscriptionRecord>>,
        table: TableData,
    },
    /// The stored workspaces, first in every reload, and the scope the reload's tables are
    /// read for ([`ViewScope::Single`] when there is one workspace); again with their
    /// figures (`figures`) once counted, after the first screenful.
    Workspaces {
        scope: ViewScope,
        list: Arc<Vec<WorkspaceOverview>>,
        figures: bool,
    },
    /// [`Loaded::Subscriptions`] of a database holding several workspaces: `names[i]` is the
    /// workspace of `records[i]` (the Expiring lists show and group by it).
    ScopedSubscriptions {
        records: Arc<Vec<SubscriptionRecord>>,
        names: Arc<Vec<Box<str>>>,
        table: TableData,
    },
    Covered(rows::Covered),
    Assign(TableData),
    LastGoodSync(Option<DateTime<Utc>>),
    Detail {
        table: TableId,
        id: String,
        detail: Option<Detail>,
        /// The record's change history, newest first.
        history: Result<Vec<ChangeRecord>, String>,
    },
    Failed(String),
    Exported(Result<String, String>),
    /// `:export` would replace this file (its full path): the export waits for a yes.
    ExportExists {
        path: String,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// An answer to one of the wizard's effects.
    Wizard(WizardMsg),
    /// The undo plan of a run, or why there is none.
    UndoPlanned(Result<Box<UndoPlan>, String>),
    /// [`Loaded::UndoPlanned`] in a console over several workspaces: the workspace the run
    /// was made in, where the undo's wizard runs.
    UndoPlannedIn {
        workspace: crate::domain::WorkspaceId,
        result: Result<Box<UndoPlan>, String>,
    },
    /// A run with its calls and devices (`None`: no such run).
    RunDetail {
        run_id: i64,
        result: Result<Option<Box<RecordedRun>>, String>,
    },
    /// The sync runs, newest first.
    History(Result<Vec<RunRecord>, String>),
    /// The overview tab's figures, read with the tables of a reload.
    Overview(Arc<Figures>),
    /// The ids behind one of the overview's numbers.
    Jump {
        jump: Jump,
        ids: Result<Vec<String>, String>,
    },
    /// The Changes view's rows, read for the workspace scope asked (`scope`).
    Changes {
        scope: ViewScope,
        data: Box<ChangesData>,
    },
}

/// What a yes to the question asked does.
#[derive(Debug, Clone)]
pub(super) enum OnYes {
    Effect(Effect),
    /// Replace the saved view of that name.
    SaveView(String, Box<SavedView>),
}
