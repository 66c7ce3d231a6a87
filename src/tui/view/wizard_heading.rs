//! The wizard's heading: the lines above each step's list or input (what the step is
//! about, the counts, the progress of a run, the report's totals).

use super::status::gauge;
use ratatui::style::Style;

use crate::tui::app::App;
use crate::tui::keys::WizardAction;
use crate::tui::model::rows::fmt_int;
use crate::tui::wizard::Choice;
use crate::tui::wizard::{SHEET_EXTENSIONS, Wizard, WizardStep};

/// Lines of text above a list: `(style, text)`.
pub(super) type Lines = Vec<(Style, String)>;

/// The lines above the step's list or input: what the step is about and where it stands.
pub(super) fn heading(app: &App, w: &Wizard, width: u16) -> Lines {
    let mut out: Lines = Vec::new();
    if let Some(name) = app.wizard_workspace_name() {
        out.push((app.theme().header, format!("Assign · {name}")));
    }
    match w.step() {
        WizardStep::File
        | WizardStep::Loading
        | WizardStep::Sheet
        | WizardStep::Validate
        | WizardStep::Review => reading(app, w, width, &mut out),
        WizardStep::Subscription
        | WizardStep::Region
        | WizardStep::Tags
        | WizardStep::Plan
        | WizardStep::Confirm => choosing(app, w, width, &mut out),
        WizardStep::Applying => applying(app, w, width, &mut out),
        WizardStep::Report => report(app, w, width, &mut out),
    }
    out
}

/// File, reading, sheet, validate and review.
fn reading(app: &App, w: &Wizard, _width: u16, out: &mut Lines) {
    let t = app.theme();
    match w.step() {
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
            out.push((t.accent, format!("Path: {}", w.path_line().with_cursor())));
            match w.error() {
                Some(e) => out.push((t.error, format!("✖ {e}"))),
                None => out.push((t.base, String::new())),
            }
        }
        WizardStep::Loading => {
            let secs = w
                .loading_since()
                .map_or(0, |s| (app.now() - s).num_seconds().max(0));
            out.push((
                t.header,
                if secs > 0 {
                    format!("Reading {} … {secs} s", w.path())
                } else {
                    format!("Reading {} …", w.path())
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
                .data()
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
                let keys = app.keymap();
                out.push((
                    t.dim,
                    format!(
                        "Fix the file and {}, or {} to continue with the valid rows.",
                        keys.press(WizardAction::Reload, "read it again"),
                        keys.say(WizardAction::Next)
                    ),
                ));
            }
        }
        WizardStep::Review => {
            out.push((t.header, file_line(w)));
            let c = w.counts();
            let ms = w.data().as_ref().map_or(0, |d| d.elapsed_ms);
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
        _ => {}
    }
}

/// The choosers, the tag line and the plan.
fn choosing(app: &App, w: &Wizard, _width: u16, out: &mut Lines) {
    let t = app.theme();
    match w.step() {
        WizardStep::Subscription => {
            out.push((
                t.header,
                "Subscription for every device without one in the sheet".to_string(),
            ));
            let hidden = if w.subs_short() > 0 {
                format!(" ({} more lack seats for these devices)", w.subs_short())
            } else {
                String::new()
            };
            if w.catalog().is_none() {
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
            if w.catalog().is_none() {
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
                format!(
                    "KEY=VALUE sets or changes, -KEY removes; {} on an empty line goes on (no changes: leave as is)",
                    app.keymap().say(WizardAction::Next)
                ),
            ));
            out.push((t.accent, format!("Tag: {}", w.tag_input().with_cursor())));
            match w.tag_error() {
                Some(e) if e.starts_with("keys in use") => out.push((t.dim, e.clone())),
                Some(e) => out.push((t.error, format!("✖ {e}"))),
                None => out.push((t.base, String::new())),
            }
        }
        WizardStep::Plan | WizardStep::Confirm => {
            let what = match w.undo_of() {
                Some(run) => format!(
                    "Undo of run {run}: every device it changed goes back to its values before"
                ),
                None => choice_text(app, w),
            };
            out.push((t.header, what));
            if w.diff().is_none() {
                out.push((
                    t.warn,
                    "preparing the plan: the subscriptions and the catalog are still being read…"
                        .into(),
                ));
            }
            if let Some(d) = w.diff() {
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
            if let Some(b) = w.planned().as_ref().and_then(|p| p.blocking()) {
                out.push((t.error, format!("✖ cannot send: {}", b.message)));
            } else if app.read_only() {
                out.push((
                    t.warn,
                    "read-only mode: the plan can be reviewed but not sent".into(),
                ));
            }
        }
        _ => {}
    }
}

/// The progress of a running apply.
#[allow(
    clippy::single_match,
    reason = "the arm reads like its siblings in `reading` and `choosing`"
)]
fn applying(app: &App, w: &Wizard, width: u16, out: &mut Lines) {
    let t = app.theme();
    match w.step() {
        WizardStep::Applying => {
            let p = w.progress();
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
                    "devices ok {} · failed {}{} · of {}   calls failed {}{timing}",
                    p.devices_ok,
                    p.devices_failed,
                    if p.devices_not_checkable > 0 {
                        format!(" · not checkable {}", p.devices_not_checkable)
                    } else {
                        String::new()
                    },
                    p.devices,
                    p.calls_failed
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
        _ => {}
    }
}

/// The totals of the finished run.
#[allow(
    clippy::single_match,
    reason = "the arm reads like its siblings in `reading` and `choosing`"
)]
fn report(app: &App, w: &Wizard, _width: u16, out: &mut Lines) {
    let t = app.theme();
    match w.step() {
        WizardStep::Report => {
            if let Some(r) = w.report() {
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
        _ => {}
    }
}

/// The file, its sheet and its row count, as the steps after reading show them.
fn file_line(w: &Wizard) -> String {
    match w.data() {
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
        None => w.path().to_string(),
    }
}

fn choice_text(app: &App, w: &Wizard) -> String {
    let sub = match w.subscription() {
        Choice::Unset => "subscription —".to_string(),
        Choice::Keep => "subscription: leave as is".to_string(),
        Choice::Set(id) => {
            let key = w
                .catalog()
                .as_ref()
                .and_then(|c| c.subscription_by_id(id))
                .and_then(|s| s.key.clone())
                .unwrap_or_else(|| id.clone());
            format!("subscription {key}")
        }
    };
    let app_txt = match w.application() {
        Choice::Unset => "application —".to_string(),
        Choice::Keep => "application: leave as is".to_string(),
        Choice::Set(a) => {
            let name = crate::assign::names::Names::of_catalog(w.catalog().as_deref())
                .label(&a.application_id);
            format!("application {name} in {}", a.region)
        }
    };
    let tags = if w.tags().is_empty() {
        "tags: leave as is".to_string()
    } else {
        let v: Vec<String> = w
            .tags()
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
