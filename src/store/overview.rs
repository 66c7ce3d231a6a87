//! The console's overview tab (issue 16, item 5): every figure it shows, and for each figure
//! the ids of the rows behind it ([`Jump`]). A figure and its jump are read from the same
//! row set with the same condition, so the number on the overview is the number of rows the
//! jump opens. Reads the compliance views of migration 0010; what depends on the date takes
//! the console's "now" as a parameter rather than the server's, so a pinned clock (tests,
//! a replayed snapshot) reads what it shows.

use chrono::{DateTime, Datelike, Months, TimeZone, Utc};
use serde::Serialize;

use super::compliance::{DeviceCheck, SubscriptionCheck};
use super::{Store, StoreError};

/// Which rows the overview counts: those the Devices and Subscriptions tabs show for the
/// same scope, so a jump opens as many rows as the figure says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// The store's workspace's rows (a database holding one workspace).
    Own,
    /// Every workspace, each device and subscription once (its consolidated row).
    All,
    /// The consolidated rows attributed to the store's workspace (`:ws NAME`): a device an
    /// MSP's view lists as placed in a stored tenant counts in the tenant, as the tabs show.
    Attributed,
}

impl Rows {
    /// The condition on a device row of alias `t` (written `"r."`: the lookup below has a
    /// `workspace_id` of its own); `$1` is the store's workspace.
    fn devices(self, t: &str) -> String {
        match self {
            Rows::Own => format!("{t}workspace_id = $1"),
            Rows::All => format!("{t}consolidated"),
            Rows::Attributed => format!(
                "{t}consolidated AND coalesce((SELECT w.id FROM devices x \
                 JOIN workspaces w ON w.id = x.placed_workspace_id \
                 WHERE x.workspace_id = {t}workspace_id AND x.id = {t}device_id), \
                 {t}workspace_id) = $1"
            ),
        }
    }

    /// The condition on a subscription row.
    fn subscriptions(self) -> String {
        match self {
            Rows::Own => "workspace_id = $1".into(),
            Rows::All => "consolidated".into(),
            Rows::Attributed => "consolidated AND workspace_id = $1".into(),
        }
    }
}

/// A live device's status as the overview groups them.
const STATUS: &str = "CASE WHEN archived THEN 'archived' \
     WHEN assigned_state IS NULL OR assigned_state = 'UNASSIGNED' THEN 'unassigned' \
     ELSE 'assigned' END";

/// Devices linked to a subscription that has expired by `$2` (ENDED, or its end passed).
const EXPIRED: &str = "(s.subscription_status = 'ENDED' OR s.end_time < $2)";
/// … or that is STARTED and ends within `$3` days of `$2` (and has not expired).
const EXPIRING: &str = "(NOT (s.subscription_status = 'ENDED' OR s.end_time < $2) \
     AND s.subscription_status = 'STARTED' AND s.end_time < $2 + make_interval(days => $3))";

/// The device links of the rows in scope (`compliance_expiring_devices`' join, with the
/// console's now).
const LINKS: &str = "compliance_device_rows r \
     JOIN device_subscriptions ds ON ds.workspace_id = r.workspace_id AND ds.device_id = r.device_id \
     JOIN subscriptions s ON s.workspace_id = ds.workspace_id AND s.id = ds.subscription_id \
     AND s.removed_at IS NULL";

/// A live device's status group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DeviceStatus {
    Assigned,
    Unassigned,
    Archived,
}

impl DeviceStatus {
    pub const ALL: [DeviceStatus; 3] = [
        DeviceStatus::Assigned,
        DeviceStatus::Unassigned,
        DeviceStatus::Archived,
    ];
    pub fn word(self) -> &'static str {
        match self {
            DeviceStatus::Assigned => "assigned",
            DeviceStatus::Unassigned => "unassigned",
            DeviceStatus::Archived => "archived",
        }
    }
}

/// Which table a jump opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JumpTable {
    Devices,
    Subscriptions,
}

/// The rows behind one figure of the overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Jump {
    /// Live devices of a type (`None`: no type stored).
    DeviceType(Option<String>),
    /// Live devices in a region (`None`: no region).
    Region(Option<String>),
    Status(DeviceStatus),
    Check(DeviceCheck),
    /// Devices on an expired subscription.
    Expired,
    /// Devices on a subscription expiring within the window (not expired).
    Expiring,
    /// Devices on a subscription whose type cannot cover them.
    TypeMismatch,
    SubscriptionCheck(SubscriptionCheck),
    /// Subscriptions with more devices than seats.
    OverUsed,
    /// Live subscriptions of a type and tier.
    Seats {
        subscription_type: Option<String>,
        tier: Option<String>,
    },
    /// STARTED subscriptions ending in this UTC month (`YYYY-MM`).
    Month(String),
}

impl Jump {
    pub fn table(&self) -> JumpTable {
        match self {
            Jump::SubscriptionCheck(_) | Jump::OverUsed | Jump::Seats { .. } | Jump::Month(_) => {
                JumpTable::Subscriptions
            }
            _ => JumpTable::Devices,
        }
    }

    /// What the drill-down's chip says.
    pub fn label(&self, window_days: u32) -> String {
        let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        match self {
            Jump::DeviceType(t) => format!("type {}", or_none(t)),
            Jump::Region(r) => format!("region {}", or_none(r)),
            Jump::Status(s) => s.word().to_string(),
            Jump::Check(c) => c.title().to_lowercase(),
            Jump::Expired => "on an expired subscription".into(),
            Jump::Expiring => format!("on a subscription ending within {window_days}d"),
            Jump::TypeMismatch => "on a subscription of the wrong type".into(),
            Jump::SubscriptionCheck(c) => c.title().to_lowercase(),
            Jump::OverUsed => "over-used".into(),
            Jump::Seats {
                subscription_type,
                tier,
            } => format!("{} {}", or_none(subscription_type), or_none(tier)),
            Jump::Month(m) => format!("ending {m}"),
        }
    }

    /// The ids behind the figure: a statement over `$1` scope, `$2` now, `$3` days, `$4`/`$5`
    /// the jump's own values.
    fn sql(&self, rows: Rows) -> String {
        let (dev, sub) = (rows.devices("r."), rows.subscriptions());
        let devices = |cond: &str| {
            format!("SELECT device_id FROM compliance_device_rows r WHERE {dev} AND {cond}")
        };
        match self {
            Jump::DeviceType(_) => devices("device_type IS NOT DISTINCT FROM $4"),
            Jump::Region(_) => devices("region IS NOT DISTINCT FROM $4"),
            Jump::Status(_) => devices(&format!("{STATUS} = $4")),
            Jump::Check(c) => format!("SELECT device_id FROM {} r WHERE {dev}", c.view()),
            Jump::Expired => format!(
                "SELECT DISTINCT r.device_id FROM {LINKS} WHERE {} AND {EXPIRED}",
                rows.devices("r.")
            ),
            Jump::Expiring => format!(
                "SELECT DISTINCT r.device_id FROM {LINKS} WHERE {} AND {EXPIRING}",
                rows.devices("r.")
            ),
            Jump::TypeMismatch => {
                format!("SELECT DISTINCT device_id FROM compliance_type_mismatches r WHERE {dev}")
            }
            Jump::SubscriptionCheck(c) => format!("SELECT id FROM {} WHERE {sub}", c.view()),
            Jump::OverUsed => {
                format!("SELECT id FROM subscription_utilisation WHERE {sub} AND over_use")
            }
            Jump::Seats { .. } => format!(
                "SELECT id FROM subscription_utilisation WHERE {sub} \
                 AND subscription_type IS NOT DISTINCT FROM $4 AND tier IS NOT DISTINCT FROM $5"
            ),
            Jump::Month(_) => format!(
                "SELECT id FROM subscription_utilisation WHERE {sub} AND {MONTHS} \
                 AND {MONTH} = $4"
            ),
        }
    }

    fn args(&self) -> (Option<String>, Option<String>) {
        match self {
            Jump::DeviceType(v) | Jump::Region(v) => (v.clone(), None),
            Jump::Status(s) => (Some(s.word().to_string()), None),
            Jump::Seats {
                subscription_type,
                tier,
            } => (subscription_type.clone(), tier.clone()),
            Jump::Month(m) => (Some(m.clone()), None),
            _ => (None, None),
        }
    }
}

/// STARTED subscriptions ending in the twelve months from `$2`.
const MONTHS: &str = "subscription_status = 'STARTED' AND end_time >= $2 \
     AND end_time < $2 + interval '12 months'";
const MONTH: &str = "to_char(end_time AT TIME ZONE 'UTC', 'YYYY-MM')";

/// One figure: what it counts and how many.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count<K> {
    pub key: K,
    pub n: i64,
}

/// Seats of one subscription type and tier.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SeatRow {
    pub subscription_type: Option<String>,
    pub tier: Option<String>,
    pub subscriptions: i64,
    pub quantity: i64,
    pub used: i64,
    pub over_used: i64,
}

impl SeatRow {
    /// Share of the seats used, 0–100 (more when GLP reports over-use).
    pub fn percent(&self) -> f64 {
        if self.quantity > 0 {
            100.0 * self.used as f64 / self.quantity as f64
        } else {
            0.0
        }
    }
}

/// The last run of one resource.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ResourceRun {
    pub resource: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: String,
    pub fetched: i32,
    pub error: Option<String>,
}

/// Everything the overview shows, read in one go.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub devices: i64,
    pub by_type: Vec<Count<Option<String>>>,
    pub by_region: Vec<Count<Option<String>>>,
    pub by_status: Vec<Count<DeviceStatus>>,
    /// The compliance checks in the order the overview lists them.
    pub checks: Vec<Count<Jump>>,
    pub seats: Vec<SeatRow>,
    /// The twelve months from now, `YYYY-MM`, with the STARTED subscriptions ending in each.
    pub months: Vec<Count<String>>,
    pub runs: Vec<ResourceRun>,
    /// The window the expiring check counts in.
    pub window_days: u32,
}

/// The twelve `YYYY-MM` months from `now`'s.
pub fn months_from(now: DateTime<Utc>) -> Vec<String> {
    let first = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    (0..12u32)
        .filter_map(|i| first.checked_add_months(Months::new(i)))
        .map(|m| m.format("%Y-%m").to_string())
        .collect()
}

impl Store {
    /// The ids a jump opens (devices or subscriptions, by [`Jump::table`]).
    pub async fn overview_ids(
        &self,
        jump: &Jump,
        now: DateTime<Utc>,
        window_days: u32,
        rows: Rows,
    ) -> Result<Vec<String>, StoreError> {
        let (a, b) = jump.args();
        let sql = format!("SELECT id FROM ({}) j(id) ORDER BY 1", jump.sql(rows));
        let mut tx = self.pool().begin().await?;
        sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await?;
        let ids = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(self.ws())
            .bind(now)
            .bind(i32::try_from(window_days).unwrap_or(i32::MAX))
            .bind(a)
            .bind(b)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// The figures of the overview tab.
    pub async fn overview_figures(
        &self,
        now: DateTime<Utc>,
        window_days: u32,
        rows: Rows,
    ) -> Result<Figures, StoreError> {
        let scope = self.ws();
        let (dev, sub) = (rows.devices("r."), rows.subscriptions());
        let days = i32::try_from(window_days).unwrap_or(i32::MAX);
        let mut tx = self.pool().begin().await?;
        sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await?;
        let group = |expr: &str| {
            format!(
                "SELECT {expr}, count(*) FROM compliance_device_rows r WHERE {dev} \
                 GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST"
            )
        };
        let counted = |rows: Vec<(Option<String>, i64)>| -> Vec<Count<Option<String>>> {
            rows.into_iter().map(|(key, n)| Count { key, n }).collect()
        };
        let by_type: Vec<(Option<String>, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(group("device_type")))
                .bind(scope)
                .fetch_all(&mut *tx)
                .await?;
        let by_type = counted(by_type);
        let by_region: Vec<(Option<String>, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(group("region")))
                .bind(scope)
                .fetch_all(&mut *tx)
                .await?;
        let by_region = counted(by_region);
        let status: Vec<(Option<String>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(group(STATUS)))
            .bind(scope)
            .fetch_all(&mut *tx)
            .await?;
        let by_status = DeviceStatus::ALL
            .iter()
            .map(|s| Count {
                key: *s,
                n: status
                    .iter()
                    .find(|(k, _)| k.as_deref() == Some(s.word()))
                    .map_or(0, |(_, n)| *n),
            })
            .collect();
        let devices = by_type.iter().map(|c| c.n).sum();
        let mut checks = Vec::new();
        for jump in check_jumps() {
            let (a, b) = jump.args();
            let sql = format!("SELECT count(*) FROM ({}) j", jump.sql(rows));
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(scope)
                .bind(now)
                .bind(days)
                .bind(a)
                .bind(b)
                .fetch_one(&mut *tx)
                .await?;
            checks.push(Count { key: jump, n });
        }
        let seats: Vec<SeatRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT subscription_type, tier, count(*) AS subscriptions, \
             coalesce(sum(quantity), 0)::bigint AS quantity, \
             coalesce(sum(used), 0)::bigint AS used, \
             count(*) FILTER (WHERE over_use) AS over_used \
             FROM subscription_utilisation WHERE {sub} \
             GROUP BY subscription_type, tier \
             ORDER BY subscription_type NULLS LAST, tier NULLS LAST"
        )))
        .bind(scope)
        .fetch_all(&mut *tx)
        .await?;
        let ending: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MONTH}, count(*) FROM subscription_utilisation \
             WHERE {sub} AND {MONTHS} GROUP BY 1"
        )))
        .bind(scope)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let months = months_from(now)
            .into_iter()
            .map(|m| Count {
                n: ending.iter().find(|(k, _)| *k == m).map_or(0, |(_, n)| *n),
                key: m,
            })
            .collect();
        let runs: Vec<ResourceRun> = sqlx::query_as(
            "SELECT DISTINCT ON (r.resource) r.resource, h.started_at, h.finished_at, \
             coalesce(r.outcome, h.outcome) AS outcome, r.fetched, coalesce(r.error, h.error) AS error \
             FROM sync_history_resources r JOIN sync_history h ON h.id = r.sync_id \
             WHERE h.outcome <> 'running' AND h.mode <> 'refresh' \
               AND ($2 OR h.workspace_id = $1) \
             ORDER BY r.resource, h.started_at DESC, h.id DESC",
        )
        .bind(scope)
        .bind(rows == Rows::All)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Figures {
            devices,
            by_type,
            by_region,
            by_status,
            checks,
            seats,
            months,
            runs,
            window_days,
        })
    }
}

/// The compliance checks, in the order the overview lists them.
pub fn check_jumps() -> Vec<Jump> {
    let mut v: Vec<Jump> = DeviceCheck::ALL.iter().map(|c| Jump::Check(*c)).collect();
    v.extend([Jump::Expired, Jump::Expiring, Jump::TypeMismatch]);
    v.extend(
        SubscriptionCheck::ALL
            .iter()
            .map(|c| Jump::SubscriptionCheck(*c)),
    );
    v.push(Jump::OverUsed);
    v
}
