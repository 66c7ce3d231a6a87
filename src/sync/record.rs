//! Recording a run's end in `sync_history`.

use std::time::Duration;

use crate::domain::SyncSummary;
use crate::store::Store;
use crate::store::history::Finish;

/// Record the end of a run, retrying briefly: after a server restart the pool's first
/// statement may still meet a dead connection. A recorded sync then prunes the workspace's
/// change history and audit log older than `retention_days` (a failed prune is logged, not the run's
/// failure: the history is kept one run longer); a targeted refresh passes `None`. Every
/// recorded run then refreshes the planner's statistics of tables it changed a lot
/// (`Store::analyze_if_stale`).
pub(super) async fn record_end(
    store: &Store,
    summary: &SyncSummary,
    note: Option<&str>,
    retention_days: Option<u32>,
) -> Option<Finish> {
    for attempt in 1..=3 {
        match store.finish_run(summary, note).await {
            Ok(f) => {
                if let Some(days) = retention_days {
                    match store.prune_changes(days).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            pruned = n,
                            "change history older than {days} days pruned"
                        ),
                        Err(e) => tracing::warn!(error = %e, "could not prune the change history"),
                    }
                    match store.prune_audit_log(days).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            pruned = n,
                            "audit-log entries older than {days} days pruned"
                        ),
                        Err(e) => tracing::warn!(error = %e, "could not prune the audit log"),
                    }
                }
                match store.analyze_if_stale().await {
                    Ok(t) if t.is_empty() => {}
                    Ok(t) => tracing::info!(tables = ?t, "planner statistics refreshed"),
                    Err(e) => tracing::warn!(error = %e, "could not refresh planner statistics"),
                }
                return Some(f);
            }
            Err(e) => {
                tracing::warn!(run_id = summary.run_id, attempt, error = %e, "could not record the end of the sync run");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    tracing::error!(
        run_id = summary.run_id,
        "the end of the sync run was not recorded; the next sync marks it abandoned"
    );
    None
}
