//! The Assign tab's wizard screens. Reads the wizard state; the lists are the shared
//! virtual table, so 5 000 rows scroll like the inventory.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear};

use super::table::{draw_table, put};
use crate::assign::validate::IssueKind;
use crate::tui::app::{App, TableId};
use crate::tui::keys::WizardAction;
use crate::tui::wizard::{Confirm, Wizard, WizardStep};

/// Short step names for a narrow breadcrumb.
pub fn short_title(s: WizardStep) -> &'static str {
    match s {
        WizardStep::Validate => "Check",
        WizardStep::Subscription => "Subs",
        WizardStep::Region => "App",
        other => other.title(),
    }
}

/// The breadcrumb for the info line: `File › Validate › [Review] › …`.
pub fn breadcrumb(w: &Wizard) -> Vec<(bool, WizardStep)> {
    let current = match w.step() {
        WizardStep::Loading => WizardStep::File,
        WizardStep::Sheet => WizardStep::Validate,
        s => s,
    };
    WizardStep::CRUMBS
        .iter()
        .map(|s| (*s == current, *s))
        .collect()
}

/// Draw the wizard into the tab's body.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(w) = app.wizard() else {
        return;
    };
    let lines = super::wizard_heading::heading(app, w, area.width);
    let buf = frame.buffer_mut();
    let mut y = area.y;
    let bottom = area.y + area.height;
    for (style, text) in &lines {
        if y >= bottom {
            break;
        }
        put(buf, area.x, y, text, area.width, *style);
        y += 1;
    }
    let rest = Rect {
        y,
        height: bottom.saturating_sub(y),
        ..area
    };
    let step = w.step();
    match step {
        WizardStep::File => draw_candidates(frame, rest, app),
        WizardStep::Sheet => draw_sheets(frame, rest, app),
        WizardStep::Tags => draw_tags(frame, rest, app),
        WizardStep::Applying => draw_log(frame, rest, app),
        _ => {
            if let Some(tbl) = step.table()
                && rest.height > 1
            {
                let (table, theme, mut matcher) = app
                    .table_for_draw(TableId::Wizard(tbl), rest.height.saturating_sub(1) as usize);
                let keys = app.keymap();
                draw_table(
                    frame.buffer_mut(),
                    rest,
                    table,
                    theme,
                    keys,
                    true,
                    &mut matcher,
                    None,
                );
            }
        }
    }
    if let Some(c) = app.wizard().and_then(|w| w.confirm()) {
        draw_confirm(frame, area, app, c);
    }
}

fn draw_candidates(frame: &mut Frame, area: Rect, app: &App) {
    let Some(w) = app.wizard() else {
        return;
    };
    if w.completions().is_empty() || area.height < 2 {
        return;
    }
    let t = app.theme();
    let buf = frame.buffer_mut();
    put(
        buf,
        area.x,
        area.y,
        &format!(
            "{} candidates (type more, {} again):",
            w.completions().len(),
            app.keymap().say(WizardAction::Complete)
        ),
        area.width,
        t.dim,
    );
    // In columns, like a shell.
    let colw = w
        .completions()
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(1)
        .min(40)
        + 2;
    let cols = (area.width as usize / colw).max(1);
    let rows = area.height as usize - 1;
    for (i, c) in w.completions().iter().enumerate().take(rows * cols) {
        let (r, col) = (i % rows, i / rows);
        put(
            buf,
            area.x + (col * colw) as u16,
            area.y + 1 + r as u16,
            c,
            colw as u16 - 1,
            if c.ends_with('/') { t.accent } else { t.base },
        );
    }
}

fn draw_sheets(frame: &mut Frame, area: Rect, app: &App) {
    let Some(w) = app.wizard() else {
        return;
    };
    let Some(d) = w.data() else { return };
    let t = app.theme();
    let buf = frame.buffer_mut();
    for (i, name) in d
        .prepared
        .sheet
        .sheet_names
        .iter()
        .enumerate()
        .take(area.height as usize)
    {
        let read = if *name == d.prepared.sheet.sheet {
            "  (read now)"
        } else {
            ""
        };
        let mut style = t.base;
        // The cursor is a glyph too, not only reversed colours.
        let mark = if i == w.sheet_cursor() { "▸" } else { " " };
        if i == w.sheet_cursor() {
            style = style.patch(t.selected);
        }
        put(
            buf,
            area.x,
            area.y + i as u16,
            &format!("{mark} {name}{read}"),
            area.width,
            style,
        );
    }
}

fn draw_tags(frame: &mut Frame, area: Rect, app: &App) {
    let Some(w) = app.wizard() else {
        return;
    };
    let t = app.theme();
    let left_w = if area.width >= 100 {
        area.width / 2
    } else {
        area.width
    };
    let buf = frame.buffer_mut();
    put(
        buf,
        area.x,
        area.y,
        &format!("Changes ({})", w.tags().len()),
        left_w,
        t.header,
    );
    if w.tags().is_empty() {
        put(
            buf,
            area.x + 2,
            area.y + 1,
            "none: tags stay as they are",
            left_w.saturating_sub(2),
            t.dim,
        );
    }
    for (i, (k, v)) in w
        .tags()
        .iter()
        .enumerate()
        .take(area.height.saturating_sub(1) as usize)
    {
        let text = match v {
            Some(v) => format!("set    {k} = {v}"),
            None => format!("remove {k}"),
        };
        let mut style = t.base;
        let mark = if i == w.tag_cursor() { "▸ " } else { "  " };
        if i == w.tag_cursor() {
            style = style.patch(t.selected);
        }
        let text = format!("{mark}{text}");
        put(buf, area.x, area.y + 1 + i as u16, &text, left_w, style);
    }
    // Tags already in use, to pick from.
    if left_w < area.width
        && let Some(c) = w.catalog()
    {
        let x = area.x + left_w + 1;
        let rw = area.width - left_w - 1;
        put(buf, x, area.y, "In use (key: values)", rw, t.header);
        let choices = crate::assign::options::tag_choices(c);
        for (i, tc) in choices
            .iter()
            .take(area.height.saturating_sub(1) as usize)
            .enumerate()
        {
            let vals: Vec<String> = tc
                .values
                .iter()
                .take(4)
                .map(|(v, n)| format!("{v} ({n})"))
                .collect();
            put(
                buf,
                x,
                area.y + 1 + i as u16,
                &format!("{}: {}", tc.key, vals.join(", ")),
                rw,
                t.dim,
            );
        }
    }
}

fn draw_log(frame: &mut Frame, area: Rect, app: &App) {
    let Some(w) = app.wizard() else {
        return;
    };
    let t = app.theme();
    let buf = frame.buffer_mut();
    if area.height == 0 {
        return;
    }
    put(
        buf,
        area.x,
        area.y,
        "Finished calls (newest last)",
        area.width,
        t.header,
    );
    let n = area.height.saturating_sub(1) as usize;
    let log = &w.progress().log;
    for (i, l) in log.iter().skip(log.len().saturating_sub(n)).enumerate() {
        let style = if l.contains(" failed") {
            t.error
        } else {
            t.base
        };
        put(buf, area.x, area.y + 1 + i as u16, l, area.width, style);
    }
}

fn draw_confirm(frame: &mut Frame, area: Rect, app: &App, c: Confirm) {
    let Some(w) = app.wizard() else {
        return;
    };
    let k = &app.keymap().wizard;
    let yes = k.label(WizardAction::Yes);
    let no = k.label(WizardAction::No);
    let (title, lines): (&str, Vec<String>) = match c {
        Confirm::Send { dry_run } => {
            let planned = w.planned();
            let (calls, devices) = planned
                .as_ref()
                .map_or((0, 0), |p| (p.plan.steps.len(), p.plan.devices.len()));
            // The plan's subscription warnings (ending soon, replaced) are repeated here:
            // this is the last moment to reconsider.
            let warnings: Vec<String> = planned
                .as_ref()
                .map(|p| {
                    p.issues
                        .iter()
                        .filter(|i| {
                            matches!(
                                i.kind,
                                IssueKind::SubscriptionExpiring | IssueKind::SubscriptionReplaced
                            )
                        })
                        .map(|i| format!("warning: {}", i.message))
                        .collect()
                })
                .unwrap_or_default();
            let (title, mut lines) = if dry_run {
                (
                    "Dry run",
                    vec![
                        format!("Send {calls} calls for {devices} devices with dry-run=true?"),
                        "GreenLake validates them and changes nothing.".into(),
                    ],
                )
            } else {
                (
                    "Apply",
                    vec![
                        format!("Send {calls} calls for {devices} devices to GreenLake?"),
                        "This changes the devices; the run is recorded and can be undone.".into(),
                    ],
                )
            };
            lines.extend(warnings);
            (title, lines)
        }
        Confirm::Cancel => (
            "Cancel",
            vec![
                "Stop the assignment after the calls in flight?".into(),
                "Calls already sent are followed to their end and recorded.".into(),
            ],
        ),
    };
    let width = (lines.iter().map(|l| l.chars().count()).max().unwrap_or(20) as u16 + 4)
        .max(40)
        .min(area.width);
    let h = (lines.len() as u16 + 4).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width,
        height: h,
    };
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "))
        .border_style(app.theme().warn);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let buf = frame.buffer_mut();
    for (i, l) in lines.iter().enumerate() {
        put(
            buf,
            inner.x + 1,
            inner.y + i as u16,
            l,
            inner.width.saturating_sub(1),
            app.theme().base,
        );
    }
    put(
        buf,
        inner.x + 1,
        inner.y + inner.height.saturating_sub(1),
        &format!("{yes} yes · {no} no"),
        inner.width.saturating_sub(1),
        app.theme().accent,
    );
}
