//! The wizard's steps. A leaf module (it imports no other part of the console but the
//! table names), so the keymap can name steps without depending on the wizard's state.

use crate::tui::model::table_id::WizardTable;

/// The wizard's steps, in order. `Confirm` is the question dialog over the plan or the
/// progress screen; it is a step only for the key table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum WizardStep {
    #[default]
    File,
    Loading,
    Sheet,
    Validate,
    Review,
    Subscription,
    Region,
    Tags,
    Plan,
    Confirm,
    Applying,
    Report,
}

impl WizardStep {
    /// The breadcrumb's steps (Loading, Sheet and Confirm are not stops of their own).
    pub const CRUMBS: [WizardStep; 9] = [
        WizardStep::File,
        WizardStep::Validate,
        WizardStep::Review,
        WizardStep::Subscription,
        WizardStep::Region,
        WizardStep::Tags,
        WizardStep::Plan,
        WizardStep::Applying,
        WizardStep::Report,
    ];

    /// The step's name in the breadcrumb.
    pub fn title(self) -> &'static str {
        match self {
            WizardStep::File => "File",
            WizardStep::Loading => "Reading",
            WizardStep::Sheet => "Sheet",
            WizardStep::Validate => "Validate",
            WizardStep::Review => "Review",
            WizardStep::Subscription => "Subscription",
            WizardStep::Region => "Application",
            WizardStep::Tags => "Tags",
            WizardStep::Plan => "Plan",
            WizardStep::Confirm => "Confirm",
            WizardStep::Applying => "Apply",
            WizardStep::Report => "Report",
        }
    }

    /// The list a step shows, if it is a list.
    pub fn table(self) -> Option<WizardTable> {
        match self {
            WizardStep::Validate => Some(WizardTable::Issues),
            WizardStep::Review => Some(WizardTable::Review),
            WizardStep::Subscription => Some(WizardTable::Subscriptions),
            WizardStep::Region => Some(WizardTable::Applications),
            WizardStep::Plan => Some(WizardTable::Plan),
            WizardStep::Report => Some(WizardTable::Report),
            _ => None,
        }
    }

    /// Steps where the user types text (the path, a tag edit).
    pub fn is_text(self) -> bool {
        matches!(self, WizardStep::File | WizardStep::Tags)
    }
}
