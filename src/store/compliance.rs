//! Compliance and utilisation reads (issue 16): typed rows from the `compliance_*` and
//! `subscription_*` views of migration 0010, for this store's workspace or across all
//! workspaces (one row per id, the consolidated rule).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Store, StoreError};

/// Which rows a compliance read covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Across {
    /// The store's workspace ([`Store::workspace`]).
    ThisWorkspace,
    /// Every stored workspace, each device or subscription once.
    AllWorkspaces,
}

/// The device checks, each one view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceCheck {
    NoApplication,
    AssignedNoSubscription,
    Archived,
    MspPool,
}

impl DeviceCheck {
    pub const ALL: [DeviceCheck; 4] = [
        DeviceCheck::NoApplication,
        DeviceCheck::AssignedNoSubscription,
        DeviceCheck::Archived,
        DeviceCheck::MspPool,
    ];

    /// The SQL view behind the check.
    pub fn view(self) -> &'static str {
        match self {
            DeviceCheck::NoApplication => "compliance_no_application",
            DeviceCheck::AssignedNoSubscription => "compliance_assigned_no_subscription",
            DeviceCheck::Archived => "compliance_archived",
            DeviceCheck::MspPool => "compliance_msp_pool",
        }
    }

    /// A heading for people.
    pub fn title(self) -> &'static str {
        match self {
            DeviceCheck::NoApplication => "Devices with no application",
            DeviceCheck::AssignedNoSubscription => "Assigned devices with no subscription",
            DeviceCheck::Archived => "Archived devices",
            DeviceCheck::MspPool => "Devices parked in the MSP pool",
        }
    }
}

/// The subscription checks, each one view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionCheck {
    EndedWithDevices,
    Evaluation,
}

impl SubscriptionCheck {
    pub const ALL: [SubscriptionCheck; 2] = [
        SubscriptionCheck::EndedWithDevices,
        SubscriptionCheck::Evaluation,
    ];

    pub fn view(self) -> &'static str {
        match self {
            SubscriptionCheck::EndedWithDevices => "compliance_ended_with_devices",
            SubscriptionCheck::Evaluation => "compliance_eval_subscriptions",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            SubscriptionCheck::EndedWithDevices => {
                "Ended or suspended subscriptions with devices linked"
            }
            SubscriptionCheck::Evaluation => "Evaluation subscriptions",
        }
    }
}

/// A device a device check lists.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeviceFinding {
    pub workspace_id: String,
    pub device_id: String,
    pub serial_number: String,
    pub device_type: Option<String>,
    pub model: Option<String>,
    pub assigned_state: Option<String>,
    pub application_id: Option<String>,
    pub region: Option<String>,
    pub management: Option<String>,
}

/// A device on an expired or soon-expiring subscription (one row per link).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExpiryFinding {
    pub workspace_id: String,
    pub device_id: String,
    pub serial_number: String,
    pub device_type: Option<String>,
    pub subscription_id: String,
    pub subscription_key: Option<String>,
    pub subscription_status: Option<String>,
    pub end_time: Option<DateTime<Utc>>,
    pub expired: bool,
}

/// A subscription a subscription check lists.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubscriptionFinding {
    pub workspace_id: String,
    pub id: String,
    pub key: Option<String>,
    pub subscription_type: Option<String>,
    pub tier: Option<String>,
    pub subscription_status: Option<String>,
    pub quantity: Option<i64>,
    pub end_time: Option<DateTime<Utc>>,
    pub devices: i64,
}

/// A device linked to a subscription of a type that cannot cover it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TypeMismatch {
    pub workspace_id: String,
    pub device_id: String,
    pub serial_number: String,
    pub device_type: Option<String>,
    pub device_category: Option<String>,
    pub subscription_id: String,
    pub subscription_key: Option<String>,
    pub subscription_type: Option<String>,
}

/// Seats of one subscription.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Utilisation {
    pub workspace_id: String,
    pub id: String,
    pub key: Option<String>,
    pub subscription_type: Option<String>,
    pub tier: Option<String>,
    pub subscription_status: Option<String>,
    pub end_time: Option<DateTime<Utc>>,
    pub quantity: Option<i64>,
    pub available_quantity: Option<i64>,
    /// GLP's figure: quantity minus available.
    pub used: Option<i64>,
    /// Live devices stored with a link to it.
    pub linked_devices: i64,
    pub percent_used: Option<f64>,
    pub idle: i64,
    pub over_use: bool,
}

/// Seat totals of one subscription type and tier.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UtilisationTotal {
    pub subscription_type: Option<String>,
    pub tier: Option<String>,
    pub subscriptions: i64,
    pub quantity: Option<i64>,
    pub used: Option<i64>,
    pub available: Option<i64>,
    pub linked_devices: Option<i64>,
    pub idle: Option<i64>,
    pub over_used: i64,
}

/// One calendar month (UTC, `YYYY-MM`) of the next twelve: what ends then.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RenewalMonth {
    pub month: String,
    pub subscriptions: i64,
    pub seats: Option<i64>,
    pub devices: Option<i64>,
}

/// Recorded changes of one field in a window (the change history of `inventory_changes`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChangeCount {
    pub resource: String,
    pub field: String,
    pub changes: i64,
    /// Distinct devices or subscriptions changed.
    pub items: i64,
}

/// How many rows each check lists.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ComplianceCounts {
    pub no_application: i64,
    pub assigned_no_subscription: i64,
    pub archived: i64,
    pub msp_pool: i64,
    pub expired_devices: i64,
    pub expiring_devices: i64,
    pub ended_with_devices: i64,
    pub evaluation: i64,
    pub type_mismatches: i64,
    pub over_used: i64,
}

/// The row filter every read shares: `$1` is the workspace, or NULL for the consolidated
/// rows of all workspaces.
const SCOPE: &str = "CASE WHEN $1::text IS NULL THEN consolidated ELSE workspace_id = $1 END";

impl Store {
    /// A transaction with JIT compilation off. The per-row consolidated lookup makes the
    /// planner's cost estimate large, so a server with default settings JIT-compiles these
    /// reads: measured on 100 000 devices, 0.9 s of compiling for 0.1 s of work.
    async fn no_jit(&self) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await?;
        Ok(tx)
    }

    fn scope_arg(&self, across: Across) -> Option<&str> {
        match across {
            Across::ThisWorkspace => Some(self.ws()),
            Across::AllWorkspaces => None,
        }
    }

    /// Runs one check's query: `$1` is the workspace (NULL across all), `$2` the window in
    /// days when the query has one; without JIT (these plans are short and JIT's compile
    /// cost dwarfs them).
    async fn scoped<T>(
        &self,
        sql: String,
        across: Across,
        days: Option<u32>,
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let mut tx = self.no_jit().await?;
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.scope_arg(across));
        if let Some(days) = days {
            query = query.bind(i32::try_from(days).unwrap_or(i32::MAX));
        }
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The devices one check lists, by serial.
    pub async fn compliance_devices(
        &self,
        check: DeviceCheck,
        across: Across,
    ) -> Result<Vec<DeviceFinding>, StoreError> {
        let sql = format!(
            "SELECT workspace_id, device_id, serial_number, device_type, model, assigned_state, \
             application_id, region, management FROM {} WHERE {SCOPE} \
             ORDER BY serial_number, device_id, workspace_id",
            check.view()
        );
        self.scoped(sql, across, None).await
    }

    /// Devices on a subscription that has expired or ends within `days`, soonest first.
    pub async fn compliance_expiring(
        &self,
        days: u32,
        across: Across,
    ) -> Result<Vec<ExpiryFinding>, StoreError> {
        let sql = format!(
            "SELECT workspace_id, device_id, serial_number, device_type, subscription_id, \
             subscription_key, subscription_status, end_time, expired \
             FROM compliance_expiring_devices($2) WHERE {SCOPE} \
             ORDER BY end_time NULLS FIRST, subscription_key, serial_number, device_id"
        );
        self.scoped(sql, across, Some(days)).await
    }

    /// The subscriptions one check lists, by end time.
    pub async fn compliance_subscriptions(
        &self,
        check: SubscriptionCheck,
        across: Across,
    ) -> Result<Vec<SubscriptionFinding>, StoreError> {
        let sql = format!(
            "SELECT workspace_id, id, key, subscription_type, tier, subscription_status, \
             quantity, end_time, devices FROM {} WHERE {SCOPE} \
             ORDER BY end_time NULLS LAST, key, id, workspace_id",
            check.view()
        );
        self.scoped(sql, across, None).await
    }

    /// Devices linked to a subscription whose type cannot cover them.
    pub async fn type_mismatches(&self, across: Across) -> Result<Vec<TypeMismatch>, StoreError> {
        let sql = format!(
            "SELECT workspace_id, device_id, serial_number, device_type, device_category, \
             subscription_id, subscription_key, subscription_type \
             FROM compliance_type_mismatches WHERE {SCOPE} \
             ORDER BY serial_number, device_id, subscription_key, subscription_id"
        );
        self.scoped(sql, across, None).await
    }

    /// Seats of every live subscription, by type, tier and key.
    pub async fn utilisation(&self, across: Across) -> Result<Vec<Utilisation>, StoreError> {
        let sql = format!(
            "SELECT workspace_id, id, key, subscription_type, tier, subscription_status, end_time, \
             quantity, available_quantity, used, linked_devices, percent_used, idle, over_use \
             FROM subscription_utilisation WHERE {SCOPE} \
             ORDER BY subscription_type NULLS LAST, tier NULLS LAST, key, id, workspace_id"
        );
        self.scoped(sql, across, None).await
    }

    /// Seat totals per subscription type and tier (grouped here rather than read from
    /// `subscription_utilisation_totals`, which is per workspace, so all workspaces count
    /// each subscription once).
    pub async fn utilisation_totals(
        &self,
        across: Across,
    ) -> Result<Vec<UtilisationTotal>, StoreError> {
        let sql = format!(
            "SELECT subscription_type, tier, count(*) AS subscriptions, \
             sum(quantity)::bigint AS quantity, sum(used)::bigint AS used, \
             sum(available_quantity)::bigint AS available, \
             sum(linked_devices)::bigint AS linked_devices, sum(idle)::bigint AS idle, \
             count(*) FILTER (WHERE over_use) AS over_used \
             FROM subscription_utilisation WHERE {SCOPE} \
             GROUP BY subscription_type, tier \
             ORDER BY subscription_type NULLS LAST, tier NULLS LAST"
        );
        self.scoped(sql, across, None).await
    }

    /// What ends in each of the next twelve months (months with nothing are left out).
    pub async fn renewals(&self, across: Across) -> Result<Vec<RenewalMonth>, StoreError> {
        let sql = format!(
            "SELECT to_char(end_time AT TIME ZONE 'UTC', 'YYYY-MM') AS month, \
             count(*) AS subscriptions, sum(quantity)::bigint AS seats, \
             sum(linked_devices)::bigint AS devices \
             FROM subscription_utilisation WHERE {SCOPE} \
             AND subscription_status = 'STARTED' \
             AND end_time >= now() AND end_time < now() + interval '12 months' \
             GROUP BY 1 ORDER BY 1"
        );
        self.scoped(sql, across, None).await
    }

    /// Changes recorded in the last `days` days, per resource and field. Across workspaces
    /// every workspace's records count (a device two workspaces list, changed in both, counts
    /// twice: each workspace's sync saw the change).
    pub async fn change_counts(
        &self,
        days: u32,
        across: Across,
    ) -> Result<Vec<ChangeCount>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT resource, field, count(*) AS changes, \
             count(DISTINCT (workspace_id, item_id)) AS items FROM inventory_changes \
             WHERE ($1::text IS NULL OR workspace_id = $1) \
             AND changed_at >= now() - make_interval(days => $2) \
             GROUP BY resource, field ORDER BY resource, field",
        )
        .bind(self.scope_arg(across))
        .bind(i32::try_from(days).unwrap_or(i32::MAX))
        .fetch_all(self.pool())
        .await?)
    }

    /// The number of rows of every check, in one round trip.
    pub async fn compliance_counts(
        &self,
        days: u32,
        across: Across,
    ) -> Result<ComplianceCounts, StoreError> {
        let count = |from: &str| format!("(SELECT count(*) FROM {from} WHERE {SCOPE})");
        let sql = format!(
            "SELECT {}, {}, {}, {}, \
             (SELECT count(*) FILTER (WHERE expired) FROM compliance_expiring_devices($2) \
               WHERE {SCOPE}), \
             (SELECT count(*) FILTER (WHERE NOT expired) FROM compliance_expiring_devices($2) \
               WHERE {SCOPE}), \
             {}, {}, {}, (SELECT count(*) FROM subscription_utilisation WHERE {SCOPE} AND over_use)",
            count(DeviceCheck::NoApplication.view()),
            count(DeviceCheck::AssignedNoSubscription.view()),
            count(DeviceCheck::Archived.view()),
            count(DeviceCheck::MspPool.view()),
            count(SubscriptionCheck::EndedWithDevices.view()),
            count(SubscriptionCheck::Evaluation.view()),
            count("compliance_type_mismatches"),
        );
        type Row = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let mut tx = self.no_jit().await?;
        let r: Row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(self.scope_arg(across))
            .bind(i32::try_from(days).unwrap_or(i32::MAX))
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ComplianceCounts {
            no_application: r.0,
            assigned_no_subscription: r.1,
            archived: r.2,
            msp_pool: r.3,
            expired_devices: r.4,
            expiring_devices: r.5,
            ended_with_devices: r.6,
            evaluation: r.7,
            type_mismatches: r.8,
            over_used: r.9,
        })
    }
}
