//! What the detail pane shows for one wizard row, as data: the wizard builds it
//! (`detail.rs`), the app draws it. A leaf, so the wizard's messages can carry it.

/// One line of the pane: a `name  value` field, a heading, or text wrapped to the width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailLine {
    Field(&'static str, String),
    Heading(String),
    Text(String),
}

/// What the pane shows for one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDetail {
    pub title: String,
    pub lines: Vec<DetailLine>,
    /// What the copy key copies: the whole text.
    pub copy: String,
}

impl RowDetail {
    /// The lines, and the copy text made of them.
    pub fn new(title: String, lines: Vec<DetailLine>) -> RowDetail {
        let copy = lines
            .iter()
            .map(|l| match l {
                DetailLine::Field(n, v) => format!("{n}: {v}"),
                DetailLine::Heading(h) | DetailLine::Text(h) => h.clone(),
            })
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        RowDetail { title, lines, copy }
    }
}
