//! What the keyboard is talking to: what `App` holds. The modes' key handlers are in
//! `app/modes.rs`.

/// What the keyboard is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    Normal,
    Filter,
    Command,
    Help,
    Detail,
    Columns,
    /// A yes/no question in the footer (replace the file `:export` names?).
    Ask,
}
