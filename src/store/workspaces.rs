//! The `workspaces` table: which workspaces this database holds, what they are, and the
//! per-workspace figures the Workspaces tab and `glp-console workspaces` show.
//!
//! Figures per workspace count each device once, attributed to the workspace it is placed in
//! (`devices_consolidated`, migration 0009), so the column of a listing sums to the
//! all-workspaces total even when an MSP's view and a tenant's view both return a device.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::domain::{WorkspaceId, WorkspaceKind};

/// One stored workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceRecord {
    pub id: WorkspaceId,
    pub name: String,
    pub kind: WorkspaceKind,
    pub parent_id: Option<WorkspaceId>,
    pub inventory_ownership: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Set when the MSP no longer lists this tenant; its rows are kept.
    pub removed_at: Option<DateTime<Utc>>,
}

/// What a sync learnt about a workspace: from the configuration, or from the MSP's tenant list.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceSeen {
    pub id: WorkspaceId,
    pub name: String,
    pub kind: WorkspaceKind,
    pub parent_id: Option<WorkspaceId>,
    pub inventory_ownership: Option<String>,
}

/// A workspace with its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceOverview {
    pub ws: WorkspaceRecord,
    /// Live devices attributed to this workspace.
    pub devices: i64,
    /// Live subscriptions of this workspace.
    pub subscriptions: i64,
    /// STARTED subscriptions ending within the window.
    pub expiring: i64,
    /// Start of the last run that succeeded (or was partial) for this workspace.
    pub last_good_sync: Option<DateTime<Utc>>,
    pub last_run_outcome: Option<String>,
    pub last_run_error: Option<String>,
    pub last_run_finished: Option<DateTime<Utc>>,
}

type RecordRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn record(r: RecordRow) -> Option<WorkspaceRecord> {
    let (id, name, kind, parent, ownership, first, last, removed) = r;
    Some(WorkspaceRecord {
        id: WorkspaceId::parse(&id)?,
        name,
        kind: WorkspaceKind::parse(&kind).unwrap_or(WorkspaceKind::Standalone),
        parent_id: parent.as_deref().and_then(WorkspaceId::parse),
        inventory_ownership: ownership,
        first_seen_at: first,
        last_seen_at: last,
        removed_at: removed,
    })
}

const RECORD_COLUMNS: &str = "id, name, kind, parent_id, inventory_ownership, first_seen_at, \
                              last_seen_at, removed_at";

impl Store {
    /// Every stored workspace, by name.
    pub async fn workspaces(&self) -> Result<Vec<WorkspaceRecord>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM workspaces ORDER BY name, id");
        let rows: Vec<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().filter_map(record).collect())
    }

    /// Record workspaces a sync is about to serve: new ones are added, known ones get their
    /// name, kind and ownership refreshed, `last_seen_at` moves and a removed mark is lifted.
    pub async fn register_workspaces(&self, seen: &[WorkspaceSeen]) -> Result<(), StoreError> {
        if seen.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = seen.iter().map(|w| w.id.as_str()).collect();
        let names: Vec<&str> = seen.iter().map(|w| w.name.as_str()).collect();
        let kinds: Vec<&str> = seen.iter().map(|w| w.kind.as_str()).collect();
        let parents: Vec<Option<&str>> = seen
            .iter()
            .map(|w| w.parent_id.as_ref().map(WorkspaceId::as_str))
            .collect();
        let owners: Vec<Option<&str>> = seen
            .iter()
            .map(|w| w.inventory_ownership.as_deref())
            .collect();
        sqlx::query(
            "INSERT INTO workspaces AS w (id, name, kind, parent_id, inventory_ownership) \
             SELECT DISTINCT ON (id) * FROM unnest($1::text[], $2::text[], $3::text[], \
                    $4::text[], $5::text[]) AS x(id, name, kind, parent_id, inventory_ownership) \
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, \
                parent_id = EXCLUDED.parent_id, \
                inventory_ownership = coalesce(EXCLUDED.inventory_ownership, w.inventory_ownership), \
                last_seen_at = now(), removed_at = NULL",
        )
        .bind(ids)
        .bind(names)
        .bind(kinds)
        .bind(parents)
        .bind(owners)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Rows stored before workspaces existed (migration 0009) belong to `default`. When this
    /// handle's workspace is the configured single workspace under its real id, those rows
    /// are its own: move them over (every table, one transaction), so the upgrade neither
    /// shows each device twice nor keeps a stale copy alive. Only when `default` is not a
    /// configured workspace itself (`default_configured`) and this workspace holds no rows
    /// yet. Returns whether rows moved.
    pub async fn adopt_default_rows(&self, default_configured: bool) -> Result<bool, StoreError> {
        if default_configured || self.ws() == WorkspaceId::DEFAULT {
            return Ok(false);
        }
        let mut tx = self.pool().begin().await?;
        let (legacy, own): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM sync_history WHERE workspace_id = 'default') \
                    OR EXISTS (SELECT 1 FROM devices WHERE workspace_id = 'default'), \
                    EXISTS (SELECT 1 FROM sync_history WHERE workspace_id = $1) \
                    OR EXISTS (SELECT 1 FROM devices WHERE workspace_id = $1)",
        )
        .bind(self.ws())
        .fetch_one(&mut *tx)
        .await?;
        if !legacy || own {
            return Ok(false);
        }
        for table in [
            "devices",
            "subscriptions",
            "device_subscriptions",
            "sync_history",
            "sync_seen",
            "assignment_runs",
            "application_names",
            "inventory_changes",
        ] {
            let sql =
                format!("UPDATE {table} SET workspace_id = $1 WHERE workspace_id = 'default'");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(self.ws())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM workspaces WHERE id = 'default'")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(workspace = %self.workspace(), "rows stored before workspaces moved to the configured workspace id");
        Ok(true)
    }

    /// After a complete tenant discovery: tenants of `msp` stored but not in `listed` are
    /// marked removed (never deleted: their inventory stays readable). Returns their names.
    pub async fn mark_tenants_removed(
        &self,
        msp: &WorkspaceId,
        listed: &[WorkspaceId],
    ) -> Result<Vec<String>, StoreError> {
        let listed: Vec<&str> = listed.iter().map(WorkspaceId::as_str).collect();
        let names = sqlx::query_scalar(
            "UPDATE workspaces SET removed_at = now() \
              WHERE kind = 'tenant' AND parent_id = $1 AND removed_at IS NULL \
                AND NOT (id = ANY($2)) RETURNING name",
        )
        .bind(msp.as_str())
        .bind(listed)
        .fetch_all(self.pool())
        .await?;
        Ok(names)
    }

    /// Every workspace with its figures (see the module doc for how devices are counted).
    pub async fn workspace_overview(
        &self,
        expiring_days: u32,
    ) -> Result<Vec<WorkspaceOverview>, StoreError> {
        let records = self.workspaces().await?;
        type Figures = (
            String,
            i64,
            i64,
            i64,
            Option<DateTime<Utc>>,
            Option<String>,
            Option<String>,
            Option<DateTime<Utc>>,
        );
        let rows: Vec<Figures> = sqlx::query_as(
            "WITH dev AS ( \
                SELECT coalesce(p.id, d.workspace_id) AS ws, count(*) AS n \
                  FROM devices_consolidated d LEFT JOIN workspaces p ON p.id = d.placed_workspace_id \
                 WHERE d.removed_at IS NULL GROUP BY 1), \
             sub AS ( \
                SELECT workspace_id AS ws, count(*) AS n, \
                       count(*) FILTER (WHERE subscription_status = 'STARTED' AND end_time >= now() \
                                          AND end_time < now() + make_interval(days => $1)) AS expiring \
                  FROM subscriptions_consolidated WHERE removed_at IS NULL GROUP BY 1), \
             good AS ( \
                SELECT workspace_id AS ws, max(started_at) AS at FROM sync_history \
                 WHERE outcome IN ('succeeded', 'partial') GROUP BY 1), \
             last AS ( \
                SELECT DISTINCT ON (workspace_id) workspace_id AS ws, outcome, error, finished_at \
                  FROM sync_history WHERE outcome <> 'running' \
                 ORDER BY workspace_id, started_at DESC) \
             SELECT w.id, coalesce(dev.n, 0), coalesce(sub.n, 0), coalesce(sub.expiring, 0), \
                    good.at, last.outcome, last.error, last.finished_at \
               FROM workspaces w \
               LEFT JOIN dev ON dev.ws = w.id LEFT JOIN sub ON sub.ws = w.id \
               LEFT JOIN good ON good.ws = w.id LEFT JOIN last ON last.ws = w.id",
        )
        .bind(i32::try_from(expiring_days).unwrap_or(i32::MAX))
        .fetch_all(self.pool())
        .await?;
        let mut figures: std::collections::HashMap<String, Figures> =
            rows.into_iter().map(|r| (r.0.clone(), r)).collect();
        Ok(records
            .into_iter()
            .map(|ws| {
                let f = figures.remove(ws.id.as_str());
                let (devices, subscriptions, expiring, good, outcome, error, finished) = match f {
                    Some((_, d, s, e, g, o, er, fi)) => (d, s, e, g, o, er, fi),
                    None => (0, 0, 0, None, None, None, None),
                };
                WorkspaceOverview {
                    ws,
                    devices,
                    subscriptions,
                    expiring,
                    last_good_sync: good,
                    last_run_outcome: outcome,
                    last_run_error: error,
                    last_run_finished: finished,
                }
            })
            .collect())
    }
}
