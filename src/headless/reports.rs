//! `--expiring-days`, `export` and `status`: read the database, print or write a file.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Failure;
use crate::cli::exit;
use crate::store::Store;
use crate::store::reports::{DeviceExportRow, RawTable, SubscriptionExportRow};

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, Failure> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            "text" => Ok(Format::Text),
            other => Err(Failure::new(
                exit::CONFIG,
                format!("--format {other}: must be json, csv or xlsx"),
            )),
        }
    }
}

fn date(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn csv_err(e: impl std::fmt::Display) -> Failure {
    Failure::new(exit::CONFIG, format!("writing CSV failed: {e}"))
}

/// Report of what expires within `days`, from the database.
pub async fn expiring(store: &Store, days: u32, format: Format) -> Result<String, Failure> {
    let subs = store.expiring_subscriptions(days).await?;
    let devices = store.devices_on_expiring(days).await?;
    render_expiring(days, &subs, &devices, format)
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
                days_left: d
                    .end_time
                    .map(|t| ((t - now).num_seconds() / 86_400) as i32),
                id: d.id,
                key: d.key,
                subscription_type: d.subscription_type,
                tier: d.tier,
                subscription_status: d.subscription_status,
                quantity: d.quantity,
                available_quantity: d.available_quantity,
                end_time: d.end_time,
                devices: None,
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
    Ok((render_expiring(days, &subs, &devices, format)?, note))
}

fn render_expiring(
    days: u32,
    subs: &[crate::store::reports::ExpiringSubscription],
    devices: &[crate::store::reports::AffectedDevice],
    format: Format,
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
        Format::Csv | Format::Xlsx => {
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
            ])
            .map_err(csv_err)?;
            for s in subs {
                let covered: Vec<_> = devices
                    .iter()
                    .filter(|d| d.subscription_id == s.id)
                    .collect();
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
                    ]);
                    w.write_record(rec).map_err(csv_err)?;
                }
            }
            let bytes = w.into_inner().map_err(csv_err)?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        Format::Text => {
            let mut out = String::new();
            if subs.is_empty() {
                out.push_str(&format!(
                    "Nothing expires within {days} days (subscriptions that are STARTED).\n"
                ));
                return Ok(out);
            }
            out.push_str(&format!(
                "{:<22} {:<24} {:<24} {:>10} {:>5} {:>8}\n",
                "KEY", "TYPE", "TIER", "ENDS", "DAYS", "DEVICES"
            ));
            let mut per_type = std::collections::BTreeMap::<String, (u64, i64)>::new();
            for s in subs {
                let ty = s.subscription_type.clone().unwrap_or_else(|| "-".into());
                let e = per_type.entry(ty.clone()).or_default();
                e.0 += 1;
                e.1 += s.devices.unwrap_or(0);
                out.push_str(&format!(
                    "{:<22} {:<24} {:<24} {:>10} {:>5} {:>8}\n",
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
            Ok(out)
        }
    }
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportWhat {
    Devices,
    Subscriptions,
}

/// Write an export to `out` (or stdout for json/csv when `None`). Returns a one-line summary
/// for stderr.
pub async fn export(
    store: &Store,
    what: ExportWhat,
    format: Format,
    out: Option<&Path>,
) -> Result<String, Failure> {
    let bytes: Vec<u8> = match (what, format) {
        (_, Format::Json) => {
            let table = match what {
                ExportWhat::Devices => RawTable::Devices,
                ExportWhat::Subscriptions => RawTable::Subscriptions,
            };
            let items = store.raw_items(table).await?;
            serde_json::to_vec_pretty(&items)
                .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?
        }
        (ExportWhat::Devices, Format::Csv | Format::Text) => {
            to_csv(&store.export_devices().await?)?
        }
        (ExportWhat::Subscriptions, Format::Csv | Format::Text) => {
            to_csv(&store.export_subscriptions().await?)?
        }
        (ExportWhat::Devices, Format::Xlsx) => {
            let rows = store.export_devices().await?;
            xlsx_devices(&rows)?
        }
        (ExportWhat::Subscriptions, Format::Xlsx) => {
            let rows = store.export_subscriptions().await?;
            xlsx_subscriptions(&rows)?
        }
    };
    match out {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| {
                Failure::new(
                    exit::CONFIG,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
            Ok(format!("wrote {} ({} bytes)", path.display(), bytes.len()))
        }
        None if format == Format::Xlsx => Err(Failure::new(
            exit::CONFIG,
            "--format xlsx needs -o FILE (a spreadsheet cannot go to the terminal)",
        )),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&bytes)
                .and_then(|_| stdout.flush())
                .map_err(|e| Failure::new(exit::CONFIG, format!("writing to stdout: {e}")))?;
            Ok(String::new())
        }
    }
}

fn to_csv<T: Serialize>(rows: &[T]) -> Result<Vec<u8>, Failure> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(csv_err)?;
    }
    w.into_inner().map_err(csv_err)
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> Failure {
    Failure::new(exit::CONFIG, format!("writing the spreadsheet failed: {e}"))
}

fn xlsx_devices(rows: &[DeviceExportRow]) -> Result<Vec<u8>, Failure> {
    let headers = [
        "Serial Number",
        "MAC Address",
        "Part Number",
        "Type",
        "Model",
        "Name",
        "Region",
        "Application",
        "Assigned State",
        "Archived",
        "Subscriptions",
        "Subscription End",
        "Tags",
        "Location",
        "Updated",
        "Removed",
        "Id",
    ];
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("Devices").map_err(xlsx_err)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        sheet
            .write_with_format(0, c as u16, *h, &bold)
            .map_err(xlsx_err)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let cells = [
            r.serial_number.clone(),
            r.mac_address.clone().unwrap_or_default(),
            r.part_number.clone().unwrap_or_default(),
            r.device_type.clone().unwrap_or_default(),
            r.model.clone().unwrap_or_default(),
            r.device_name.clone().unwrap_or_default(),
            r.region.clone().unwrap_or_default(),
            r.application_id.clone().unwrap_or_default(),
            r.assigned_state.clone().unwrap_or_default(),
            if r.archived {
                "yes".into()
            } else {
                "no".into()
            },
            r.subscription_keys.clone().unwrap_or_default(),
            date(&r.subscription_end),
            r.tags.clone().unwrap_or_default(),
            r.location_name.clone().unwrap_or_default(),
            date(&r.updated_at),
            date(&r.removed_at),
            r.id.clone(),
        ];
        for (c, v) in cells.iter().enumerate() {
            // Strings, always: a serial like 0012 must not become the number 12.
            sheet.write_string(row, c as u16, v).map_err(xlsx_err)?;
        }
    }
    sheet
        .autofilter(0, 0, rows.len() as u32, headers.len() as u16 - 1)
        .map_err(xlsx_err)?;
    sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    sheet.autofit();
    book.save_to_buffer().map_err(xlsx_err)
}

fn xlsx_subscriptions(rows: &[SubscriptionExportRow]) -> Result<Vec<u8>, Failure> {
    let headers = [
        "Key",
        "Type",
        "Tier",
        "Status",
        "Quantity",
        "Available",
        "SKU",
        "Description",
        "Start",
        "End",
        "Product Type",
        "Evaluation",
        "Tags",
        "Devices",
        "Removed",
        "Id",
    ];
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book
        .add_worksheet()
        .set_name("Subscriptions")
        .map_err(xlsx_err)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        sheet
            .write_with_format(0, c as u16, *h, &bold)
            .map_err(xlsx_err)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let texts = [
            (0, s(&r.key)),
            (1, s(&r.subscription_type)),
            (2, s(&r.tier)),
            (3, s(&r.subscription_status)),
            (6, s(&r.sku)),
            (7, s(&r.sku_description)),
            (8, date(&r.start_time)),
            (9, date(&r.end_time)),
            (10, s(&r.product_type)),
            (
                11,
                r.is_eval
                    .map(|b| if b { "yes" } else { "no" }.to_string())
                    .unwrap_or_default(),
            ),
            (12, s(&r.tags)),
            (14, date(&r.removed_at)),
            (15, r.id.clone()),
        ];
        for (c, v) in texts {
            sheet.write_string(row, c, v).map_err(xlsx_err)?;
        }
        for (c, v) in [
            (4u16, r.quantity),
            (5, r.available_quantity),
            (13, Some(r.devices)),
        ] {
            if let Some(v) = v {
                sheet.write_number(row, c, v as f64).map_err(xlsx_err)?;
            }
        }
    }
    sheet
        .autofilter(0, 0, rows.len() as u32, headers.len() as u16 - 1)
        .map_err(xlsx_err)?;
    sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    sheet.autofit();
    book.save_to_buffer().map_err(xlsx_err)
}

/// `glp-console status`: the last runs; fails (exit 7) when the last completed run
/// (succeeded, partial or failed) did not succeed or the last good sync is older than
/// `stale_after`. A cancelled, abandoned or running run is listed but does not alert: a
/// user's cancel after a good sync says nothing about whether syncing works.
pub async fn status(
    store: &Store,
    stale_after: std::time::Duration,
    json: bool,
) -> Result<(String, i32), Failure> {
    let runs = store.recent_runs(10).await?;
    let last_good = store.last_success().await?;
    let now = Utc::now();
    let age = last_good.map(|t| now - t);
    let stale = age.is_none_or(|a| a.to_std().unwrap_or_default() > stale_after);
    let last_completed = store.last_completed_run().await?;
    let newest_failed = last_completed
        .as_ref()
        .is_some_and(|r| r.outcome != "succeeded");
    let code = if stale || newest_failed {
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
            "last_completed": last_completed.as_ref().map(|r| serde_json::json!({
                "id": r.id, "outcome": r.outcome, "started_at": r.started_at, "error": r.error,
            })),
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
    out.push_str(&format!(
        "{:>6}  {:<19}  {:<7} {:<11} {:<13} {:<10} {:>8}  {}\n",
        "RUN", "STARTED (UTC)", "TRIGGER", "MODE", "SCOPE", "OUTCOME", "SECONDS", "ERROR"
    ));
    for r in &runs {
        out.push_str(&format!(
            "{:>6}  {:<19}  {:<7} {:<11} {:<13} {:<10} {:>8}  {}\n",
            r.id,
            r.started_at.format("%Y-%m-%d %H:%M:%S"),
            r.trigger,
            r.mode,
            r.scope,
            r.outcome,
            r.duration_ms
                .map(|ms| format!("{:.1}", ms as f64 / 1000.0))
                .unwrap_or_else(|| "-".into()),
            r.error.as_deref().unwrap_or("")
        ));
    }
    Ok((out, code))
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
