//! One sync at a time per workspace, across processes and hosts: a PostgreSQL session-level
//! advisory lock held on a dedicated connection for the whole run. If the process dies, the
//! server drops the connection and the lock with it, so a crash never leaves a stale lock.

use sqlx::{Connection, PgConnection};

use super::{Store, StoreError, parse_url};
use crate::config::mask_url;

/// Lock key: a stable hash of the workspace identity (API base URL + client id), so two
/// workspaces sharing a database do not block each other.
pub fn lock_key(base_url: &str, client_id: &str) -> i64 {
    let mut bytes = base_url.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(client_id.as_bytes());
    super::fnv1a64(&bytes) as i64
}

/// Held while it lives; released on drop (the connection closes) or by [`SyncLock::release`].
#[derive(Debug)]
pub struct SyncLock {
    conn: Option<PgConnection>,
    key: i64,
}

impl Store {
    /// Try to take the workspace sync lock without waiting. `Ok(None)`: another sync holds it.
    pub async fn try_sync_lock(&self, url: &str, key: i64) -> Result<Option<SyncLock>, StoreError> {
        let opts = parse_url(url)?;
        let mut conn =
            PgConnection::connect_with(&opts)
                .await
                .map_err(|e| StoreError::Connect {
                    url: mask_url(url),
                    reason: e.to_string(),
                })?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await?;
        if got {
            Ok(Some(SyncLock {
                conn: Some(conn),
                key,
            }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }
}

impl SyncLock {
    pub async fn release(mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}
