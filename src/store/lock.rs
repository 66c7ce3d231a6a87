//! Who is running what, across processes and hosts: PostgreSQL session-level advisory locks
//! held on a dedicated connection for the whole run. If the process dies, the server drops
//! the connection and the lock with it, so a crash never leaves a stale lock — and a lock
//! that can be taken proves its owner is gone.
//!
//! Two uses share this machinery:
//! * one sync at a time per workspace ([`LockKey::Workspace`], see [`Store::try_sync_lock`]);
//! * one owner per assignment run ([`LockKey::AssignmentRun`]): the process that records a
//!   run holds its lock until the run's end is recorded, so a `running` run whose lock is
//!   free was left by a process that is gone (see `Store::sweep_abandoned_assignment_runs`).

use sqlx::{Connection, PgConnection};

use super::{Store, StoreError, parse_url};
use crate::config::mask_url;
use crate::domain::WorkspaceId;

/// Lock key: a stable hash of the workspace whose rows a sync writes, so syncs of two
/// workspaces sharing a database never block each other and two syncs of one workspace
/// (even through different API clients) never run together.
pub fn lock_key(workspace: &WorkspaceId) -> i64 {
    let mut bytes = b"glp-console sync\0".to_vec();
    bytes.extend_from_slice(workspace.as_str().as_bytes());
    super::fnv1a64(&bytes) as i64
}

/// First half of the two-integer key of assignment-run locks ("GLPA"). PostgreSQL keeps the
/// one-bigint and the two-integer advisory key spaces apart, so these never collide with a
/// workspace sync lock.
const ASSIGNMENT_RUN_SPACE: i32 = 0x474C_5041;

/// The advisory-lock functions used here.
#[derive(Clone, Copy)]
enum Op {
    TrySession,
    TryXact,
    Unlock,
}

/// What an advisory lock protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockKey {
    /// The sync of one workspace ([`lock_key`]).
    Workspace(i64),
    /// One assignment run, by `assignment_runs.id`.
    AssignmentRun(i64),
}

impl LockKey {
    /// The two keys of the two-integer form, or `None` for the one-bigint form. A run id is
    /// folded to 32 bits: ids 2^32 apart share a lock, which can only make a gone owner look
    /// alive (the run stays `running`), never the reverse.
    fn pair(self) -> Option<(i32, i32)> {
        match self {
            LockKey::Workspace(_) => None,
            LockKey::AssignmentRun(id) => Some((ASSIGNMENT_RUN_SPACE, id as u64 as u32 as i32)),
        }
    }

    fn bigint(self) -> i64 {
        match self {
            LockKey::Workspace(k) => k,
            LockKey::AssignmentRun(id) => id,
        }
    }

    /// Run one advisory-lock function with this key's arguments; its boolean answer.
    async fn call(self, op: Op, conn: &mut PgConnection) -> Result<bool, StoreError> {
        let (one_key, two_keys) = match op {
            Op::TrySession => (
                "SELECT pg_try_advisory_lock($1)",
                "SELECT pg_try_advisory_lock($1, $2)",
            ),
            Op::TryXact => (
                "SELECT pg_try_advisory_xact_lock($1)",
                "SELECT pg_try_advisory_xact_lock($1, $2)",
            ),
            Op::Unlock => (
                "SELECT pg_advisory_unlock($1)",
                "SELECT pg_advisory_unlock($1, $2)",
            ),
        };
        let got: Option<bool> = match self.pair() {
            None => {
                sqlx::query_scalar(one_key)
                    .bind(self.bigint())
                    .fetch_one(conn)
                    .await?
            }
            Some((a, b)) => {
                sqlx::query_scalar(two_keys)
                    .bind(a)
                    .bind(b)
                    .fetch_one(conn)
                    .await?
            }
        };
        Ok(got.unwrap_or(false))
    }

    /// How `pg_locks` shows this key: `(classid, objid, objsubid)`. A bigint key is split
    /// into its high and low halves with objsubid 1; the two-integer form keeps its keys with
    /// objsubid 2 (PostgreSQL docs, "pg_locks").
    fn pg_locks_row(self) -> (i64, i64, i16) {
        match self.pair() {
            None => {
                let k = self.bigint() as u64;
                (i64::from((k >> 32) as u32), i64::from(k as u32), 1)
            }
            Some((a, b)) => (i64::from(a as u32), i64::from(b as u32), 2),
        }
    }

    /// Does this session (`conn`) hold the lock at session level? Asked of `pg_locks` for
    /// our own backend, not just "does the connection answer": behind a pooler the socket
    /// may answer from a backend that never took the lock.
    pub(crate) async fn held_by(self, conn: &mut PgConnection) -> Result<bool, StoreError> {
        let (classid, objid, objsubid) = self.pg_locks_row();
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
               AND pid = pg_backend_pid() AND granted AND classid = $1::bigint::oid \
               AND objid = $2::bigint::oid AND objsubid = $3)",
        )
        .bind(classid)
        .bind(objid)
        .bind(objsubid)
        .fetch_one(conn)
        .await?)
    }

    /// Take the session-level lock without waiting (`false`: someone holds it).
    pub(crate) async fn try_session(self, conn: &mut PgConnection) -> Result<bool, StoreError> {
        self.call(Op::TrySession, conn).await
    }

    /// Take the lock until the end of the current transaction, without waiting: the probe
    /// for "is the owner still there" that needs no unlock (`false`: someone holds it).
    pub(crate) async fn try_xact(self, conn: &mut PgConnection) -> Result<bool, StoreError> {
        self.call(Op::TryXact, conn).await
    }
}

/// A session-level advisory lock, held while it lives; released on drop (the connection
/// closes) or by [`AdvisoryLock::release`].
#[derive(Debug)]
pub struct AdvisoryLock {
    conn: Option<PgConnection>,
    key: LockKey,
}

/// The workspace sync lock.
pub type SyncLock = AdvisoryLock;

/// How long a lock check may take before the lock counts as lost: a connection a firewall
/// cut silently would otherwise hang until TCP gives up (minutes).
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl AdvisoryLock {
    /// Try to take `key` on `conn`, which becomes the lock's own connection. `Ok(None)`:
    /// another session holds it (`conn` is closed).
    pub async fn try_take(
        mut conn: PgConnection,
        key: LockKey,
    ) -> Result<Option<AdvisoryLock>, StoreError> {
        if key.try_session(&mut conn).await? {
            Ok(Some(AdvisoryLock {
                conn: Some(conn),
                key,
            }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Wrap a connection on which `key` was already taken at session level (e.g. inside the
    /// transaction that made the row it protects visible).
    pub(crate) fn held(conn: PgConnection, key: LockKey) -> AdvisoryLock {
        AdvisoryLock {
            conn: Some(conn),
            key,
        }
    }

    pub fn key(&self) -> LockKey {
        self.key
    }

    /// Is the lock still ours? `Err(LostLock)` when its connection ended (server restart,
    /// `pg_terminate_backend`, `idle_session_timeout`, a pooler or firewall cutting it), when
    /// it does not answer within [`CHECK_TIMEOUT`], or when our backend no longer holds the
    /// key. Once lost, always lost: the connection is dropped and never reused.
    pub async fn check(&mut self) -> Result<(), StoreError> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(StoreError::LostLock(
                "its connection ended earlier in this run".into(),
            ));
        };
        let reason = match tokio::time::timeout(CHECK_TIMEOUT, self.key.held_by(conn)).await {
            Ok(Ok(true)) => return Ok(()),
            Ok(Ok(false)) => "the database session no longer holds it".to_string(),
            Ok(Err(e)) => format!("its database connection ended ({e})"),
            Err(_) => format!(
                "its database connection did not answer within {} s",
                CHECK_TIMEOUT.as_secs()
            ),
        };
        self.conn = None;
        Err(StoreError::LostLock(reason))
    }

    /// Unlock and close the connection now (dropping does the same, less politely).
    pub async fn release(mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = self.key.call(Op::Unlock, &mut conn).await;
            let _ = conn.close().await;
        }
    }
}

impl Store {
    /// Take the workspace sync lock, waiting up to `wait` for a sync that holds it to end
    /// (`pg_advisory_lock` under `lock_timeout`: the server queues the wait, so the lock
    /// goes to this session the moment the holder releases it). `Ok(None)`: still held
    /// after `wait`. Used by the targeted refresh, which must run after a running sync
    /// rather than instead of it. The lock lives on a connection of its own to the pool's
    /// server (see [`Store::dedicated_connection`]).
    pub async fn wait_sync_lock(
        &self,
        key: i64,
        wait: std::time::Duration,
    ) -> Result<Option<SyncLock>, StoreError> {
        let mut conn = self.dedicated_connection().await?;
        // At least 1 ms: `lock_timeout = 0` would mean "wait for ever".
        let ms = wait.as_millis().clamp(1, i64::MAX as u128);
        sqlx::query("SELECT set_config('lock_timeout', $1, false)")
            .bind(format!("{ms}ms"))
            .execute(&mut conn)
            .await?;
        let got = sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut conn)
            .await;
        match got {
            Ok(_) => {
                sqlx::query("SET lock_timeout = 0")
                    .execute(&mut conn)
                    .await?;
                Ok(Some(AdvisoryLock::held(conn, LockKey::Workspace(key))))
            }
            // 55P03 lock_not_available: the wait ran out.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                let _ = conn.close().await;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Try to take the workspace sync lock without waiting. `Ok(None)`: another sync holds it.
    pub async fn try_sync_lock(&self, url: &str, key: i64) -> Result<Option<SyncLock>, StoreError> {
        let opts = parse_url(url)?;
        let conn = PgConnection::connect_with(&opts)
            .await
            .map_err(|e| StoreError::Connect {
                url: mask_url(url),
                reason: e.to_string(),
            })?;
        AdvisoryLock::try_take(conn, LockKey::Workspace(key)).await
    }

    /// A connection of its own (same server and options as the pool) for a lock that must
    /// outlive any pooled connection's checkout: a session lock left on a pooled connection
    /// would stay held after the run, by whoever gets that connection next.
    pub(crate) async fn dedicated_connection(&self) -> Result<PgConnection, StoreError> {
        let opts = self.pool().connect_options();
        PgConnection::connect_with(&opts)
            .await
            .map_err(|e| StoreError::Connect {
                url: format!(
                    "{}:{}/{}",
                    opts.get_host(),
                    opts.get_port(),
                    opts.get_database().unwrap_or("")
                ),
                reason: e.to_string(),
            })
    }
}
