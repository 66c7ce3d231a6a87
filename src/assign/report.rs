//! What an apply did: per operation and per device, failures first; on screen as text,
//! and exported as JSON or .xlsx (Summary, Operations, Devices, Errors sheets).

use std::path::Path;

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::Serialize;
use serde_json::Value;

use super::plan::{Method, Phase};
use crate::store::audit::RunKind;

/// How a whole run ended (`assignment_runs.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    Partial,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// How one API call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Not sent (cancelled, or every device of it was dropped).
    Skipped,
    Succeeded,
    Failed,
    /// Dry run only: not sent, because what it would be checked against is changed by an
    /// earlier phase of the same plan (e.g. a subscription for a device that only gets its
    /// application in this plan). Neither a success nor a failure.
    NotCheckable,
}

impl OpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OpStatus::Skipped => "skipped",
            OpStatus::Succeeded => "succeeded",
            OpStatus::Failed => "failed",
            OpStatus::NotCheckable => "not_checkable",
        }
    }
}

/// Why a dry run could not check a subscription: GreenLake checks it against the device as
/// it is, and the device only gets its application from this plan.
pub const NOT_CHECKABLE_BEFORE_APPLICATION: &str = "not checkable before the application is set";
/// Why a dry run could not check a call for a device the plan adds: it does not exist yet.
pub const NOT_CHECKABLE_BEFORE_ADD: &str = "not checkable before the device is added";

/// How one device ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    Succeeded,
    Failed,
    /// Nothing was sent for it (cancelled before its batches, or its add failed first).
    Skipped,
    /// Already as asked.
    Unchanged,
    /// Dry run: what could be checked passed, the rest depends on an earlier phase's change
    /// (see [`OpStatus::NotCheckable`]).
    NotCheckable,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Succeeded => "succeeded",
            DeviceStatus::Failed => "failed",
            DeviceStatus::Skipped => "skipped",
            DeviceStatus::Unchanged => "unchanged",
            DeviceStatus::NotCheckable => "not_checkable",
        }
    }
}

/// A device an operation reported as failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailedDevice {
    pub serial: Option<String>,
    pub device_id: Option<String>,
    pub reason: String,
}

/// One API call of the run.
#[derive(Clone, Debug, Serialize)]
pub struct OperationReport {
    pub seq: usize,
    pub phase: Phase,
    pub method: Method,
    pub path: String,
    pub body: Value,
    pub serials: Vec<String>,
    pub device_ids: Vec<String>,
    pub http_status: Option<u16>,
    pub operation_id: Option<String>,
    pub status: OpStatus,
    pub error: Option<String>,
    pub failed_devices: Vec<FailedDevice>,
    /// From sending to the terminal state.
    pub duration_ms: Option<u64>,
}

/// One device of the run.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceReport {
    pub serial: String,
    pub row: Option<u32>,
    pub device_id: Option<String>,
    pub status: DeviceStatus,
    pub error: Option<String>,
    /// The planned changes, as text.
    pub changes: Vec<String>,
}

/// The targeted resync after an apply.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ResyncReport {
    pub requested: usize,
    pub fetched: usize,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub error: Option<String>,
}

/// Counts for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub operations: usize,
    pub operations_succeeded: usize,
    pub operations_failed: usize,
    pub operations_skipped: usize,
    pub devices: usize,
    pub devices_succeeded: usize,
    pub devices_failed: usize,
    pub devices_skipped: usize,
    pub devices_unchanged: usize,
    pub operations_not_checkable: usize,
    pub devices_not_checkable: usize,
}

impl Counts {
    /// The one way calls and devices are counted: the live progress of a run, its report
    /// and its row in the run list all come from here, so they cannot disagree.
    pub fn tally(
        operations: usize,
        ops: impl IntoIterator<Item = OpStatus>,
        devices: usize,
        devs: impl IntoIterator<Item = DeviceStatus>,
    ) -> Counts {
        let mut c = Counts {
            operations,
            devices,
            ..Counts::default()
        };
        for o in ops {
            match o {
                OpStatus::Succeeded => c.operations_succeeded += 1,
                OpStatus::Failed => c.operations_failed += 1,
                OpStatus::Skipped => c.operations_skipped += 1,
                OpStatus::NotCheckable => c.operations_not_checkable += 1,
            }
        }
        for d in devs {
            match d {
                DeviceStatus::Succeeded => c.devices_succeeded += 1,
                DeviceStatus::Failed => c.devices_failed += 1,
                DeviceStatus::Skipped => c.devices_skipped += 1,
                DeviceStatus::Unchanged => c.devices_unchanged += 1,
                DeviceStatus::NotCheckable => c.devices_not_checkable += 1,
            }
        }
        c
    }
}

/// The whole report of one run.
#[derive(Clone, Debug, Serialize)]
pub struct ApplyReport {
    pub run_id: i64,
    pub kind: RunKind,
    pub undo_of: Option<i64>,
    pub dry_run: bool,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_secs: f64,
    pub counts: Counts,
    pub operations: Vec<OperationReport>,
    /// Failures first, then skipped, succeeded and unchanged; by serial within each.
    pub devices: Vec<DeviceReport>,
    pub notes: Vec<String>,
    pub resync: Option<ResyncReport>,
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the report {path}: {source}; check the directory exists and is writable")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot build the .xlsx report {path}: {source}")]
    Xlsx { path: String, source: XlsxError },
    #[error("report file {path}: use a name ending in .xlsx or .json")]
    Extension { path: String },
}

fn rank(s: DeviceStatus) -> u8 {
    match s {
        DeviceStatus::Failed => 0,
        DeviceStatus::Skipped => 1,
        DeviceStatus::NotCheckable => 2,
        DeviceStatus::Succeeded => 3,
        DeviceStatus::Unchanged => 4,
    }
}

fn op_rank(s: OpStatus) -> u8 {
    match s {
        OpStatus::Failed => 0,
        OpStatus::Skipped => 1,
        OpStatus::NotCheckable => 2,
        OpStatus::Succeeded => 3,
    }
}

impl ApplyReport {
    /// Count, sort (failures first) and set the run status. Called once the run is over.
    pub fn finalize(&mut self, cancelled: bool) {
        self.devices
            .sort_by(|a, b| (rank(a.status), &a.serial).cmp(&(rank(b.status), &b.serial)));
        let c = Counts::tally(
            self.operations.len(),
            self.operations.iter().map(|o| o.status),
            self.devices.len(),
            self.devices.iter().map(|d| d.status),
        );
        self.status = if cancelled {
            RunStatus::Cancelled
        } else if c.operations_failed == 0 && c.devices_failed == 0 && c.operations_skipped == 0 {
            RunStatus::Succeeded
        } else if c.operations_succeeded == 0 && c.operations > 0 {
            RunStatus::Failed
        } else {
            RunStatus::Partial
        };
        self.counts = c;
    }

    /// Operations, failures first (then in the order they were planned).
    pub fn operations_failures_first(&self) -> Vec<&OperationReport> {
        let mut v: Vec<&OperationReport> = self.operations.iter().collect();
        v.sort_by_key(|o| (op_rank(o.status), o.seq));
        v
    }

    /// The summary as JSON (what `assignment_runs.summary` keeps).
    pub fn summary_json(&self) -> Value {
        serde_json::json!({
            "status": self.status,
            "dry_run": self.dry_run,
            "duration_secs": self.duration_secs,
            "counts": self.counts,
            "notes": self.notes,
            "resync": self.resync,
        })
    }

    /// The report on screen: summary, then operations and devices, failures first.
    pub fn render_text(&self) -> String {
        let c = &self.counts;
        let mut out = format!(
            "{} run {}{}: {} in {:.1} s\n  operations: {} succeeded, {} failed, {} skipped (of {})\n  devices: {} succeeded, {} failed, {} skipped, {} unchanged\n",
            match self.kind {
                RunKind::Undo => "Undo",
                RunKind::DryRun => "Dry",
                RunKind::Apply => "Assignment",
            },
            self.run_id,
            self.undo_of
                .map(|u| format!(" (undo of run {u})"))
                .unwrap_or_default(),
            self.status.as_str(),
            self.duration_secs,
            c.operations_succeeded,
            c.operations_failed,
            c.operations_skipped,
            c.operations,
            c.devices_succeeded,
            c.devices_failed,
            c.devices_skipped,
            c.devices_unchanged,
        );
        if c.operations_not_checkable + c.devices_not_checkable > 0 {
            out.push_str(&format!(
                "  not checkable in a dry run: {} operations, {} devices (they depend on an \
                 earlier phase of this plan; neither ok nor failed)\n",
                c.operations_not_checkable, c.devices_not_checkable
            ));
        }
        if self.dry_run {
            out.push_str("  dry run: GreenLake validated the calls; nothing was changed\n");
        }
        if !self.operations.is_empty() {
            out.push_str("Operations:\n");
            for o in self.operations_failures_first() {
                out.push_str(&format!(
                    "  #{:<4} {:<8} {:<20} {:>2} devices  {}{}\n",
                    o.seq,
                    o.status.as_str(),
                    o.phase.as_str(),
                    o.serials.len(),
                    o.operation_id.as_deref().unwrap_or("-"),
                    o.error
                        .as_ref()
                        .map(|e| format!("  error: {e}"))
                        .unwrap_or_default()
                ));
            }
        }
        let shown: Vec<&DeviceReport> = self
            .devices
            .iter()
            .filter(|d| d.status != DeviceStatus::Unchanged)
            .collect();
        if !shown.is_empty() {
            out.push_str("Devices:\n");
            for d in shown {
                let label = if d.status == DeviceStatus::NotCheckable {
                    "note"
                } else {
                    "error"
                };
                out.push_str(&format!(
                    "  {:<16} {:<9} {}{}\n",
                    d.serial,
                    d.status.as_str(),
                    d.changes.join("; "),
                    d.error
                        .as_ref()
                        .map(|e| format!("  {label}: {e}"))
                        .unwrap_or_default()
                ));
            }
        }
        if let Some(r) = &self.resync {
            match &r.error {
                Some(e) => {
                    out.push_str(&format!("Resync of {} devices failed: {e}\n", r.requested))
                }
                None => out.push_str(&format!(
                    "Resync: {} of {} devices fetched ({} updated, {} new, {} unchanged)\n",
                    r.fetched, r.requested, r.updated, r.inserted, r.unchanged
                )),
            }
        }
        for n in &self.notes {
            out.push_str(&format!("Note: {n}\n"));
        }
        out
    }

    /// Pretty JSON of the whole report.
    pub fn to_json(&self) -> String {
        // Serialising plain data (strings, numbers, JSON values) cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Write the report: `.json` or `.xlsx`, chosen by the file name.
    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        let p = path.display().to_string();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("json") => std::fs::write(path, self.to_json())
                .map_err(|source| ReportError::Io { path: p, source }),
            Some("xlsx") => {
                let bytes = self.xlsx_bytes().map_err(|source| ReportError::Xlsx {
                    path: p.clone(),
                    source,
                })?;
                std::fs::write(path, bytes).map_err(|source| ReportError::Io { path: p, source })
            }
            _ => Err(ReportError::Extension { path: p }),
        }
    }

    /// The .xlsx workbook: Summary, Operations, Devices, Errors.
    pub fn xlsx_bytes(&self) -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        self.summary_sheet(wb.add_worksheet(), &bold)?;
        self.operations_sheet(wb.add_worksheet(), &bold)?;
        self.devices_sheet(wb.add_worksheet(), &bold)?;
        self.errors_sheet(wb.add_worksheet(), &bold)?;
        wb.save_to_buffer()
    }

    fn summary_sheet(&self, s: &mut Worksheet, bold: &Format) -> Result<(), XlsxError> {
        let c = &self.counts;
        s.set_name("Summary")?;
        s.write_string_with_format(0, 0, "Device Assignment Report", bold)?;
        let rows: Vec<(&str, String)> = vec![
            ("Run", self.run_id.to_string()),
            ("Kind", self.kind.as_str().to_string()),
            (
                "Undo of run",
                self.undo_of.map(|u| u.to_string()).unwrap_or_default(),
            ),
            (
                "Dry run",
                if self.dry_run { "yes" } else { "no" }.to_string(),
            ),
            ("Status", self.status.as_str().to_string()),
            ("Started", self.started_at.to_rfc3339()),
            ("Finished", self.finished_at.to_rfc3339()),
            ("Duration (s)", format!("{:.1}", self.duration_secs)),
            ("Operations", c.operations.to_string()),
            ("Operations succeeded", c.operations_succeeded.to_string()),
            ("Operations failed", c.operations_failed.to_string()),
            ("Operations skipped", c.operations_skipped.to_string()),
            ("Devices", c.devices.to_string()),
            ("Devices succeeded", c.devices_succeeded.to_string()),
            ("Devices failed", c.devices_failed.to_string()),
            ("Devices skipped", c.devices_skipped.to_string()),
            ("Devices unchanged", c.devices_unchanged.to_string()),
            (
                "Operations not checkable",
                c.operations_not_checkable.to_string(),
            ),
            ("Devices not checkable", c.devices_not_checkable.to_string()),
        ];
        for (i, (k, v)) in rows.iter().enumerate() {
            let r = i as u32 + 2;
            s.write_string_with_format(r, 0, *k, bold)?;
            s.write_string(r, 1, v)?;
        }
        for (r, n) in (rows.len() as u32 + 3..).zip(self.notes.iter()) {
            s.write_string(r, 0, "Note")?;
            s.write_string(r, 1, n)?;
        }
        s.set_column_width(0, 24)?;
        s.set_column_width(1, 40)?;
        Ok(())
    }

    fn operations_sheet(&self, o: &mut Worksheet, bold: &Format) -> Result<(), XlsxError> {
        o.set_name("Operations")?;
        let head = [
            "#",
            "Phase",
            "Method",
            "Status",
            "HTTP",
            "Operation id",
            "Devices",
            "Serials",
            "Body",
            "Error",
            "Duration (ms)",
        ];
        header_row(o, &head, bold)?;
        for (i, op) in self.operations_failures_first().iter().enumerate() {
            let r = i as u32 + 1;
            o.write_number(r, 0, op.seq as f64)?;
            o.write_string(r, 1, op.phase.as_str())?;
            o.write_string(r, 2, op.method.as_str())?;
            o.write_string(r, 3, op.status.as_str())?;
            if let Some(h) = op.http_status {
                o.write_number(r, 4, f64::from(h))?;
            }
            o.write_string(r, 5, op.operation_id.as_deref().unwrap_or(""))?;
            o.write_number(r, 6, op.serials.len() as f64)?;
            o.write_string(r, 7, op.serials.join(", "))?;
            o.write_string(r, 8, op.body.to_string())?;
            o.write_string(r, 9, op.error.as_deref().unwrap_or(""))?;
            if let Some(d) = op.duration_ms {
                o.write_number(r, 10, d as f64)?;
            }
        }
        o.autofilter(0, 0, self.operations.len() as u32, head.len() as u16 - 1)?;
        Ok(())
    }

    fn devices_sheet(&self, d: &mut Worksheet, bold: &Format) -> Result<(), XlsxError> {
        d.set_name("Devices")?;
        let head = [
            "Serial Number",
            "Row",
            "Device id",
            "Status",
            "Changes",
            "Error",
        ];
        header_row(d, &head, bold)?;
        for (i, dev) in self.devices.iter().enumerate() {
            let r = i as u32 + 1;
            d.write_string(r, 0, &dev.serial)?;
            if let Some(row) = dev.row {
                d.write_number(r, 1, f64::from(row))?;
            }
            d.write_string(r, 2, dev.device_id.as_deref().unwrap_or(""))?;
            d.write_string(r, 3, dev.status.as_str())?;
            d.write_string(r, 4, dev.changes.join("; "))?;
            d.write_string(r, 5, dev.error.as_deref().unwrap_or(""))?;
        }
        d.autofilter(0, 0, self.devices.len() as u32, head.len() as u16 - 1)?;
        d.set_column_width(0, 18)?;
        d.set_column_width(4, 60)?;
        Ok(())
    }

    /// One row per failed device, or per failed call when it names no device.
    fn errors_sheet(&self, e: &mut Worksheet, bold: &Format) -> Result<(), XlsxError> {
        e.set_name("Errors")?;
        header_row(
            e,
            &["#", "Phase", "Serial Number", "Device id", "Error"],
            bold,
        )?;
        let mut r = 1u32;
        for op in self
            .operations
            .iter()
            .filter(|o| o.status == OpStatus::Failed)
        {
            if op.failed_devices.is_empty() {
                e.write_number(r, 0, op.seq as f64)?;
                e.write_string(r, 1, op.phase.as_str())?;
                e.write_string(r, 2, op.serials.join(", "))?;
                e.write_string(r, 4, op.error.as_deref().unwrap_or(""))?;
                r += 1;
            }
            for f in &op.failed_devices {
                e.write_number(r, 0, op.seq as f64)?;
                e.write_string(r, 1, op.phase.as_str())?;
                e.write_string(r, 2, f.serial.as_deref().unwrap_or(""))?;
                e.write_string(r, 3, f.device_id.as_deref().unwrap_or(""))?;
                e.write_string(r, 4, &f.reason)?;
                r += 1;
            }
        }
        e.set_column_width(2, 18)?;
        e.set_column_width(4, 60)?;
        Ok(())
    }
}

/// A sheet's header row, in bold.
fn header_row(ws: &mut Worksheet, head: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (i, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, bold)?;
    }
    Ok(())
}
