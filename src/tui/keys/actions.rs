//! What a key can do, per context, and where each binding is live ([`Context`]).

use crate::tui::wizard::step::WizardStep;

/// A key that edits the line being typed, whatever is bound: these stay fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Type(char),
    Backspace,
    /// Everything before the cursor (readline's Ctrl-u).
    ClearLine,
    /// The word before the cursor (readline's Ctrl-w).
    DeleteWord,
    Home,
    End,
    Left,
    Right,
}

/// Everything a key can do in normal mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    /// The overview: counts, each a jump into the rows behind it.
    TabOverview,
    TabDevices,
    TabSubscriptions,
    TabExpiring,
    TabAssign,
    /// The Workspaces tab (only when the database holds several).
    TabWorkspaces,
    NextTab,
    PrevTab,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    Detail,
    Back,
    Filter,
    Command,
    SortNext,
    SortPrev,
    SortReverse,
    Columns,
    CopyId,
    CopyRow,
    ScrollLeft,
    ScrollRight,
    /// A subscription's devices, a device's subscriptions.
    Drill,
    Sync,
    SyncFull,
    CancelSync,
    Window,
    FocusExpired,
    /// Assign tab: start the assignment wizard.
    AssignNew,
    /// Assign tab: undo the selected run (its plan, then the wizard's confirm and apply).
    UndoRun,
    /// Devices tab: mark or unmark the selected device (then move down).
    Mark,
    /// Devices tab: mark every device the filter shows.
    MarkAll,
    /// Devices tab: mark from the last marked device to the selected one.
    MarkRange,
    /// Devices tab: unmark every device.
    ClearMarks,
    /// Devices tab: open the wizard on the marked devices (no spreadsheet).
    AssignMarked,
    /// Devices tab: export the marked devices.
    ExportMarked,
}

/// What a key does inside the Assign tab's wizard (only in the steps its binding names).
/// Movement on the lists and `/` filter keep their normal-mode bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WizardAction {
    /// The cursor of the sheet chooser and the tag list (not tables, so not `up`).
    CursorUp,
    CursorDown,
    Complete,
    Next,
    Back,
    Reload,
    ChooseSheet,
    Skip,
    RemoveTag,
    DryRun,
    Apply,
    Yes,
    No,
    ExportXlsx,
    ExportJson,
    /// The full text of the selected row in the detail pane.
    Detail,
}

/// What a key does in the modes that take the keyboard from the table: the filter and
/// command lines (where characters are typed), the help, the detail pane and the column
/// chooser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModalAction {
    FilterKeep,
    FilterClear,
    FilterUp,
    FilterDown,
    FilterComplete,
    CommandRun,
    CommandCancel,
    CommandComplete,
    PaneClose,
    PaneDown,
    PaneUp,
    PanePageDown,
    PanePageUp,
    PaneTop,
    PaneBottom,
    PaneCopy,
    /// A run's detail: undo the run.
    RunUndo,
    /// A run's detail: export its report again (.xlsx, or .json).
    RunExportXlsx,
    RunExportJson,
    ColumnsToggle,
    ColumnsDown,
    ColumnsUp,
    ColumnsClose,
    HelpClose,
    HelpDown,
    HelpUp,
    HelpPageDown,
    HelpPageUp,
    HelpTop,
    HelpBottom,
    HelpFind,
    HelpFindNext,
}

/// Where a binding is live. Two actions may share a key unless they share a context: the
/// wizard's `r` (reload) and the table's `r` (reverse the sort) never meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Normal,
    Filter,
    Command,
    Help,
    Pane,
    Columns,
    Wizard(WizardStep),
}

impl Context {
    /// Characters typed here are text (the filter and command lines, the wizard's path and
    /// tag lines), so a character bound here never acts.
    pub fn types_text(self) -> bool {
        match self {
            Context::Filter | Context::Command => true,
            Context::Wizard(step) => step.is_text(),
            _ => false,
        }
    }
}
