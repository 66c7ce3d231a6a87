//! `--expiring-days` and `status`: read the database, print a report (exports: [`super::export`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Failure;
use crate::cli::exit;
use crate::store::Store;
use crate::store::history::RunRecord;

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

fn date(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn csv_err(e: impl std::fmt::Display) -> Failure {
    Failure::new(exit::CONFIG, format!("writing CSV failed: {e}"))
}

/// Report of what expires within `days`, from the database: across workspaces (each
/// subscription once, the consolidated rule), or those of the workspace ids in `only`. The
/// text gains a workspace column when several workspaces are stored; CSV and JSON always
/// carry the workspace.
pub async fn expiring(
    store: &Store,
    days: u32,
    only: Option<&[String]>,
    format: Format,
) -> Result<String, Failure> {
    let subs = store.expiring_subscriptions(days, only).await?;
    let devices = store.devices_on_expiring(days, only).await?;
    let several = store.workspaces().await?.len() > 1;
    render_expiring(days, &subs, &devices, format, several)
}

/// The same report with the subscriptions asked from the API (`--live`): GLP's own filter
/// (`subscriptionStatus eq 'STARTED' and endTime …`). Covered devices come from the database
/// when it answers (the device API cannot filter by subscription); otherwise they are left
/// out and a note says so.
pub async fn expiring_live(
    client: &crate::glp::client::Client,
    store: Option<&Store>,
    days: u32,
    format: Format,
) -> Result<(String, Option<String>), Failure> {
    use futures_util::StreamExt;
    let now = Utc::now();
    let end = now + chrono::Duration::days(i64::from(days));
    let f = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let filter = format!(
        "subscriptionStatus eq 'STARTED' and endTime gt '{}' and endTime lt '{}'",
        f(now),
        f(end)
    );
    let mut pages = Box::pin(client.subscriptions(Some(filter)));
    let mut subs = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let code = match e.kind() {
                crate::glp::error::ErrorKind::Auth | crate::glp::error::ErrorKind::Config => {
                    exit::CONFIG
                }
                _ => exit::API,
            };
            Failure::new(code, e.to_string())
        })?;
        for item in page.items {
            let d = item.data;
            subs.push(crate::store::reports::ExpiringSubscription {
                days_left: d.end_time.map(|t| crate::domain::days_left(t, now) as i32),
                id: d.id,
                key: d.key,
                subscription_type: d.subscription_type,
                tier: d.tier,
                subscription_status: d.subscription_status,
                quantity: d.quantity,
                available_quantity: d.available_quantity,
                end_time: d.end_time,
                devices: None,
                workspace_id: store.map_or_else(
                    || crate::domain::WorkspaceId::DEFAULT.to_string(),
                    |s| s.workspace().as_str().to_string(),
                ),
                workspace: None,
            });
        }
    }
    subs.sort_by(|a, b| a.end_time.cmp(&b.end_time).then(a.key.cmp(&b.key)));
    let (devices, note) = match store {
        Some(store) => {
            let ids: Vec<String> = subs.iter().map(|s| s.id.clone()).collect();
            let devices = store.devices_for_subscriptions(&ids).await?;
            for s in &mut subs {
                s.devices =
                    Some(devices.iter().filter(|d| d.subscription_id == s.id).count() as i64);
            }
            (devices, None)
        }
        None => (
            Vec::new(),
            Some("the database did not answer: covered devices are not listed".to_string()),
        ),
    };
    Ok((render_expiring(days, &subs, &devices, format, false)?, note))
}

fn render_expiring(
    days: u32,
    subs: &[crate::store::reports::ExpiringSubscription],
    devices: &[crate::store::reports::AffectedDevice],
    format: Format,
    several: bool,
) -> Result<String, Failure> {
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                days: u32,
                subscriptions: &'a [crate::store::reports::ExpiringSubscription],
                devices: &'a [crate::store::reports::AffectedDevice],
            }
            serde_json::to_string_pretty(&Out {
                days,
                subscriptions: subs,
                devices,
            })
            .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))
        }
        Format::Csv => {
            // One row per (subscription, device); subscriptions covering nothing get one row.
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "subscription_key",
                "subscription_type",
                "tier",
                "end_date",
                "days_left",
                "quantity",
                "available",
                "device_serial",
                "device_mac",
                "device_type",
                "model",
                "region",
                "workspace",
            ])
            .map_err(csv_err)?;
            for s in subs {
                let covered: Vec<_> = devices
                    .iter()
                    .filter(|d| d.subscription_id == s.id)
                    .collect();
                let workspace = s
                    .workspace
                    .clone()
                    .unwrap_or_else(|| s.workspace_id.clone());
                let base = [
                    s.key.clone().unwrap_or_default(),
                    s.subscription_type.clone().unwrap_or_default(),
                    s.tier.clone().unwrap_or_default(),
                    date(&s.end_time),
                    s.days_left.map(|d| d.to_string()).unwrap_or_default(),
                    s.quantity.map(|d| d.to_string()).unwrap_or_default(),
                    s.available_quantity
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ];
                if covered.is_empty() {
                    let mut rec = base.to_vec();
                    rec.extend(std::iter::repeat_n(String::new(), 5));
                    rec.push(workspace.clone());
                    w.write_record(rec).map_err(csv_err)?;
                }
                for d in covered {
                    let mut rec = base.to_vec();
                    rec.extend([
                        d.serial_number.clone(),
                        d.mac_address.clone().unwrap_or_default(),
                        d.device_type.clone().unwrap_or_default(),
                        d.model.clone().unwrap_or_default(),
                        d.region.clone().unwrap_or_default(),
                        workspace.clone(),
                    ]);
                    w.write_record(rec).map_err(csv_err)?;
                }
            }
            let bytes = w.into_inner().map_err(csv_err)?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        Format::Text => Ok(expiring_text(days, subs, devices, several)),
    }
}

/// The `--expiring-days` table for a person: a workspace column and a per-workspace summary
/// when several workspaces are stored, else the table of earlier versions.
fn expiring_text(
    days: u32,
    subs: &[crate::store::reports::ExpiringSubscription],
    devices: &[crate::store::reports::AffectedDevice],
    several: bool,
) -> String {
    let mut out = String::new();
    if subs.is_empty() {
        out.push_str(&format!(
            "Nothing expires within {days} days (subscriptions that are STARTED).\n"
        ));
        return out;
    }
    let ws_name = |s: &crate::store::reports::ExpiringSubscription| {
        s.workspace
            .clone()
            .unwrap_or_else(|| s.workspace_id.clone())
    };
    let ws_w = if several {
        subs.iter()
            .map(|s| ws_name(s).chars().count())
            .max()
            .unwrap_or(0)
            .max("WORKSPACE".len())
            + 1
    } else {
        0
    };
    let ws_cell = |v: &str| {
        if several {
            format!("{v:<ws_w$}")
        } else {
            String::new()
        }
    };
    out.push_str(&format!(
        "{}{:<22} {:<24} {:<24} {:>10} {:>5} {:>8}\n",
        ws_cell("WORKSPACE"),
        "KEY",
        "TYPE",
        "TIER",
        "ENDS",
        "DAYS",
        "DEVICES"
    ));
    let mut per_type = std::collections::BTreeMap::<String, (u64, i64)>::new();
    let mut per_ws = std::collections::BTreeMap::<String, (u64, i64)>::new();
    for s in subs {
        let ty = s.subscription_type.clone().unwrap_or_else(|| "-".into());
        let e = per_type.entry(ty.clone()).or_default();
        e.0 += 1;
        e.1 += s.devices.unwrap_or(0);
        let e = per_ws.entry(ws_name(s)).or_default();
        e.0 += 1;
        e.1 += s.devices.unwrap_or(0);
        out.push_str(&format!(
            "{}{:<22} {:<24} {:<24} {:>10} {:>5} {:>8}\n",
            ws_cell(&ws_name(s)),
            s.key.as_deref().unwrap_or("-"),
            ty,
            s.tier.as_deref().unwrap_or("-"),
            date(&s.end_time),
            s.days_left.unwrap_or(0),
            s.devices.unwrap_or(0)
        ));
    }
    out.push_str(&format!(
        "\n{} subscription(s) expire within {days} days, covering {} device(s):\n",
        subs.len(),
        devices.len()
    ));
    for (ty, (n, d)) in per_type {
        out.push_str(&format!(
            "  {ty:<24} {n:>5} subscription(s) {d:>7} device(s)\n"
        ));
    }
    if several {
        out.push_str("per workspace:\n");
        for (ws, (n, d)) in per_ws {
            out.push_str(&format!(
                "  {ws:<24} {n:>5} subscription(s) {d:>7} device(s)\n"
            ));
        }
    }
    out
}

/// How one workspace's syncing stands, by the rules of `status`.
pub struct Health {
    pub last_good: Option<DateTime<Utc>>,
    pub age: Option<chrono::Duration>,
    /// No good sync, or the last one is older than `stale_after`.
    pub stale: bool,
    pub last_completed: Option<RunRecord>,
    /// The newest completed run did not succeed.
    pub failing: bool,
}

impl Health {
    pub fn ok(&self) -> bool {
        !self.stale && !self.failing
    }
}

/// The health of the store's workspace: its last good sync and its last completed run (a
/// cancelled, abandoned or running run says nothing about whether syncing works).
pub async fn health(store: &Store, stale_after: std::time::Duration) -> Result<Health, Failure> {
    let last_good = store.last_success().await?;
    let age = last_good.map(|t| Utc::now() - t);
    let stale = age.is_none_or(|a| a.to_std().unwrap_or_default() > stale_after);
    let last_completed = store.last_completed_run().await?;
    let failing = last_completed
        .as_ref()
        .is_some_and(|r| r.outcome != "succeeded");
    Ok(Health {
        last_good,
        age,
        stale,
        last_completed,
        failing,
    })
}

/// `glp-console status` of one workspace: the last runs; fails (exit 7) when the last completed
/// run (succeeded, partial or failed) did not succeed or the last good sync is older than
/// `stale_after`. A cancelled, abandoned or running run is listed but does not alert: a
/// user's cancel after a good sync says nothing about whether syncing works.
pub async fn status(
    store: &Store,
    stale_after: std::time::Duration,
    json: bool,
) -> Result<(String, i32), Failure> {
    let runs = store.recent_runs(10).await?;
    let Health {
        last_good,
        age,
        stale,
        last_completed,
        failing,
    } = health(store, stale_after).await?;
    let code = if stale || failing {
        exit::STALE
    } else {
        exit::OK
    };
    if json {
        let v = serde_json::json!({
            "ok": code == exit::OK,
            "last_success": last_good,
            "last_success_age_seconds": age.map(|a| a.num_seconds()),
            "stale_after_seconds": stale_after.as_secs(),
            "last_completed": last_completed.as_ref().map(run_brief),
            "runs": runs.iter().map(|r| serde_json::json!({
                "id": r.id, "trigger": r.trigger, "mode": r.mode, "scope": r.scope,
                "started_at": r.started_at, "finished_at": r.finished_at, "outcome": r.outcome,
                "error": r.error, "requests": r.requests, "retries": r.retries,
                "throttled": r.throttled, "breaker_trips": r.breaker_trips, "duration_ms": r.duration_ms,
                "host": r.host,
            })).collect::<Vec<_>>(),
        });
        return Ok((serde_json::to_string_pretty(&v).unwrap_or_default(), code));
    }
    let mut out = String::new();
    match (last_good, age) {
        (Some(t), Some(a)) => out.push_str(&format!(
            "last good sync: {} ({} ago){}\n",
            t.format("%Y-%m-%d %H:%M:%S UTC"),
            human_age(a.num_seconds()),
            if stale { " — STALE" } else { "" }
        )),
        _ => out.push_str("last good sync: never — run `glp-console --sync-only`\n"),
    }
    out.push_str(&runs_table(&runs));
    Ok((out, code))
}

/// The last completed run as `status --json` gives it.
pub fn run_brief(r: &RunRecord) -> serde_json::Value {
    serde_json::json!({
        "id": r.id, "outcome": r.outcome, "started_at": r.started_at, "error": r.error,
    })
}

/// The runs as `status` lists them: a header line, then one line per run (also the
/// console's `:history`, so both show the same).
pub fn runs_table(runs: &[RunRecord]) -> String {
    let mut out = format!(
        "{:>6}  {:<19}  {:<7} {:<11} {:<13} {:<10} {:>8} {:>8} {:>7} {:>5}  {}\n",
        "RUN",
        "STARTED (UTC)",
        "TRIGGER",
        "MODE",
        "SCOPE",
        "OUTCOME",
        "SECONDS",
        "REQUESTS",
        "RETRIES",
        "429S",
        "ERROR"
    );
    for r in runs {
        out.push_str(&format!(
            "{:>6}  {:<19}  {:<7} {:<11} {:<13} {:<10} {:>8} {:>8} {:>7} {:>5}  {}\n",
            r.id,
            r.started_at.format("%Y-%m-%d %H:%M:%S"),
            r.trigger,
            r.mode,
            r.scope,
            r.outcome,
            r.duration_ms
                .map(|ms| format!("{:.1}", ms as f64 / 1000.0))
                .unwrap_or_else(|| "-".into()),
            r.requests,
            r.retries,
            r.throttled,
            r.error.as_deref().unwrap_or("")
        ));
    }
    out
}

/// "3h 12m", "45s", "2d 4h".
pub fn human_age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}
