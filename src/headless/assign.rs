//! `glp-console assign FILE …` and `glp-console assign --undo RUN_ID`: the assignment
//! wizard without a terminal UI.
//!
//! Without `--apply` it prints the validation issues, the review counts and the plan diff,
//! and exits 0 (1 when there are errors). With `--apply` it asks for confirmation on a
//! terminal (or takes `--yes`), applies the plan through [`crate::assign::apply`], prints
//! the report (failures first) and writes it with `--report FILE.xlsx|FILE.json`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Failure;
use super::sync_only::build_client;
use crate::assign::apply::{self, ApplyEvent, ApplyOptions, ApplyRequest, prepare_undo, undo_run};
use crate::assign::diff::diff;
use crate::assign::load::LoadOptions;
use crate::assign::matching::count;
use crate::assign::names::Names;
use crate::assign::options::{Catalog, WizardChoices};
use crate::assign::plan::Plan;
use crate::assign::report::{ApplyReport, RunStatus};
use crate::assign::session::{self, ChoiceFlags};
use crate::assign::validate::Issue;
use crate::cli::exit;
use crate::config::Config;
use crate::glp::client::Client;
use crate::store::Store;
use crate::store::audit::NewRun;

/// Everything the command line gave.
#[derive(Debug, Clone, Default)]
pub struct AssignOptions {
    pub file: Option<PathBuf>,
    pub sheet: Option<String>,
    pub subscription: Option<String>,
    pub region: Option<String>,
    pub application: Option<String>,
    pub tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub dry_run: bool,
    pub apply: bool,
    pub yes: bool,
    pub report: Option<PathBuf>,
    pub json: bool,
    pub undo: Option<i64>,
}

/// The client of the workspace the run works on: with declared workspaces (an `[msp]`,
/// say) the primary one's own credentials, so an MSP moves its devices with its own client.
/// The console opens with it too (an `[msp]` without `[api]` credentials).
pub(crate) fn assign_client(cfg: &Config) -> Result<Client, Failure> {
    let Some(w) = cfg.clients().next().filter(|_| cfg.declares_workspaces()) else {
        return build_client(cfg);
    };
    let secret = w.resolve_secret()?;
    Client::new(&crate::sync::roster::api_for(&cfg.api, w), secret)
        .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))
}

fn bad(msg: impl Into<String>) -> Failure {
    Failure::new(exit::CONFIG, msg)
}

/// The wizard choices from the flags, checked against the catalog.
fn choices(opts: &AssignOptions, catalog: &Catalog) -> Result<WizardChoices, Failure> {
    session::choices_from_flags(&opts.choice_flags(), catalog).map_err(bad)
}

impl AssignOptions {
    fn choice_flags(&self) -> ChoiceFlags {
        ChoiceFlags {
            subscription: self.subscription.clone(),
            application: self.application.clone(),
            region: self.region.clone(),
            tags: self.tags.clone(),
            remove_tags: self.remove_tags.clone(),
        }
    }

    /// Does this command want the interactive wizard rather than the headless review?
    /// Only a bare `assign FILE [--sheet S]` on a terminal does: any flag that decides
    /// something (a choice, --dry-run, --apply, --yes, --report, --json, --undo) keeps the
    /// scriptable behaviour, and so does a stdout that is not a terminal (cron, pipes).
    pub fn opens_console(&self, stdout_is_terminal: bool) -> bool {
        stdout_is_terminal
            && self.file.is_some()
            && self.undo.is_none()
            && !self.apply
            && !self.dry_run
            && !self.yes
            && !self.json
            && self.report.is_none()
            && self.subscription.is_none()
            && self.application.is_none()
            && self.region.is_none()
            && self.tags.is_empty()
            && self.remove_tags.is_empty()
    }
}

fn confirm(opts: &AssignOptions, what: &str) -> Result<(), Failure> {
    // A dry run changes nothing: no confirmation needed.
    if opts.yes || opts.dry_run {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(bad(format!(
            "refusing to {what} without confirmation: stdin is not a terminal; add --yes"
        )));
    }
    eprint!("{what}? Type 'yes' to go on: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| bad(format!("cannot read the confirmation: {e}")))?;
    if line.trim().eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        Err(Failure::new(
            exit::CANCELLED,
            "not confirmed; nothing was sent",
        ))
    }
}

/// Run the plan; print progress on stderr (when it is a terminal), the report on stdout.
async fn run_apply(
    client: &Client,
    store: &Store,
    plan: Plan,
    run: NewRun,
    opts: &AssignOptions,
) -> Result<i32, Failure> {
    let (tx, mut rx) = mpsc::channel::<ApplyEvent>(256);
    let cancel = CancellationToken::new();
    let progress = std::io::stderr().is_terminal() && !opts.json;
    let printer = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if !progress {
                continue;
            }
            match ev {
                ApplyEvent::Started {
                    run_id,
                    calls,
                    devices,
                } => {
                    eprintln!("run {run_id}: {calls} calls for {devices} devices")
                }
                ApplyEvent::PhaseStarted { phase, calls } => {
                    eprintln!("{}: {calls} calls", phase.as_str())
                }
                ApplyEvent::OperationDone {
                    done,
                    total,
                    status,
                    error,
                    seq,
                    ..
                } => eprintln!(
                    "  [{done}/{total}] #{seq} {}{}",
                    status.as_str(),
                    error.map(|e| format!(": {e}")).unwrap_or_default()
                ),
                ApplyEvent::Cancelling => {
                    eprintln!("cancelling: waiting for the calls already sent")
                }
                ApplyEvent::Resyncing { devices } => {
                    eprintln!("fetching {devices} devices again")
                }
                _ => {}
            }
        }
    });
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| bad(format!("cannot watch SIGTERM: {e}")))?;
    let aopts = ApplyOptions {
        dry_run: opts.dry_run,
        ..ApplyOptions::default()
    };
    let req = ApplyRequest { plan, run };
    let report: ApplyReport = {
        let work = apply::apply(client, store, req, &aopts, &tx, &cancel);
        tokio::pin!(work);
        loop {
            tokio::select! {
                r = &mut work => break r.map_err(|e| Failure::new(exit::DATABASE, e.to_string()))?,
                _ = tokio::signal::ctrl_c(), if !cancel.is_cancelled() => cancel.cancel(),
                _ = sigterm.recv(), if !cancel.is_cancelled() => cancel.cancel(),
            }
        }
    };
    drop(tx);
    let _ = printer.await;
    if opts.json {
        crate::outln!("{}", report.to_json());
    } else {
        crate::out!("{}", report.render_text());
    }
    if let Some(path) = &opts.report {
        report
            .write(path)
            .map_err(|e| Failure::new(exit::PARTIAL, e.to_string()))?;
        if !opts.json {
            crate::outln!("Report written to {}", path.display());
        }
    }
    Ok(match report.status {
        RunStatus::Succeeded => exit::OK,
        RunStatus::Cancelled => exit::CANCELLED,
        RunStatus::Partial | RunStatus::Failed => exit::PARTIAL,
    })
}

/// The issues, the review counts and the plan; in text the ids are named (`names`).
fn print_review(
    json: bool,
    issues: &[Issue],
    counts: serde_json::Value,
    plan: &Plan,
    names: &Names,
) {
    let d = diff(plan);
    if json {
        let v = json!({
            "issues": issues.iter().map(|i| json!({
                "severity": if i.is_error() { "error" } else { "warning" },
                "row": i.row, "column": i.column, "message": i.message, "text": i.to_string(),
            })).collect::<Vec<_>>(),
            "counts": counts,
            "plan": d,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    for i in issues {
        crate::outln!("{i}");
    }
    if !counts.is_null() {
        crate::outln!("Review: {counts}");
    }
    for l in d.named(names).lines() {
        crate::outln!("{l}");
    }
}

/// The whole command; returns the exit code.
pub async fn run(cfg: &Config, opts: AssignOptions) -> Result<i32, Failure> {
    let store = crate::sync::roster::open_store(cfg, cfg.database.pool_size.max(2)).await?;
    if let Some(run_id) = opts.undo {
        return undo(cfg, &store, run_id, &opts).await;
    }
    let Some(file) = &opts.file else {
        return Err(bad("assign: give the spreadsheet FILE, or --undo RUN_ID"));
    };
    // The client is needed to re-read devices an abandoned run left in doubt, for the
    // service catalog and to apply; without credentials the review still works from the
    // stored inventory.
    let client = assign_client(cfg);
    let prepared = session::prepare(
        &store,
        client.as_ref().ok(),
        None,
        file,
        &LoadOptions {
            sheet: opts.sheet.clone(),
        },
    )
    .await
    .map_err(|e| bad(e.to_string()))?;
    let (catalog, note) = session::load_catalog(&store, client.as_ref().ok()).await?;
    if let Some(n) = note {
        eprintln!("glp-console: warning: {n}");
    }
    let wizard = choices(&opts, &catalog)?;
    session::check_subscription_family(&prepared, &catalog, &wizard).map_err(bad)?;
    let planned = session::plan_for(&prepared, &catalog, &wizard, chrono::Utc::now());
    let mut issues: Vec<Issue> = prepared.issues();
    issues.extend(planned.issues);
    let p = planned.plan;
    let counts = serde_json::to_value(count(&prepared.matches)).unwrap_or_default();
    let errors = issues.iter().any(Issue::is_error);
    // --dry-run sends too (GreenLake validates, nothing changes).
    let send = opts.apply || opts.dry_run;
    if !send || !opts.json {
        let names = Names::new(&store.application_names().await?, Some(&catalog));
        print_review(opts.json, &issues, counts, &p, &names);
    }
    if !send {
        return Ok(if errors { exit::PARTIAL } else { exit::OK });
    }
    if errors {
        return Err(Failure::new(
            exit::PARTIAL,
            "the sheet has errors (see above); fix them or remove those rows, then run again",
        ));
    }
    if p.is_empty() {
        if !opts.json {
            crate::outln!("Nothing to apply.");
        }
        return Ok(exit::OK);
    }
    let client = client?;
    confirm(
        &opts,
        &format!(
            "{} {} calls for {} devices",
            if opts.dry_run {
                "Validate (dry run)"
            } else {
                "Send"
            },
            p.steps.len(),
            p.devices.len()
        ),
    )?;
    let run = session::new_run(&prepared, &wizard, opts.dry_run);
    run_apply(&client, &store, p, run, &opts).await
}

async fn undo(
    cfg: &Config,
    store: &Store,
    run_id: i64,
    opts: &AssignOptions,
) -> Result<i32, Failure> {
    let client = assign_client(cfg)?;
    // The same preparation as the console's undo: fresh current values, then the plan.
    let prepared = prepare_undo(store, Some(&client), None, run_id)
        .await
        .map_err(|e| bad(e.to_string()))?;
    if let Some(w) = &prepared.warning {
        eprintln!("glp-console: warning: {w}");
    }
    let p = prepared.plan;
    let send = opts.apply || opts.dry_run;
    if !send || !opts.json {
        let names = Names::new(&store.application_names().await?, None);
        print_review(opts.json, &[], serde_json::Value::Null, &p, &names);
    }
    if !send {
        return Ok(exit::OK);
    }
    if p.is_empty() {
        if !opts.json {
            crate::outln!("Nothing to undo.");
        }
        return Ok(exit::OK);
    }
    confirm(
        opts,
        &format!(
            "Undo run {run_id} with {} calls for {} devices",
            p.steps.len(),
            p.devices.len()
        ),
    )?;
    let run = undo_run(run_id, opts.dry_run);
    run_apply(&client, store, p, run, opts).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bare_assign_file_on_a_terminal_opens_the_console() {
        let bare = AssignOptions {
            file: Some("devices.xlsx".into()),
            sheet: Some("Sheet2".into()),
            ..AssignOptions::default()
        };
        assert!(bare.opens_console(true));
        assert!(
            !bare.opens_console(false),
            "cron and pipes keep the headless review"
        );
        let with: Vec<AssignOptions> = vec![
            AssignOptions {
                apply: true,
                ..bare.clone()
            },
            AssignOptions {
                dry_run: true,
                ..bare.clone()
            },
            AssignOptions {
                yes: true,
                ..bare.clone()
            },
            AssignOptions {
                json: true,
                ..bare.clone()
            },
            AssignOptions {
                report: Some("r.json".into()),
                ..bare.clone()
            },
            AssignOptions {
                subscription: Some("KEY".into()),
                ..bare.clone()
            },
            AssignOptions {
                application: Some("Aruba Central".into()),
                ..bare.clone()
            },
            AssignOptions {
                region: Some("us-west".into()),
                ..bare.clone()
            },
            AssignOptions {
                tags: vec!["site=HQ".into()],
                ..bare.clone()
            },
            AssignOptions {
                remove_tags: vec!["floor".into()],
                ..bare.clone()
            },
            AssignOptions {
                file: None,
                undo: Some(3),
                ..bare.clone()
            },
        ];
        for o in with {
            assert!(!o.opens_console(true), "{o:?}");
        }
    }
}
