//! "Who did it": each recorded change with the audit-log entry or assignment run that most
//! likely caused it.
//!
//! A device change recorded at `changed_at` by sync run N matches
//! * an entry of GreenLake's audit log (`audit_log`) of the same workspace whose target is
//!   the device (its serial, or its id, compared in upper case), or
//! * one of our own assignment runs (apply or undo) of the same workspace in which the
//!   device succeeded (by device id or serial), timed by its last operation naming the device,
//!
//! whose time lies in the window the change can have happened in: after the start of the
//! workspace's previous run that succeeded or was partial, less [`SKEW_MINUTES`] for clocks
//! that disagree (a day before the change when there is no such run), and not after the
//! change was recorded. Of several, the nearest to the change wins; at the same instant our
//! own run wins (it says more: the sheet, the plan, the undo). Subscription changes are not
//! attributed: GreenLake's audit entries name no subscription in a field of their own.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::changes::ChangeRecord;
use super::compliance::Across;
use super::{Store, StoreError};

/// Minutes the window reaches back before the previous run's start (clock skew between
/// GreenLake and the database).
pub const SKEW_MINUTES: i32 = 5;

/// Where an attribution comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributionSource {
    /// An entry of GreenLake's audit log.
    Audit,
    /// One of our own assignment runs.
    AssignmentRun,
}

impl AttributionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributionSource::Audit => "audit",
            AttributionSource::AssignmentRun => "assignment_run",
        }
    }
}

/// Who made a change, and how we know.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    /// The audit entry's username, or the run's operator ("unknown" when neither says).
    pub user: String,
    /// The audit entry's category and description, or the run's kind (apply, undo).
    pub action: String,
    pub at: DateTime<Utc>,
    pub source: AttributionSource,
    /// The audit entry's id, or the assignment run's number.
    pub reference: String,
}

impl Attribution {
    /// "ops@example.com (audit log)", "assignment run #12, alice".
    pub fn label(&self) -> String {
        match self.source {
            AttributionSource::Audit => format!("{} (audit log)", self.user),
            AttributionSource::AssignmentRun => {
                format!("assignment run #{}, {}", self.reference, self.user)
            }
        }
    }
}

/// A recorded change, the item's serial (device) or key (subscription), and who did it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributedChange {
    pub change: ChangeRecord,
    pub label: Option<String>,
    pub who: Option<Attribution>,
}

#[derive(sqlx::FromRow)]
struct Row {
    workspace_id: String,
    resource: String,
    item_id: String,
    sync_id: Option<i64>,
    changed_at: DateTime<Utc>,
    field: String,
    old_value: Option<String>,
    new_value: Option<String>,
    label: Option<String>,
    w_source: Option<String>,
    w_user: Option<String>,
    w_action: Option<String>,
    w_at: Option<DateTime<Utc>>,
    w_ref: Option<String>,
}

/// The window a change aliased `{C}` can have happened in starts here (see the module doc);
/// `{SKEW}` is [`SKEW_MINUTES`] (bound, or spelled in).
const WINDOW_FROM: &str = "COALESCE((SELECT max(h.started_at) FROM sync_history h
                      WHERE h.workspace_id = {C}.workspace_id AND h.id < {C}.sync_id
                        AND h.outcome IN ('succeeded', 'partial')),
                    {C}.changed_at - interval '1 day')
             - make_interval(mins => {SKEW})";

/// The nearest audit entry or assignment run for the change aliased `{C}` whose window
/// starts at `{FROM}` and whose device's serial is `{SERIAL}`: one row (source, username,
/// action, at, ref) at most. The one rule both the attributed list and the console's Changes
/// view read.
const NEAREST: &str = "
      SELECT * FROM (
          SELECT 'audit' AS source, a.username, concat_ws(': ', a.category, a.description) AS action,
                 a.occurred_at AS at, a.id AS ref, 1 AS pref
            FROM audit_log a
           WHERE {C}.resource = 'devices' AND a.workspace_id = {C}.workspace_id
             AND a.target IN (upper({SERIAL}), upper({C}.item_id))
             AND a.occurred_at > {FROM} AND a.occurred_at <= {C}.changed_at
          UNION ALL
          SELECT 'assignment_run', r.operator, r.kind, t.at, r.id::text, 0
            FROM assignment_devices ad
            JOIN assignment_runs r ON r.id = ad.run_id
            CROSS JOIN LATERAL (
                SELECT COALESCE(max(o.finished_at), r.finished_at, r.created_at) AS at
                  FROM assignment_operations o
                 WHERE o.run_id = r.id
                   AND (ad.device_id = ANY (o.device_ids) OR ad.serial = ANY (o.serials))
            ) t
           WHERE {C}.resource = 'devices' AND r.workspace_id = {C}.workspace_id
             AND r.kind IN ('apply', 'undo') AND ad.outcome = 'succeeded'
             AND (ad.device_id = {C}.item_id OR upper(ad.serial) = upper({SERIAL}))
             AND t.at > {FROM} AND t.at <= {C}.changed_at
      ) cand
      ORDER BY at DESC, pref
      LIMIT 1";

fn nearest(change: &str, from: &str, serial: &str) -> String {
    NEAREST
        .replace("{FROM}", from)
        .replace("{SERIAL}", serial)
        .replace("{C}", change)
}

/// Who made the change aliased `change` (a row of `inventory_changes`), as one text column:
/// [`Attribution::label`]'s words, NULL when nothing matches. For the console's Changes view.
pub fn who_label_sql(change: &str) -> String {
    let from = WINDOW_FROM
        .replace("{C}", change)
        .replace("{SKEW}", &SKEW_MINUTES.to_string());
    let serial = format!(
        "(SELECT d.serial_number FROM devices d \
           WHERE d.workspace_id = {change}.workspace_id AND d.id = {change}.item_id)"
    );
    format!(
        "(SELECT CASE w.source WHEN 'audit' THEN coalesce(w.username, 'unknown') || ' (audit log)' \
                 ELSE 'assignment run #' || w.ref || ', ' || coalesce(w.username, 'unknown') END \
            FROM ({}) w)",
        nearest(change, &from, &serial)
    )
}

fn attributed_sql() -> String {
    format!(
        "
WITH ch AS (
    SELECT c.*, {} AS window_from
      FROM inventory_changes c
     WHERE ($1::text IS NULL OR c.workspace_id = $1) AND c.changed_at >= $2
     ORDER BY c.changed_at DESC, c.workspace_id, c.item_id, c.field
     LIMIT $3
)
SELECT ch.workspace_id, ch.resource, ch.item_id, ch.sync_id, ch.changed_at, ch.field,
       ch.old_value, ch.new_value,
       CASE ch.resource WHEN 'devices' THEN d.serial_number ELSE s.key END AS label,
       w.source AS w_source, w.username AS w_user, w.action AS w_action, w.at AS w_at,
       w.ref AS w_ref
  FROM ch
  LEFT JOIN devices d
         ON ch.resource = 'devices' AND d.workspace_id = ch.workspace_id AND d.id = ch.item_id
  LEFT JOIN subscriptions s
         ON ch.resource = 'subscriptions' AND s.workspace_id = ch.workspace_id
        AND s.id = ch.item_id
  LEFT JOIN LATERAL ({}) w ON true
 ORDER BY ch.changed_at DESC, ch.workspace_id, ch.item_id, ch.field",
        WINDOW_FROM.replace("{C}", "c").replace("{SKEW}", "$4"),
        nearest("ch", "ch.window_from", "d.serial_number"),
    )
}

impl Store {
    /// Changes since `since`, newest first (at most `limit`), each with who made it where
    /// an audit entry or assignment run matches (see the module doc for the rule).
    pub async fn changes_attributed(
        &self,
        since: DateTime<Utc>,
        limit: i64,
        across: Across,
    ) -> Result<Vec<AttributedChange>, StoreError> {
        let ws = match across {
            Across::ThisWorkspace => Some(self.ws()),
            Across::AllWorkspaces => None,
        };
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(attributed_sql()))
            .bind(ws)
            .bind(since)
            .bind(limit)
            .bind(SKEW_MINUTES)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(attributed).collect())
    }
}

fn attributed(r: Row) -> AttributedChange {
    let who = match (r.w_source.as_deref(), r.w_at) {
        (Some(src), Some(at)) => Some(Attribution {
            user: r.w_user.unwrap_or_else(|| "unknown".into()),
            action: r.w_action.unwrap_or_default(),
            at,
            source: if src == "audit" {
                AttributionSource::Audit
            } else {
                AttributionSource::AssignmentRun
            },
            reference: r.w_ref.unwrap_or_default(),
        }),
        _ => None,
    };
    AttributedChange {
        change: ChangeRecord {
            workspace_id: r.workspace_id,
            resource: r.resource,
            item_id: r.item_id,
            sync_id: r.sync_id,
            changed_at: r.changed_at,
            field: r.field,
            old_value: r.old_value,
            new_value: r.new_value,
        },
        label: r.label,
        who,
    }
}
