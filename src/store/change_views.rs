//! The console's reads of the change history: the Changes view (every change in a window,
//! with the serial or key a person recognises rather than GreenLake's id) and one record's
//! history for its detail pane, read in the workspace the console shows that record from.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::changes::ChangeRecord;
use super::views::ViewScope;
use super::{Store, StoreError};
use crate::domain::Resource;

/// One change as the Changes view lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeView {
    pub workspace_id: String,
    pub resource: String,
    pub item_id: String,
    /// The device's serial or the subscription's key (the id when the row is gone).
    pub label: String,
    pub sync_id: Option<i64>,
    pub changed_at: DateTime<Utc>,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    /// Who made the change in GreenLake, when the audit log says (not attributed yet).
    pub who: Option<String>,
}

/// The changes in scope since `$1`, newest first, at most `$2`; `{R}` is the scope's
/// condition on `c.workspace_id`, `{WHO}` who made it ([`super::attribution::who_label_sql`]). Serials and keys come from the
/// change's own workspace, so two tenants' devices of one id never swap names.
const CHANGES_SQL: &str = "
SELECT c.workspace_id, c.resource, c.item_id,
       coalesce(d.serial_number, s.key, c.item_id) AS label,
       c.sync_id, c.changed_at, c.field, c.old_value, c.new_value, {WHO} AS who
  FROM inventory_changes c
  LEFT JOIN devices d
         ON c.resource = 'devices' AND d.workspace_id = c.workspace_id AND d.id = c.item_id
  LEFT JOIN subscriptions s
         ON c.resource = 'subscriptions' AND s.workspace_id = c.workspace_id AND s.id = c.item_id
 WHERE c.changed_at >= $1 AND {R}
 ORDER BY c.changed_at DESC, coalesce(d.serial_number, s.key, c.item_id) COLLATE \"C\", c.field
 LIMIT $2";

impl Store {
    /// The Changes view: changes of the workspaces in `scope` since `since`, newest first,
    /// at most `limit` (the caller says "latest N" when it gets that many).
    pub async fn view_changes_in(
        &self,
        scope: &ViewScope,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ChangeView>, StoreError> {
        let sql = CHANGES_SQL
            .replace("{WHO}", &super::attribution::who_label_sql("c"))
            .replace(
                "{R}",
                &scope.rows_of(3).replace("workspace_id", "c.workspace_id"),
            );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(since)
            .bind(limit);
        if let Some(w) = scope.param() {
            q = q.bind(w);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(ChangeView {
                    workspace_id: r.try_get("workspace_id")?,
                    resource: r.try_get("resource")?,
                    item_id: r.try_get("item_id")?,
                    label: r.try_get("label")?,
                    sync_id: r.try_get("sync_id")?,
                    changed_at: r.try_get("changed_at")?,
                    field: r.try_get("field")?,
                    old_value: r.try_get("old_value")?,
                    new_value: r.try_get("new_value")?,
                    who: r.try_get("who")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// A record's history for its detail pane, newest first: of the workspace whose row the
    /// console shows (the consolidated view's, as the detail's fields and links are read).
    pub async fn view_item_history(
        &self,
        resource: Resource,
        id: &str,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        let shown = match resource {
            Resource::Devices => "devices_consolidated",
            Resource::Subscriptions => "subscriptions_consolidated",
        };
        let sql = format!(
            "SELECT workspace_id, resource, item_id, sync_id, changed_at, field, old_value, \
                    new_value FROM inventory_changes \
              WHERE resource = $1 AND item_id = $2 \
                AND workspace_id = (SELECT workspace_id FROM {shown} WHERE id = $2) \
              ORDER BY changed_at DESC, field"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(resource.as_str())
            .bind(id)
            .fetch_all(self.pool())
            .await?)
    }
}
