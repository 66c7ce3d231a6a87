//! A row of a key table ([`Info`]) and a footer hint of a mode ([`Hint`]): the shapes
//! `defaults.rs` is written in. A leaf, so the tables depend on nothing that reads them.

use super::actions::{Action, Context, ModalAction};

/// One action's row in a table.
#[derive(Debug, Clone, Copy)]
pub struct Info<A: 'static> {
    pub action: A,
    /// The name used in `[ui.keys]`.
    pub name: &'static str,
    /// The heading help shows it under.
    pub group: &'static str,
    /// What help shows.
    pub description: &'static str,
    /// Short label for the footer; `None` keeps it out of the footer.
    pub hint: Option<&'static str>,
    pub defaults: &'static [&'static str],
    /// Normal-mode actions whose live keys come first among the defaults, so the panes and
    /// lists move with the table's keys after a rebinding.
    pub like: &'static [Action],
    /// Writes somewhere (the database or GreenLake): hidden with `--read-only`.
    pub writes: bool,
    /// Where the binding is live; actions clash only when they share a context.
    pub contexts: &'static [Context],
}

impl<A: Copy> Info<A> {
    pub const fn new(
        action: A,
        name: &'static str,
        group: &'static str,
        description: &'static str,
        contexts: &'static [Context],
    ) -> Info<A> {
        Info {
            action,
            name,
            group,
            description,
            hint: None,
            defaults: &[],
            like: &[],
            writes: false,
            contexts,
        }
    }
    pub const fn hint(self, hint: &'static str) -> Info<A> {
        Info {
            hint: Some(hint),
            ..self
        }
    }
    pub const fn keys(self, defaults: &'static [&'static str]) -> Info<A> {
        Info { defaults, ..self }
    }
    pub const fn like(self, like: &'static [Action]) -> Info<A> {
        Info { like, ..self }
    }
    pub const fn writes(self) -> Info<A> {
        Info {
            writes: true,
            ..self
        }
    }
}

/// A footer hint of a mode: the first `keys` keys of each action, joined by `join` (by `/`
/// once a key is longer than one glyph), then the label.
#[derive(Debug, Clone, Copy)]
pub struct Hint {
    pub actions: &'static [ModalAction],
    pub keys: usize,
    pub join: &'static str,
    pub label: &'static str,
}
