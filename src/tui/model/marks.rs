//! Marks on a table, kept by row id: a filter, a sort or a reload (which rebuilds every row)
//! never changes which devices are marked, only which of them are on screen.

use std::collections::HashSet;

use super::table::{Row, TableModel};

/// The marked rows' ids, and the last one marked (where a range mark starts).
#[derive(Debug, Clone, Default)]
pub struct Marks {
    ids: HashSet<Box<str>>,
    anchor: Option<Box<str>>,
}

impl Marks {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Mark or unmark `id`; true when it is marked now. Either way it is where the next
    /// range starts.
    pub fn toggle(&mut self, id: &str) -> bool {
        self.anchor = Some(id.into());
        if self.ids.remove(id) {
            false
        } else {
            self.ids.insert(id.into());
            true
        }
    }

    /// Mark every row the table shows (the filter's matches); how many were new.
    pub fn mark_shown(&mut self, table: &TableModel) -> usize {
        let before = self.ids.len();
        for r in table.view_rows() {
            self.ids.insert(r.id.clone());
        }
        self.ids.len() - before
    }

    /// Mark the rows shown between the range's start and the selection (both included); a
    /// start that is not on screen (filtered out, or none yet) marks the selection alone.
    /// How many were new.
    pub fn mark_range(&mut self, table: &TableModel) -> usize {
        let cur = table.selected_index();
        let start = self
            .anchor
            .as_deref()
            .and_then(|a| table.view_rows().position(|r| &*r.id == a))
            .unwrap_or(cur);
        let (lo, hi) = (start.min(cur), start.max(cur));
        let before = self.ids.len();
        for pos in lo..=hi {
            if let Some(r) = table.row_at(pos) {
                self.ids.insert(r.id.clone());
            }
        }
        if let Some(r) = table.selected_row() {
            self.anchor = Some(r.id.clone());
        }
        self.ids.len() - before
    }

    pub fn clear(&mut self) {
        self.ids.clear();
        self.anchor = None;
    }

    /// The marked rows of `table`, in its load order (marks of rows a reload no longer has
    /// are kept, but have nothing to give).
    pub fn rows<'a>(&'a self, table: &'a TableModel) -> impl Iterator<Item = &'a Row> + 'a {
        table
            .rows()
            .iter()
            .filter(move |r| self.ids.contains(&r.id))
    }
}
