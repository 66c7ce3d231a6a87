//! Fencing a sync run's writes, so two runs never write at once and a run that lost the
//! workspace lock never reconciles.
//!
//! The workspace lock is a session advisory lock on a connection of its own. That
//! connection can end under a running sync (server restart, `pg_terminate_backend`,
//! `idle_session_timeout`, a pooler or firewall) and the server then lets the next sync take
//! the lock, mark the first run `abandoned` and start writing. Two checks, both in every page
//! transaction and in the reconciliation's, keep the first run from writing after that:
//!
//! 1. [`RunFence::enter`], first in the transaction: the run's `sync_history` row, read
//!    `FOR SHARE`, must still be `running`. The next run's "mark abandoned" (`UPDATE … WHERE
//!    outcome = 'running'` in `Store::begin_run`) waits for every page transaction holding that
//!    share lock, and every later page transaction sees `abandoned` and fails. So the first
//!    run's last commit comes before the second run's first write.
//! 2. [`RunFence::check`], last before the commit: the lock's own connection still holds the
//!    lock (asked of `pg_locks`). A run whose lock is gone stops even when no other run has
//!    started yet.
//!
//! A failed check marks the fence lost for good; the engine stops the run as `lost lock`.

use std::sync::Mutex;

use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

use super::StoreError;
use super::lock::SyncLock;

/// One run's claim to write: its `sync_history` id and the workspace lock it holds.
#[derive(Debug)]
pub struct RunFence {
    run_id: i64,
    lock: tokio::sync::Mutex<SyncLock>,
    lost: CancellationToken,
    reason: Mutex<Option<String>>,
}

impl RunFence {
    pub fn new(run_id: i64, lock: SyncLock) -> RunFence {
        RunFence {
            run_id,
            lock: tokio::sync::Mutex::new(lock),
            lost: CancellationToken::new(),
            reason: Mutex::new(None),
        }
    }

    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Fires once the fence is lost (for the engine's `select!`).
    pub fn lost(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.lost.cancelled()
    }

    pub fn is_lost(&self) -> bool {
        self.lost.is_cancelled()
    }

    /// Why the fence was lost (the first reason found).
    pub fn lost_reason(&self) -> Option<String> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }

    fn lose(&self, reason: String) -> StoreError {
        if let Ok(mut r) = self.reason.lock()
            && r.is_none()
        {
            *r = Some(reason.clone());
        }
        self.lost.cancel();
        StoreError::LostLock(self.lost_reason().unwrap_or(reason))
    }

    fn already_lost(&self) -> Option<StoreError> {
        self.is_lost().then(|| {
            StoreError::LostLock(
                self.lost_reason()
                    .unwrap_or_else(|| "the workspace lock was lost".into()),
            )
        })
    }

    /// First statement of a fenced transaction: share-lock the run's history row (held to
    /// the commit) and insist it is still `running`.
    pub async fn enter(&self, tx: &mut PgConnection) -> Result<(), StoreError> {
        if let Some(e) = self.already_lost() {
            return Err(e);
        }
        let outcome: Option<String> =
            sqlx::query_scalar("SELECT outcome FROM sync_history WHERE id = $1 FOR SHARE")
                .bind(self.run_id)
                .fetch_optional(tx)
                .await?;
        match outcome.as_deref() {
            Some("running") => Ok(()),
            Some(other) => Err(self.lose(format!(
                "sync #{} was marked {other} by another sync while it ran (its workspace lock \
                 had been lost); it stopped writing",
                self.run_id
            ))),
            None => Err(self.lose(format!(
                "the history row of sync #{} is gone; it stopped writing",
                self.run_id
            ))),
        }
    }

    /// The workspace lock is still held by this run's lock connection.
    pub async fn check(&self) -> Result<(), StoreError> {
        if let Some(e) = self.already_lost() {
            return Err(e);
        }
        let mut lock = self.lock.lock().await;
        match lock.check().await {
            Ok(()) => Ok(()),
            Err(StoreError::LostLock(why)) => Err(self.lose(format!(
                "sync #{} lost the workspace lock: {why}; it stopped writing",
                self.run_id
            ))),
            Err(e) => Err(e),
        }
    }

    /// Unlock and close the lock's connection.
    pub async fn release(self) {
        self.lock.into_inner().release().await;
    }
}
