//! The words `store` and `sync` share: which resource, which scope, which mode, who asked,
//! and how a run and each of its resources ended.
//!
//! A leaf module (it imports nothing of this crate), so the store can record runs without
//! depending on the engine that makes them, and the engine, the store and both front ends
//! speak of a run in the same types.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Which resource a row belongs to (used for seen-marks and history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Devices,
    Subscriptions,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Devices => "devices",
            Resource::Subscriptions => "subscriptions",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Devices,
    Subscriptions,
    /// Subscriptions first, then devices (device links name subscriptions).
    Both,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Devices => "devices",
            Scope::Subscriptions => "subscriptions",
            Scope::Both => "both",
        }
    }
    pub fn resources(self) -> &'static [Resource] {
        match self {
            Scope::Devices => &[Resource::Devices],
            Scope::Subscriptions => &[Resource::Subscriptions],
            Scope::Both => &[Resource::Subscriptions, Resource::Devices],
        }
    }
}

/// Full reads everything and reconciles removals; incremental reads what changed since the
/// last good run. `Auto` lets the engine choose (full on first run and on schedule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Auto,
    Incremental,
    Full,
    /// A targeted refresh of a few devices (after an assignment): read by serial number,
    /// never a baseline for the next incremental and never a reconciliation.
    Refresh,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Incremental => "incremental",
            Mode::Full => "full",
            Mode::Refresh => "refresh",
        }
    }
}

/// Who asked for the run (recorded in sync_history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Tui,
    Cron,
    Assign,
    Demo,
    Cli,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Tui => "tui",
            Trigger::Cron => "cron",
            Trigger::Assign => "assign",
            Trigger::Demo => "demo",
            Trigger::Cli => "cli",
        }
    }
}

/// Per-resource counters of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSummary {
    pub resource: Option<Resource>,
    pub pages: u64,
    pub fetched: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub restored: u64,
    /// Items GLP sent that could not be used (no id, not an object) or not stored (the
    /// database refused the item itself, e.g. an id too long to index; logged by id). The
    /// rest was stored: the run still succeeds.
    pub skipped: u64,
    pub complete: bool,
    /// How this resource's phase ended (a run is `partial` when one failed and one did not).
    pub outcome: ResourceOutcome,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Items stored with U+FFFD in place of NUL characters PostgreSQL cannot hold (logged
    /// by id).
    pub sanitised: u64,
}

/// How one resource's phase of a run ended (`sync_history_resources.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceOutcome {
    /// Not tried: the run stopped before it (cancel, lost lock, rejected credentials).
    #[default]
    NotRun,
    Succeeded,
    Failed,
    Cancelled,
}

impl ResourceOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceOutcome::NotRun => "not_run",
            ResourceOutcome::Succeeded => "succeeded",
            ResourceOutcome::Failed => "failed",
            ResourceOutcome::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> ResourceOutcome {
        match s {
            "succeeded" => ResourceOutcome::Succeeded,
            "failed" => ResourceOutcome::Failed,
            "cancelled" => ResourceOutcome::Cancelled,
            _ => ResourceOutcome::NotRun,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Partial,
    Failed,
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncSummary {
    pub run_id: i64,
    pub scope: Scope,
    /// The mode actually used (never `Auto`).
    pub mode: Mode,
    pub outcome: Outcome,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub resources: Vec<ResourceSummary>,
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    pub breaker_trips: u64,
    pub error: Option<String>,
    /// The audit-log phase (after the inventory), when the run had one.
    pub audit_log: Option<AuditLogSummary>,
    /// What went wrong without failing the run (an audit log that could not be read): told
    /// in the summary, never in the outcome or the exit code.
    pub warnings: Vec<String>,
}

/// How a run's audit-log phase went: entries read from `since` on, how many were new.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditLogSummary {
    pub since: Option<DateTime<Utc>>,
    pub pages: u64,
    pub fetched: u64,
    /// New entries stored (the re-read overlap is not counted again).
    pub stored: u64,
    /// Items that could not be used (no id or time).
    pub skipped: u64,
    /// Why the phase stopped early, when it did.
    pub error: Option<String>,
}

/// Days left until `end`, as every screen and report shows them: calendar days between
/// today's date and the end date, both in UTC (so tomorrow is 1, today 0, yesterday -1,
/// whatever the hour). UTC, not the machine's zone: the same subscription shows the same
/// count on every host and in every report, and no DST shift moves it.
pub fn days_left(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (end.date_naive() - now.date_naive()).num_days()
}

#[cfg(test)]
mod days_tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::days_left;
    use chrono::{TimeZone, Utc};

    #[test]
    fn days_left_counts_calendar_days_in_utc() {
        let at = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).unwrap();
        let now = at(10, 23, 59);
        assert_eq!(
            days_left(at(11, 0, 1), now),
            1,
            "tomorrow, two minutes away"
        );
        assert_eq!(days_left(at(11, 23, 59), now), 1, "tomorrow, a day away");
        assert_eq!(days_left(at(10, 0, 1), now), 0, "today, already past");
        assert_eq!(days_left(at(10, 23, 59), now), 0, "today, now");
        assert_eq!(days_left(at(9, 23, 59), now), -1, "yesterday, a minute ago");
        assert_eq!(
            days_left(at(9, 0, 1), now),
            -1,
            "yesterday, two days ago by the hour"
        );
        assert_eq!(days_left(at(8, 23, 59), now), -2);
        let early = at(10, 0, 1);
        assert_eq!(days_left(at(10, 23, 59), early), 0);
        assert_eq!(days_left(at(11, 0, 0), early), 1);
        assert_eq!(days_left(at(9, 23, 59), early), -1);
    }
}

/// A GreenLake workspace id as stored and joined on: lower case with the dashes removed.
///
/// GLP spells one workspace two ways (glp-api.md §11): `inUseWorkspace.id` is dashless hex,
/// `tenantWorkspaceId` a dashed UUID. Every id is normalised once, here, so a join, a lock key
/// or a token URL never sees both spellings. The single-workspace configuration of earlier
/// versions has no id; its rows live under [`WorkspaceId::DEFAULT`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkspaceId(String);

impl WorkspaceId {
    /// The workspace of a configuration that names none (and of rows stored before workspaces
    /// existed, migration 0009).
    pub const DEFAULT: &'static str = "default";

    /// Normalise `raw` (trimmed, lower case, dashes dropped). `None` when nothing is left or a
    /// character other than ASCII letters, digits and `_` remains: such a string cannot be put
    /// into a token URL and is a typo, not an id.
    pub fn parse(raw: &str) -> Option<WorkspaceId> {
        let id: String = raw
            .trim()
            .chars()
            .filter(|c| *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        valid.then_some(WorkspaceId(id))
    }

    pub fn default_id() -> WorkspaceId {
        WorkspaceId(Self::DEFAULT.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The dashed 8-4-4-4-12 form for a 32-hex-digit id (what `tenantWorkspaceId` carries);
    /// other ids unchanged.
    pub fn dashed(&self) -> String {
        let s = &self.0;
        if s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit()) {
            format!(
                "{}-{}-{}-{}-{}",
                &s[..8],
                &s[8..12],
                &s[12..16],
                &s[16..20],
                &s[20..]
            )
        } else {
            s.clone()
        }
    }
}

impl std::fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a workspace is to us: an ordinary workspace, an MSP's own, or a tenant of an MSP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceKind {
    Standalone,
    Msp,
    Tenant,
}

impl WorkspaceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceKind::Standalone => "standalone",
            WorkspaceKind::Msp => "msp",
            WorkspaceKind::Tenant => "tenant",
        }
    }
    pub fn parse(s: &str) -> Option<WorkspaceKind> {
        match s {
            "standalone" => Some(WorkspaceKind::Standalone),
            "msp" => Some(WorkspaceKind::Msp),
            "tenant" => Some(WorkspaceKind::Tenant),
            _ => None,
        }
    }
}

#[cfg(test)]
mod workspace_id_tests {
    use super::WorkspaceId;

    #[test]
    fn both_spellings_of_one_workspace_are_one_id() {
        let dashless = WorkspaceId::parse("131846d43af111f08e4ebe50c5e8c005").unwrap();
        let dashed = WorkspaceId::parse(" 131846D4-3AF1-11F0-8E4E-BE50C5E8C005 ").unwrap();
        assert_eq!(dashless, dashed);
        assert_eq!(dashed.dashed(), "131846d4-3af1-11f0-8e4e-be50c5e8c005");
        assert!(WorkspaceId::parse("").is_none());
        assert!(WorkspaceId::parse("a/b").is_none());
        assert_eq!(WorkspaceId::parse("default").unwrap().dashed(), "default");
    }
}
