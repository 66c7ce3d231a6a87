//! The assignment audit (design.md §4): one `assignment_runs` row per apply, dry run or
//! undo; one `assignment_operations` row per API call with its async result; one
//! `assignment_devices` row per device with the values before, the values asked for, and
//! the outcome — enough to report the run again and to undo it.
//!
//! Writes are set-based: the operations and devices of a run are inserted with one
//! `UNNEST` statement each; each operation is then updated as it progresses (one row per
//! API call, never one statement per device).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Connection, Row};

use super::lock::{AdvisoryLock, LockKey};
use super::{Store, StoreError, hostname};

/// What a run left by a process that is gone says about itself (`summary.error`, and the
/// error of each device whose outcome was still `pending`).
pub const ABANDONED_ERROR: &str = "the process ended before the run finished (killed, crashed or \
     lost its database connection); calls may or may not have reached GreenLake — sync, then \
     check these devices or undo the run";

/// What kind of run (`assignment_runs.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Apply,
    DryRun,
    Undo,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Apply => "apply",
            RunKind::DryRun => "dry_run",
            RunKind::Undo => "undo",
        }
    }

    fn parse(s: &str) -> RunKind {
        match s {
            "dry_run" => RunKind::DryRun,
            "undo" => RunKind::Undo,
            _ => RunKind::Apply,
        }
    }
}

/// A new run: what was asked.
#[derive(Clone, Debug)]
pub struct NewRun {
    pub kind: RunKind,
    pub undo_of: Option<i64>,
    pub source_file: Option<String>,
    pub sheet: Option<String>,
    /// The choices (subscription, application, region, tags …) as given.
    pub requested: Value,
    pub operator: Option<String>,
}

/// One planned API call.
#[derive(Clone, Debug)]
pub struct NewOperation {
    pub seq: i32,
    pub kind: String,
    pub method: String,
    pub path: String,
    pub payload: Value,
    pub device_ids: Vec<String>,
    pub serials: Vec<String>,
}

/// One device of a run, before anything is sent.
#[derive(Clone, Debug)]
pub struct NewDeviceRow {
    pub serial: String,
    pub device_id: Option<String>,
    pub row_number: Option<i32>,
    pub before: Option<Value>,
    pub intended: Option<Value>,
    /// `pending` or `unchanged`.
    pub outcome: String,
}

/// How an operation ended (or that it was accepted).
#[derive(Clone, Debug, Default)]
pub struct OperationUpdate {
    pub status: String,
    pub http_status: Option<i32>,
    pub operation_id: Option<String>,
    pub error: Option<String>,
    pub result: Option<Value>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Device ids known only now (adds resolved after the add phase).
    pub device_ids: Option<Vec<String>>,
    pub serials: Option<Vec<String>>,
}

/// A device's final outcome.
#[derive(Clone, Debug)]
pub struct DeviceOutcome {
    pub serial: String,
    pub device_id: Option<String>,
    /// `succeeded`, `failed`, `skipped` or `unchanged`.
    pub outcome: String,
    pub error: Option<String>,
}

/// A run this process owns: its id and the per-run advisory lock that tells every other
/// process (on any host) that the run is alive. Keep it until [`Store::audit_finish`];
/// dropping it earlier, like the process dying, lets the next sweep mark the run
/// `abandoned`.
#[derive(Debug)]
pub struct OwnedRun {
    pub id: i64,
    lock: AdvisoryLock,
}

/// A stored run.
#[derive(Clone, Debug)]
pub struct RunRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub kind: RunKind,
    pub undo_of: Option<i64>,
    pub source_file: Option<String>,
    pub status: String,
    pub requested: Value,
    pub summary: Option<Value>,
}

/// A stored device row of a run.
#[derive(Clone, Debug)]
pub struct RunDeviceRow {
    pub serial: String,
    pub device_id: Option<String>,
    pub row_number: Option<i32>,
    pub before: Option<Value>,
    pub intended: Option<Value>,
    pub outcome: String,
    pub error: Option<String>,
}

impl Store {
    /// Record a new run (status `running`) with its planned operations and devices, in one
    /// transaction, and take the run's lock. Runs left `running` by processes that are gone
    /// are marked `abandoned` first, so the history never shows a dead run as in progress.
    ///
    /// The insert and the lock share a dedicated connection and the lock is taken before the
    /// commit: no other process can see the row without its lock being held.
    pub async fn audit_start(
        &self,
        run: &NewRun,
        ops: &[NewOperation],
        devices: &[NewDeviceRow],
    ) -> Result<OwnedRun, StoreError> {
        self.sweep_abandoned_assignment_runs().await?;
        let mut conn = self.dedicated_connection().await?;
        let mut tx = conn.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO assignment_runs (kind, undo_of, source_file, sheet, requested, operator, host, \
             pid, workspace_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(run.kind.as_str())
        .bind(run.undo_of)
        .bind(&run.source_file)
        .bind(&run.sheet)
        .bind(&run.requested)
        .bind(&run.operator)
        .bind(hostname())
        .bind(std::process::id() as i32)
        .bind(self.ws())
        .fetch_one(&mut *tx)
        .await?;
        let key = LockKey::AssignmentRun(id);
        if !key.try_session(&mut tx).await? {
            // Only an id 2^32 away whose run is still alive shares this lock; that run keeps
            // ours looking alive too, which is the safe side.
            tracing::warn!(
                run = id,
                "the lock of assignment run {id} is shared with a live run"
            );
        }
        if !ops.is_empty() {
            // Arrays of arrays cannot be UNNESTed into TEXT[] columns: the id and serial
            // lists travel as JSON and are unpacked in SQL.
            let seq: Vec<i32> = ops.iter().map(|o| o.seq).collect();
            let kind: Vec<&str> = ops.iter().map(|o| o.kind.as_str()).collect();
            let method: Vec<&str> = ops.iter().map(|o| o.method.as_str()).collect();
            let path: Vec<&str> = ops.iter().map(|o| o.path.as_str()).collect();
            let payload: Vec<Value> = ops.iter().map(|o| o.payload.clone()).collect();
            let ids: Vec<Value> = ops
                .iter()
                .map(|o| serde_json::json!(o.device_ids))
                .collect();
            let serials: Vec<Value> = ops.iter().map(|o| serde_json::json!(o.serials)).collect();
            sqlx::query(
                "INSERT INTO assignment_operations (run_id, seq, kind, method, path, payload, device_ids, serials) \
                 SELECT $1, u.seq, u.kind, u.method, u.path, u.payload, \
                        ARRAY(SELECT jsonb_array_elements_text(u.ids)), \
                        ARRAY(SELECT jsonb_array_elements_text(u.serials)) \
                   FROM UNNEST($2::int4[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::jsonb[]) \
                        AS u(seq, kind, method, path, payload, ids, serials)",
            )
            .bind(id)
            .bind(&seq)
            .bind(&kind)
            .bind(&method)
            .bind(&path)
            .bind(&payload)
            .bind(&ids)
            .bind(&serials)
            .execute(&mut *tx)
            .await?;
        }
        if !devices.is_empty() {
            let serial: Vec<&str> = devices.iter().map(|d| d.serial.as_str()).collect();
            let dev_id: Vec<Option<&str>> =
                devices.iter().map(|d| d.device_id.as_deref()).collect();
            let row: Vec<Option<i32>> = devices.iter().map(|d| d.row_number).collect();
            let before: Vec<Option<Value>> = devices.iter().map(|d| d.before.clone()).collect();
            let intended: Vec<Option<Value>> = devices.iter().map(|d| d.intended.clone()).collect();
            let outcome: Vec<&str> = devices.iter().map(|d| d.outcome.as_str()).collect();
            sqlx::query(
                "INSERT INTO assignment_devices (run_id, serial, device_id, row_number, before, intended, outcome) \
                 SELECT $1, u.* FROM UNNEST($2::text[], $3::text[], $4::int4[], $5::jsonb[], $6::jsonb[], $7::text[]) \
                        AS u(serial, device_id, row_number, before, intended, outcome) \
                 ON CONFLICT (run_id, serial) DO NOTHING",
            )
            .bind(id)
            .bind(&serial)
            .bind(&dev_id)
            .bind(&row)
            .bind(&before)
            .bind(&intended)
            .bind(&outcome)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(OwnedRun {
            id,
            lock: AdvisoryLock::held(conn, key),
        })
    }

    /// Mark every `running` assignment run whose owner is gone as `abandoned` (with
    /// `finished_at`, a summary saying so, and device outcomes `pending` → `unknown`).
    /// Returns the runs marked.
    ///
    /// "Gone" is decided by the run's advisory lock, not by pid or host: the owner holds it
    /// from before the row is visible until its end is recorded, and the server drops it with
    /// the owner's connection, so a lock we can take means no live process owns the run. This
    /// is safe at any time from any process (unlike the sync side, which needs the workspace
    /// lock first), so it runs both when a run starts and when the run list is read.
    pub async fn sweep_abandoned_assignment_runs(&self) -> Result<Vec<i64>, StoreError> {
        let running: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM assignment_runs WHERE status = 'running' ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut abandoned = Vec::new();
        for id in running {
            let mut tx = self.pool().begin().await?;
            // Transaction-level probe: released at commit, so the pooled connection goes back
            // clean.
            if !LockKey::AssignmentRun(id).try_xact(&mut tx).await? {
                tx.rollback().await?;
                continue; // its owner is alive
            }
            let marked = sqlx::query(
                "UPDATE assignment_runs SET status = 'abandoned', finished_at = now(), \
                        summary = coalesce(summary, '{}'::jsonb) \
                                  || jsonb_build_object('error', $2::text, 'host', host, 'pid', pid) \
                  WHERE id = $1 AND status = 'running'",
            )
            .bind(id)
            .bind(ABANDONED_ERROR)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked == 1 {
                sqlx::query(
                    "UPDATE assignment_devices SET outcome = 'unknown', error = coalesce(error, $2) \
                      WHERE run_id = $1 AND outcome = 'pending'",
                )
                .bind(id)
                .bind(ABANDONED_ERROR)
                .execute(&mut *tx)
                .await?;
                abandoned.push(id);
            }
            tx.commit().await?;
        }
        if !abandoned.is_empty() {
            tracing::warn!(runs = ?abandoned, "assignment runs left by ended processes marked abandoned");
        }
        Ok(abandoned)
    }

    /// Update one operation of a run (by `seq`). Fields left `None` keep their value.
    pub async fn audit_operation(
        &self,
        run_id: i64,
        seq: i32,
        u: &OperationUpdate,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE assignment_operations SET status = $3, \
                    http_status = COALESCE($4, http_status), \
                    operation_id = COALESCE($5, operation_id), \
                    error = COALESCE($6, error), result = COALESCE($7, result), \
                    started_at = COALESCE($8, started_at), finished_at = COALESCE($9, finished_at), \
                    device_ids = COALESCE($10, device_ids), serials = COALESCE($11, serials) \
              WHERE run_id = $1 AND seq = $2",
        )
        .bind(run_id)
        .bind(seq)
        .bind(&u.status)
        .bind(u.http_status)
        .bind(&u.operation_id)
        .bind(&u.error)
        .bind(&u.result)
        .bind(u.started_at)
        .bind(u.finished_at)
        .bind(&u.device_ids)
        .bind(&u.serials)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Record every device's outcome and close the run with its status and summary, then
    /// let go of the run's lock (also when recording fails: the run then reads as abandoned,
    /// which is what it is to anyone looking later).
    ///
    /// Only over `running`: if the run's lock connection ended while it ran and another
    /// process marked it `abandoned` (its devices `unknown`), that stays — this report is
    /// kept beside it in the summary as `late_report`, and the call fails with
    /// [`StoreError::LostLock`]. A run whose lock was lost but that nobody marked yet is
    /// recorded as it ended (the row lock taken first keeps a sweep from interleaving), with
    /// `lock_lost` in its summary.
    pub async fn audit_finish(
        &self,
        mut run: OwnedRun,
        status: &str,
        summary: &Value,
        devices: &[DeviceOutcome],
    ) -> Result<(), StoreError> {
        let lock_lost = run.lock.check().await.err().map(|e| e.to_string());
        let result = self
            .audit_finish_rows(run.id, status, summary, devices, lock_lost)
            .await;
        run.lock.release().await;
        result
    }

    async fn audit_finish_rows(
        &self,
        run_id: i64,
        status: &str,
        summary: &Value,
        devices: &[DeviceOutcome],
        lock_lost: Option<String>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let now: Option<String> =
            sqlx::query_scalar("SELECT status FROM assignment_runs WHERE id = $1 FOR UPDATE")
                .bind(run_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(was) = now.filter(|s| s != "running") {
            sqlx::query(
                "UPDATE assignment_runs SET summary = coalesce(summary, '{}'::jsonb) \
                        || jsonb_build_object('late_report', $2::jsonb, 'late_status', $3::text) \
                  WHERE id = $1",
            )
            .bind(run_id)
            .bind(summary)
            .bind(status)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Err(StoreError::LostLock(format!(
                "assignment run {run_id} was marked {was} by another process while it ran (its \
                 lock connection had ended{}); it stays {was}, and what this process saw (status \
                 {status}) is kept in its summary as late_report",
                lock_lost.map(|e| format!(": {e}")).unwrap_or_default()
            )));
        }
        let summary = match &lock_lost {
            Some(e) => {
                tracing::warn!(run = run_id, error = %e, "assignment run lost its lock before its end was recorded");
                let mut v = summary.clone();
                if let Some(o) = v.as_object_mut() {
                    o.insert("lock_lost".into(), Value::String(e.clone()));
                }
                v
            }
            None => summary.clone(),
        };
        let summary = &summary;
        // Same transaction as the row lock above: a second one would wait on that lock.
        if !devices.is_empty() {
            let serial: Vec<&str> = devices.iter().map(|d| d.serial.as_str()).collect();
            let dev_id: Vec<Option<&str>> =
                devices.iter().map(|d| d.device_id.as_deref()).collect();
            let outcome: Vec<&str> = devices.iter().map(|d| d.outcome.as_str()).collect();
            let error: Vec<Option<&str>> = devices.iter().map(|d| d.error.as_deref()).collect();
            sqlx::query(
                "UPDATE assignment_devices d SET outcome = u.outcome, error = u.error, \
                        device_id = COALESCE(u.device_id, d.device_id) \
                   FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[]) AS u(serial, device_id, outcome, error) \
                  WHERE d.run_id = $1 AND d.serial = u.serial",
            )
            .bind(run_id)
            .bind(&serial)
            .bind(&dev_id)
            .bind(&outcome)
            .bind(&error)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE assignment_runs SET status = $2, summary = $3, finished_at = now() \
              WHERE id = $1 AND status = 'running'",
        )
        .bind(run_id)
        .bind(status)
        .bind(summary)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One run, if it exists.
    pub async fn audit_run(&self, run_id: i64) -> Result<Option<RunRow>, StoreError> {
        let r = sqlx::query(
            "SELECT id, created_at, finished_at, kind, undo_of, source_file, status, requested, summary \
               FROM assignment_runs WHERE id = $1",
        )
        .bind(run_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let kind: String = r.try_get("kind")?;
        Ok(Some(RunRow {
            id: r.try_get("id")?,
            created_at: r.try_get("created_at")?,
            finished_at: r.try_get("finished_at")?,
            kind: RunKind::parse(&kind),
            undo_of: r.try_get("undo_of")?,
            source_file: r.try_get("source_file")?,
            status: r.try_get("status")?,
            requested: r.try_get("requested")?,
            summary: r.try_get("summary")?,
        }))
    }

    /// The workspace a run was made in (an undo writes there); `None` when there is no
    /// such run.
    pub async fn audit_run_workspace(
        &self,
        run_id: i64,
    ) -> Result<Option<crate::domain::WorkspaceId>, StoreError> {
        let ws: Option<String> =
            sqlx::query_scalar("SELECT workspace_id FROM assignment_runs WHERE id = $1")
                .bind(run_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(ws.and_then(|w| crate::domain::WorkspaceId::parse(&w)))
    }

    /// The devices of a run, by serial.
    pub async fn audit_devices(&self, run_id: i64) -> Result<Vec<RunDeviceRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT serial, device_id, row_number, before, intended, outcome, error \
               FROM assignment_devices WHERE run_id = $1 ORDER BY serial",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(RunDeviceRow {
                    serial: r.try_get("serial")?,
                    device_id: r.try_get("device_id")?,
                    row_number: r.try_get("row_number")?,
                    before: r.try_get("before")?,
                    intended: r.try_get("intended")?,
                    outcome: r.try_get("outcome")?,
                    error: r.try_get("error")?,
                })
            })
            .collect()
    }

    /// Operations of a run as `(seq, kind, status, error)`, in order.
    pub async fn audit_operations(
        &self,
        run_id: i64,
    ) -> Result<Vec<(i32, String, String, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, kind, status, error FROM assignment_operations WHERE run_id = $1 ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get("seq")?,
                    r.try_get("kind")?,
                    r.try_get("status")?,
                    r.try_get("error")?,
                ))
            })
            .collect()
    }
}

/// A stored API call of a run, as the run detail and its re-exported report show it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RunOperationRow {
    pub seq: i32,
    pub kind: String,
    pub method: String,
    pub path: String,
    pub payload: Option<Value>,
    pub device_ids: Vec<String>,
    pub serials: Vec<String>,
    pub http_status: Option<i32>,
    pub operation_id: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Every call of a run with its outcome, in order.
    pub async fn audit_operation_rows(
        &self,
        run_id: i64,
    ) -> Result<Vec<RunOperationRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT seq, kind, method, path, payload, device_ids, serials, http_status, \
                    operation_id, status, error, started_at, finished_at \
               FROM assignment_operations WHERE run_id = $1 ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?)
    }
}
