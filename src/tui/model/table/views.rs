//! What a table shows beyond its rows and filter: the columns scrolled off to the left,
//! the drill-down it is narrowed to, and some of its rows as an export writes them.

use super::{Drill, Row, TableModel};

impl TableModel {
    /// The widest value of a column (header included), not capped.
    pub fn natural_width(&self, col: usize) -> u16 {
        self.natural.get(col).copied().unwrap_or(0)
    }

    /// Columns scrolled off to the left.
    pub fn hscroll(&self) -> usize {
        self.hscroll.get()
    }
    /// Scroll the columns by `d` (the draw keeps it where the last column still shows).
    pub fn scroll_columns(&mut self, d: isize) {
        let next = self.hscroll.get().saturating_add_signed(d);
        self.hscroll
            .set(next.min(self.visible_columns().len().saturating_sub(1)));
    }
    /// Keep the scroll at most `max` (the draw knows how many columns fit).
    pub fn clamp_hscroll(&self, max: usize) {
        self.hscroll.set(self.hscroll.get().min(max));
    }

    /// Back to the load order (a saved view without a sort); the selection keeps its row.
    pub fn clear_sort(&mut self) {
        let anchor = self.selected_row().map(|r| r.id.clone());
        self.sort = None;
        self.order = (0..self.rows.len() as u32).collect();
        self.rebuild_view();
        if let Some(id) = anchor {
            self.select_id(&id);
        }
    }

    /// Show only the rows `drill` names (None: all rows again).
    pub fn set_drill(&mut self, drill: Option<Drill>) {
        let anchor = self.selected_row().map(|r| r.id.clone());
        self.drill = drill;
        self.rebuild_view();
        match anchor {
            Some(id) if self.drill.is_none() => {
                self.select_id(&id);
            }
            _ => self.top(),
        }
        self.clamp();
    }
    pub fn drill(&self) -> Option<&Drill> {
        self.drill.as_ref()
    }

    /// The header and `rows` in the columns shown, as `:export` and "export marked" write
    /// them (one shape for both, so a file looks the same whichever made it).
    pub fn export_cells<'a>(
        &self,
        rows: impl Iterator<Item = &'a Row>,
    ) -> (Vec<String>, Vec<Vec<String>>) {
        let vis = self.visible_columns();
        let header = vis
            .iter()
            .map(|c| self.columns[*c].name.to_string())
            .collect();
        let rows = rows
            .map(|r| vis.iter().map(|c| r.cell(*c).to_string()).collect())
            .collect();
        (header, rows)
    }
}
