//! `sync_history`: one row per run, written when it starts (so a crash leaves a trace) and
//! finished with its outcome and counters.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, hostname};
use crate::domain::{
    Mode, Resource, ResourceOutcome, ResourceSummary, Scope, SyncSummary, Trigger,
};

/// A past run, as `glp-console status` and the TUI show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRecord {
    pub id: i64,
    pub trigger: String,
    pub mode: String,
    pub scope: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: String,
    pub error: Option<String>,
    pub requests: i32,
    pub retries: i32,
    pub throttled: i32,
    pub breaker_trips: i32,
    pub duration_ms: Option<i64>,
    pub host: Option<String>,
    pub workspace_id: String,
}

/// What `Store::begin_run` records as the error of a run it finds `running`: nobody holds the
/// workspace lock, so its process is gone or lost its connection.
pub const ABANDONED_ERROR: &str = "the workspace lock was free while this run was still \
     marked running: its process ended (killed or crashed) or lost its database connection \
     (server restart, terminated session); a later sync took over";

/// How [`Store::finish_run`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Recorded,
    /// The run had already ended (another sync marked it abandoned): the outcome it has.
    AlreadyEnded(String),
}

/// What the engine needs to choose full vs incremental.
#[derive(Debug, Clone, Default)]
pub struct SyncBaseline {
    /// Start of the last run that completed this resource (any mode).
    pub last_good_start: Option<DateTime<Utc>>,
    /// Start of the last complete full sync of this resource.
    pub last_full_start: Option<DateTime<Utc>>,
    /// Completed incremental runs of this resource since that full sync.
    pub incrementals_since_full: i64,
}

impl Store {
    /// Record the start of a run. Runs still marked `running` are from a process that died
    /// or lost its lock (we hold the lock, so nobody else is running): mark them abandoned
    /// first, with their seen-marks, in one transaction. Its `UPDATE` waits for any page
    /// transaction of such a run that is still open (they share-lock their history row, see
    /// `store::fence`), and every later one of theirs sees `abandoned` and fails.
    pub async fn begin_run(
        &self,
        trigger: Trigger,
        mode: Mode,
        scope: Scope,
        incremental_since: Option<DateTime<Utc>>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool().begin().await?;
        // A run's workspace is always listed (the fleet registers names and kinds first; a
        // single-workspace sync is listed under its id).
        sqlx::query(
            "INSERT INTO workspaces (id, name, kind) VALUES ($1, $1, 'standalone') \
             ON CONFLICT (id) DO UPDATE SET last_seen_at = now()",
        )
        .bind(self.ws())
        .execute(&mut *tx)
        .await?;
        let abandoned: Vec<i64> = sqlx::query_scalar(
            "UPDATE sync_history SET outcome = 'abandoned', finished_at = now(), \
             error = coalesce(error, $1) WHERE outcome = 'running' AND workspace_id = $2 \
             RETURNING id",
        )
        .bind(ABANDONED_ERROR)
        .bind(self.ws())
        .fetch_all(&mut *tx)
        .await?;
        if !abandoned.is_empty() {
            // Seen-marks of a full sync that never finished are scratch: drop them.
            sqlx::query("DELETE FROM sync_seen WHERE sync_id = ANY($1)")
                .bind(&abandoned)
                .execute(&mut *tx)
                .await?;
            tracing::warn!(runs = ?abandoned, "sync runs whose lock was free marked abandoned");
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sync_history (trigger, mode, scope, incremental_since, host, pid, \
             workspace_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(trigger.as_str())
        .bind(mode.as_str())
        .bind(scope.as_str())
        .bind(incremental_since)
        .bind(hostname())
        .bind(std::process::id() as i32)
        .bind(self.ws())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Record a run's end with its counters — only over `running`: a run another sync marked
    /// `abandoned` (it had lost its lock) stays abandoned, with `note` added to its error,
    /// and its counters are not recorded (they would feed the next run's baseline).
    pub async fn finish_run(
        &self,
        s: &SyncSummary,
        note: Option<&str>,
    ) -> Result<Finish, StoreError> {
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE sync_history SET finished_at = now(), outcome = $2, error = $3, requests = $4, \
             retries = $5, throttled = $6, breaker_trips = $7, duration_ms = $8, mode = $9 \
             WHERE id = $1 AND outcome = 'running'",
        )
        .bind(s.run_id)
        .bind(s.outcome.as_str())
        .bind(&s.error)
        .bind(clamp_i32(s.requests))
        .bind(clamp_i32(s.retries))
        .bind(clamp_i32(s.throttled))
        .bind(clamp_i32(s.breaker_trips))
        .bind(s.duration.as_millis() as i64)
        .bind(s.mode.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            let was: Option<String> = sqlx::query_scalar(
                "UPDATE sync_history SET error = concat_ws(' — ', error, $2::text) \
                 WHERE id = $1 RETURNING outcome",
            )
            .bind(s.run_id)
            .bind(note)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Finish::AlreadyEnded(
                was.unwrap_or_else(|| "deleted".into()),
            ));
        }
        for r in &s.resources {
            let Some(res) = r.resource else { continue };
            sqlx::query(
                "INSERT INTO sync_history_resources \
                   (sync_id, resource, pages, fetched, inserted, updated, unchanged, removed, restored, \
                    complete, outcome, error, sanitised, skipped) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (sync_id, resource) DO UPDATE SET pages = EXCLUDED.pages, \
                   fetched = EXCLUDED.fetched, inserted = EXCLUDED.inserted, updated = EXCLUDED.updated, \
                   unchanged = EXCLUDED.unchanged, removed = EXCLUDED.removed, \
                   restored = EXCLUDED.restored, complete = EXCLUDED.complete, \
                   outcome = EXCLUDED.outcome, error = EXCLUDED.error, \
                   sanitised = EXCLUDED.sanitised, skipped = EXCLUDED.skipped",
            )
            .bind(s.run_id)
            .bind(res.as_str())
            .bind(clamp_i32(r.pages))
            .bind(clamp_i32(r.fetched))
            .bind(clamp_i32(r.inserted))
            .bind(clamp_i32(r.updated))
            .bind(clamp_i32(r.unchanged))
            .bind(clamp_i32(r.removed))
            .bind(clamp_i32(r.restored))
            .bind(r.complete)
            .bind(r.outcome.as_str())
            .bind(&r.error)
            .bind(clamp_i32(r.sanitised))
            .bind(clamp_i32(r.skipped))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Finish::Recorded)
    }

    /// When the resource was last synced completely, and how.
    pub async fn baseline(&self, resource: Resource) -> Result<SyncBaseline, StoreError> {
        let row: (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT max(h.started_at), max(h.started_at) FILTER (WHERE h.mode = 'full') \
             FROM sync_history h JOIN sync_history_resources r ON r.sync_id = h.id \
             WHERE r.resource = $1 AND r.complete AND h.workspace_id = $2",
        )
        .bind(resource.as_str())
        .bind(self.ws())
        .fetch_one(self.pool())
        .await?;
        let since_full: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sync_history h JOIN sync_history_resources r ON r.sync_id = h.id \
             WHERE r.resource = $1 AND r.complete AND h.mode = 'incremental' \
               AND h.started_at > coalesce($2, '-infinity'::timestamptz) AND h.workspace_id = $3",
        )
        .bind(resource.as_str())
        .bind(row.1)
        .bind(self.ws())
        .fetch_one(self.pool())
        .await?;
        Ok(SyncBaseline {
            last_good_start: row.0,
            last_full_start: row.1,
            incrementals_since_full: since_full,
        })
    }

    /// The most recent runs, newest first.
    pub async fn recent_runs(&self, limit: i64) -> Result<Vec<RunRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, trigger, mode, scope, started_at, finished_at, outcome, error, requests, \
             retries, throttled, breaker_trips, duration_ms, host, workspace_id \
             FROM sync_history WHERE workspace_id = $2 ORDER BY started_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .bind(self.ws())
        .fetch_all(self.pool())
        .await?)
    }

    /// Per-resource counters of a run.
    pub async fn run_resources(&self, run_id: i64) -> Result<Vec<ResourceSummary>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            resource: String,
            pages: i32,
            fetched: i32,
            inserted: i32,
            updated: i32,
            unchanged: i32,
            removed: i32,
            restored: i32,
            complete: bool,
            outcome: Option<String>,
            error: Option<String>,
            sanitised: i32,
            skipped: i32,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT resource, pages, fetched, inserted, updated, unchanged, removed, restored, complete, \
             outcome, error, sanitised, skipped FROM sync_history_resources WHERE sync_id = $1 ORDER BY resource DESC",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        let n = |v: i32| u64::try_from(v).unwrap_or(0);
        Ok(rows
            .into_iter()
            .map(|r| ResourceSummary {
                resource: match r.resource.as_str() {
                    "devices" => Some(Resource::Devices),
                    "subscriptions" => Some(Resource::Subscriptions),
                    _ => None,
                },
                pages: n(r.pages),
                fetched: n(r.fetched),
                inserted: n(r.inserted),
                updated: n(r.updated),
                unchanged: n(r.unchanged),
                removed: n(r.removed),
                restored: n(r.restored),
                skipped: n(r.skipped),
                complete: r.complete,
                outcome: r.outcome.as_deref().map(ResourceOutcome::parse).unwrap_or(
                    if r.complete {
                        ResourceOutcome::Succeeded
                    } else {
                        ResourceOutcome::NotRun
                    },
                ),
                error: r.error,
                sanitised: n(r.sanitised),
            })
            .collect())
    }

    /// The newest run that completed — succeeded, partial or failed — by start: what
    /// `status` judges health by. Cancelled, abandoned and running runs say nothing about
    /// whether syncing works.
    pub async fn last_completed_run(&self) -> Result<Option<RunRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, trigger, mode, scope, started_at, finished_at, outcome, error, requests, \
             retries, throttled, breaker_trips, duration_ms, host, workspace_id \
             FROM sync_history WHERE outcome IN ('succeeded', 'partial', 'failed') \
               AND workspace_id = $1 \
             ORDER BY started_at DESC, id DESC LIMIT 1",
        )
        .bind(self.ws())
        .fetch_optional(self.pool())
        .await?)
    }

    /// End of the last sync that ended well (for "last good sync" displays). A targeted
    /// refresh (mode `refresh`) read a few devices only: it says nothing of the rest.
    pub async fn last_success(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT max(finished_at) FROM sync_history WHERE outcome = 'succeeded' \
             AND mode <> 'refresh' AND workspace_id = $1",
        )
        .bind(self.ws())
        .fetch_one(self.pool())
        .await?)
    }
}

fn clamp_i32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}
