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
    Across, ChangeCount, ComplianceCounts, DeviceCheck, DeviceFinding, ExpiryFinding, RenewalMonth,
    SubscriptionCheck, SubscriptionFinding, TypeMismatch, Utilisation, UtilisationTotal,
};
use crate::store::reports::{AffectedDevice, ExpiringSubscription};

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Markdown,
    /// One sheet per section and a chart of expirations per month; needs `-o FILE`.
    Xlsx,
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
            Some("xlsx") => ReportFormat::Xlsx,
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
    /// The window of [`Report::changes`], in days.
    pub changes_days: u32,
    pub changes: Vec<ChangeCount>,
}

/// Read the report from the database (every workspace, each id once).
pub async fn collect(store: &Store, days: u32, changes_days: u32) -> Result<Report, Failure> {
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
        changes_days,
        changes: store.change_counts(changes_days, all).await?,
    })
}

/// The report as text in `format`.
pub fn render(report: &Report, format: ReportFormat) -> Result<String, Failure> {
    match format {
        ReportFormat::Json => serde_json::to_string_pretty(report)
            .map_err(|e| Failure::new(exit::CONFIG, format!("writing JSON failed: {e}"))),
        ReportFormat::Markdown => Ok(markdown(report)),
        ReportFormat::Xlsx => Err(Failure::new(
            exit::CONFIG,
            "xlsx is a file format: give -o FILE.xlsx",
        )),
    }
}

/// Collect, render and write to `output` (as `FILE.part`, renamed when complete) or stdout.
pub async fn run(
    store: &Store,
    days: u32,
    changes_days: u32,
    format: ReportFormat,
    output: Option<&Path>,
) -> Result<(), Failure> {
    if format == ReportFormat::Xlsx && output.is_none() {
        return Err(Failure::new(
            exit::CONFIG,
            "xlsx is a file format: give -o FILE.xlsx",
        ));
    }
    let report = collect(store, days, changes_days).await?;
    let Some(path) = output else {
        crate::out!("{}", render(&report, format)?);
        return Ok(());
    };
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = std::path::PathBuf::from(part);
    let fail = |e: String| {
        Failure::new(
            exit::CONFIG,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    let written = match format {
        ReportFormat::Xlsx => write_xlsx(&report, &part),
        _ => std::fs::write(&part, render(&report, format)?.as_bytes()).map_err(|e| e.to_string()),
    };
    if let Err(e) = written.and_then(|()| std::fs::rename(&part, path).map_err(|e| e.to_string())) {
        let _ = std::fs::remove_file(&part);
        return Err(fail(e));
    }
    Ok(())
}

/// `glp-console report`: open the database named by `cfg` and [`run`].
pub async fn command(
    cfg: &crate::config::Config,
    format: Option<&str>,
    output: Option<&Path>,
    (days, changes_days): (u32, u32),
) -> Result<(), Failure> {
    let format = ReportFormat::choose(format, output);
    let store = Store::open(&cfg.database.url, 2).await?;
    run(&store, days, changes_days, format, output).await
}

/// Rows shown per table in Markdown (the JSON and xlsx hold them all); a mail stays readable.
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

/// One table of the report, rendered as a Markdown section or an xlsx sheet.
pub struct Section {
    /// Markdown heading level (2 or 3).
    pub level: usize,
    pub title: String,
    /// Sheet name (at most 31 characters, none of `[]:*?/\`).
    pub sheet: &'static str,
    pub header: &'static [&'static str],
    /// Columns written as numbers in xlsx (serials and keys always stay text).
    pub numeric: &'static [usize],
    pub rows: Vec<Vec<String>>,
}

fn section(
    level: usize,
    title: impl Into<String>,
    sheet: &'static str,
    header: &'static [&'static str],
    numeric: &'static [usize],
    rows: Vec<Vec<String>>,
) -> Section {
    Section {
        level,
        title: title.into(),
        sheet,
        header,
        numeric,
        rows,
    }
}

/// Every table of the report, in reading order.
pub fn sections(r: &Report) -> Vec<Section> {
    let mut out = vec![counts_section(r)];
    out.extend(expiry_sections(r));
    out.extend(compliance_sections(r));
    out.extend(utilisation_sections(r));
    let changes = r
        .changes
        .iter()
        .map(|c| {
            vec![
                c.resource.clone(),
                c.field.clone(),
                c.changes.to_string(),
                c.items.to_string(),
            ]
        })
        .collect();
    out.push(section(
        2,
        format!("Changes in the last {} days", r.changes_days),
        "Changes",
        &["Resource", "Field", "Changes", "Items"],
        &[2, 3],
        changes,
    ));
    out
}

/// A Markdown table of `rows` (at most [`MD_ROWS`], then a line saying how many more).
fn table(out: &mut String, s: &Section) {
    let _ = writeln!(out, "{} {}\n", "#".repeat(s.level), s.title);
    if s.rows.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    let _ = writeln!(out, "| {} |", s.header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(s.header.len()));
    for r in s.rows.iter().take(MD_ROWS) {
        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    if s.rows.len() > MD_ROWS {
        let more = s.rows.len() - MD_ROWS;
        let _ = writeln!(out, "\n… and {more} more (see the JSON or xlsx report).");
    }
    out.push('\n');
}

/// The Markdown report: a pure function of the data (no clock in it), so two runs over
/// the same database give the same bytes.
pub fn markdown(r: &Report) -> String {
    let mut out = String::from("# GreenLake compliance report\n\n");
    for s in sections(r) {
        table(&mut out, &s);
    }
    out
}

fn counts_section(r: &Report) -> Section {
    let c = &r.counts;
    let soon = format!("Devices on a subscription ending within {} days", r.days);
    let rows = [
        ("Devices with no application", c.no_application),
        (
            "Assigned devices with no subscription",
            c.assigned_no_subscription,
        ),
        ("Archived devices", c.archived),
        ("Devices parked in the MSP pool", c.msp_pool),
        ("Devices on an expired subscription", c.expired_devices),
        (&soon, c.expiring_devices),
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
    .collect();
    section(
        2,
        "Compliance at a glance",
        "Summary",
        &["Check", "Count"],
        &[1],
        rows,
    )
}

fn expiry_sections(r: &Report) -> Vec<Section> {
    let subs = r
        .expiring_subscriptions
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
        .collect();
    let devices = r
        .affected_devices
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
        .collect();
    vec![
        section(
            2,
            format!("Expiring within {} days", r.days),
            "Expiring",
            &[
                "Key",
                "Type",
                "Tier",
                "Ends",
                "Seats",
                "Devices",
                "Workspace",
            ],
            &[4, 5],
            subs,
        ),
        section(
            3,
            "Affected devices",
            "Affected devices",
            &["Serial", "Type", "Model", "Subscription", "Ends"],
            &[],
            devices,
        ),
    ]
}

fn compliance_sections(r: &Report) -> Vec<Section> {
    let mut out = Vec::new();
    for s in &r.device_checks {
        let rows = s
            .devices
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
            .collect();
        let sheet = match s.check {
            DeviceCheck::NoApplication => "No application",
            DeviceCheck::AssignedNoSubscription => "No subscription",
            DeviceCheck::Archived => "Archived",
            DeviceCheck::MspPool => "MSP pool",
        };
        let header = &["Serial", "Type", "Model", "State", "Workspace"];
        out.push(section(2, s.title, sheet, header, &[], rows));
    }
    let rows = r
        .expired_or_expiring_devices
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
        .collect();
    out.push(section(
        2,
        "Devices on expired or expiring subscriptions",
        "On expiring subscriptions",
        &[
            "Serial",
            "Type",
            "Subscription",
            "Status",
            "Ends",
            "Expired",
        ],
        &[],
        rows,
    ));
    for s in &r.subscription_checks {
        let rows = s
            .subscriptions
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
            .collect();
        let sheet = match s.check {
            SubscriptionCheck::EndedWithDevices => "Ended with devices",
            SubscriptionCheck::Evaluation => "Evaluation",
        };
        let header = &["Key", "Type", "Tier", "Status", "Ends", "Seats", "Devices"];
        out.push(section(2, s.title, sheet, header, &[5, 6], rows));
    }
    let rows = r
        .type_mismatches
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
        .collect();
    out.push(section(
        2,
        "Device/subscription type mismatches",
        "Type mismatches",
        &[
            "Serial",
            "Device type",
            "Category",
            "Subscription",
            "Subscription type",
        ],
        &[],
        rows,
    ));
    out
}

fn utilisation_sections(r: &Report) -> Vec<Section> {
    let totals = r
        .utilisation_totals
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
        .collect();
    let per_sub = |u: &Utilisation| {
        vec![
            opt(&u.key),
            opt(&u.subscription_type),
            opt(&u.tier),
            opt(&u.quantity),
            opt(&u.available_quantity),
            u.linked_devices.to_string(),
            opt(&u.percent_used),
            u.idle.to_string(),
        ]
    };
    let over = r.utilisation.iter().filter(|u| u.over_use).map(per_sub);
    let header = &[
        "Key",
        "Type",
        "Tier",
        "Seats",
        "Available",
        "Devices",
        "Used %",
        "Idle",
    ];
    let renewals = r
        .renewals
        .iter()
        .map(|m| {
            vec![
                m.month.clone(),
                m.subscriptions.to_string(),
                opt(&m.seats),
                opt(&m.devices),
            ]
        })
        .collect();
    vec![
        section(
            2,
            "Seat utilisation by type and tier",
            "Utilisation totals",
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
            &[2, 3, 4, 5, 6, 7],
            totals,
        ),
        section(
            2,
            "Over-used subscriptions",
            "Over-used",
            header,
            &[3, 4, 5, 6, 7],
            over.collect(),
        ),
        section(
            2,
            "Seats per subscription",
            "Utilisation",
            header,
            &[3, 4, 5, 6, 7],
            r.utilisation.iter().map(per_sub).collect(),
        ),
        section(
            2,
            RENEWALS_TITLE,
            RENEWALS_SHEET,
            &["Month", "Subscriptions", "Seats", "Devices"],
            &[1, 2, 3],
            renewals,
        ),
    ]
}

const RENEWALS_TITLE: &str = "Renewals in the next 12 months";
const RENEWALS_SHEET: &str = "Renewals";

/// The xlsx report: one sheet per section, and a column chart of the subscriptions ending
/// per month next to the renewals.
pub fn write_xlsx(r: &Report, path: &Path) -> Result<(), String> {
    use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for s in sections(r) {
        let ws = book.add_worksheet_with_constant_memory().map_err(e)?;
        ws.set_name(s.sheet).map_err(e)?;
        for (c, h) in s.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)
                .map_err(e)?;
        }
        for (i, row) in s.rows.iter().enumerate() {
            let at = u32::try_from(i + 1).map_err(|_| "too many rows for a sheet".to_string())?;
            for (c, v) in row.iter().enumerate() {
                let number = s
                    .numeric
                    .contains(&c)
                    .then(|| v.parse::<f64>().ok())
                    .flatten();
                match number {
                    Some(n) => ws.write_number(at, c as u16, n).map_err(e)?,
                    None if v.is_empty() => ws,
                    None => ws.write_string(at, c as u16, v).map_err(e)?,
                };
            }
        }
        if s.sheet == RENEWALS_SHEET && !s.rows.is_empty() {
            let last = s.rows.len() as u32;
            let mut chart = Chart::new(ChartType::Column);
            chart.title().set_name("Subscriptions ending per month");
            chart
                .add_series()
                .set_name("Subscriptions")
                .set_categories((RENEWALS_SHEET, 1, 0, last, 0))
                .set_values((RENEWALS_SHEET, 1, 1, last, 1));
            ws.insert_chart(1, 5, &chart).map_err(e)?;
        }
        ws.set_column_width(0, 24).map_err(e)?;
    }
    book.save(path).map_err(e)
}
