//! GreenLake's audit log as stored (`audit_log`, migration 0012): written a page at a time
//! with one `UNNEST` insert that keeps the first copy of an id (the re-read overlap of the
//! next sync and a window boundary deliver some entries twice), read back for attribution
//! (`store::attribution`), pruned with the change history.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::sanitise::REPLACEMENT;
use super::{Store, StoreError};
use crate::glp::audit_log::AuditEntry;

/// PostgreSQL text cannot hold NUL: the character is replaced, as for inventory items.
fn clean(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|s| s.replace('\0', &REPLACEMENT.to_string()))
}

fn clean_json(v: &Value) -> Value {
    let text = v.to_string();
    if text.contains("\\u0000") {
        serde_json::from_str(&text.replace("\\u0000", "\\ufffd")).unwrap_or(Value::Null)
    } else {
        v.clone()
    }
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRecord {
    pub workspace_id: String,
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    pub username: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub target: Option<String>,
}

impl Store {
    /// Store a page of entries; how many were new (an id already stored is left as it is).
    pub async fn insert_audit_entries(&self, entries: &[AuditEntry]) -> Result<u64, StoreError> {
        if entries.is_empty() {
            return Ok(0);
        }
        let id: Vec<Option<String>> = entries.iter().map(|e| clean(&Some(e.id.clone()))).collect();
        let at: Vec<DateTime<Utc>> = entries.iter().map(|e| e.occurred_at).collect();
        let user: Vec<Option<String>> = entries.iter().map(|e| clean(&e.username)).collect();
        let cat: Vec<Option<String>> = entries.iter().map(|e| clean(&e.category)).collect();
        let desc: Vec<Option<String>> = entries.iter().map(|e| clean(&e.description)).collect();
        let target: Vec<Option<String>> = entries.iter().map(|e| clean(&e.target)).collect();
        let raw: Vec<Value> = entries.iter().map(|e| clean_json(&e.raw)).collect();
        let done = sqlx::query(
            "INSERT INTO audit_log (workspace_id, id, occurred_at, username, category, \
                                    description, target, raw) \
             SELECT $1, u.* FROM UNNEST($2::text[], $3::timestamptz[], $4::text[], $5::text[], \
                                        $6::text[], $7::text[], $8::jsonb[]) \
                    AS u(id, occurred_at, username, category, description, target, raw) \
             ON CONFLICT (workspace_id, id) DO NOTHING",
        )
        .bind(self.ws())
        .bind(&id)
        .bind(&at)
        .bind(&user)
        .bind(&cat)
        .bind(&desc)
        .bind(&target)
        .bind(&raw)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// The latest entry time stored for this workspace: where the next sync reads from
    /// (less an overlap).
    pub async fn audit_watermark(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT max(occurred_at) FROM audit_log WHERE workspace_id = $1")
                .bind(self.ws())
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// This workspace's entries at or after `since`, oldest first.
    pub async fn audit_entries_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, id, occurred_at, username, category, description, target \
               FROM audit_log WHERE workspace_id = $1 AND occurred_at >= $2 \
              ORDER BY occurred_at, id",
        )
        .bind(self.ws())
        .bind(since)
        .fetch_all(self.pool())
        .await?)
    }

    /// Drop this workspace's entries older than `days`; how many went.
    pub async fn prune_audit_log(&self, days: u32) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM audit_log WHERE workspace_id = $1 \
               AND occurred_at < now() - make_interval(days => $2)",
        )
        .bind(self.ws())
        .bind(i32::try_from(days).unwrap_or(i32::MAX))
        .execute(self.pool())
        .await?
        .rows_affected())
    }
}
