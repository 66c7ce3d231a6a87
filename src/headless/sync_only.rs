//! `glp-console --sync-only`: one sync for cron, through the same engine as the TUI.
//!
//! Quiet on success (cron mails whatever a job prints) unless `-v` or `--json`; on failure the
//! error goes to stderr and the exit code says what kind (see `cli::exit`). SIGINT/SIGTERM
//! cancel the run cleanly: pages already stored stay, the run is recorded as cancelled.

use std::io::{IsTerminal, Write};

use super::Failure;
use crate::cli::exit;
use crate::config::Config;
use crate::glp::client::Client;
use crate::store::Store;
use crate::sync::engine::{self, EngineConfig};
use crate::sync::{
    FailureKind, Mode, Outcome, Scope, SyncCommand, SyncEvent, SyncSummary, Trigger,
};

/// Options of one headless sync.
#[derive(Debug, Clone)]
pub struct SyncOnly {
    pub scope: Scope,
    pub full: bool,
    pub json: bool,
    pub verbose: u8,
    pub trigger: Trigger,
    /// `--metrics-file`: where to write the run's Prometheus metrics when it ends.
    pub metrics_file: Option<std::path::PathBuf>,
}

/// Build the API client from the configuration (credentials resolved here).
pub fn build_client(cfg: &Config) -> Result<Client, Failure> {
    cfg.require_api_credentials()?;
    let secret = cfg.api.client_secret.resolve()?;
    Client::new(&cfg.api, secret).map_err(|e| Failure::new(exit::CONFIG, e.to_string()))
}

pub fn engine_config(cfg: &Config) -> EngineConfig {
    EngineConfig {
        sync: cfg.sync.clone(),
        database_url: cfg.database.url.clone(),
        gate: None,
    }
}

/// Run one sync and return the exit code.
pub async fn run(cfg: &Config, opts: SyncOnly) -> Result<i32, Failure> {
    let client = build_client(cfg)?;
    let store = crate::sync::roster::open_store(cfg, cfg.database.pool_size.max(2)).await?;
    let mut handle = engine::spawn(client, store.clone(), engine_config(cfg));
    let mode = if opts.full { Mode::Full } else { Mode::Auto };
    handle
        .commands
        .send(SyncCommand::SyncNow {
            scope: opts.scope,
            mode,
            trigger: opts.trigger,
        })
        .await
        .map_err(|_| Failure::new(exit::API, "the sync engine stopped unexpectedly"))?;

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Failure::new(exit::CONFIG, format!("cannot watch SIGTERM: {e}")))?;
    let progress = std::io::stderr().is_terminal() && !opts.json;
    let mut line = ProgressLine::new(progress, opts.verbose > 0 && !opts.json);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut cancelled = false;
    let mut end = None;
    let code = loop {
        let ev = tokio::select! {
            ev = handle.events.recv() => ev,
            _ = tick.tick() => {
                line.tick();
                continue;
            }
            _ = tokio::signal::ctrl_c(), if !cancelled => {
                cancelled = true;
                let _ = handle.commands.send(SyncCommand::Cancel).await;
                continue;
            }
            _ = sigterm.recv(), if !cancelled => {
                cancelled = true;
                let _ = handle.commands.send(SyncCommand::Cancel).await;
                continue;
            }
        };
        let Some(ev) = ev else {
            break exit::API;
        };
        match ev {
            SyncEvent::Page {
                resource,
                page,
                pages_total,
                items,
                items_total,
            } => {
                let total = pages_total.map(|t| format!("/{t}")).unwrap_or_default();
                let items_total = items_total.map(|t| format!("/{t}")).unwrap_or_default();
                line.page(format!(
                    "{resource}: page {page}{total}, {items}{items_total} items"
                ));
            }
            SyncEvent::Waiting { reason, retry_in } => line.waiting(reason, retry_in),
            SyncEvent::Resumed { waited } => line.resumed(waited),
            SyncEvent::Retry {
                attempt,
                delay,
                reason,
            } if opts.verbose > 0 => {
                clear_line(progress);
                eprintln!("retry {attempt} in {:.1}s: {reason}", delay.as_secs_f64());
            }
            SyncEvent::RateLimited { endpoint, wait } if opts.verbose > 0 => {
                clear_line(progress);
                eprintln!(
                    "rate limited on {endpoint}: waiting {:.1}s",
                    wait.as_secs_f64()
                );
            }
            SyncEvent::Finished(summary) => {
                clear_line(progress);
                report(&summary, None, &opts);
                end = Some((Some(summary), None));
                break exit::OK;
            }
            SyncEvent::Failed {
                kind,
                error,
                summary,
                ..
            } => {
                clear_line(progress);
                let code = failure_code(kind, summary.as_ref().map(|s| s.outcome));
                end = Some((summary.clone(), Some(kind)));
                match summary {
                    Some(s) => report(&s, Some(&error), &opts),
                    None if opts.json => crate::outln!(
                        "{}",
                        serde_json::json!({"outcome": "failed", "kind": format!("{kind:?}").to_lowercase(), "error": error})
                    ),
                    None => eprintln!("glp-console: sync not started: {error}"),
                }
                break code;
            }
            _ => {}
        }
    };
    let _ = handle.commands.send(SyncCommand::Shutdown).await;
    let _ = handle.task.await;
    let code = write_metrics(cfg, &store, &opts, end, code).await;
    store.close().await;
    Ok(code)
}

/// `--metrics-file`: the one workspace's series (a run that ended without a final event is
/// recorded as failed); a file that cannot be written is told on stderr and changes the
/// exit code (see [`super::metrics::exit_code_after_write_error`]), the synced data stays.
async fn write_metrics(
    cfg: &Config,
    store: &Store,
    opts: &SyncOnly,
    end: Option<(Option<SyncSummary>, Option<FailureKind>)>,
    code: i32,
) -> i32 {
    let Some(path) = &opts.metrics_file else {
        return code;
    };
    let (summary, failure) = end.unwrap_or((None, Some(FailureKind::Api)));
    let ws = cfg.clients().next();
    let run = super::metrics::RunEnd {
        name: ws.map_or_else(
            || crate::domain::WorkspaceId::DEFAULT.into(),
            |w| w.name.clone(),
        ),
        ws: cfg.primary_workspace(),
        summary,
        failure,
    };
    match super::metrics::after_sync(store, path, &[run]).await {
        Ok(()) => code,
        Err(e) => {
            eprintln!("glp-console: {e}");
            super::metrics::exit_code_after_write_error(code)
        }
    }
}

/// The exit code of a sync that ended with a failure of `kind` (and, if it started, this
/// outcome): what cron should do about it (see `cli::exit`).
pub fn failure_code(kind: FailureKind, outcome: Option<Outcome>) -> i32 {
    match (kind, outcome) {
        (FailureKind::Cancelled, _) => exit::CANCELLED,
        (FailureKind::LostLock, _) => exit::LOST_LOCK,
        (_, Some(Outcome::Partial)) => exit::PARTIAL,
        (FailureKind::Auth, _) => exit::CONFIG,
        (FailureKind::Api, _) => exit::API,
        (FailureKind::Locked, _) => exit::LOCKED,
        (FailureKind::Database, _) => exit::DATABASE,
    }
}

/// The one-line progress display on a terminal ("devices: page 3/40, 600/8000 items"), which
/// says "waiting for GreenLake (outage, retry in 12s)" while the run waits out an outage and
/// counts that down. Not on a terminal, `-v` prints the waiting as lines instead (at most one
/// every few seconds: the countdown is what changes).
struct ProgressLine {
    tty: bool,
    verbose: bool,
    page: String,
    waiting: Option<(crate::sync::WaitReason, tokio::time::Instant)>,
    last_line: Option<tokio::time::Instant>,
}

/// How often `-v` repeats the waiting line off a terminal.
const WAIT_LINE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl ProgressLine {
    fn new(tty: bool, verbose: bool) -> Self {
        ProgressLine {
            tty,
            verbose,
            page: String::new(),
            waiting: None,
            last_line: None,
        }
    }

    fn draw(&self) {
        if !self.tty {
            return;
        }
        let text = match (&self.waiting, self.page.is_empty()) {
            (Some((reason, until)), empty) => {
                let left = until.saturating_duration_since(tokio::time::Instant::now());
                let w = crate::sync::waiting_text(*reason, left);
                if empty {
                    w
                } else {
                    format!("{} — {w}", self.page)
                }
            }
            (None, _) => self.page.clone(),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{text}");
        let _ = err.flush();
    }

    fn page(&mut self, text: String) {
        self.page = text;
        self.waiting = None;
        self.draw();
    }

    fn waiting(&mut self, reason: crate::sync::WaitReason, retry_in: std::time::Duration) {
        let now = tokio::time::Instant::now();
        let changed = self.waiting.is_none_or(|(r, _)| r != reason);
        self.waiting = Some((reason, now + retry_in));
        if self.tty {
            self.draw();
        } else if self.verbose
            && (changed || self.last_line.is_none_or(|t| now - t >= WAIT_LINE_EVERY))
        {
            self.last_line = Some(now);
            eprintln!(
                "glp-console: {}",
                crate::sync::waiting_text(reason, retry_in)
            );
        }
    }

    fn resumed(&mut self, waited: std::time::Duration) {
        self.waiting = None;
        // A page may have been reported before this: the waiting line printed is what counts.
        if self.last_line.take().is_some() {
            eprintln!(
                "glp-console: GreenLake answers again after {}s; going on",
                waited.as_secs()
            );
        }
        self.draw();
    }

    /// Once a second: move the countdown.
    fn tick(&self) {
        if self.waiting.is_some() {
            self.draw();
        }
    }
}

fn clear_line(progress: bool) {
    if progress {
        eprint!("\r\x1b[2K");
    }
}

fn report(s: &SyncSummary, error: Option<&str>, opts: &SyncOnly) {
    // A warning never changes the exit code, but cron mail should still say it.
    for w in &s.warnings {
        eprintln!("glp-console: warning: {w}");
    }
    if opts.json {
        crate::outln!("{}", summary_json(s));
        return;
    }
    let line = summary_line(s);
    match error {
        None if opts.verbose > 0 => crate::outln!("{line}"),
        None => {}
        Some(e) => {
            eprintln!("glp-console: {line}");
            eprintln!("glp-console: {e}");
        }
    }
}

/// One line for logs and cron mail.
pub fn summary_line(s: &SyncSummary) -> String {
    let parts: Vec<String> = s
        .resources
        .iter()
        .filter_map(|r| {
            let res = r.resource?;
            Some(format!(
                "{res} {} fetched ({} new, {} updated, {} unchanged, {} removed{}{}){}",
                r.fetched,
                r.inserted,
                r.updated,
                r.unchanged,
                r.removed,
                if r.sanitised > 0 {
                    format!(", {} sanitised", r.sanitised)
                } else {
                    String::new()
                },
                if r.skipped > 0 {
                    format!(", {} unusable", r.skipped)
                } else {
                    String::new()
                },
                match (r.complete, &r.error) {
                    (true, _) => String::new(),
                    (false, Some(e)) => format!(" INCOMPLETE, {}: {e}", r.outcome.as_str()),
                    (false, None) => format!(" INCOMPLETE, {}", r.outcome.as_str()),
                }
            ))
        })
        .collect();
    let audit = match &s.audit_log {
        Some(a) if a.error.is_none() => {
            format!("; audit log {} read ({} new)", a.fetched, a.stored)
        }
        Some(_) => "; audit log NOT READ (see the warning)".to_string(),
        None => String::new(),
    };
    format!(
        "sync #{} {} ({} {}): {}{audit} in {:.1}s; {} requests, {} retries, {} throttled",
        s.run_id,
        s.outcome.as_str(),
        s.mode.as_str(),
        s.scope.as_str(),
        parts.join("; "),
        s.duration.as_secs_f64(),
        s.requests,
        s.retries,
        s.throttled
    )
}

pub fn summary_json(s: &SyncSummary) -> serde_json::Value {
    serde_json::json!({
        "run_id": s.run_id,
        "outcome": s.outcome.as_str(),
        "mode": s.mode.as_str(),
        "scope": s.scope.as_str(),
        "started_at": s.started_at,
        "duration_seconds": s.duration.as_secs_f64(),
        "requests": s.requests,
        "retries": s.retries,
        "throttled": s.throttled,
        "breaker_trips": s.breaker_trips,
        "error": s.error,
        "resources": s.resources.iter().map(|r| serde_json::json!({
            "resource": r.resource.map(|x| x.as_str()),
            "pages": r.pages, "fetched": r.fetched, "inserted": r.inserted, "updated": r.updated,
            "unchanged": r.unchanged, "removed": r.removed, "restored": r.restored,
            "skipped": r.skipped, "sanitised": r.sanitised, "complete": r.complete,
            "outcome": r.outcome.as_str(), "error": r.error,
        })).collect::<Vec<_>>(),
        "audit_log": s.audit_log.as_ref().map(|a| serde_json::json!({
            "since": a.since, "pages": a.pages, "fetched": a.fetched, "stored": a.stored,
            "skipped": a.skipped, "error": a.error,
        })),
        "warnings": s.warnings,
    })
}
