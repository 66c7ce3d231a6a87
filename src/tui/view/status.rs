//! The status bar (sync progress per resource, breaker state in text and glyph with its
//! retry countdown, last good sync and its age, the stale marker, a sparkline of items/s) and
//! the footer (hints from the live keymap, or the filter/command line).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::table::put;
use crate::glp::health::Health;
use crate::tui::app::{App, InputMode, Tab};
use crate::tui::keys::{Action, Context, ModalAction, WizardAction};
use crate::tui::model::rows::{fmt_age, fmt_int};
use crate::tui::wizard::WizardStep;

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `▕████▌     ▏` with eighth-cell resolution.
pub fn gauge(ratio: f64, width: usize) -> String {
    let r = ratio.clamp(0.0, 1.0);
    let eighths = (r * width as f64 * 8.0).round() as usize;
    let mut s = String::from("▕");
    for i in 0..width {
        let e = eighths.saturating_sub(i * 8).min(8);
        s.push(match e {
            0 => ' ',
            8 => '█',
            n => ['▏', '▎', '▍', '▌', '▋', '▊', '▉'][n - 1],
        });
    }
    s.push('▏');
    s
}

/// The last `width` samples as a sparkline.
pub fn sparkline(samples: impl Iterator<Item = u64>, width: usize) -> String {
    let v: Vec<u64> = samples.collect();
    let tail = &v[v.len().saturating_sub(width)..];
    let max = tail.iter().copied().max().unwrap_or(0).max(1);
    tail.iter()
        .map(|s| SPARK[((*s * 7) / max) as usize])
        .collect()
}

fn fmt_eta(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// What the tabs show when the database holds several workspaces: `all workspaces`, or
/// `ws NAME`; `None` for one workspace (its console says nothing about workspaces).
pub fn scope_text(app: &App) -> Option<String> {
    let w = app.workspaces();
    if !w.multi() {
        return None;
    }
    Some(match w.current() {
        Some(o) => format!("ws {}", o.ws.name),
        None => "all workspaces".to_string(),
    })
}

/// The status line's sync part over several workspaces: the scope shown first, then how
/// many are synced, syncing and failing (each workspace's progress is its row of the
/// Workspaces tab), then the last good sync of the scope.
fn workspaces_text(app: &App, scope: &str) -> String {
    let sum = app.workspaces().summary();
    let glyph = if sum.running > 0 {
        "⟳"
    } else if !sum.failing.is_empty() {
        "✖"
    } else {
        "✓"
    };
    let last = app.last_good().map_or(String::new(), |t| {
        format!(
            " · last good {} ({} ago)",
            t.format("%Y-%m-%d %H:%M"),
            fmt_age((app.now() - t).num_seconds())
        )
    });
    match app.sync_off() {
        Some(why) => format!("⊘ sync off: {why} · {scope} · {}{last}", sum.text()),
        None => format!("{glyph} {scope} · {}{last}", sum.text()),
    }
}

/// The sync part of the status line.
pub fn sync_text(app: &App, wide: bool) -> String {
    if let Some(scope) = scope_text(app) {
        return workspaces_text(app, &scope);
    }
    let s = app.sync();
    if !s.running {
        let last = match app.last_good() {
            Some(t) => format!(
                "✓ synced {} ({} ago)",
                t.format("%Y-%m-%d %H:%M"),
                fmt_age((app.now() - t).num_seconds())
            ),
            None => "· never synced".to_string(),
        };
        // Why nothing syncs comes first: a narrow bar cuts the age, not the reason.
        return match (app.sync_off(), &s.last_error) {
            (Some(why), _) => format!(
                "⊘ sync off: {why} · {}",
                last.trim_start_matches(['✓', '·', ' '])
            ),
            (None, Some(e)) => format!("{} · {last}", failed_text(e)),
            (None, None) => last,
        };
    }
    let mut parts = Vec::new();
    for (name, p) in &s.resources {
        let short = if *name == "subscriptions" {
            "subs"
        } else {
            name
        };
        if p.done {
            parts.push(format!("{short} ✓ {}", fmt_int(p.items as i64)));
            continue;
        }
        let current = s.current.map(|c| c.as_str()) == Some(*name);
        if !current {
            parts.push(format!("{short} …"));
            continue;
        }
        let pages = match p.pages_total {
            Some(t) => format!("p{}/{}", p.page, t),
            None => format!("p{}", p.page),
        };
        let ratio = match (p.items_total, p.pages_total) {
            (Some(t), _) if t > 0 => p.items as f64 / t as f64,
            (_, Some(t)) if t > 0 => p.page as f64 / t as f64,
            _ => 0.0,
        };
        let items = match p.items_total {
            Some(t) => format!("{}/{}", fmt_int(p.items as i64), fmt_int(t as i64)),
            None => fmt_int(p.items as i64),
        };
        let eta = match p.items_total {
            Some(t) if s.rate > 0.0 && t > p.items => {
                format!(" ETA {}", fmt_eta((t - p.items) as f64 / s.rate))
            }
            _ => String::new(),
        };
        let g = if wide {
            format!(" {} ", gauge(ratio, 10))
        } else {
            format!(" {:>3}% ", (ratio * 100.0) as u32)
        };
        parts.push(format!(
            "{short} {pages}{g}{items} {}/s{eta}",
            fmt_int(s.rate as i64)
        ));
    }
    if let Some((reason, at)) = s.waiting {
        // First, so a narrow terminal cuts the progress figures rather than the reason
        // nothing moves.
        let left = (at - app.now()).to_std().unwrap_or_default();
        parts.insert(0, crate::sync::waiting_text(reason, left));
        parts.extend(s.last_error.as_deref().map(failed_text));
        return format!("⏸ {}", parts.join(" · "));
    }
    // The last failure stays on while the next run goes, until one succeeds.
    parts.extend(s.last_error.as_deref().map(failed_text));
    format!("⟳ {}", parts.join(" · "))
}

/// The last sync's failure, reason first (the full text is in `:messages`).
fn failed_text(error: &str) -> String {
    format!("✖ last sync failed: {error}")
}

/// `42s`, `1m05s`: a countdown that visibly moves every second.
fn fmt_countdown(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// The API light as glyph + words (never colour alone): the last requests, or the breaker
/// with its countdown and probe. `wide` adds the breaker's name (an 80-column bar needs the
/// room for the sync line).
pub fn health_text(app: &App, wide: bool) -> String {
    let breaker = if wide { "breaker OPEN · " } else { "" };
    match app.health() {
        Health::Unknown => "○ API: no requests yet".to_string(),
        Health::Ok => "● API ok".to_string(),
        Health::Degraded { failed, of, .. } if failed > 0 => {
            format!("◑ API degraded · {failed}/{of} failed")
        }
        Health::Degraded { throttled, of, .. } => {
            format!("◑ API degraded · {throttled}/{of} rate-limited")
        }
        // Minutes after the first one: an idle console need not redraw every second.
        Health::Down { since } => format!(
            "✖ API down · failing for {}",
            fmt_age((app.now() - since).num_seconds())
        ),
        Health::Idle { last } => format!(
            "○ API: no requests for {} · the last failed",
            fmt_age((app.now() - last).num_seconds())
        ),
        Health::BreakerOpen => match app.breaker_retry_secs() {
            Some(s) if s > 0 => format!("✖ API down · {breaker}probe in {}", fmt_countdown(s)),
            // The cool-down is over: the engine sends the probe by itself.
            _ => format!("✖ API down · {breaker}probing…"),
        },
        Health::Probing if wide => "◐ API probing… (breaker half-open)".to_string(),
        Health::Probing => "◐ API probing…".to_string(),
    }
}

pub fn draw_status(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let buf = frame.buffer_mut();
    buf.set_style(area, t.base);
    let wide = area.width >= 120;
    let spark_w: u16 = if wide { 20 } else { 10 };
    let health = app.health();
    let stale = if app.status().stale { "⚠ STALE " } else { "" };
    let right = format!("{stale}{}", health_text(app, wide));
    let rw = right.chars().count() as u16;
    let right_style = match health {
        Health::Down { .. } | Health::BreakerOpen => t.error,
        Health::Ok if !app.status().stale => t.ok,
        Health::Unknown | Health::Idle { .. } => t.dim,
        _ => t.warn,
    };
    let rx = area.x + area.width.saturating_sub(rw);
    put(buf, rx, area.y, &right, rw, right_style);
    let show_spark = !app.sync().history.is_empty();
    let spark_x = rx.saturating_sub(spark_w + 1);
    if show_spark {
        let sp = sparkline(app.sync().history.iter().copied(), spark_w as usize);
        put(buf, spark_x, area.y, &sp, spark_w, t.accent);
    }
    let left_w = if show_spark {
        spark_x.saturating_sub(area.x + 1)
    } else {
        rx.saturating_sub(area.x + 1)
    };
    let style = if app.sync().running {
        t.accent
    } else {
        Style::default()
    };
    put(buf, area.x, area.y, &sync_text(app, wide), left_w, style);
}

pub fn draw_footer(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let buf = frame.buffer_mut();
    match app.mode() {
        InputMode::Filter => {
            let s = format!("/{}", app.input_line().with_cursor());
            put(buf, area.x, area.y, &s, area.width, t.accent);
            let hint = app.keymap().footer(Context::Filter);
            let hw = hint.chars().count() as u16;
            if area.width > s.chars().count() as u16 + hw + 2 {
                put(buf, area.x + area.width - hw, area.y, &hint, hw, t.dim);
            }
        }
        InputMode::Command => {
            let s = format!(":{}", app.input_line().with_cursor());
            put(buf, area.x, area.y, &s, area.width, t.accent);
            let comp = app.completions().join(" ");
            let x = area.x + s.chars().count() as u16 + 2;
            if !comp.is_empty() && x < area.x + area.width {
                let text = match app.keymap().first(ModalAction::CommandComplete) {
                    Some(k) => format!("{k}: {comp}"),
                    None => comp,
                };
                put(buf, x, area.y, &text, area.x + area.width - x, t.dim);
            }
        }
        InputMode::Ask => {
            let keys = app.keymap();
            let s = format!(
                "{} [{} yes · {} no]",
                app.question().unwrap_or(""),
                keys.label(WizardAction::Yes),
                keys.label(WizardAction::No)
            );
            put(buf, area.x, area.y, &s, area.width, t.warn);
        }
        InputMode::Detail | InputMode::Columns | InputMode::Help => {
            let context = match app.mode() {
                InputMode::Detail => Context::Pane,
                InputMode::Columns => Context::Columns,
                _ => Context::Help,
            };
            let hint = app.keymap().footer(context);
            put(buf, area.x, area.y, &hint, area.width, t.dim);
        }
        InputMode::Normal => {
            let mut x = area.x;
            let end = area.x + area.width;
            let hints = match (app.wizard(), app.tab()) {
                (Some(w), Tab::Assign) => {
                    let step = w.key_step();
                    let mut h = app.keymap().wizard.hints(step);
                    if w.report().as_ref().is_some_and(|r| r.dry_run) && step == WizardStep::Report
                    {
                        for x in h.iter_mut().filter(|x| x.1 == "run list") {
                            x.1 = "back to the plan";
                        }
                    }
                    if step.table().is_some() && w.confirm().is_none() {
                        h.push((app.keymap().label(Action::Down), "move"));
                        h.push((app.keymap().label(Action::Filter), "filter"));
                    }
                    // In the text steps the help key may be a character, not help.
                    if !step.is_text() {
                        h.push((app.keymap().label(Action::Help), "help"));
                    }
                    h
                }
                (_, Tab::Assign) => app.keymap().hints_for(Some("Assign")),
                (_, Tab::Overview) => super::overview::hints(app),
                _ => app.keymap().hints(),
            };
            for (k, label) in hints {
                if k.is_empty() {
                    continue;
                }
                let kw = k.chars().count() as u16;
                let lw = label.chars().count() as u16;
                if x + kw + lw + 2 > end {
                    break;
                }
                put(buf, x, area.y, &k, kw, t.accent);
                put(buf, x + kw + 1, area.y, label, lw, t.dim);
                x += kw + lw + 3;
            }
        }
    }
}
