//! A drill-down: the rows of one table that belong to a row of another (the devices a
//! subscription covers, the subscriptions of a device), with what the title says about it.

use std::collections::HashSet;

/// Which rows a drill-down keeps: those whose id (or one cell) is in `values`.
#[derive(Debug, Clone, PartialEq)]
pub struct Drill {
    /// What the title says: "devices of KEY123".
    pub label: String,
    /// `None`: the row's id; `Some(c)`: the text of cell `c`.
    pub cell: Option<usize>,
    pub values: HashSet<Box<str>>,
}

impl Drill {
    /// Does the row with this id (and this text in cell [`Drill::cell`]) belong?
    pub fn admits<'a>(&self, id: &str, cell: impl FnOnce(usize) -> &'a str) -> bool {
        match self.cell {
            None => self.values.contains(id),
            Some(c) => self.values.contains(cell(c)),
        }
    }
}
