//! The targeted refresh: fetch a few devices by serial number and store them, as a run of
//! its own — under the workspace lock and recorded in `sync_history` like any sync.
//!
//! Why through the engine rather than a plain "fetch and upsert": a full sync that fetched a
//! page before an assignment would otherwise overwrite the fresher rows the refresh wrote.
//! The refresh *waits* for the workspace lock (a sync holding it finishes first) and fetches
//! only after it holds it, so what it writes is newer than anything the earlier sync wrote;
//! a sync asked for meanwhile finds the lock taken and is refused, as with any running sync.
//!
//! The devices are fetched with one filtered list per [`SERIALS_PER_LIST`] serials
//! (`serialNumber in ('a', 'b', …)`), never one GET per device (40 a minute).
//!
//! The run is recorded with mode `refresh` and its devices phase as not `complete`: it read
//! a handful of devices, so it must count neither as a full sync nor as an incremental
//! baseline, and it marks nothing removed.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::StreamExt;

use super::events::{FailureKind, SyncEvent};
use super::record::record_end;
use super::stop::Stop;
use crate::domain::SyncSummary;
use crate::domain::{Mode, Outcome, Resource, ResourceOutcome, ResourceSummary, Scope, Trigger};
use crate::glp::client::Client;
use crate::store::Store;
use crate::store::fence::RunFence;
use crate::store::lock::lock_key;

/// Serials per `serialNumber in (…)` list request.
pub const SERIALS_PER_LIST: usize = 100;

/// How long a refresh waits for a running sync to release the workspace lock. A full sync
/// of a large workspace takes minutes against GreenLake's rate limits; past this the
/// refresh gives up and the next sync brings the devices in.
pub const LOCK_WAIT: Duration = Duration::from_secs(15 * 60);

/// One targeted refresh.
pub struct RefreshJob<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    /// The workspace lock key (see `store::lock::lock_key`).
    pub lock_key: i64,
    pub serials: &'a [String],
    pub trigger: Trigger,
    pub lock_wait: Duration,
}

impl<'a> RefreshJob<'a> {
    /// A job for the store's workspace (the lock key follows from it, as for a sync of the
    /// same workspace).
    pub fn new(
        client: &'a Client,
        store: &'a Store,
        serials: &'a [String],
        trigger: Trigger,
    ) -> RefreshJob<'a> {
        RefreshJob {
            client,
            store,
            lock_key: lock_key(store.workspace()),
            serials,
            trigger,
            lock_wait: LOCK_WAIT,
        }
    }
}

/// `'a'` with quotes doubled, as the filter grammar wants.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The filter of one batch: `serialNumber in ('a', 'b')`.
pub fn serial_filter(serials: &[String]) -> String {
    let list: Vec<String> = serials.iter().map(|s| quote(s)).collect();
    format!("serialNumber in ({})", list.join(", "))
}

/// Run the refresh; progress goes to `emit`, the final event (`Finished` or `Failed`, the
/// same as a sync's) is returned.
pub async fn refresh(job: &RefreshJob<'_>, emit: &(dyn Fn(SyncEvent) + Sync)) -> SyncEvent {
    let fail = |kind: FailureKind, error: String| SyncEvent::Failed {
        kind,
        error,
        summary: None,
        refresh: true,
    };
    let lock = match job.store.wait_sync_lock(job.lock_key, job.lock_wait).await {
        Ok(Some(l)) => l,
        Ok(None) => {
            return fail(
                FailureKind::Locked,
                format!(
                    "another sync of this workspace held the lock for {} min; the touched \
                     devices were not fetched again — the next sync brings them in",
                    job.lock_wait.as_secs() / 60
                ),
            );
        }
        Err(e) => return fail(FailureKind::Database, e.to_string()),
    };
    // Timed from the lock: what the run did, not how long it queued.
    let started = Instant::now();
    let started_at = Utc::now();
    let run_id = match job
        .store
        .begin_run(job.trigger, Mode::Refresh, Scope::Devices, None)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            lock.release().await;
            return fail(FailureKind::Database, e.to_string());
        }
    };
    let fence = RunFence::new(run_id, lock);
    tracing::info!(
        run_id,
        devices = job.serials.len(),
        trigger = job.trigger.as_str(),
        "refresh started"
    );
    emit(SyncEvent::Started {
        run_id,
        scope: Scope::Devices,
        mode: Mode::Refresh,
        trigger: job.trigger,
    });
    let before = job.client.counters();
    let mut res = ResourceSummary {
        resource: Some(Resource::Devices),
        ..Default::default()
    };
    let stop = fetch_and_store(job, &fence, &mut res, emit).await;
    res.outcome = match &stop {
        None => ResourceOutcome::Succeeded,
        Some(_) => ResourceOutcome::Failed,
    };
    res.error = stop.as_ref().map(Stop::message);
    let after = job.client.counters();
    let mut summary = SyncSummary {
        run_id,
        scope: Scope::Devices,
        mode: Mode::Refresh,
        outcome: if stop.is_none() {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        },
        started_at,
        duration: started.elapsed(),
        resources: vec![res.clone()],
        requests: after.requests - before.requests,
        retries: after.retries - before.retries,
        throttled: after.throttled - before.throttled,
        breaker_trips: after.breaker_trips - before.breaker_trips,
        error: res.error.clone(),
        audit_log: None,
        warnings: Vec::new(),
    };
    if let Some(crate::store::history::Finish::AlreadyEnded(was)) =
        record_end(job.store, &summary, None, None).await
    {
        summary.outcome = Outcome::Failed;
        summary.error = Some(format!(
            "lost lock: another sync took over and marked this run {was}"
        ));
    }
    fence.release().await;
    tracing::info!(
        run_id,
        outcome = summary.outcome.as_str(),
        "refresh finished"
    );
    match (summary.outcome, stop) {
        (Outcome::Succeeded, _) => SyncEvent::Finished(summary),
        (_, stop) => SyncEvent::Failed {
            kind: stop.map_or(FailureKind::LostLock, |s| s.kind()),
            error: summary.error.clone().unwrap_or_default(),
            summary: Some(summary),
            refresh: true,
        },
    }
}

/// The batches, one list request (and its pages) each, every page written in its own
/// fenced transaction. The first failure stops it: the pages stored so far stay.
async fn fetch_and_store(
    job: &RefreshJob<'_>,
    fence: &RunFence,
    res: &mut ResourceSummary,
    emit: &(dyn Fn(SyncEvent) + Sync),
) -> Option<Stop> {
    let batches = job.serials.chunks(SERIALS_PER_LIST).count() as u64;
    for (i, chunk) in job.serials.chunks(SERIALS_PER_LIST).enumerate() {
        let pages = job.client.devices(Some(serial_filter(chunk)));
        futures_util::pin_mut!(pages);
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Some(Stop::Api(e)),
            };
            res.skipped += page.skipped.len() as u64;
            let c = match job
                .store
                .upsert_devices_fenced(&page.items, None, Some(fence))
                .await
            {
                Ok(c) => c,
                Err(e) => return Some(Stop::from_store(e, fence).await),
            };
            res.pages += 1;
            res.fetched += page.items.len() as u64;
            res.inserted += c.inserted;
            res.updated += c.updated;
            res.unchanged += c.unchanged;
            res.restored += c.restored;
            res.sanitised += c.sanitised;
            res.skipped += c.skipped;
            emit(SyncEvent::Page {
                resource: Resource::Devices,
                page: i as u64 + 1,
                pages_total: Some(batches),
                items: res.fetched,
                items_total: Some(job.serials.len() as u64),
            });
        }
    }
    None
}
