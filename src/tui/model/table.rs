//! The table model shared by every tab: rows with their display strings and cell widths
//! computed once per load, a sort order, the filter result, and a selection anchored to the
//! row's id so a refresh never makes the cursor jump.

use std::cell::Cell;
use std::cmp::Ordering;
use std::sync::Arc;

use unicode_width::UnicodeWidthStr;

use super::drill::Drill;

mod row;
mod views;

pub use row::{Mark, Row, SEP};

/// A column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: &'static str,
    /// Sort by the number at the start of the cell rather than by text.
    pub numeric: bool,
    /// Widest the column may get (in terminal cells); longer values are cut with `…`.
    pub max_width: u16,
    pub visible: bool,
}

impl Column {
    pub const fn text(name: &'static str, max_width: u16) -> Column {
        Column {
            name,
            numeric: false,
            max_width,
            visible: true,
        }
    }
    pub const fn num(name: &'static str, max_width: u16) -> Column {
        Column {
            name,
            numeric: true,
            max_width,
            visible: true,
        }
    }
    pub const fn hidden(mut self) -> Column {
        self.visible = false;
        self
    }
}

/// What a loader hands to a table: rows in their default order plus counts for the one-line
/// breakdown above the table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableData {
    pub rows: Vec<Row>,
    pub breakdown: Vec<(String, usize)>,
}

/// Count the rows by one column's value, largest first (ties by name).
pub fn breakdown<'a>(values: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    breakdown_of_counts(counts)
}

/// [`breakdown`] from counts already made (e.g. by the database); equal values add up.
pub fn breakdown_of_counts<'a>(
    counts: impl IntoIterator<Item = (&'a str, usize)>,
) -> Vec<(String, usize)> {
    let mut merged: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (k, n) in counts {
        *merged.entry(k).or_default() += n;
    }
    let mut out: Vec<(String, usize)> = merged
        .into_iter()
        .map(|(k, n)| {
            (
                if k.is_empty() {
                    "—".to_string()
                } else {
                    k.to_string()
                },
                n,
            )
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// The state of one table on screen.
#[derive(Debug, Clone)]
pub struct TableModel {
    pub columns: Vec<Column>,
    rows: Arc<Vec<Row>>,
    /// Width each column gets: max of header and cells, capped by `max_width`.
    widths: Vec<u16>,
    /// Width of each column's widest value, uncapped: what spare screen width can give back.
    natural: Vec<u16>,
    /// Columns scrolled off to the left (after the first, which stays); the draw clamps it
    /// to what the screen needs, hence a `Cell`.
    hscroll: Cell<usize>,
    /// A drill-down: only the rows it names are shown (with the filter on top).
    drill: Option<Drill>,
    /// Row indices in sort order.
    order: Vec<u32>,
    /// `order` restricted to the filter's matches: what is on screen.
    view: Vec<u32>,
    mask: Option<Arc<Vec<bool>>>,
    pub sort: Option<(usize, bool)>,
    selected: usize,
    /// Where the window starts; moved while drawing, hence a `Cell` (views draw from `&App`).
    offset: Cell<usize>,
    /// The live filter text (empty: no filter).
    pub filter: String,
    /// Generation of the filter request whose result is awaited; older results are dropped.
    pub awaited: u64,
    /// Why the filter text cannot run (an unknown column…), shown where the filter is.
    filter_error: Option<String>,
    /// Counts by the breakdown column over what is shown.
    pub breakdown: Vec<(String, usize)>,
    all_breakdown: Vec<(String, usize)>,
    /// The column whose value `y` copies.
    pub copy_col: usize,
    /// The column the breakdown line counts.
    pub breakdown_col: Option<usize>,
    pub loaded: bool,
    /// What an empty, loaded table says instead of the generic "no rows yet" (the wizard's
    /// lists are empty for their own reasons). A `String`: some name a key, built from the
    /// live bindings.
    pub empty_text: Option<String>,
    /// Set while only the first screenful is loaded: the full row count (from the database)
    /// once counted, shown in titles and counts until the full rows replace the head.
    partial_total: Option<Counted>,
}

/// The full row count of a table showing only its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    /// Still being counted: no figure is shown rather than the head's own length.
    Pending,
    Rows(usize),
}

impl TableModel {
    pub fn new(columns: Vec<Column>, copy_col: usize, breakdown_col: Option<usize>) -> TableModel {
        let mut m = TableModel {
            widths: Vec::new(),
            columns,
            rows: Arc::new(Vec::new()),
            order: Vec::new(),
            view: Vec::new(),
            mask: None,
            sort: None,
            selected: 0,
            offset: Cell::new(0),
            natural: Vec::new(),
            hscroll: Cell::new(0),
            drill: None,
            filter: String::new(),
            awaited: 0,
            filter_error: None,
            breakdown: Vec::new(),
            all_breakdown: Vec::new(),
            copy_col,
            breakdown_col,
            loaded: false,
            empty_text: None,
            partial_total: None,
        };
        m.compute_widths();
        m
    }

    pub fn rows(&self) -> &Arc<Vec<Row>> {
        &self.rows
    }
    pub fn len(&self) -> usize {
        self.view.len()
    }
    pub fn is_empty(&self) -> bool {
        self.view.is_empty()
    }
    /// Rows in the table (the full count while only the head is loaded; the head's own
    /// length while that is still being counted, see [`TableModel::counting`]).
    pub fn total(&self) -> usize {
        match self.partial_total {
            Some(Counted::Rows(n)) => n,
            _ => self.rows.len(),
        }
    }
    /// Only the first screenful is loaded; the rest is on its way.
    pub fn is_partial(&self) -> bool {
        self.partial_total.is_some()
    }
    /// Only the head is loaded and the full count has not arrived: [`TableModel::total`] is
    /// not the table's size, so nothing should show it as one.
    pub fn counting(&self) -> bool {
        self.partial_total == Some(Counted::Pending)
    }
    pub fn selected_index(&self) -> usize {
        self.selected
    }
    pub fn offset(&self) -> usize {
        self.offset.get()
    }
    pub fn width(&self, col: usize) -> u16 {
        self.widths.get(col).copied().unwrap_or(0)
    }
    pub fn visible_columns(&self) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|c| self.columns[*c].visible)
            .collect()
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.view
            .get(self.selected)
            .and_then(|i| self.rows.get(*i as usize))
    }

    /// The row at a position of the view.
    pub fn row_at(&self, pos: usize) -> Option<&Row> {
        self.view.get(pos).and_then(|i| self.rows.get(*i as usize))
    }

    /// Replace the rows (a load or a refresh after a sync). Sort and filter are kept; the
    /// selection stays on the same id, or on the same position if that row went away.
    /// Returns true when a filter must be re-run for the new rows.
    pub fn set_data(&mut self, data: TableData) -> bool {
        self.partial_total = None;
        self.replace(data)
    }

    /// Show the first rows of a table while the rest loads (the head is in the table's
    /// default order, so the full load keeps the screen still); its size follows
    /// ([`TableModel::set_head_counts`]). Ignored once the full rows are there: a reload
    /// keeps showing them until its full result arrives. Returns true when a filter must be
    /// re-run for the new rows.
    pub fn set_head(&mut self, data: TableData) -> bool {
        if self.loaded && self.partial_total.is_none() {
            return false;
        }
        self.partial_total = Some(Counted::Pending);
        self.replace(data)
    }

    /// The full size and per-value breakdown of a table showing its head. Ignored when the
    /// full rows are there (they are counted themselves) or no head is.
    pub fn set_head_counts(&mut self, breakdown: Vec<(String, usize)>, total: usize) {
        if self.partial_total.is_none() {
            return;
        }
        self.partial_total = Some(Counted::Rows(total.max(self.rows.len())));
        self.all_breakdown = breakdown;
        self.rebuild_view();
    }

    fn replace(&mut self, data: TableData) -> bool {
        let anchor = self.selected_row().map(|r| r.id.clone());
        // Under a filter, the rows that matched a moment ago stay the view until the new
        // result comes: showing every row meanwhile would put a key (a mark, an assign) on
        // a row the filter hides.
        let matched: Option<std::collections::HashSet<Box<str>>> = self
            .mask
            .as_ref()
            .filter(|_| !self.filter.is_empty())
            .map(|mask| {
                self.rows
                    .iter()
                    .zip(mask.iter())
                    .filter(|(_, m)| **m)
                    .map(|(r, _)| r.id.clone())
                    .collect()
            });
        let mut rows = data.rows;
        rows.shrink_to_fit();
        self.rows = Arc::new(rows);
        self.all_breakdown = data.breakdown;
        self.loaded = true;
        self.compute_widths();
        self.order = (0..self.rows.len() as u32).collect();
        if let Some((col, desc)) = self.sort {
            self.sort_order(col, desc);
        }
        self.mask =
            matched.map(|ids| Arc::new(self.rows.iter().map(|r| ids.contains(&r.id)).collect()));
        self.rebuild_view();
        if let Some(id) = anchor {
            self.select_id(&id);
        }
        self.clamp();
        !self.filter.is_empty()
    }

    /// One pass over the rows: the natural width (the widest cell, or the header) of each
    /// column, and the width it gets before any spare is shared out (the natural one, capped
    /// at the column's maximum but never below its header).
    fn compute_widths(&mut self) {
        let header = |col: &Column| u16::try_from(col.name.width()).unwrap_or(u16::MAX) + 2;
        self.natural = self
            .columns
            .iter()
            .enumerate()
            .map(|(c, col)| {
                let cells = self
                    .rows
                    .iter()
                    .map(|r| r.widths.get(c).copied().unwrap_or(0));
                cells.max().unwrap_or(0).max(header(col))
            })
            .collect();
        self.widths = self
            .columns
            .iter()
            .zip(&self.natural)
            .map(|(col, n)| (*n).min(col.max_width.max(header(col))))
            .collect();
    }

    fn rebuild_view(&mut self) {
        let rows = &self.rows;
        let drilled = |i: &u32| {
            self.drill.as_ref().is_none_or(|d| {
                rows.get(*i as usize)
                    .is_some_and(|r| d.admits(&r.id, |c| r.cell(c)))
            })
        };
        self.view = match &self.mask {
            Some(mask) => self
                .order
                .iter()
                .copied()
                .filter(|i| mask.get(*i as usize).copied().unwrap_or(false) && drilled(i))
                .collect(),
            None => self.order.iter().copied().filter(drilled).collect(),
        };
        if self.drill.is_some()
            && let Some(col) = self.breakdown_col
        {
            self.breakdown = breakdown(self.view.iter().map(|i| rows[*i as usize].cell(col)));
        } else if self.mask.is_none() {
            self.breakdown = self.all_breakdown.clone();
        }
    }

    fn sort_order(&mut self, col: usize, desc: bool) {
        let rows = &self.rows;
        if self.columns.get(col).is_some_and(|c| c.numeric) {
            let mut keyed: Vec<(i64, u32)> = self
                .order
                .iter()
                .map(|i| (leading_number(rows[*i as usize].cell(col)), *i))
                .collect();
            keyed.sort_by(|a, b| {
                let o = a.0.cmp(&b.0);
                let o = if desc { o.reverse() } else { o };
                o.then(a.1.cmp(&b.1))
            });
            self.order = keyed.into_iter().map(|(_, i)| i).collect();
        } else {
            self.order.sort_by(|a, b| {
                let ra = rows[*a as usize].cell(col);
                let rb = rows[*b as usize].cell(col);
                let o = cmp_text(ra, rb);
                let o = if desc { o.reverse() } else { o };
                o.then(a.cmp(b))
            });
        }
    }

    /// Sort by a column (stable: ties keep the load order); the selection keeps its row.
    pub fn sort_by(&mut self, col: usize, desc: bool) {
        if col >= self.columns.len() {
            return;
        }
        let anchor = self.selected_row().map(|r| r.id.clone());
        self.sort = Some((col, desc));
        self.order = (0..self.rows.len() as u32).collect();
        self.sort_order(col, desc);
        self.rebuild_view();
        if let Some(id) = anchor {
            self.select_id(&id);
        }
    }

    /// Take a filter result if it is the one awaited. Returns false for stale results.
    pub fn apply_filter(
        &mut self,
        generation: u64,
        mask: Arc<Vec<bool>>,
        counts: Vec<(String, usize)>,
    ) -> bool {
        if generation != self.awaited || mask.len() != self.rows.len() {
            return false;
        }
        let anchor = self.selected_row().map(|r| r.id.clone());
        self.mask = Some(mask);
        self.filter_error = None;
        self.rebuild_view();
        // Under a drill-down the view's own counts stand (the worker counted every match).
        if self.drill.is_none() {
            self.breakdown = counts;
        }
        if let Some(id) = anchor
            && !self.select_id(&id)
        {
            self.selected = 0;
            self.offset.set(0);
        }
        self.clamp();
        true
    }

    /// The filter text cannot run: show no rows (a count of zero is then no silent answer:
    /// the reason is shown with it) until the text is fixed or cleared.
    pub fn filter_failed(&mut self, reason: String) {
        self.mask = Some(Arc::new(vec![false; self.rows.len()]));
        self.filter_error = Some(reason);
        self.rebuild_view();
        self.breakdown = Vec::new();
        self.clamp();
    }

    /// Why the current filter text cannot run, if it cannot.
    pub fn filter_error(&self) -> Option<&str> {
        self.filter_error.as_deref()
    }

    /// Drop the filter and show every row again.
    pub fn clear_filter(&mut self) {
        let anchor = self.selected_row().map(|r| r.id.clone());
        self.filter.clear();
        self.filter_error = None;
        self.awaited = self.awaited.wrapping_add(1_000_000_000);
        self.mask = None;
        self.rebuild_view();
        if let Some(id) = anchor {
            self.select_id(&id);
        }
        self.clamp();
    }

    /// Is a filter result still outstanding?
    pub fn filter_active(&self) -> bool {
        !self.filter.is_empty()
    }

    /// Move the selection to the row with this id. False when it is not in the view.
    pub fn select_id(&mut self, id: &str) -> bool {
        let rows = &self.rows;
        if let Some(pos) = self.view.iter().position(|i| &*rows[*i as usize].id == id) {
            self.selected = pos;
            true
        } else {
            false
        }
    }

    fn clamp(&mut self) {
        if self.view.is_empty() {
            self.selected = 0;
            self.offset.set(0);
        } else if self.selected >= self.view.len() {
            self.selected = self.view.len() - 1;
        }
    }

    /// Move by `delta` rows (clamped).
    pub fn move_by(&mut self, delta: isize) {
        if self.view.is_empty() {
            return;
        }
        let max = self.view.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, max) as usize;
    }
    pub fn top(&mut self) {
        self.selected = 0;
    }
    pub fn bottom(&mut self) {
        self.selected = self.view.len().saturating_sub(1);
    }

    /// Adjust the scroll offset so the selection is inside a window of `height` rows, and
    /// return the range of view positions to draw.
    pub fn window(&self, height: usize) -> std::ops::Range<usize> {
        if height == 0 {
            return 0..0;
        }
        let mut offset = self.offset.get();
        if self.selected < offset {
            offset = self.selected;
        } else if self.selected >= offset + height {
            offset = self.selected + 1 - height;
        }
        let max_offset = self.view.len().saturating_sub(height);
        let offset = offset.min(max_offset);
        self.offset.set(offset);
        offset..(offset + height).min(self.view.len())
    }

    /// Rows of the current view in order (for export).
    pub fn view_rows(&self) -> impl Iterator<Item = &Row> {
        self.view.iter().map(|i| &self.rows[*i as usize])
    }

    /// Toggle a column's visibility (at least one stays visible).
    pub fn toggle_column(&mut self, col: usize) {
        let visible = self.columns.iter().filter(|c| c.visible).count();
        if let Some(c) = self.columns.get_mut(col) {
            if c.visible && visible <= 1 {
                return;
            }
            c.visible = !c.visible;
        }
    }

    /// Column index by (case-insensitive, prefix) name.
    pub fn column_by_name(&self, name: &str) -> Option<usize> {
        self.column_lookup(name).ok()
    }

    /// A column by its name, or by a prefix only one column has; an exact name always wins
    /// (`mac` is MAC even beside `mac model`). Else the columns the prefix fits (none, or
    /// several: then nothing is picked for the user).
    pub fn column_lookup(&self, name: &str) -> Result<usize, Vec<&'static str>> {
        let norm = |s: &str| s.to_ascii_lowercase().replace([' ', '/', '_'], "");
        let n = norm(name);
        if let Some(i) = self.columns.iter().position(|c| norm(c.name) == n) {
            return Ok(i);
        }
        let fits: Vec<usize> = (0..self.columns.len())
            .filter(|i| norm(self.columns[*i].name).starts_with(&n))
            .collect();
        match fits[..] {
            [one] => Ok(one),
            _ => Err(fits.iter().map(|i| self.columns[*i].name).collect()),
        }
    }
}

/// Text order that puts empty cells last and ignores ASCII case.
fn cmp_text(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let ab = a.bytes().map(|c| c.to_ascii_lowercase());
    let bb = b.bytes().map(|c| c.to_ascii_lowercase());
    ab.cmp(bb)
}

/// The signed integer a cell starts with (`-12d`, `1 203`, `37/100`); empty or non-numeric
/// cells sort last.
pub fn leading_number(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut v: i64 = 0;
    let mut any = false;
    for c in digits.chars() {
        match c {
            '0'..='9' => {
                any = true;
                v = v
                    .saturating_mul(10)
                    .saturating_add(i64::from(c as u8 - b'0'));
            }
            ' ' | '\u{202f}' | ',' if any => {}
            _ => break,
        }
    }
    if !any {
        return i64::MAX;
    }
    if neg { -v } else { v }
}
