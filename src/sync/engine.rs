//! The engine task: takes [`SyncCommand`]s, runs one sync at a time, reports progress as
//! [`SyncEvent`]s and keeps a `watch` of [`EngineStatus`].
//!
//! A run: take the workspace advisory lock (another process syncing → `Locked`), choose full
//! or incremental per the history, record the start, then for each resource stream pages from
//! the client and write each one in its own transaction as it arrives — so memory holds only
//! the pages in flight, and a failure or cancel leaves every committed page intact. A full run
//! that read a resource completely marks what it did not see as removed.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::events::*;
use super::lock_watch::watch_lock;
use super::meter::RateMeter;
use super::mode::choose_mode;
use super::record::record_end;
use super::refresh::{self, RefreshJob};
use super::stop::Stop;
use crate::config::SyncConfig;
use crate::glp::client::{Client, ClientEvent};
use crate::glp::error::GlpError;
use crate::store::fence::RunFence;
use crate::store::history::Finish;
use crate::store::inventory::{Resource, UpsertCounts};
use crate::store::{Store, StoreError};

/// What the engine needs besides the client and the store.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub sync: SyncConfig,
    /// Database URL for the lock's dedicated connection.
    pub database_url: String,
    /// Runs of several workspaces' engines share this: a run waits for a permit before it
    /// takes its lock, which bounds how many workspaces sync at once (`sync.workspace_concurrency`).
    pub gate: Option<Arc<tokio::sync::Semaphore>>,
}

/// The front end's ends of the engine's channels.
pub struct EngineHandle {
    pub commands: mpsc::Sender<SyncCommand>,
    pub events: mpsc::Receiver<SyncEvent>,
    pub status: watch::Receiver<EngineStatus>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Start the engine task.
pub fn spawn(client: Client, store: Store, cfg: EngineConfig) -> EngineHandle {
    let (cmd_tx, cmd_rx) = mpsc::channel(16);
    let (ev_tx, ev_rx) = mpsc::channel(256);
    let (status_tx, status_rx) = watch::channel(EngineStatus {
        breaker: client.breaker().borrow().clone(),
        health: client.health().borrow().clone(),
        ..Default::default()
    });
    let engine = Engine {
        shared: Arc::new(Shared {
            client,
            store,
            cfg,
            events: ev_tx,
            status: status_tx,
        }),
    };
    let task = tokio::spawn(engine.main_loop(cmd_rx));
    EngineHandle {
        commands: cmd_tx,
        events: ev_rx,
        status: status_rx,
        task,
    }
}

struct Shared {
    client: Client,
    store: Store,
    cfg: EngineConfig,
    events: mpsc::Sender<SyncEvent>,
    status: watch::Sender<EngineStatus>,
}

impl Shared {
    /// Events are for display: if the front end is slow, drop progress rather than stall a
    /// sync (the `watch` keeps the latest state anyway). Final events are awaited.
    fn emit(&self, e: SyncEvent) {
        let _ = self.events.try_send(e);
    }

    async fn emit_final(&self, e: SyncEvent) {
        let _ = self.events.send(e).await;
    }
}

struct Engine {
    shared: Arc<Shared>,
}

struct Running {
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Engine {
    async fn main_loop(self, mut commands: mpsc::Receiver<SyncCommand>) {
        let s = self.shared.clone();
        if let Ok(Some(t)) = s.store.last_success().await {
            s.status.send_modify(|st| st.last_success = Some(t));
        }
        let mut breaker = s.client.breaker();
        let mut health = s.client.health();
        let prober = tokio::spawn(super::probe::when_due(s.client.clone()));
        let mut client_events = s.client.subscribe();
        let mut running: Option<Running> = None;
        // Refreshes run beside the command loop: each waits for the workspace lock, so they
        // queue behind a running sync (and each other) in the server, not here.
        let mut refreshes: Vec<tokio::task::JoinHandle<()>> = Vec::new();
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(SyncCommand::SyncNow { scope, mode, trigger }) => {
                        if running.as_ref().is_some_and(|r| !r.task.is_finished()) {
                            s.emit(SyncEvent::AlreadyRunning);
                            continue;
                        }
                        let cancel = CancellationToken::new();
                        let task = tokio::spawn(run(s.clone(), scope, mode, trigger, cancel.clone()));
                        running = Some(Running { cancel, task });
                    }
                    Some(SyncCommand::Refresh { serials, trigger, reply }) => {
                        refreshes.retain(|t| !t.is_finished());
                        refreshes.push(tokio::spawn(run_refresh(s.clone(), serials, trigger, reply)));
                    }
                    Some(SyncCommand::Cancel) => {
                        if let Some(r) = &running {
                            r.cancel.cancel();
                        }
                    }
                    Some(SyncCommand::Shutdown) | None => {
                        if let Some(r) = running.take() {
                            r.cancel.cancel();
                            let _ = r.task.await;
                        }
                        // A refresh still queued or running is dropped: a page transaction
                        // in flight rolls back, and its run is marked abandoned by the next.
                        for t in refreshes.drain(..) {
                            t.abort();
                        }
                        prober.abort();
                        break;
                    }
                },
                changed = breaker.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    let snap = breaker.borrow_and_update().clone();
                    s.status.send_modify(|st| st.breaker = snap.clone());
                    s.emit(SyncEvent::Breaker(snap));
                }
                changed = health.changed() => {
                    if changed.is_ok() {
                        let h = health.borrow_and_update().clone();
                        s.status.send_modify(|st| st.health = h);
                    }
                }
                ev = client_events.recv() => match ev {
                    Ok(ClientEvent::Retry { attempt, delay, reason }) => {
                        s.emit(SyncEvent::Retry { attempt, delay, reason });
                    }
                    Ok(ClientEvent::RateLimited { endpoint, wait }) => {
                        s.emit(SyncEvent::RateLimited { endpoint, wait });
                    }
                    Ok(ClientEvent::Waiting { reason, retry_in }) => {
                        s.emit(SyncEvent::Waiting { reason, retry_in });
                    }
                    Ok(ClientEvent::Resumed { waited }) => {
                        s.emit(SyncEvent::Resumed { waited });
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        client_events = s.client.subscribe();
                    }
                },
            }
        }
    }
}

/// A [`SyncCommand::Refresh`]: the targeted refresh with this engine's client, store and
/// lock, its events on the engine's channel, its final event to `reply` as well.
async fn run_refresh(s: Arc<Shared>, serials: Vec<String>, trigger: Trigger, reply: RefreshReply) {
    let job = RefreshJob {
        client: &s.client,
        store: &s.store,
        lock_key: crate::store::lock::lock_key(s.store.workspace()),
        serials: &serials,
        trigger,
        lock_wait: refresh::LOCK_WAIT,
    };
    let emit = |ev: SyncEvent| s.emit(ev);
    let done = refresh::refresh(&job, &emit).await;
    s.emit_final(done.clone()).await;
    reply.send(done);
}

fn odata_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Take the workspace lock, choose the mode and record the start: the lock, the mode, the
/// incremental start and the run id — or the final event of a run that could not start.
async fn begin(
    s: &Shared,
    scope: Scope,
    asked: Mode,
    trigger: Trigger,
) -> Result<
    (
        crate::store::lock::SyncLock,
        Mode,
        Option<DateTime<Utc>>,
        i64,
    ),
    SyncEvent,
> {
    let fail = |kind: FailureKind, error: String| SyncEvent::Failed {
        kind,
        error,
        summary: None,
        refresh: false,
    };
    let lock = match s
        .store
        .try_sync_lock(
            &s.cfg.database_url,
            crate::store::lock::lock_key(s.store.workspace()),
        )
        .await
    {
        Ok(Some(l)) => l,
        Ok(None) => {
            return Err(fail(
                FailureKind::Locked,
                "another sync of this workspace is running (on this or another host); it was \
                 left alone — try again when it has finished"
                    .into(),
            ));
        }
        Err(e) => {
            return Err(fail(FailureKind::Database, e.to_string()));
        }
    };
    let (mode, since) = match choose_mode(&s.store, &s.cfg.sync, scope, asked).await {
        Ok(m) => m,
        Err(e) => {
            lock.release().await;
            return Err(fail(FailureKind::Database, e.to_string()));
        }
    };
    let run_id = match s.store.begin_run(trigger, mode, scope, since).await {
        Ok(id) => id,
        Err(e) => {
            lock.release().await;
            return Err(fail(FailureKind::Database, e.to_string()));
        }
    };
    Ok((lock, mode, since, run_id))
}

/// The run's outcome, failure kind and error from its resources' stops: a cancel or a lost
/// lock says it all; otherwise succeeded, partial (a resource failed, another completed) or
/// failed (none completed).
fn run_outcome(
    stops: &[Stop],
    resources: &[ResourceSummary],
) -> (Outcome, Option<FailureKind>, Option<String>) {
    let complete = resources.iter().filter(|r| r.complete).count();
    let first = stops
        .iter()
        .find(|x| matches!(x, Stop::Cancelled | Stop::LostLock(_)))
        .or(stops.first());
    let (outcome, kind) = match first {
        None => (Outcome::Succeeded, None),
        Some(Stop::Cancelled) => (Outcome::Cancelled, Some(FailureKind::Cancelled)),
        Some(Stop::LostLock(_)) => (Outcome::Failed, Some(FailureKind::LostLock)),
        Some(stop) if complete > 0 => (Outcome::Partial, Some(stop.kind())),
        Some(stop) => (Outcome::Failed, Some(stop.kind())),
    };
    let error = match first {
        None => None,
        Some(x @ (Stop::Cancelled | Stop::LostLock(_))) => Some(x.message()),
        Some(_) => Some(
            resources
                .iter()
                .filter_map(|r| Some(format!("{}: {}", r.resource?, r.error.as_deref()?)))
                .collect::<Vec<_>>()
                .join("; "),
        ),
    };
    (outcome, kind, error)
}

/// Queued behind other workspaces' runs (see `EngineConfig::gate`): the permit, or `Err` when
/// a cancel came first (its final event is sent).
async fn wait_for_gate(
    s: &Shared,
    cancel: &CancellationToken,
) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, ()> {
    let Some(gate) = &s.cfg.gate else {
        return Ok(None);
    };
    tokio::select! {
        p = gate.clone().acquire_owned() => Ok(p.ok()),
        _ = cancel.cancelled() => {
            s.emit_final(SyncEvent::Failed {
                kind: FailureKind::Cancelled,
                error: "cancelled while waiting for other workspaces' syncs".into(),
                summary: None,
                refresh: false,
            })
            .await;
            Err(())
        }
    }
}

async fn run(
    s: Arc<Shared>,
    scope: Scope,
    asked: Mode,
    trigger: Trigger,
    cancel: CancellationToken,
) {
    let Ok(_permit) = wait_for_gate(&s, &cancel).await else {
        return;
    };
    let started = Instant::now();
    let started_at = Utc::now();
    let (lock, mode, since, run_id) = match begin(&s, scope, asked, trigger).await {
        Ok(x) => x,
        Err(ev) => {
            s.emit_final(ev).await;
            return;
        }
    };
    let fence = Arc::new(RunFence::new(run_id, lock));
    let watching = CancellationToken::new();
    let watcher = tokio::spawn(watch_lock(fence.clone(), watching.clone()));
    tracing::info!(
        run_id,
        scope = scope.as_str(),
        mode = mode.as_str(),
        trigger = trigger.as_str(),
        "sync started"
    );
    s.emit(SyncEvent::Started {
        run_id,
        scope,
        mode,
        trigger,
    });
    let before = s.client.counters();
    let mut resources = Vec::new();
    // Every resource's stop, in order; the run goes on after one that only ends its phase.
    let mut stops: Vec<Stop> = Vec::new();
    for &res in scope.resources() {
        let mut summary = ResourceSummary {
            resource: Some(res),
            ..Default::default()
        };
        if !stops.iter().any(Stop::ends_run) {
            match sync_resource(&s, res, mode, since, &fence, &cancel, &mut summary).await {
                None => summary.outcome = ResourceOutcome::Succeeded,
                Some(stop) => {
                    summary.outcome = match stop {
                        Stop::Cancelled => ResourceOutcome::Cancelled,
                        _ => ResourceOutcome::Failed,
                    };
                    summary.error = Some(stop.message());
                    tracing::info!(run_id, resource = res.as_str(), error = %stop.message(), "resource not synced completely");
                    stops.push(stop);
                }
            }
        }
        resources.push(summary);
    }
    let (audit_log, warnings) = audit_phase(&s, &fence, &cancel, &resources, &stops).await;
    // Calls outside a sync (the console's look-ups, assignments) fail as before.
    s.client.set_patience(None);
    watching.cancel();
    let _ = watcher.await;
    s.status.send_modify(|st| st.running = None);
    let after = s.client.counters();
    let (mut outcome, mut kind, mut error) = run_outcome(&stops, &resources);
    if !stops.is_empty() && mode == Mode::Full {
        // The seen-marks of an incomplete full sync must not outlive it (its own only: a
        // sync that took over deleted them already).
        let _ = s.store.forget_seen(run_id).await;
    }
    let mut summary = SyncSummary {
        run_id,
        scope,
        mode,
        outcome,
        started_at,
        duration: started.elapsed(),
        resources,
        requests: after.requests - before.requests,
        retries: after.retries - before.retries,
        throttled: after.throttled - before.throttled,
        breaker_trips: after.breaker_trips - before.breaker_trips,
        error: error.clone(),
        audit_log,
        warnings,
    };
    let note = fence.lost_reason().map(|why| {
        format!(
            "sync #{run_id} itself stopped at {}: lost lock: {why}",
            odata_time(Utc::now())
        )
    });
    if let Some(Finish::AlreadyEnded(was)) = record_end(
        &s.store,
        &summary,
        note.as_deref(),
        Some(s.cfg.sync.history_retention_days),
    )
    .await
    {
        // Another sync took the lock over and closed this run: whatever it did is not a
        // success of its own.
        tracing::error!(run_id, was = %was, "the sync run had been marked {was} by another sync");
        if outcome != Outcome::Cancelled {
            outcome = Outcome::Failed;
            kind = Some(FailureKind::LostLock);
            let why = fence
                .lost_reason()
                .unwrap_or_else(|| "its workspace lock was lost".into());
            error = Some(format!(
                "lost lock: {why}; another sync took over and marked this run {was}"
            ));
            summary.outcome = outcome;
            summary.error = error.clone();
        }
    }
    match Arc::try_unwrap(fence) {
        Ok(f) => f.release().await,
        // Unreachable: the watcher and every page write are done. Dropping closes the lock's
        // connection, which releases the lock all the same.
        Err(f) => drop(f),
    }
    tracing::info!(
        run_id,
        outcome = outcome.as_str(),
        secs = summary.duration.as_secs_f64(),
        "sync finished"
    );
    report_end(&s, outcome, kind, error, summary).await;
}

/// The audit-log phase after the inventory (`sync::audit_log`).
async fn audit_phase(
    s: &Shared,
    fence: &RunFence,
    cancel: &CancellationToken,
    resources: &[ResourceSummary],
    stops: &[Stop],
) -> (Option<crate::domain::AuditLogSummary>, Vec<String>) {
    let phase = super::audit_log::Phase {
        client: &s.client,
        store: &s.store,
        fence,
        cancel,
        retention_days: s.cfg.sync.history_retention_days,
    };
    super::audit_log::phase(&phase, resources, stops.iter().any(Stop::ends_run)).await
}

/// Update the status and send the run's final event.
async fn report_end(
    s: &Shared,
    outcome: Outcome,
    kind: Option<FailureKind>,
    error: Option<String>,
    summary: SyncSummary,
) {
    match (outcome, kind) {
        (Outcome::Succeeded, _) => {
            let now = Utc::now();
            s.status.send_modify(|st| {
                st.last_success = Some(now);
                st.last_error = None;
                st.stale = false;
            });
            s.emit_final(SyncEvent::Finished(summary)).await;
        }
        (_, kind) => {
            let kind = kind.unwrap_or(FailureKind::Api);
            let message = error.unwrap_or_default();
            s.status.send_modify(|st| {
                st.last_error = Some(message.clone());
                st.stale = matches!(kind, FailureKind::Api | FailureKind::Auth);
            });
            s.emit_final(SyncEvent::Failed {
                kind,
                error: message,
                refresh: summary.mode == crate::domain::Mode::Refresh,
                summary: Some(summary),
            })
            .await;
        }
    }
}

/// Fetch and store one resource. Pages are fetched ahead by a producer task while the
/// previous page is written, so network and database work overlap.
async fn sync_resource(
    s: &Arc<Shared>,
    res: Resource,
    mode: Mode,
    since: Option<DateTime<Utc>>,
    fence: &Arc<RunFence>,
    cancel: &CancellationToken,
    summary: &mut ResourceSummary,
) -> Option<Stop> {
    if let Some(why) = fence.lost_reason() {
        return Some(Stop::LostLock(why));
    }
    let run_id = fence.run_id();
    // Each phase may wait out an outage for the whole patience: one resource's outage
    // (its endpoint failing for minutes) must not use up the other's.
    s.client.set_patience(Some(s.cfg.sync.patience));
    let filter = match (mode, since) {
        (Mode::Incremental, Some(t)) => Some(format!("updatedAt gt '{}'", odata_time(t))),
        _ => None,
    };
    let seen_by = (mode == Mode::Full).then_some(run_id);
    let mut meter = RateMeter::new();
    s.status.send_modify(|st| {
        st.running = Some(Progress {
            resource: Some(res),
            ..Default::default()
        })
    });
    // The client's page stream runs on its own task with a one-page buffer, so the next
    // pages download while these are written; no second buffer here (every buffered
    // 2000-device page is ~7 MB of the sync's peak memory).
    let mut pages: PageStream = match res {
        Resource::Devices => Box::pin(s.client.devices(filter).map(PageMsg::Devices)),
        Resource::Subscriptions => {
            Box::pin(s.client.subscriptions(filter).map(PageMsg::Subscriptions))
        }
    };
    // Up to WRITERS pages are written at once, each in its own transaction on its own
    // connection: PostgreSQL spends one core per statement, and a writer also waits on
    // round trips and commits, so three writers keep both cores of a small jump host busy
    // while the next pages download (two: ~20 s for the 100k+50k benchmark, three: ~16 s).
    let mut writes = FuturesUnordered::new();
    let mut fetching = true;
    let result = loop {
        // Cancellation first: a buffered page must not outrun a cancel.
        tokio::select! {
            biased;
            _ = cancel.cancelled(), if fetching || !writes.is_empty() => break Some(Stop::Cancelled),
            _ = fence.lost(), if fetching || !writes.is_empty() => {
                break Some(Stop::LostLock(fence.lost_reason().unwrap_or_default()));
            }
            done = writes.next(), if !writes.is_empty() => {
                let Some((progress, write)) = done else { continue };
                let counts: UpsertCounts = match write {
                    Ok(c) => c,
                    Err(e) => break Some(Stop::from_store(e, fence).await),
                };
                // Pages may finish out of order: report what is stored so far.
                let PageInfo { page, pages_total, items_total, len } = progress;
                summary.pages += 1;
                summary.fetched += len;
                summary.inserted += counts.inserted;
                summary.updated += counts.updated;
                summary.unchanged += counts.unchanged;
                summary.restored += counts.restored;
                summary.sanitised += counts.sanitised;
                summary.skipped += counts.skipped;
                let items = summary.fetched;
                let rate = meter.record(items);
                s.status.send_modify(|st| {
                    st.running = Some(Progress {
                        resource: Some(res),
                        page,
                        pages_total,
                        items,
                        items_total,
                        rate,
                    })
                });
                s.emit(SyncEvent::Page {
                    resource: res,
                    page,
                    pages_total,
                    items,
                    items_total,
                });
            }
            msg = pages.next(), if fetching && writes.len() < WRITERS => {
                let Some(msg) = msg else {
                    fetching = false;
                    continue;
                };
                let store = s.store.clone();
                let fence = fence.clone();
                let fut: WriteFuture = match msg {
                    PageMsg::Devices(Err(e)) | PageMsg::Subscriptions(Err(e)) => {
                        break Some(Stop::Api(e));
                    }
                    PageMsg::Devices(Ok(p)) => {
                        summary.skipped += p.skipped.len() as u64;
                        let info = PageInfo::of(&p);
                        Box::pin(async move {
                            let w = store.upsert_devices_fenced(&p.items, seen_by, Some(&fence));
                            (info, w.await)
                        })
                    }
                    PageMsg::Subscriptions(Ok(p)) => {
                        summary.skipped += p.skipped.len() as u64;
                        let info = PageInfo::of(&p);
                        Box::pin(async move {
                            let w = store.upsert_subscriptions_fenced(&p.items, seen_by, Some(&fence));
                            (info, w.await)
                        })
                    }
                };
                writes.push(fut);
            }
            else => break None,
        }
    };
    // A stop leaves the other in-flight page writes to finish or roll back on their own:
    // each is one transaction, so the database stays consistent either way.
    while writes.next().await.is_some() {}
    // Dropping the stream stops its producer task.
    drop(pages);
    if result.is_some() {
        return result;
    }
    if mode == Mode::Full {
        // Every page was stored (the stream ended without an error, every write committed):
        // mark what the run did not see — only while it still holds the lock.
        match s
            .store
            .reconcile_removed_fenced(run_id, res, Some(fence))
            .await
        {
            Ok(n) => summary.removed = n,
            Err(e) => return Some(Stop::from_store(e, fence).await),
        }
    }
    summary.complete = true;
    None
}

type PageStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = PageMsg> + Send>>;

/// Page writes in flight at once (see `sync_resource`).
const WRITERS: usize = 3;

type WriteFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = (PageInfo, Result<UpsertCounts, StoreError>)> + Send>,
>;

/// Progress figures of a page, kept while it is written.
struct PageInfo {
    page: u64,
    pages_total: Option<u64>,
    items_total: Option<u64>,
    len: u64,
}

impl PageInfo {
    fn of<T>(p: &crate::glp::page::Page<T>) -> PageInfo {
        PageInfo {
            page: p.page,
            pages_total: p.pages_total,
            items_total: p.items_total,
            len: p.items.len() as u64,
        }
    }
}

enum PageMsg {
    Devices(Result<crate::glp::page::Page<crate::glp::model::Device>, GlpError>),
    Subscriptions(Result<crate::glp::page::Page<crate::glp::model::Subscription>, GlpError>),
}
