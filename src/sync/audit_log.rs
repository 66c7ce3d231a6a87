//! A run's audit-log phase: after the inventory, read GreenLake's audit log from the
//! workspace's watermark on and store it a page at a time.
//!
//! Incremental: the watermark is the latest entry time stored; each run reads again from
//! [`OVERLAP`] before it (an entry can appear in the log a little after its time), and the
//! store keeps one copy per id. A workspace with nothing stored reads the last
//! [`FIRST_READ_DAYS`] days (at most the retention). The phase is secondary to the
//! inventory: it runs only when the devices were read completely, its calls do not wait out
//! an outage (no patience), and its failure — a 403 because the API client lacks the audit
//! permission, an outage, a bad page — is logged and becomes a warning of the run's summary,
//! never its outcome or exit code. The next run catches up from the watermark.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::domain::{AuditLogSummary, Resource, ResourceSummary};
use crate::glp::audit_log::AuditCursor;
use crate::glp::client::Client;
use crate::store::Store;
use crate::store::fence::RunFence;

/// How far before the watermark each run reads again.
pub const OVERLAP: Duration = Duration::from_secs(10 * 60);

/// How far back a workspace's first read goes.
pub const FIRST_READ_DAYS: u32 = 7;

/// What [`phase`] needs from the run.
pub(super) struct Phase<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub fence: &'a RunFence,
    pub cancel: &'a CancellationToken,
    pub retention_days: u32,
}

/// Run the phase when the devices of this run were read completely and nothing ended the
/// run (`ended`: a cancel, a lost lock): its summary, and the warning to add to the run's
/// when it failed.
pub(super) async fn phase(
    p: &Phase<'_>,
    resources: &[ResourceSummary],
    ended: bool,
) -> (Option<AuditLogSummary>, Vec<String>) {
    let devices_done = resources
        .iter()
        .any(|r| r.resource == Some(Resource::Devices) && r.complete);
    if !devices_done || ended {
        return (None, Vec::new());
    }
    p.client.set_patience(None);
    let summary = read(p).await;
    let warnings = match &summary.error {
        Some(e) => {
            tracing::warn!(run_id = p.fence.run_id(), error = %e, "audit log not synced; the inventory was");
            vec![format!(
                "audit log not synced (the inventory was; the next sync catches up): {e}"
            )]
        }
        None => Vec::new(),
    };
    (Some(summary), warnings)
}

async fn read(p: &Phase<'_>) -> AuditLogSummary {
    let mut s = AuditLogSummary::default();
    let since = match p.store.audit_watermark().await {
        Ok(Some(t)) => t - chrono::Duration::from_std(OVERLAP).unwrap_or_default(),
        Ok(None) => {
            Utc::now()
                - chrono::Duration::days(i64::from(FIRST_READ_DAYS.min(p.retention_days.max(1))))
        }
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    };
    s.since = Some(since);
    let mut cursor = AuditCursor::new(since);
    loop {
        if let Some(why) = p.fence.lost_reason() {
            s.error = Some(format!("lost lock: {why}"));
            break;
        }
        let page = tokio::select! {
            biased;
            _ = p.cancel.cancelled() => {
                s.error = Some("cancelled".into());
                break;
            }
            page = cursor.next(p.client) => page,
        };
        let page = match page {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(e) => {
                s.error = Some(e.to_string());
                break;
            }
        };
        s.pages += 1;
        s.fetched += page.entries.len() as u64;
        s.skipped += page.skipped.len() as u64;
        for why in &page.skipped {
            tracing::warn!(reason = %why, "an audit-log item was skipped");
        }
        match p.store.insert_audit_entries(&page.entries).await {
            Ok(n) => s.stored += n,
            Err(e) => {
                s.error = Some(e.to_string());
                break;
            }
        }
    }
    tracing::info!(
        run_id = p.fence.run_id(),
        pages = s.pages,
        fetched = s.fetched,
        stored = s.stored,
        "audit log read"
    );
    s
}
