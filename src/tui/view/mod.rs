//! Drawing. Reads the app state (and records the page height it learns); never does I/O.

pub mod chart;
pub mod marks;
pub mod overlay;
pub mod overview;
pub mod status;
pub mod table;
pub mod wizard;
mod wizard_heading;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, InputMode, Tab, TableId};
use super::keys::{Action, Keymap};
use super::model::rows::fmt_int;
use table::{draw_table, put};

/// Smallest usable screen.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area, app.keymap());
        return;
    }
    let tabs = Rect { height: 1, ..area };
    let info = Rect {
        y: area.y + 1,
        height: 1,
        ..area
    };
    let status = Rect {
        y: area.y + area.height - 2,
        height: 1,
        ..area
    };
    let footer = Rect {
        y: area.y + area.height - 1,
        height: 1,
        ..area
    };
    // Toasts get lines of their own above the status bar: over the table they hid rows
    // (and the row the cursor was on), over the footer the line being typed.
    let toast_h = (app.toasts().len() as u16).min(overlay::toast_room(area.height));
    let body = Rect {
        y: area.y + 2,
        height: area.height.saturating_sub(4 + toast_h),
        ..area
    };
    let toast_area = Rect {
        y: body.y + body.height,
        height: toast_h,
        ..area
    };
    draw_tabs(frame, tabs, app);
    draw_info(frame, info, app);
    match app.tab() {
        Tab::Overview => overview::draw(frame, body, app),
        Tab::Expiring => draw_expiring(frame, body, app),
        Tab::Assign if app.wizard().is_some() => wizard::draw(frame, body, app),
        Tab::Devices => {
            let syncing = syncing_text(app);
            marks::draw_devices(frame.buffer_mut(), body, app, syncing.as_deref());
        }
        _ => {
            let t = app.active_table();
            let (table, theme, mut matcher) =
                app.table_for_draw(t, body.height.saturating_sub(1) as usize);
            let keys = app.keymap();
            let syncing = (t != TableId::Assign).then(|| syncing_text(app)).flatten();
            draw_table(
                frame.buffer_mut(),
                body,
                table,
                theme,
                keys,
                true,
                &mut matcher,
                syncing.as_deref(),
            );
        }
    }
    status::draw_status(frame, status, app);
    status::draw_footer(frame, footer, app);
    match app.mode() {
        InputMode::Help => overlay::draw_help(frame, body, app),
        InputMode::Detail => overlay::draw_detail(frame, body, app),
        InputMode::Columns => overlay::draw_columns(frame, body, app),
        _ => {}
    }
    overlay::draw_toasts(frame, toast_area, app);
}

/// While a sync is asked for or runs: its progress, for the empty tables it will fill.
fn syncing_text(app: &App) -> Option<String> {
    if !app.syncing() {
        return None;
    }
    if !app.sync().running || app.sync().resources.is_empty() {
        return Some("starting…".to_string());
    }
    let s = status::sync_text(app, false);
    Some(s.trim_start_matches(['⟳', '⏸', ' ']).to_string())
}

fn draw_too_small(frame: &mut Frame, area: Rect, keys: &Keymap) {
    let lines = vec![
        Line::from("Terminal too small"),
        Line::from(format!(
            "{}×{} — need at least {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::from(format!(
            "Enlarge the window (or zoom out); {} quits.",
            keys.always_quit_label()
        )),
    ];
    let y = area.y + area.height.saturating_sub(3) / 2;
    let r = Rect {
        y,
        height: area.height.min(3),
        ..area
    };
    frame.render_widget(Paragraph::new(lines).centered(), r);
}

/// The tab labels, tighter at each `level` where they do not fit: 1 cuts the overview's
/// title to "Ov" and the gaps between labels, 2 leaves the overview out unless it is shown
/// (its key still works; at the narrowest screens the tables' tabs come first).
fn tab_spans(app: &App, level: u8) -> Vec<Span<'static>> {
    let t = app.theme();
    let short = level > 0;
    let mut spans = Vec::new();
    for tab in app.tabs() {
        if level > 1 && *tab == Tab::Overview && app.tab() != Tab::Overview {
            continue;
        }
        let (table, action) = match tab {
            Tab::Overview => (TableId::Devices, Action::TabOverview),
            Tab::Devices => (TableId::Devices, Action::TabDevices),
            Tab::Subscriptions => (TableId::Subscriptions, Action::TabSubscriptions),
            Tab::Expiring => (TableId::Expiring, Action::TabExpiring),
            Tab::Assign => (TableId::Assign, Action::TabAssign),
            Tab::Workspaces => (TableId::Workspaces, Action::TabWorkspaces),
            // Never among the tabs listed: shown after them while open (below).
            Tab::Changes => continue,
        };
        // The overview counts many things: its title stands alone.
        let count = match tab {
            Tab::Overview => String::new(),
            // Still counted: the head's length is not the table's size.
            _ if app.table_by_id(table).counting() => " …".to_string(),
            _ => format!(" {}", fmt_int(app.table_by_id(table).total() as i64)),
        };
        let title = if short && *tab == Tab::Overview && *tab != app.tab() {
            "Ov"
        } else {
            tab.title()
        };
        // The tab's own key, as bound (none shown when unbound: Tab still gets there).
        let label = match app.keymap().first(action) {
            Some(k) => format!(" {k} {title}{count} "),
            None => format!(" {title}{count} "),
        };
        let style = if *tab == app.tab() {
            t.tab_active
        } else {
            t.base
        };
        let label = if *tab == app.tab() {
            format!("[{}]", label.trim())
        } else {
            label
        };
        spans.push(Span::styled(label, style));
        if !short {
            spans.push(Span::raw(" "));
        }
    }
    spans
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    // The Changes view, while open, follows the tabs and must stay on screen: the tabs
    // tighten to leave it its room.
    let changes = (app.tab() == Tab::Changes).then(|| {
        let n = fmt_int(app.table_by_id(TableId::Changes).total() as i64);
        format!("[Changes {n}]")
    });
    let room =
        usize::from(area.width).saturating_sub(changes.as_ref().map_or(0, |c| c.chars().count()));
    let mut spans = tab_spans(app, 0);
    for level in 1..=2 {
        if Line::from(spans.clone()).width() <= room {
            break;
        }
        spans = tab_spans(app, level);
    }
    if let Some(c) = changes {
        spans.push(Span::styled(c, t.tab_active));
    }
    let ro = if app.read_only() { " [read-only]" } else { "" };
    // Several workspaces: which one the tabs show (the status bar says it too, always).
    let right = match status::scope_text(app) {
        Some(scope) => format!("glp-console{ro} · {scope} "),
        None => format!("glp-console{ro} "),
    };
    let right = right.as_str();
    // The title only where the tabs leave room for it: it used to be written over them.
    let tabs_w = Line::from(spans.clone()).width() as u16;
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    let w = right.chars().count() as u16;
    if area.width >= tabs_w + w {
        put(
            frame.buffer_mut(),
            area.x + area.width - w,
            area.y,
            right,
            w,
            t.dim,
        );
    }
}

/// Breakdown counts on the left, the filter chip and row counts on the right.
fn draw_info(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    if app.tab() == Tab::Assign
        && let Some(w) = app.wizard()
    {
        draw_wizard_info(frame, area, app, w);
        return;
    }
    if app.tab() == Tab::Overview {
        overview::draw_info(frame, area, app);
        return;
    }
    let table = app.table();
    let mut chip = String::new();
    if app.mode() == InputMode::Filter || table.filter_active() {
        let f = if app.mode() == InputMode::Filter {
            app.input()
        } else {
            table.filter.as_str()
        };
        chip = match table.filter_error() {
            Some(e) => format!("filter ⟨{f}⟩ {e} · "),
            None => format!("filter ⟨{f}⟩ "),
        };
    }
    if let Some(d) = table.drill() {
        chip = format!(
            "drill ⟨{}⟩ [{} back] · {chip}",
            d.label,
            app.keymap().label(Action::Back)
        );
    }
    let counts = row_counts(table);
    let marked = if app.tab() == Tab::Devices {
        marks::marked_text(app)
    } else {
        String::new()
    };
    let right = format!("{chip}{counts}{marked} ");
    let rw = right.chars().count() as u16;
    let label = match app.tab() {
        Tab::Overview => "",
        Tab::Devices => "by type: ",
        Tab::Subscriptions => "by status: ",
        Tab::Expiring => "",
        Tab::Assign => "by status: ",
        Tab::Workspaces => "by kind: ",
        Tab::Changes => "",
    };
    let mut left = String::from(label);
    if app.tab() == Tab::Expiring {
        left = format!(
            "window {}d [{}] · {} expiring · {} expired",
            app.window_days(),
            app.keymap().label(Action::Window),
            fmt_int(app.table_by_id(TableId::Expiring).total() as i64),
            fmt_int(app.table_by_id(TableId::Expired).total() as i64),
        );
        // All workspaces at once: the lists are grouped by workspace, counted here.
        if app.workspaces().multi() && app.workspaces().current().is_none() {
            let parts: Vec<String> = table
                .breakdown
                .iter()
                .map(|(k, n)| format!("{k} {}", fmt_int(*n as i64)))
                .collect();
            left.push_str(&format!(" · by workspace: {}", parts.join(" · ")));
        }
    } else {
        if app.tab() == Tab::Changes {
            left = format!("{} · by field: ", app.changes_info());
        }
        let parts: Vec<String> = table
            .breakdown
            .iter()
            .map(|(k, n)| format!("{k} {}", fmt_int(*n as i64)))
            .collect();
        left.push_str(&parts.join(" · "));
    }
    let lw = area.width.saturating_sub(rw + 1);
    put(frame.buffer_mut(), area.x, area.y, &left, lw, t.dim);
    let chip_style = if chip.is_empty() { t.dim } else { t.accent };
    put(
        frame.buffer_mut(),
        area.x + area.width.saturating_sub(rw),
        area.y,
        &right,
        rw,
        chip_style,
    );
}

/// "row 3 of 10,000 rows", "row 3 · 464 of 10,000" while filtered: where the cursor is and
/// how many rows there are.
fn row_counts(table: &super::model::table::TableModel) -> String {
    let row = if table.is_empty() {
        String::new()
    } else {
        format!("row {}", fmt_int(table.selected_index() as i64 + 1))
    };
    if table.counting() && !table.filter_active() {
        format!("{row} · counting rows · loading")
            .trim_start_matches(" · ")
            .to_string()
    } else if table.is_partial() && !table.filter_active() {
        format!("{row} · {} rows · loading", fmt_int(table.total() as i64))
            .trim_start_matches(" · ")
            .to_string()
    } else if table.filter_active() || table.len() != table.total() {
        let sep = if row.is_empty() { "" } else { " · " };
        format!(
            "{row}{sep}{} of {}",
            fmt_int(table.len() as i64),
            fmt_int(table.total() as i64)
        )
    } else if row.is_empty() {
        format!("{} rows", fmt_int(table.total() as i64))
    } else {
        format!("{row} of {} rows", fmt_int(table.total() as i64))
    }
}

/// Expiring: the month chart on top, then the expiring list (or the expired list) with the
/// devices covered by the selected subscription beside it.
fn draw_expiring(frame: &mut Frame, area: Rect, app: &App) {
    let chart_h = if area.height >= 30 { 10 } else { 7 };
    let chart = Rect {
        height: chart_h.min(area.height),
        ..area
    };
    chart::draw_month_chart(frame, chart, app);
    let rest = Rect {
        y: area.y + chart.height,
        height: area.height - chart.height,
        ..area
    };
    if rest.height < 3 {
        return;
    }
    let side_w = if rest.width >= 120 {
        40
    } else if rest.width >= 80 {
        28
    } else {
        0
    };
    let main = Rect {
        width: rest.width - side_w,
        ..rest
    };
    let title = Rect { height: 1, ..main };
    let table_area = Rect {
        y: main.y + 1,
        height: main.height - 1,
        ..main
    };
    let t = app.active_table();
    let heading = if t == TableId::Expired {
        format!(
            "Expired ({}) — [{}] back to expiring",
            fmt_int(app.table_by_id(TableId::Expired).total() as i64),
            app.keymap().label(Action::FocusExpired)
        )
    } else {
        format!(
            "Ending within {} days ({}) — [{}] expired ({})",
            app.window_days(),
            fmt_int(app.table_by_id(TableId::Expiring).total() as i64),
            app.keymap().label(Action::FocusExpired),
            fmt_int(app.table_by_id(TableId::Expired).total() as i64)
        )
    };
    put(
        frame.buffer_mut(),
        title.x,
        title.y,
        &heading,
        title.width,
        app.theme().header,
    );
    let (table, theme, mut matcher) =
        app.table_for_draw(t, table_area.height.saturating_sub(1) as usize);
    let syncing = syncing_text(app);
    draw_table(
        frame.buffer_mut(),
        table_area,
        table,
        theme,
        app.keymap(),
        true,
        &mut matcher,
        syncing.as_deref(),
    );
    if side_w > 0 {
        let side = Rect {
            x: main.x + main.width,
            width: side_w,
            ..rest
        };
        draw_covered(frame, side, app);
    }
}

fn draw_covered(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let buf = frame.buffer_mut();
    let x = area.x + 1;
    let w = area.width.saturating_sub(1);
    for y in area.y..area.y + area.height {
        put(buf, area.x, y, "│", 1, t.dim);
    }
    let sel = app.table().selected_row();
    let Some(row) = sel else {
        put(buf, x, area.y, "Devices covered", w, t.header);
        return;
    };
    let n = app.covered().count(&row.id);
    put(
        buf,
        x,
        area.y,
        &format!("Devices on {} ({})", row.cell(0), n),
        w,
        t.header,
    );
    let max = area.height.saturating_sub(1) as usize;
    for (i, d) in app.covered().lines(&row.id).take(max).enumerate() {
        let line = if i + 1 == max && n > max {
            format!(
                "… {} more ({} for all)",
                n - i,
                app.keymap().say(Action::Detail)
            )
        } else {
            d.to_string()
        };
        put(buf, x, area.y + 1 + i as u16, &line, w, Style::default());
    }
}

/// The wizard's info line: the steps with the current one marked (text, not colour alone),
/// and the list's filter chip and counts on the right.
fn draw_wizard_info(frame: &mut Frame, area: Rect, app: &App, w: &super::wizard::Wizard) {
    let t = app.theme();
    let buf = frame.buffer_mut();
    let end = area.x + area.width;
    // The list's filter chip and counts first: they matter more than the far steps.
    let mut right = String::new();
    let mut chip = false;
    if w.step().table().is_some() {
        let table = app.table();
        if app.mode() == InputMode::Filter || table.filter_active() {
            let f = if app.mode() == InputMode::Filter {
                app.input()
            } else {
                table.filter.as_str()
            };
            right = match table.filter_error() {
                Some(e) => format!("filter ⟨{f}⟩ {e} · "),
                None => format!("filter ⟨{f}⟩ "),
            };
            chip = true;
        }
        right = format!(" {right}{} ", row_counts(table));
    }
    let rw = (right.chars().count() as u16).min(area.width);
    if rw > 0 {
        put(
            buf,
            end - rw,
            area.y,
            &right,
            rw,
            if chip { t.accent } else { t.dim },
        );
    }
    let room = area.width.saturating_sub(rw);
    let crumbs = wizard::breadcrumb(w);
    let full: usize = crumbs
        .iter()
        .map(|(_, s)| s.title().chars().count() + 3)
        .sum::<usize>()
        + 2;
    let narrow = full > room as usize;
    let mut x = area.x;
    let stop = area.x + room;
    for (i, (current, step)) in crumbs.into_iter().enumerate() {
        let title = if narrow {
            wizard::short_title(step)
        } else {
            step.title()
        };
        let sep = match (i, narrow) {
            (0, _) => "",
            (_, true) => " ›",
            (_, false) => " › ",
        };
        let text = if current {
            format!("{sep}[{title}]")
        } else {
            format!("{sep}{title}")
        };
        let wdt = text.chars().count() as u16;
        if x + wdt > stop {
            break;
        }
        put(
            buf,
            x,
            area.y,
            &text,
            wdt,
            if current { t.accent } else { t.dim },
        );
        x += wdt;
    }
}
