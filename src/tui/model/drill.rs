//! A drill-down: the rows of one table that belong to a row of another (the devices a
//! subscription covers, the subscriptions of a device), with what the title says about it.

use std::collections::HashSet;

use super::table::Row;

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
    pub fn admits(&self, row: &Row) -> bool {
        match self.cell {
            None => self.values.contains(&*row.id),
            Some(c) => self.values.contains(row.cell(c)),
        }
    }
}
