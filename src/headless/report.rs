//! `glp-console report`: one document for people who never open a terminal (a cron job mails
//! it): what expires and the devices it takes down, the compliance checks, seat utilisation
//! and the renewals of the next twelve months, across all stored workspaces.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Failure;
use crate::cli::exit;
use crate::store::Store;
use crate::store::compliance::{
    Across, ComplianceCounts, DeviceCheck, DeviceFinding, ExpiryFinding, RenewalMonth,
    SubscriptionCheck, SubscriptionFinding, TypeMismatch, Utilisation, UtilisationTotal,
};
use crate::store::reports::{AffectedDevice, ExpiringSubscription};

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Markdown,
}

impl ReportFormat {
    /// `--format`, else the extension of `-o`, else Markdown.
    pub fn choose(format: Option<&str>, output: Option<&Path>) -> ReportFormat {
        let ext = output
            .and_then(Path::extension)
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match format.or(ext.as_deref()) {
            Some("json") => ReportFormat::Json,
            _ => ReportFormat::Markdown,
        }
    }
}

/// Rows of one device check.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceSection {
    pub check: DeviceCheck,
    pub title: &'static str,
    pub devices: Vec<DeviceFinding>,
}

/// Rows of one subscription check.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionSection {
    pub check: SubscriptionCheck,
    pub title: &'static str,
    pub subscriptions: Vec<SubscriptionFinding>,
}

/// Everything the report holds (the JSON format is this, serialised).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated_at: DateTime<Utc>,
    pub days: u32,
    pub counts: ComplianceCounts,
    pub expiring_subscriptions: Vec<ExpiringSubscription>,
    pub affected_devices: Vec<AffectedDevice>,
    pub device_checks: Vec<DeviceSection>,
    pub expired_or_expiring_devices: Vec<ExpiryFinding>,
    pub subscription_checks: Vec<SubscriptionSection>,
    pub type_mismatches: Vec<TypeMismatch>,
    pub utilisation: Vec<Utilisation>,
    pub utilisation_totals: Vec<UtilisationTotal>,
    pub renewals: Vec<RenewalMonth>,
}

/// Read the report from the database (every workspace, each id once).
pub async fn collect(store: &Store, days: u32) -> Result<Report, Failure> {
    let all = Across::AllWorkspaces;
    let mut device_checks = Vec::new();
    for check in DeviceCheck::ALL {
        device_checks.push(DeviceSection {
            check,
            title: check.title(),
            devices: store.compliance_devices(check, all).await?,
        });
    }
    let mut subscription_checks = Vec::new();
    for check in SubscriptionCheck::ALL {
        subscription_checks.push(SubscriptionSection {
            check,
            title: check.title(),
            subscriptions: store.compliance_subscriptions(check, all).await?,
        });
    }
    Ok(Report {
        generated_at: Utc::now(),
        days,
        counts: store.compliance_counts(days, all).await?,
        expiring_subscriptions: store.expiring_subscriptions(days, None).await?,
        affected_devices: store.devices_on_expiring(days, None).await?,
        device_checks,
        expired_or_expiring_devices: store.compliance_expiring(days, all).await?,
        subscription_checks,
        type_mismatches: store.type_mismatches(all).await?,
        utilisation: store.utilisation(all).await?,
        utilisation_totals: store.utilisation_totals(all).await?,
        renewals: store.renewals(all).await?,
    })
}

/// The report as text in `format`.
pub fn render(report: &Report, format: ReportFormat) -> Result<String, Failure> {
    match format {
        ReportFormat::Json => serde_json::to_string_pretty(report)
            .map_err(|e| Failure::new(exit::CONFIG, format!("writing JSON failed: {e}"))),
        ReportFormat::Markdown => Ok(markdown(report)),
    }
}

/// Collect, render and write to `output` (as `FILE.part`, renamed when complete) or stdout.
pub async fn run(
    store: &Store,
    days: u32,
    format: ReportFormat,
    output: Option<&Path>,
) -> Result<(), Failure> {
    let report = collect(store, days).await?;
    let text = render(&report, format)?;
    match output {
        None => crate::out!("{text}"),
        Some(path) => {
            let mut part = path.as_os_str().to_owned();
            part.push(".part");
            let fail = |e: std::io::Error| {
                Failure::new(
                    exit::CONFIG,
                    format!("cannot write {}: {e}", path.display()),
                )
            };
            std::fs::write(&part, text.as_bytes()).map_err(fail)?;
            std::fs::rename(&part, path).map_err(|e| {
                let _ = std::fs::remove_file(&part);
                fail(e)
            })?;
        }
    }
    Ok(())
}

/// `glp-console report`: open the database named by `cfg` and [`run`].
pub async fn command(
    cfg: &crate::config::Config,
    format: Option<&str>,
    output: Option<&Path>,
    days: u32,
) -> Result<(), Failure> {
    let format = ReportFormat::choose(format, output);
    let store = Store::open(&cfg.database.url, 2).await?;
    run(&store, days, format, output).await
}

/// Rows shown per table in Markdown (the JSON holds them all); a mail stays readable.
const MD_ROWS: usize = 100;

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn date(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A cell: pipes escaped, newlines flattened, so a hostile name cannot break the table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A Markdown table of `rows` (at most [`MD_ROWS`], then a line saying how many more).
fn table(out: &mut String, header: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    let total = rows.len();
    for r in rows.into_iter().take(MD_ROWS) {
        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    if total > MD_ROWS {
        let _ = writeln!(
            out,
            "\n… and {} more (see the JSON report).",
            total - MD_ROWS
        );
    }
    out.push('\n');
}

/// The Markdown report: a pure function of the data (no clock in it), so two runs over
/// the same database give the same bytes.
pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# GreenLake compliance report\n");
    counts_md(&mut out, r);
    let _ = writeln!(out, "## Expiring within {} days\n", r.days);
    table(
        &mut out,
        &[
            "Key",
            "Type",
            "Tier",
            "Ends",
            "Seats",
            "Devices",
            "Workspace",
        ],
        r.expiring_subscriptions
            .iter()
            .map(|s| {
                vec![
                    opt(&s.key),
                    opt(&s.subscription_type),
                    opt(&s.tier),
                    date(&s.end_time),
                    opt(&s.quantity),
                    opt(&s.devices),
                    s.workspace
                        .clone()
                        .unwrap_or_else(|| s.workspace_id.clone()),
                ]
            })
            .collect(),
    );
    let _ = writeln!(out, "### Affected devices\n");
    table(
        &mut out,
        &["Serial", "Type", "Model", "Subscription", "Ends"],
        r.affected_devices
            .iter()
            .map(|d| {
                vec![
                    d.serial_number.clone(),
                    opt(&d.device_type),
                    opt(&d.model),
                    opt(&d.subscription_key),
                    date(&d.end_time),
                ]
            })
            .collect(),
    );
    compliance_md(&mut out, r);
    utilisation_md(&mut out, r);
    out
}

fn counts_md(out: &mut String, r: &Report) {
    let c = &r.counts;
    let _ = writeln!(out, "## Compliance at a glance\n");
    table(
        out,
        &["Check", "Count"],
        [
            ("Devices with no application", c.no_application),
            (
                "Assigned devices with no subscription",
                c.assigned_no_subscription,
            ),
            ("Archived devices", c.archived),
            ("Devices parked in the MSP pool", c.msp_pool),
            ("Devices on an expired subscription", c.expired_devices),
            (
                &*format!("Devices on a subscription ending within {} days", r.days),
                c.expiring_devices,
            ),
            (
                "Ended or suspended subscriptions with devices",
                c.ended_with_devices,
            ),
            ("Evaluation subscriptions", c.evaluation),
            ("Device/subscription type mismatches", c.type_mismatches),
            ("Over-used subscriptions", c.over_used),
        ]
        .iter()
        .map(|(k, v)| vec![(*k).to_string(), v.to_string()])
        .collect(),
    );
}

fn compliance_md(out: &mut String, r: &Report) {
    for s in &r.device_checks {
        let _ = writeln!(out, "## {}\n", s.title);
        table(
            out,
            &["Serial", "Type", "Model", "State", "Workspace"],
            s.devices
                .iter()
                .map(|d| {
                    vec![
                        d.serial_number.clone(),
                        opt(&d.device_type),
                        opt(&d.model),
                        opt(&d.assigned_state),
                        d.workspace_id.clone(),
                    ]
                })
                .collect(),
        );
    }
    let _ = writeln!(out, "## Devices on expired or expiring subscriptions\n");
    table(
        out,
        &[
            "Serial",
            "Type",
            "Subscription",
            "Status",
            "Ends",
            "Expired",
        ],
        r.expired_or_expiring_devices
            .iter()
            .map(|d| {
                vec![
                    d.serial_number.clone(),
                    opt(&d.device_type),
                    opt(&d.subscription_key),
                    opt(&d.subscription_status),
                    date(&d.end_time),
                    if d.expired { "yes" } else { "no" }.to_string(),
                ]
            })
            .collect(),
    );
    for s in &r.subscription_checks {
        let _ = writeln!(out, "## {}\n", s.title);
        table(
            out,
            &["Key", "Type", "Tier", "Status", "Ends", "Seats", "Devices"],
            s.subscriptions
                .iter()
                .map(|x| {
                    vec![
                        opt(&x.key),
                        opt(&x.subscription_type),
                        opt(&x.tier),
                        opt(&x.subscription_status),
                        date(&x.end_time),
                        opt(&x.quantity),
                        x.devices.to_string(),
                    ]
                })
                .collect(),
        );
    }
    let _ = writeln!(out, "## Device/subscription type mismatches\n");
    table(
        out,
        &[
            "Serial",
            "Device type",
            "Category",
            "Subscription",
            "Subscription type",
        ],
        r.type_mismatches
            .iter()
            .map(|m| {
                vec![
                    m.serial_number.clone(),
                    opt(&m.device_type),
                    opt(&m.device_category),
                    opt(&m.subscription_key),
                    opt(&m.subscription_type),
                ]
            })
            .collect(),
    );
}

fn utilisation_md(out: &mut String, r: &Report) {
    let _ = writeln!(out, "## Seat utilisation by type and tier\n");
    table(
        out,
        &[
            "Type",
            "Tier",
            "Subscriptions",
            "Seats",
            "Used",
            "Available",
            "Devices",
            "Over-used",
        ],
        r.utilisation_totals
            .iter()
            .map(|t| {
                vec![
                    opt(&t.subscription_type),
                    opt(&t.tier),
                    t.subscriptions.to_string(),
                    opt(&t.quantity),
                    opt(&t.used),
                    opt(&t.available),
                    opt(&t.linked_devices),
                    t.over_used.to_string(),
                ]
            })
            .collect(),
    );
    let _ = writeln!(out, "## Over-used subscriptions\n");
    table(
        out,
        &["Key", "Type", "Seats", "Available", "Devices", "Used %"],
        r.utilisation
            .iter()
            .filter(|u| u.over_use)
            .map(|u| {
                vec![
                    opt(&u.key),
                    opt(&u.subscription_type),
                    opt(&u.quantity),
                    opt(&u.available_quantity),
                    u.linked_devices.to_string(),
                    opt(&u.percent_used),
                ]
            })
            .collect(),
    );
    let _ = writeln!(out, "## Renewals in the next 12 months\n");
    table(
        out,
        &["Month", "Subscriptions", "Seats", "Devices"],
        r.renewals
            .iter()
            .map(|m| {
                vec![
                    m.month.clone(),
                    m.subscriptions.to_string(),
                    opt(&m.seats),
                    opt(&m.devices),
                ]
            })
            .collect(),
    );
}
