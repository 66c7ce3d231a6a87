//! The Assign tab's wizard screens. Reads the wizard state; the lists are the shared
//! virtual table, so 5 000 rows scroll like the inventory.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders, Clear};

use super::status::gauge;
use super::table::{draw_table, put};
use crate::tui::app::{App, TableId};
use crate::tui::model::rows::fmt_int;
use crate::tui::wizard::{Choice, Confirm, SHEET_EXTENSIONS, Wizard, WizardStep};

/// Lines of text above a list: `(style, text)`.
type Lines = Vec<(Style, String)>;

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
    let current = match w.step {
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
pub fn draw(frame: &mut Frame, area: Rect, app: &mut App) {
    let Some(w) = app.wizard() else {
        return;
    };
    let lines = heading(app, w, area.width);
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
    let step = w.step;
    match step {
        WizardStep::File => draw_candidates(frame, rest, app),
        WizardStep::Sheet => draw_sheets(frame, rest, app),
        WizardStep::Tags => draw_tags(frame, rest, app),
        WizardStep::Applying => draw_log(frame, rest, app),
        _ => {
            if let Some(tbl) = step.table()
                && rest.height > 1
            {
                let (table, theme, matcher) = app
                    .table_for_draw(TableId::Wizard(tbl), rest.height.saturating_sub(1) as usize);
                draw_table(frame.buffer_mut(), rest, table, theme, true, matcher);
            }
        }
    }
    if let Some(c) = app.wizard().and_then(|w| w.confirm) {
        draw_confirm(frame, area, app, c);
    }
}

fn choice_text(app: &App, w: &Wizard) -> String {
    let sub = match &w.subscription {
        Choice::Unset => "subscription —".to_string(),
        Choice::Keep => "subscription: leave as is".to_string(),
        Choice::Set(id) => {
            let key = w
                .catalog
                .as_ref()
                .and_then(|c| c.subscription_by_id(id))
                .and_then(|s| s.key.clone())
                .unwrap_or_else(|| id.clone());
            format!("subscription {key}")
        }
    };
    let app_txt = match &w.application {
        Choice::Unset => "application —".to_string(),
        Choice::Keep => "application: leave as is".to_string(),
        Choice::Set(a) => {
            let name = w
                .catalog
                .as_ref()
                .and_then(|c| {
                    c.applications
                        .iter()
                        .find(|x| x.application_id == a.application_id)
                        .and_then(|x| x.application_name.clone())
                })
                .unwrap_or_else(|| a.application_id.clone());
            format!("application {name} in {}", a.region)
        }
    };
    let tags = if w.tags.is_empty() {
        "tags: leave as is".to_string()
    } else {
        let v: Vec<String> = w
            .tags
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("+{k}={v}"),
                None => format!("-{k}"),
            })
            .collect();
        format!("tags {}", v.join(" "))
    };
    let _ = app;
    format!("{sub} · {app_txt} · {tags}")
}

fn heading(app: &App, w: &Wizard, width: u16) -> Lines {
    let t = app.theme();
    let mut out: Lines = Vec::new();
    let file_line = |w: &Wizard| -> String {
        match &w.data {
            Some(d) => {
                let s = &d.prepared.sheet;
                format!(
                    "{} · sheet \"{}\"{} · {}",
                    s.file,
                    s.sheet,
                    if s.sheet_names.len() > 1 {
                        let i = s
                            .sheet_names
                            .iter()
                            .position(|n| *n == s.sheet)
                            .unwrap_or(0);
                        format!(" ({} of {} sheets)", i + 1, s.sheet_names.len())
                    } else {
                        String::new()
                    },
                    plural(s.rows.len(), "row")
                )
            }
            None => w.path.clone(),
        }
    };
    match w.step {
        WizardStep::File => {
            out.push((t.header, "New assignment: which spreadsheet?".to_string()));
            out.push((
                t.dim,
                format!(
                    "A file with a \"Serial Number\" column (.{}); ~ is your home directory.",
                    SHEET_EXTENSIONS.join(" .")
                ),
            ));
            out.push((t.base, String::new()));
            out.push((t.accent, format!("Path: {}█", w.path)));
            match &w.error {
                Some(e) => out.push((t.error, format!("✖ {e}"))),
                None => out.push((t.base, String::new())),
            }
        }
        WizardStep::Loading => {
            let secs = w
                .loading_since
                .map_or(0, |s| (app.now() - s).num_seconds().max(0));
            out.push((
                t.header,
                if secs > 0 {
                    format!("Reading {} … {secs} s", w.path)
                } else {
                    format!("Reading {} …", w.path)
                },
            ));
            out.push((
                t.dim,
                "checking every row and looking the serials up in the inventory".into(),
            ));
        }
        WizardStep::Sheet => {
            out.push((t.header, file_line(w)));
            out.push((t.dim, "Which sheet should be read?".into()));
        }
        WizardStep::Validate => {
            out.push((t.header, file_line(w)));
            let (errors, warnings, valid) = w
                .data
                .as_ref()
                .map_or((0, 0, 0), |d| (d.errors, d.warnings, d.valid));
            if errors + warnings == 0 {
                out.push((
                    t.ok,
                    format!(
                        "✓ no problems found; {} rows to review",
                        fmt_int(valid as i64)
                    ),
                ));
            } else {
                out.push((
                    if errors > 0 { t.error } else { t.warn },
                    format!(
                        "{} · {} — rows with errors are left out; {} go on",
                        plural(errors, "error"),
                        plural(warnings, "warning"),
                        plural(valid, "valid row")
                    ),
                ));
                out.push((
                    t.dim,
                    "Fix the file and press r to read it again, or Enter to continue with the valid rows."
                        .into(),
                ));
            }
        }
        WizardStep::Review => {
            out.push((t.header, file_line(w)));
            let c = w.counts;
            let ms = w.data.as_ref().map_or(0, |d| d.elapsed_ms);
            out.push((
                t.base,
                format!(
                    "found {} · not found → add {} · archived (skipped) {} · removed → add again {}   (read and matched in {ms} ms)",
                    fmt_int(c.found as i64),
                    fmt_int(c.not_found as i64),
                    fmt_int(c.archived as i64),
                    fmt_int(c.removed as i64)
                ),
            ));
        }
        WizardStep::Subscription => {
            out.push((
                t.header,
                "Subscription for every device without one in the sheet".to_string(),
            ));
            let hidden = if w.subs_short > 0 {
                format!(" ({} more lack seats for these devices)", w.subs_short)
            } else {
                String::new()
            };
            if w.catalog.is_none() {
                out.push((
                    t.warn,
                    "reading the subscriptions and the service catalog…".into(),
                ));
            } else {
                out.push((
                    t.dim,
                    format!("compatible with the devices, started, enough seats{hidden}"),
                ));
            }
        }
        WizardStep::Region => {
            out.push((
                t.header,
                "Application and region for every device without them in the sheet".to_string(),
            ));
            if w.catalog.is_none() {
                out.push((t.warn, "reading the service catalog…".into()));
            } else {
                out.push((t.dim, choice_text(app, w)));
            }
        }
        WizardStep::Tags => {
            out.push((
                t.header,
                "Tags for every device (the sheet's tag: columns win per row)".to_string(),
            ));
            out.push((
                t.dim,
                "KEY=VALUE sets or changes, -KEY removes; Enter on an empty line goes on (no changes: leave as is)"
                    .into(),
            ));
            out.push((t.accent, format!("Tag: {}█", w.tag_input)));
            match &w.tag_error {
                Some(e) if e.starts_with("keys in use") => out.push((t.dim, e.clone())),
                Some(e) => out.push((t.error, format!("✖ {e}"))),
                None => out.push((t.base, String::new())),
            }
        }
        WizardStep::Plan | WizardStep::Confirm => {
            out.push((t.header, choice_text(app, w)));
            if w.diff.is_none() {
                out.push((
                    t.warn,
                    "preparing the plan: the subscriptions and the catalog are still being read…"
                        .into(),
                ));
            }
            if let Some(d) = &w.diff {
                if d.total_calls == 0 {
                    out.push((
                        t.ok,
                        format!(
                            "Nothing to send: all {} devices are already as asked.",
                            d.unchanged
                        ),
                    ));
                } else {
                    let phases: Vec<String> = d
                        .phases
                        .iter()
                        .map(|p| {
                            format!(
                                "{} {} in {}",
                                p.phase.as_str(),
                                p.devices,
                                plural(p.calls, "call")
                            )
                        })
                        .collect();
                    out.push((
                        t.base,
                        format!(
                            "{} calls for {} devices ({} unchanged): {}",
                            d.total_calls,
                            d.devices.len(),
                            d.unchanged,
                            phases.join(" · ")
                        ),
                    ));
                }
            }
            if let Some(b) = w.planned.as_ref().and_then(|p| p.blocking()) {
                out.push((t.error, format!("✖ cannot send: {}", b.message)));
            } else if app.read_only() {
                out.push((
                    t.warn,
                    "read-only mode: the plan can be reviewed but not sent".into(),
                ));
            }
        }
        WizardStep::Applying => {
            let p = &w.progress;
            out.push((
                t.header,
                format!(
                    "{}{} — {} calls for {} devices",
                    if p.dry_run {
                        "Dry run (GreenLake validates, nothing changes)"
                    } else {
                        "Applying"
                    },
                    p.run_id.map(|r| format!(" run {r}")).unwrap_or_default(),
                    p.calls,
                    p.devices
                ),
            ));
            let ratio = if p.calls > 0 {
                p.done as f64 / p.calls as f64
            } else {
                0.0
            };
            let gw = (width as usize / 3).clamp(10, 40);
            out.push((
                t.accent,
                format!(
                    "calls {}/{} {} {:>3}%",
                    p.done,
                    p.calls,
                    gauge(ratio, gw),
                    (ratio * 100.0) as u32
                ),
            ));
            // Calls are paced at the PATCH limit (20 a minute): say how long it will take.
            let timing = match p.started {
                Some(st) => {
                    let secs = (app.now() - st).num_seconds().max(0);
                    let eta = if p.done > 0 && p.done < p.calls {
                        let left = secs as f64 / p.done as f64 * (p.calls - p.done) as f64;
                        format!(" · about {} left", mmss(left as i64))
                    } else {
                        String::new()
                    };
                    format!("   {} elapsed{eta}", mmss(secs))
                }
                None => String::new(),
            };
            out.push((
                if p.devices_failed > 0 { t.warn } else { t.base },
                format!(
                    "devices ok {} · failed {} · of {}   calls failed {}{timing}",
                    p.devices_ok, p.devices_failed, p.devices, p.calls_failed
                ),
            ));
            out.push((
                t.base,
                format!(
                    "phase: {}",
                    p.phase
                        .map(|ph| format!("{} ({})", ph.as_str(), plural(p.phase_calls, "call")))
                        .unwrap_or_else(|| "—".into())
                ),
            ));
            out.push((
                if p.cancelling { t.warn } else { t.dim },
                format!("now: {}", p.current),
            ));
            out.push((t.base, String::new()));
        }
        WizardStep::Report => {
            if let Some(r) = &w.report {
                let c = &r.counts;
                let st = match r.status.as_str() {
                    "succeeded" => t.ok,
                    _ => t.warn,
                };
                out.push((
                    st,
                    format!(
                        "{}run {} {} in {:.1} s",
                        if r.dry_run { "Dry " } else { "Assignment " },
                        r.run_id,
                        r.status.as_str(),
                        r.duration_secs
                    ),
                ));
                out.push((
                    t.base,
                    format!(
                        "calls: {} succeeded, {} failed, {} skipped (of {}) · devices: {} succeeded, {} failed, {} skipped, {} unchanged",
                        c.operations_succeeded,
                        c.operations_failed,
                        c.operations_skipped,
                        c.operations,
                        c.devices_succeeded,
                        c.devices_failed,
                        c.devices_skipped,
                        c.devices_unchanged
                    ),
                ));
                if let Some(rs) = &r.resync {
                    out.push((
                        if rs.error.is_some() { t.warn } else { t.dim },
                        match &rs.error {
                            Some(e) => format!("resync of the touched devices failed: {e}"),
                            None => format!(
                                "resync: {} of {} touched devices fetched again (the Devices tab shows them)",
                                rs.fetched, rs.requested
                            ),
                        },
                    ));
                }
                out.push((
                    t.dim,
                    format!("exports go to {}", app.reports_dir().display()),
                ));
            }
        }
    }
    out
}

fn draw_candidates(frame: &mut Frame, area: Rect, app: &App) {
    let Some(w) = app.wizard() else {
        return;
    };
    if w.completions.is_empty() || area.height < 2 {
        return;
    }
    let t = app.theme();
    let buf = frame.buffer_mut();
    put(
        buf,
        area.x,
        area.y,
        &format!("{} candidates (type more, Tab again):", w.completions.len()),
        area.width,
        t.dim,
    );
    // In columns, like a shell.
    let colw = w
        .completions
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(1)
        .min(40)
        + 2;
    let cols = (area.width as usize / colw).max(1);
    let rows = area.height as usize - 1;
    for (i, c) in w.completions.iter().enumerate().take(rows * cols) {
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
    let Some(d) = &w.data else { return };
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
        let mark = if i == w.sheet_cursor { "▸" } else { " " };
        if i == w.sheet_cursor {
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
        &format!("Changes ({})", w.tags.len()),
        left_w,
        t.header,
    );
    if w.tags.is_empty() {
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
        .tags
        .iter()
        .enumerate()
        .take(area.height.saturating_sub(1) as usize)
    {
        let text = match v {
            Some(v) => format!("set    {k} = {v}"),
            None => format!("remove {k}"),
        };
        let mut style = t.base;
        let mark = if i == w.tag_cursor { "▸ " } else { "  " };
        if i == w.tag_cursor {
            style = style.patch(t.selected);
        }
        let text = format!("{mark}{text}");
        put(buf, area.x, area.y + 1 + i as u16, &text, left_w, style);
    }
    // Tags already in use, to pick from.
    if left_w < area.width
        && let Some(c) = &w.catalog
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
    let log = &w.progress.log;
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
    let yes = k.label(crate::tui::keymap::WizardAction::Yes);
    let no = k.label(crate::tui::keymap::WizardAction::No);
    let (title, lines): (&str, Vec<String>) = match c {
        Confirm::Send { dry_run } => {
            let (calls, devices) = w
                .planned
                .as_ref()
                .map_or((0, 0), |p| (p.plan.steps.len(), p.plan.devices.len()));
            if dry_run {
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
            }
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

/// `1 error`, `3 errors`, `1,204 rows`.
fn plural(n: usize, word: &str) -> String {
    format!(
        "{} {word}{}",
        fmt_int(n as i64),
        if n == 1 { "" } else { "s" }
    )
}

/// `m:ss`.
fn mmss(secs: i64) -> String {
    let s = secs.max(0);
    format!("{}:{:02}", s / 60, s % 60)
}
