//! The overview tab (k9s' pulses): counts by type, region and status, the compliance
//! checks, seat utilisation, what ends per month and sync health, drawn with ratatui's
//! Table, LineGauge and BarChart. The number under the cursor is marked with a glyph as well
//! as the selection style (never colour alone); Enter opens the rows behind it.
//!
//! Which numbers fit is the app's [`OverviewCaps`] of the body size, recorded here each
//! frame, so the cursor only ever moves over what is drawn.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Cell, LineGauge, Paragraph, Row, Table};

use super::chart::compact;
use super::table::put;
use crate::store::overview::{Figures, SeatRow};
use crate::tui::app::{App, OverviewItem, OverviewPanel, overview_items};
use crate::tui::keys::Action;
use crate::tui::model::rows::{fmt_age, fmt_int};
use crate::tui::theme::Theme;

/// The marker of the number under the cursor.
const CURSOR: &str = "▶";
const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/// What a panel draws: its numbers (with their index in the cursor order) and which is
/// selected.
struct Pick<'a> {
    items: Vec<(usize, &'a OverviewItem)>,
    cursor: usize,
}

impl<'a> Pick<'a> {
    fn of(all: &'a [OverviewItem], panel: OverviewPanel, cursor: usize) -> Pick<'a> {
        Pick {
            items: all
                .iter()
                .enumerate()
                .filter(|(_, i)| i.panel == panel)
                .collect(),
            cursor,
        }
    }
    fn selected(&self, index: usize) -> bool {
        index == self.cursor
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let ov = app.overview();
    ov.area.set((area.width, area.height));
    let t = app.theme();
    let Some(f) = ov.figures.as_deref() else {
        let text = if app.syncing() {
            "reading the overview — the first sync is on its way"
        } else {
            "reading the overview from the database…"
        };
        put(
            frame.buffer_mut(),
            area.x + 1,
            area.y + 1,
            text,
            area.width.saturating_sub(2),
            t.dim,
        );
        return;
    };
    let caps = ov.caps();
    let all = overview_items(f, &caps);
    let cursor = ov.cursor;
    let pick = |p| Pick::of(&all, p, cursor);
    if caps.wide {
        // The first row's height is the one `OverviewCaps` counted with.
        let [top, mid, bottom] = Layout::vertical([
            Constraint::Length(area.height.saturating_sub(12) / 2),
            Constraint::Fill(1),
            Constraint::Length(12),
        ])
        .areas(area);
        let [types, regions, status] = Layout::horizontal([Constraint::Fill(1); 3]).areas(top);
        let [checks, seats] = Layout::horizontal([Constraint::Fill(1); 2]).areas(mid);
        let [months, health] =
            Layout::horizontal([Constraint::Fill(2), Constraint::Fill(1)]).areas(bottom);
        let title = format!("Devices by type · {} live", fmt_int(f.devices));
        list(frame, types, &title, &pick(OverviewPanel::Types), t, true);
        list(
            frame,
            regions,
            "By region",
            &pick(OverviewPanel::Regions),
            t,
            true,
        );
        status_panel(frame, status, f, &pick(OverviewPanel::Status), t);
        list(
            frame,
            checks,
            "Compliance",
            &pick(OverviewPanel::Checks),
            t,
            false,
        );
        seats_panel(frame, seats, f, &pick(OverviewPanel::Seats), t, true);
        months_panel(frame, months, &pick(OverviewPanel::Months), t, true);
        health_panel(frame, health, f, app);
    } else {
        let [left, right] = Layout::horizontal([Constraint::Fill(1); 2]).areas(area);
        let [devices, checks] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(12)]).areas(left);
        let [seats, months] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(8)]).areas(right);
        let title = format!("Devices · {} live", fmt_int(f.devices));
        let outer = block(&title, t);
        let [types, status] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)])
            .areas(outer.inner(devices));
        frame.render_widget(outer, devices);
        list(frame, types, "", &pick(OverviewPanel::Types), t, true);
        status_line(frame, status, &pick(OverviewPanel::Status), t);
        list(
            frame,
            checks,
            "Compliance",
            &pick(OverviewPanel::Checks),
            t,
            false,
        );
        seats_panel(frame, seats, f, &pick(OverviewPanel::Seats), t, false);
        months_panel(frame, months, &pick(OverviewPanel::Months), t, false);
    }
}

fn block<'a>(title: &'a str, t: &Theme) -> Block<'a> {
    Block::bordered()
        .title(title)
        .border_style(t.dim)
        .title_style(t.header)
}

/// A bar of `n` out of `max` in `width` cells, in eighths.
fn bar(n: i64, max: i64, width: u16) -> String {
    if max <= 0 || n <= 0 || width == 0 {
        return String::new();
    }
    let eighths = (n as i128 * i128::from(width) * 8 / max as i128).max(1) as usize;
    let mut s = "█".repeat(eighths / 8);
    s.push_str(EIGHTHS[eighths % 8]);
    s
}

fn mark(selected: bool) -> &'static str {
    if selected { CURSOR } else { " " }
}

/// A list of numbers as a Table: marker and label, count, and (`bars`) a bar.
fn list(frame: &mut Frame, area: Rect, title: &str, pick: &Pick<'_>, t: &Theme, bars: bool) {
    let max = pick.items.iter().map(|(_, i)| i.n).max().unwrap_or(0);
    let bar_w = if bars {
        (area.width / 4).clamp(4, 24)
    } else {
        0
    };
    let rows: Vec<Row> = pick
        .items
        .iter()
        .map(|(k, i)| {
            let sel = pick.selected(*k);
            let style = if sel {
                t.selected
            } else if !bars && i.n > 0 {
                t.warn
            } else {
                t.base
            };
            let mut cells = vec![
                Cell::from(format!("{}{}", mark(sel), i.label)),
                Cell::from(Line::from(fmt_int(i.n)).right_aligned()),
            ];
            if bars {
                cells.push(Cell::from(bar(i.n, max, bar_w)).style(t.bar));
            }
            Row::new(cells).style(style)
        })
        .collect();
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(bar_w),
    ];
    let mut table = Table::new(rows, widths).column_spacing(1);
    if !title.is_empty() {
        table = table.block(block(title, t));
    }
    if pick.items.is_empty() {
        let inner = if title.is_empty() {
            area
        } else {
            frame.render_widget(block(title, t), area);
            block(title, t).inner(area)
        };
        put(
            frame.buffer_mut(),
            inner.x + 1,
            inner.y,
            "none",
            inner.width,
            t.dim,
        );
        return;
    }
    frame.render_widget(table, area);
}

/// The status counts on one line (the compact layout).
fn status_line(frame: &mut Frame, area: Rect, pick: &Pick<'_>, t: &Theme) {
    let mut x = area.x;
    for (k, i) in &pick.items {
        let sel = pick.selected(*k);
        let text = format!("{}{} {}", mark(sel), i.label, fmt_int(i.n));
        let w = text.chars().count() as u16;
        if x + w > area.x + area.width {
            break;
        }
        put(
            frame.buffer_mut(),
            x,
            area.y,
            &text,
            w,
            if sel { t.selected } else { t.base },
        );
        x += w + 1;
    }
}

/// Status counts and the share of devices assigned.
fn status_panel(frame: &mut Frame, area: Rect, f: &Figures, pick: &Pick<'_>, t: &Theme) {
    let outer = block("By status", t);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let [lines, _, gauge] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    list(frame, lines, "", pick, t, true);
    let assigned = pick.items.first().map_or(0, |(_, i)| i.n);
    let ratio = if f.devices > 0 {
        (assigned as f64 / f.devices as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let g = LineGauge::default()
        .ratio(ratio)
        .label(format!("assigned {:>3.0}%", ratio * 100.0))
        .filled_symbol("█")
        .unfilled_symbol("░")
        .filled_style(t.bar)
        .unfilled_style(t.dim);
    frame.render_widget(g, gauge);
}

fn short_type(t: &Option<String>) -> String {
    match t {
        Some(s) => s.strip_prefix("CENTRAL_").unwrap_or(s).to_string(),
        None => "(none)".into(),
    }
}

/// Seats per subscription type and tier: the whole as a gauge, then each as a row.
fn seats_panel(frame: &mut Frame, area: Rect, f: &Figures, pick: &Pick<'_>, t: &Theme, wide: bool) {
    let outer = block("Seat utilisation", t);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let [gauge, rows_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let (used, qty): (i64, i64) = f
        .seats
        .iter()
        .fold((0, 0), |(u, q), s| (u + s.used, q + s.quantity));
    let ratio = if qty > 0 {
        (used as f64 / qty as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let g = LineGauge::default()
        .ratio(ratio)
        .label(format!("{}/{} seats", compact_i(used), compact_i(qty)))
        .filled_symbol("█")
        .unfilled_symbol("░")
        .filled_style(t.bar)
        .unfilled_style(t.dim);
    frame.render_widget(g, gauge);
    let seat = |i: &OverviewItem| -> Option<&SeatRow> {
        f.seats.iter().find(|s| {
            matches!(&i.jump, crate::store::overview::Jump::Seats { subscription_type, tier }
                if *subscription_type == s.subscription_type && *tier == s.tier)
        })
    };
    let mut rows = Vec::new();
    for (k, i) in &pick.items {
        let Some(s) = seat(i) else { continue };
        let sel = pick.selected(*k);
        let label = format!(
            "{}{} {}",
            mark(sel),
            short_type(&s.subscription_type),
            s.tier.as_deref().unwrap_or("(none)")
        );
        let over = if s.over_used > 0 {
            format!("{} over", s.over_used)
        } else {
            String::new()
        };
        let mut cells = vec![
            Cell::from(label),
            Cell::from(Line::from(fmt_int(s.subscriptions)).right_aligned()),
            Cell::from(
                Line::from(format!("{}/{}", compact_i(s.used), compact_i(s.quantity)))
                    .right_aligned(),
            ),
            Cell::from(Line::from(format!("{:.0}%", s.percent())).right_aligned()),
        ];
        if wide {
            cells.push(Cell::from(bar(s.used.min(s.quantity), s.quantity.max(1), 10)).style(t.bar));
            cells.push(Cell::from(over).style(t.warn));
        } else if s.over_used > 0 {
            cells[3] = Cell::from(Line::from(format!("!{:.0}%", s.percent())).right_aligned());
        }
        let style = if sel { t.selected } else { t.base };
        rows.push(Row::new(cells).style(style));
    }
    let header = if wide {
        vec!["type tier", "subs", "used/qty", "%", "", "over-use"]
    } else {
        vec!["type tier", "subs", "used/qty", "%"]
    };
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(11),
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(8),
        ]
    } else {
        vec![
            Constraint::Fill(1),
            Constraint::Length(4),
            Constraint::Length(9),
            Constraint::Length(5),
        ]
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header))
        .column_spacing(1);
    frame.render_widget(table, rows_area);
}

fn compact_i(n: i64) -> String {
    if n < 0 {
        format!("-{}", compact(n.unsigned_abs()))
    } else {
        compact(n as u64)
    }
}

/// What ends per month, twelve bars, with a caret under the selected one.
fn months_panel(frame: &mut Frame, area: Rect, pick: &Pick<'_>, t: &Theme, wide: bool) {
    let title = "Subscriptions ending per month";
    let outer = block(title, t);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    if inner.height < 3 || pick.items.is_empty() {
        return;
    }
    let n = pick.items.len() as u16;
    let bar_w = (inner.width / n).saturating_sub(1).clamp(2, 7);
    let label = |m: &str| -> String {
        let (year, month) = m.split_once('-').unwrap_or((m, ""));
        let names = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let name = month
            .parse::<usize>()
            .ok()
            .and_then(|i| names.get(i.wrapping_sub(1)))
            .copied()
            .unwrap_or("?");
        match bar_w {
            0..=2 => month.to_string(),
            3..=5 => name.to_string(),
            _ => format!("{name} {}", year.get(2..).unwrap_or(year)),
        }
    };
    let bars: Vec<Bar> = pick
        .items
        .iter()
        .map(|(k, i)| {
            let style = if pick.selected(*k) { t.selected } else { t.bar };
            Bar::default()
                .value(u64::try_from(i.n).unwrap_or(0))
                .text_value(compact_i(i.n))
                .label(Line::from(label(&i.label)))
                .style(style)
                .value_style(t.base)
        })
        .collect();
    let [chart_area, caret] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    let chart = BarChart::default()
        .data(BarGroup::default().bars(&bars))
        .bar_width(bar_w)
        .bar_gap(1)
        .label_style(t.dim);
    frame.render_widget(chart, chart_area);
    if let Some(pos) = pick.items.iter().position(|(k, _)| pick.selected(*k)) {
        let x = caret.x + pos as u16 * (bar_w + 1);
        put(frame.buffer_mut(), x, caret.y, "▲", 1, t.accent);
    } else if wide {
        put(
            frame.buffer_mut(),
            caret.x,
            caret.y,
            "STARTED subscriptions by the month their term ends",
            caret.width,
            t.dim,
        );
    }
}

/// Sync health: the last good sync, each resource's last run, failing workspaces.
fn health_panel(frame: &mut Frame, area: Rect, f: &Figures, app: &App) {
    let t = app.theme();
    let now = app.now();
    let age = |at: chrono::DateTime<chrono::Utc>| fmt_age((now - at).num_seconds().max(0));
    let mut lines = Vec::new();
    lines.push(Line::styled(
        match app.last_good() {
            Some(at) => format!("last good sync {} ago", age(at)),
            None => "no good sync yet".to_string(),
        },
        t.base,
    ));
    for r in &f.runs {
        let when = r.finished_at.unwrap_or(r.started_at);
        let glyph = match r.outcome.as_str() {
            "succeeded" => "✔",
            "running" => "⟳",
            _ => "✖",
        };
        let style = if r.outcome == "succeeded" {
            t.ok
        } else {
            t.error
        };
        lines.push(Line::styled(
            format!(
                "{glyph} {} {} {} ago · {} read",
                r.resource,
                r.outcome,
                age(when),
                fmt_int(i64::from(r.fetched))
            ),
            style,
        ));
        if let Some(e) = r.error.as_deref().filter(|_| r.outcome != "succeeded") {
            lines.push(Line::styled(format!("  {e}"), t.dim));
        }
    }
    if f.runs.is_empty() {
        lines.push(Line::styled("no sync recorded", t.dim));
    }
    if app.workspaces().multi() {
        let sum = app.workspaces().summary();
        lines.push(Line::styled(sum.text(), t.base));
    }
    let stale = app.status().stale;
    if stale {
        lines.push(Line::styled("data is stale: GreenLake unreachable", t.warn));
    }
    frame.render_widget(Paragraph::new(lines).block(block("Sync health", t)), area);
}

/// The info line: what the cursor is on and how to open it.
pub fn draw_info(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let keys = app.keymap();
    let text = match app.overview_selected() {
        Some(i) if app.overview().pending.as_ref() == Some(&i.jump) => {
            format!("{CURSOR} {}: {} — reading the rows…", i.label, fmt_int(i.n))
        }
        Some(i) => format!(
            "{CURSOR} {}: {} — {} opens the rows · {} moves · {} next panel",
            i.jump.label(
                app.overview()
                    .figures
                    .as_ref()
                    .map_or(app.window_days(), |f| f.window_days)
            ),
            fmt_int(i.n),
            keys.label(Action::Detail),
            keys.label(Action::Down),
            keys.label(Action::ScrollRight),
        ),
        None => String::new(),
    };
    put(
        frame.buffer_mut(),
        area.x,
        area.y,
        &text,
        area.width,
        t.base,
    );
}

/// The footer hints of the overview tab.
pub fn hints(app: &App) -> Vec<(String, &'static str)> {
    let k = app.keymap();
    let mut v = Vec::new();
    for (a, what) in [
        (Action::Down, "move"),
        (Action::Detail, "open"),
        (Action::Sync, "sync"),
        (Action::Command, "cmd"),
        (Action::Help, "help"),
        (Action::Quit, "quit"),
    ] {
        if let Some(key) = k.first(a) {
            v.push((key, what));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::OverviewCaps;

    #[test]
    fn bars_grow_in_eighths() {
        assert_eq!(bar(0, 10, 8), "");
        assert_eq!(bar(10, 10, 8), "████████");
        assert_eq!(bar(1, 16, 8), "▌");
        assert_eq!(bar(1, 1000, 8), "▏");
    }

    #[test]
    fn caps_fit_the_two_sizes() {
        let small = OverviewCaps::for_area(80, 20);
        assert!(!small.wide);
        let big = OverviewCaps::for_area(160, 44);
        assert!(big.wide && big.types > small.types);
    }
}
