//! `glp-console --sync-only` over several workspaces: every workspace through its own engine
//! (a [`Fleet`]), at most `sync.workspace_concurrency` at once.
//!
//! One line per workspace that did not succeed goes to stderr (all of them with `-v`), and a
//! last line sums up ("23/25 workspaces synced · 2 failing: tenant-07, tenant-12"). The exit
//! code tells cron what to do: 0 all synced; 1 partial — some workspaces (or resources)
//! failed, the rest is stored; when none synced, the code of the first failure (2
//! credentials, 3 API, 4 locked, …), as for a single workspace.

use super::Failure;
use super::metrics::RunEnd;
use super::sync_only::{SyncOnly, failure_code, summary_json, summary_line};
use crate::cli::exit;
use crate::config::Config;
use crate::store::Store;
use crate::sync::fleet::{Fleet, WorkspaceOutcome, outcome_of};
use crate::sync::roster::{self, Roster};
use crate::sync::{FailureKind, Mode};

/// Sync the workspaces `only` names (all when empty) and return the exit code.
pub async fn run(cfg: &Config, opts: SyncOnly, only: &[String]) -> Result<i32, Failure> {
    let store = crate::sync::roster::open_store(cfg, cfg.database.pool_size.max(2)).await?;
    let Roster {
        members,
        unavailable,
        notes,
    } = roster::build(cfg, &store, only)
        .await
        .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
    for n in &notes {
        eprintln!("glp-console: {n}");
    }
    let total = members.len() + unavailable.len();
    let fleet = Fleet::spawn(
        members,
        &store,
        super::sync_only::engine_config(cfg),
        cfg.sync.workspace_concurrency,
    );
    let mode = if opts.full { Mode::Full } else { Mode::Auto };
    fleet.sync_all(opts.scope, mode, opts.trigger).await;
    let mut outcomes = unavailable;
    let (fleet, cancelled) = collect(fleet, &mut outcomes, total).await?;
    fleet.shutdown().await;
    outcomes.sort_by(|a, b| a.ws.name.cmp(&b.ws.name));
    report(&outcomes, &opts);
    let code = if cancelled {
        exit::CANCELLED
    } else {
        fleet_code(&outcomes)
    };
    let code = write_metrics(&store, &opts, &outcomes, code).await;
    store.close().await;
    Ok(code)
}

/// `--metrics-file`: one series per workspace of the run (see `sync_only::write_metrics`).
async fn write_metrics(
    store: &Store,
    opts: &SyncOnly,
    outcomes: &[WorkspaceOutcome],
    code: i32,
) -> i32 {
    let Some(path) = &opts.metrics_file else {
        return code;
    };
    let ends: Vec<RunEnd> = outcomes
        .iter()
        .map(|o| RunEnd {
            name: o.ws.name.clone(),
            ws: o.ws.id.clone(),
            summary: o.summary.clone(),
            failure: o.failure.as_ref().map(|(k, _)| *k),
        })
        .collect();
    match super::metrics::after_sync(store, path, &ends).await {
        Ok(()) => code,
        Err(e) => {
            eprintln!("glp-console: {e}");
            super::metrics::exit_code_after_write_error(code)
        }
    }
}

/// Wait for every member's final event (a signal cancels them all, and they still end).
async fn collect(
    mut fleet: Fleet,
    outcomes: &mut Vec<WorkspaceOutcome>,
    total: usize,
) -> Result<(Fleet, bool), Failure> {
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Failure::new(exit::CONFIG, format!("cannot watch SIGTERM: {e}")))?;
    let mut cancelled = false;
    while outcomes.len() < total {
        let ev = tokio::select! {
            ev = fleet.events.recv() => ev,
            _ = tokio::signal::ctrl_c(), if !cancelled => {
                cancelled = true;
                fleet.cancel_all().await;
                continue;
            }
            _ = sigterm.recv(), if !cancelled => {
                cancelled = true;
                fleet.cancel_all().await;
                continue;
            }
        };
        let Some(ev) = ev else { break };
        let Some(member) = fleet.member(&ev.workspace) else {
            continue;
        };
        if let Some(o) = outcome_of(&member.ws, &ev.event) {
            outcomes.push(o);
        }
    }
    Ok((fleet, cancelled))
}

/// 0 when every workspace synced; 1 when some did (or stored part); otherwise the first
/// failure's own code.
pub fn fleet_code(outcomes: &[WorkspaceOutcome]) -> i32 {
    let failed: Vec<&WorkspaceOutcome> = outcomes.iter().filter(|o| !o.succeeded()).collect();
    if failed.is_empty() {
        return exit::OK;
    }
    let any_stored = outcomes.iter().any(|o| o.succeeded() || o.partial());
    if any_stored {
        return exit::PARTIAL;
    }
    failed
        .first()
        .and_then(|o| {
            let (kind, _) = o.failure.as_ref()?;
            Some(failure_code(*kind, o.summary.as_ref().map(|s| s.outcome)))
        })
        .unwrap_or(exit::API)
}

fn line(o: &WorkspaceOutcome) -> String {
    let what = match (&o.summary, &o.failure) {
        (Some(s), None) => summary_line(s),
        (Some(s), Some((_, e))) => format!("{} — {e}", summary_line(s)),
        (None, Some((kind, e))) => format!("not synced ({}): {e}", kind_word(*kind)),
        (None, None) => "no result".into(),
    };
    format!("workspace {} ({}): {what}", o.ws.name, o.ws.id)
}

fn kind_word(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Auth => "credentials",
        FailureKind::Api => "API",
        FailureKind::Locked => "locked",
        FailureKind::Database => "database",
        FailureKind::Cancelled => "cancelled",
        FailureKind::LostLock => "lost lock",
    }
}

fn report(outcomes: &[WorkspaceOutcome], opts: &SyncOnly) {
    let failing: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.succeeded())
        .map(|o| o.ws.name.as_str())
        .collect();
    for o in outcomes {
        for w in o.summary.iter().flat_map(|s| &s.warnings) {
            eprintln!("glp-console: warning: {}: {w}", o.ws.name);
        }
    }
    if opts.json {
        let items: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| {
                serde_json::json!({
                    "workspace": o.ws.name,
                    "workspace_id": o.ws.id.as_str(),
                    "kind": o.ws.kind.as_str(),
                    "outcome": match (&o.summary, &o.failure) {
                        (Some(s), _) => s.outcome.as_str(),
                        (None, Some((FailureKind::Cancelled, _))) => "cancelled",
                        (None, _) => "failed",
                    },
                    "error": o.failure.as_ref().map(|(_, e)| e),
                    "sync": o.summary.as_ref().map(summary_json),
                })
            })
            .collect();
        crate::outln!(
            "{}",
            serde_json::json!({
                "workspaces": items,
                "synced": outcomes.len() - failing.len(),
                "failing": failing,
            })
        );
        return;
    }
    for o in outcomes {
        if !o.succeeded() {
            eprintln!("glp-console: {}", line(o));
        } else if opts.verbose > 0 {
            crate::outln!("{}", line(o));
        }
    }
    let summary = format!(
        "{}/{} workspaces synced{}",
        outcomes.len() - failing.len(),
        outcomes.len(),
        if failing.is_empty() {
            String::new()
        } else {
            format!(" · {} failing: {}", failing.len(), failing.join(", "))
        }
    );
    if failing.is_empty() {
        if opts.verbose > 0 {
            crate::outln!("{summary}");
        }
    } else {
        eprintln!("glp-console: {summary}");
    }
}
