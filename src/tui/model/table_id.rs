//! Names for the console's tables. The filter worker, the detail loader and the app all
//! address a table by one of these instead of a slot number, so adding a table cannot leave
//! a count (the filter worker's) behind.

/// The assignment wizard's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WizardTable {
    Issues,
    Review,
    Subscriptions,
    Applications,
    Plan,
    Report,
}

impl WizardTable {
    pub const ALL: [WizardTable; 6] = [
        WizardTable::Issues,
        WizardTable::Review,
        WizardTable::Subscriptions,
        WizardTable::Applications,
        WizardTable::Plan,
        WizardTable::Report,
    ];

    /// Position in [`WizardTable::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Every table of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableId {
    Devices,
    Subscriptions,
    /// The Expiring tab's upper list (ends within the window).
    Expiring,
    /// The Expiring tab's lower list (already ended).
    Expired,
    /// The Assign tab's run history.
    Assign,
    /// The Workspaces tab (a database holding several).
    Workspaces,
    /// The Changes view (`:changes`).
    Changes,
    Wizard(WizardTable),
}

impl TableId {
    /// How many tables there are (the filter worker keeps one slot each).
    pub const COUNT: usize = 7 + WizardTable::ALL.len();

    /// A dense index in `0..COUNT`.
    pub fn index(self) -> usize {
        match self {
            TableId::Devices => 0,
            TableId::Subscriptions => 1,
            TableId::Expiring => 2,
            TableId::Expired => 3,
            TableId::Assign => 4,
            TableId::Workspaces => 5,
            TableId::Changes => 6,
            TableId::Wizard(w) => 7 + w.index(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_dense_and_distinct() {
        let mut all = vec![
            TableId::Devices,
            TableId::Subscriptions,
            TableId::Expiring,
            TableId::Expired,
            TableId::Assign,
            TableId::Workspaces,
            TableId::Changes,
        ];
        all.extend(WizardTable::ALL.map(TableId::Wizard));
        assert_eq!(all.len(), TableId::COUNT);
        let mut idx: Vec<usize> = all.iter().map(|t| t.index()).collect();
        idx.sort_unstable();
        assert_eq!(idx, (0..TableId::COUNT).collect::<Vec<_>>());
    }
}
