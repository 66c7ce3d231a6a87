//! GreenLake's audit log, `GET /audit-log/v2beta1/logs` (`audit-logs.json`): who did what,
//! when. Read from a time on, oldest first, page by page, through the same breaker, pacing
//! (100 a minute per user) and retries as every call.
//!
//! The endpoint has its own filter grammar (`createdAt ge '…'`, `and` only) and caps `total`
//! at 10 000 matches (`remainingRecords` says there are more, which no offset reaches): when
//! a window is used up, the next one starts at the last entry's time (`ge`, so entries of
//! that same instant are read again and dropped by id here, and by the store). Items are read
//! leniently: one without a usable `id` or `createdAt` is skipped with a warning, never
//! failing its page.

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::Value;

use crate::glp::client::{Call, Client};
use crate::glp::error::GlpError;
use crate::glp::model::parse_time;
use crate::glp::pace::Endpoint;

/// Entries per page: the largest the endpoint allows.
pub const AUDIT_PAGE: u32 = 2000;

/// Matches one query reaches (`total`'s cap in the spec).
pub const AUDIT_WINDOW: u64 = 10_000;

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    pub username: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    /// The device serial the entry names (`additionalInfo.serverSerial`), upper case.
    pub target: Option<String>,
    /// The entry as sent.
    pub raw: Value,
}

/// One page of entries.
#[derive(Debug, Default)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Why each unusable item was skipped.
    pub skipped: Vec<String>,
    /// Items the page held (usable or not).
    pub len: u64,
    pub total: Option<u64>,
    /// More matches than one query reaches.
    pub remaining: bool,
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// An item of the list; `Err` says why it cannot be used.
pub fn parse_entry(v: &Value) -> Result<AuditEntry, String> {
    let id = match v.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("an audit entry without an id".into()),
    };
    let occurred_at = v
        .get("createdAt")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .ok_or_else(|| format!("audit entry {id}: no usable createdAt"))?;
    let target = v
        .get("additionalInfo")
        .and_then(|i| text(i, "serverSerial"))
        .map(|s| s.to_ascii_uppercase());
    Ok(AuditEntry {
        id,
        occurred_at,
        username: text(v, "username"),
        category: text(v, "category"),
        description: text(v, "description"),
        target,
        raw: v.clone(),
    })
}

/// The filter for entries at or after `t`.
pub fn since_filter(t: DateTime<Utc>) -> String {
    format!(
        "createdAt ge '{}'",
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    )
}

impl Client {
    /// One page of the entries at or after `since`, oldest first.
    pub async fn audit_log_page(
        &self,
        since: DateTime<Utc>,
        offset: u64,
        limit: u32,
    ) -> Result<AuditPage, GlpError> {
        let q = [
            ("filter", since_filter(since)),
            ("sort", "createdAt asc".to_string()),
            ("offset", offset.to_string()),
            ("limit", limit.to_string()),
        ];
        let call = Call {
            method: Method::GET,
            endpoint: Endpoint::AuditLogsGet,
            url: self.url("/audit-log/v2beta1/logs", &q)?,
            body: None,
        };
        self.execute(&call, |r| {
            let v: Value = serde_json::from_slice(&r.body)
                .map_err(|e| format!("not an audit-log page ({e})"))?;
            let items = v
                .get("items")
                .and_then(Value::as_array)
                .ok_or("an audit-log page without items")?;
            let mut page = AuditPage {
                len: items.len() as u64,
                total: v.get("total").and_then(Value::as_u64),
                remaining: v
                    .get("remainingRecords")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                ..AuditPage::default()
            };
            for it in items {
                match parse_entry(it) {
                    Ok(e) => page.entries.push(e),
                    Err(why) => page.skipped.push(why),
                }
            }
            Ok(page)
        })
        .await
    }
}

/// Walks the log from a time on: which request comes next, and when it is done.
#[derive(Debug)]
pub struct AuditCursor {
    since: DateTime<Utc>,
    offset: u64,
    /// Ids delivered at the latest instant seen (read again by the next window).
    edge: HashSet<String>,
    edge_at: Option<DateTime<Utc>>,
    done: bool,
}

impl AuditCursor {
    pub fn new(since: DateTime<Utc>) -> AuditCursor {
        AuditCursor {
            since,
            offset: 0,
            edge: HashSet::new(),
            edge_at: None,
            done: false,
        }
    }

    /// The next page of the walk, or `None` when it is over.
    pub async fn next(&mut self, client: &Client) -> Result<Option<AuditPage>, GlpError> {
        if self.done {
            return Ok(None);
        }
        let mut page = client
            .audit_log_page(self.since, self.offset, AUDIT_PAGE)
            .await?;
        self.offset += page.len;
        let mut fresh = Vec::with_capacity(page.entries.len());
        for e in std::mem::take(&mut page.entries) {
            if self.edge_at == Some(e.occurred_at) && self.edge.contains(&e.id) {
                continue;
            }
            if self.edge_at != Some(e.occurred_at) {
                self.edge_at = Some(e.occurred_at);
                self.edge.clear();
            }
            self.edge.insert(e.id.clone());
            fresh.push(e);
        }
        page.entries = fresh;
        let reachable = page.total.unwrap_or(u64::MAX).min(AUDIT_WINDOW);
        let window_used_up = self.offset >= reachable;
        if page.len == 0 || (page.len < u64::from(AUDIT_PAGE) && !page.remaining) {
            self.done = true;
        } else if window_used_up {
            if !page.remaining {
                self.done = true;
            } else {
                // The next window starts at the latest instant read; the same instant again
                // would loop for ever (10 000 entries in one millisecond): stop there.
                match self.edge_at {
                    Some(t) if t > self.since => {
                        self.since = t;
                        self.offset = 0;
                    }
                    _ => {
                        tracing::warn!(
                            since = %self.since,
                            "more than {AUDIT_WINDOW} audit entries at one instant; the rest \
                             of them is not read"
                        );
                        self.done = true;
                    }
                }
            }
        }
        Ok(Some(page))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_are_read_leniently() {
        let e = parse_entry(&json!({"id": "8RtJ", "createdAt": "2024-02-10T07:54:55.0Z",
            "username": "a@b.c", "category": "Device Management", "description": "x",
            "additionalInfo": {"serverSerial": " sn123 "}, "new": 1}))
        .unwrap();
        assert_eq!(e.target.as_deref(), Some("SN123"));
        assert_eq!(e.username.as_deref(), Some("a@b.c"));
        assert!(parse_entry(&json!({"createdAt": "2024-02-10T07:54:55Z"})).is_err());
        assert!(parse_entry(&json!({"id": "x", "createdAt": "soon"})).is_err());
        let bare = parse_entry(&json!({"id": "y", "createdAt": "2024-02-10T07:54:55Z"})).unwrap();
        assert_eq!((bare.username, bare.target), (None, None));
    }
}
