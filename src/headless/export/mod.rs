//! Exports of the inventory (`glp-console export …`) and of the console's shown rows
//! (`:export FILE`), through one set of writers so both give the same files.
//!
//! Rows stream: the database side is a cursor ([`crate::store::reports::RowStream`]), JSON
//! and CSV are written row by row, xlsx in rust_xlsxwriter's constant-memory mode, so memory
//! stays flat however large the workspace. A file is written as `<file>.part` and renamed
//! when complete: a failed export leaves no half file, and an earlier file of that name
//! survives until the new one is whole. The format comes from `--format`, else from the
//! file's extension; the two must agree (a `d.json` holding CSV is worse than an error).

mod csv;
mod json;
mod xlsx;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use super::Failure;
use super::stdout;
use crate::cli::exit;
use crate::store::reports::{DeviceExportRow, RawTable, SubscriptionExportRow};
use crate::store::{Store, StoreError};

pub use self::csv::CsvWriter;
pub use self::json::JsonArrayWriter;
pub use self::xlsx::{Cell, XlsxWriter};

/// File format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub const NAMES: &'static str = "json, csv or xlsx";

    pub fn from_name(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// The format a file name asks for by its extension.
    pub fn from_path(p: &Path) -> Option<Format> {
        p.extension()
            .and_then(|e| e.to_str())
            .and_then(Format::from_name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// The format of an export: `flag` (`--format`) if given, else the extension of `path`,
    /// else CSV on stdout. A flag and an extension that disagree are refused, as is a file
    /// whose extension names no format when no flag says one.
    pub fn choose(flag: Option<&str>, path: Option<&Path>) -> Result<Format, ExportError> {
        let flagged = match flag {
            Some(f) => Some(
                Format::from_name(f).ok_or_else(|| ExportError::UnknownFormat {
                    given: f.to_string(),
                })?,
            ),
            None => None,
        };
        let by_ext = path.and_then(Format::from_path);
        match (flagged, by_ext, path) {
            (Some(f), Some(e), Some(p)) if f != e => Err(ExportError::Mismatch {
                path: p.to_path_buf(),
                flag: f,
                extension: e,
            }),
            (Some(f), _, _) => Ok(f),
            (None, Some(e), _) => Ok(e),
            (None, None, Some(p)) => Err(ExportError::NoFormat {
                path: p.to_path_buf(),
            }),
            (None, None, None) => Ok(Format::Csv),
        }
    }
}

/// Why an export failed; every message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("--format {given}: must be {}", Format::NAMES)]
    UnknownFormat { given: String },
    #[error(
        "{}: the file name says {} but --format says {}; change one so they agree",
        path.display(), extension.name(), flag.name()
    )]
    Mismatch {
        path: PathBuf,
        flag: Format,
        extension: Format,
    },
    #[error(
        "{}: cannot tell the format from the file name: end it in .json, .csv or .xlsx (or give \
         `export` a --format)", path.display()
    )]
    NoFormat { path: PathBuf },
    #[error("xlsx needs an output file (-o FILE.xlsx): a spreadsheet cannot go to the terminal")]
    XlsxToStdout,
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing the spreadsheet {} failed: {message}", path.display())]
    Xlsx { path: PathBuf, message: String },
    #[error("reading the rows to export failed: {0}")]
    Database(#[from] StoreError),
}

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Self {
        let code = match e {
            ExportError::Database(_) => exit::DATABASE,
            _ => exit::CONFIG,
        };
        Failure::new(code, e.to_string())
    }
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportWhat {
    Devices,
    Subscriptions,
}

/// Where an export goes: stdout, or a `.part` file renamed over the target when complete.
/// Dropped before [`Destination::commit`], it removes the part file.
pub struct Destination {
    path: Option<PathBuf>,
    part: Option<PathBuf>,
}

impl Destination {
    /// Standard output (JSON and CSV only).
    pub fn stdout() -> Destination {
        Destination {
            path: None,
            part: None,
        }
    }

    /// `path`, written first as `<path>.part` next to it (same file system, so the rename
    /// is atomic).
    pub fn file(path: &Path) -> Destination {
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        Destination {
            path: Some(path.to_path_buf()),
            part: Some(PathBuf::from(part)),
        }
    }

    /// The path named in messages.
    pub fn shown(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from("standard output"))
    }

    fn part(&self) -> Option<&Path> {
        self.part.as_deref()
    }

    /// A buffered writer on the destination.
    fn writer(&self) -> Result<BufWriter<Box<dyn Write + Send>>, ExportError> {
        let w: Box<dyn Write + Send> = match &self.part {
            None => Box::new(io::stdout()),
            Some(part) => Box::new(File::create(part).map_err(|e| ExportError::Write {
                path: self.shown(),
                source: e,
            })?),
        };
        Ok(BufWriter::with_capacity(256 * 1024, w))
    }

    /// Put the finished file in place.
    fn commit(mut self) -> Result<(), ExportError> {
        if let (Some(part), Some(path)) = (self.part.take(), &self.path) {
            std::fs::rename(&part, path).map_err(|e| {
                let _ = std::fs::remove_file(&part);
                ExportError::Write {
                    path: path.clone(),
                    source: e,
                }
            })?;
        }
        Ok(())
    }
}

impl Drop for Destination {
    fn drop(&mut self) {
        if let Some(part) = self.part.take() {
            let _ = std::fs::remove_file(part);
        }
    }
}

/// How an export ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// All rows written.
    Complete { rows: u64 },
    /// Stdout's reader went away (`| head`): the output ended early, which is what it asked.
    ReaderGone,
}

/// Turn an I/O error while writing into "the reader is gone" on stdout, an error otherwise.
fn write_failed(dest: &Destination, e: io::Error) -> Result<Written, ExportError> {
    if dest.part().is_none() && stdout::is_closed_pipe(&e) {
        stdout::note_error(&e);
        return Ok(Written::ReaderGone);
    }
    Err(ExportError::Write {
        path: dest.shown(),
        source: e,
    })
}

/// `glp-console export`: the stored inventory, streamed from the database to `dest`: one row
/// per device (subscription) across workspaces, attributed as the consolidated views say, or
/// only those of the workspace ids in `only`. The flat formats end in a workspace column
/// (always, so a script's columns do not move when a second workspace appears); JSON stays
/// the items exactly as GreenLake sent them.
pub async fn inventory(
    store: &Store,
    what: ExportWhat,
    format: Format,
    only: Option<&[String]>,
    dest: Destination,
) -> Result<Written, ExportError> {
    if format == Format::Xlsx && dest.part().is_none() {
        return Err(ExportError::XlsxToStdout);
    }
    match format {
        Format::Json => {
            let table = match what {
                ExportWhat::Devices => RawTable::Devices,
                ExportWhat::Subscriptions => RawTable::Subscriptions,
            };
            let mut rows = store.raw_items(table, only);
            let mut w = JsonArrayWriter::new(dest.writer()?);
            let r: io::Result<u64> = async {
                while let Some(item) = rows.next().await {
                    w.raw(&item.map_err(io::Error::other)?)?;
                }
                w.finish()
            }
            .await;
            finish(dest, r)
        }
        Format::Csv => {
            let mut w = CsvWriter::new(dest.writer()?);
            let r: io::Result<u64> = match what {
                ExportWhat::Devices => {
                    let mut rows = store.export_devices(only);
                    async {
                        while let Some(row) = rows.next().await {
                            w.serialize(&row.map_err(io::Error::other)?)?;
                        }
                        w.finish()
                    }
                    .await
                }
                ExportWhat::Subscriptions => {
                    let mut rows = store.export_subscriptions(only);
                    async {
                        while let Some(row) = rows.next().await {
                            w.serialize(&row.map_err(io::Error::other)?)?;
                        }
                        w.finish()
                    }
                    .await
                }
            };
            finish(dest, r)
        }
        Format::Xlsx => {
            let (sheet, headers) = match what {
                ExportWhat::Devices => ("Devices", DEVICE_HEADERS.as_slice()),
                ExportWhat::Subscriptions => ("Subscriptions", SUBSCRIPTION_HEADERS.as_slice()),
            };
            let mut w = XlsxWriter::new(sheet, headers).map_err(|m| xlsx_err(&dest, m))?;
            match what {
                ExportWhat::Devices => {
                    let mut rows = store.export_devices(only);
                    while let Some(row) = rows.next().await {
                        w.row(&device_cells(&row?))
                            .map_err(|m| xlsx_err(&dest, m))?;
                    }
                }
                ExportWhat::Subscriptions => {
                    let mut rows = store.export_subscriptions(only);
                    while let Some(row) = rows.next().await {
                        w.row(&subscription_cells(&row?))
                            .map_err(|m| xlsx_err(&dest, m))?;
                    }
                }
            }
            finish_xlsx(w, dest)
        }
    }
}

/// The console's `:export FILE`: the shown rows and columns, in the format of the file's
/// extension. Blocking; the console runs it off its event loop.
pub fn table(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<Written, ExportError> {
    let format = Format::choose(None, Some(path))?;
    let dest = Destination::file(path);
    match format {
        Format::Json => {
            let mut w = JsonArrayWriter::new(dest.writer()?);
            let r = (|| {
                for r in rows {
                    let obj: serde_json::Map<String, serde_json::Value> = header
                        .iter()
                        .zip(r)
                        .map(|(h, v)| (h.clone(), serde_json::Value::String(v.clone())))
                        .collect();
                    w.value(&obj)?;
                }
                w.finish()
            })();
            finish(dest, r)
        }
        Format::Csv => {
            let mut w = CsvWriter::new(dest.writer()?);
            let r = (|| {
                w.record(header)?;
                for r in rows {
                    w.record(r)?;
                }
                // The header is not a row.
                w.finish().map(|n| n.saturating_sub(1))
            })();
            finish(dest, r)
        }
        Format::Xlsx => {
            let names: Vec<&str> = header.iter().map(String::as_str).collect();
            let mut w = XlsxWriter::new("Export", &names).map_err(|m| xlsx_err(&dest, m))?;
            for r in rows {
                let cells: Vec<Cell> = r.iter().map(|v| Cell::Text(v.as_str())).collect();
                w.row(&cells).map_err(|m| xlsx_err(&dest, m))?;
            }
            finish_xlsx(w, dest)
        }
    }
}

fn finish(dest: Destination, r: io::Result<u64>) -> Result<Written, ExportError> {
    match r {
        Ok(rows) => {
            dest.commit()?;
            Ok(Written::Complete { rows })
        }
        Err(e) => {
            // A database error travels through the writer as an io "other" error.
            if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<StoreError>()) {
                return Err(ExportError::Database(StoreError::Other(inner.to_string())));
            }
            write_failed(&dest, e)
        }
    }
}

fn finish_xlsx(w: XlsxWriter, dest: Destination) -> Result<Written, ExportError> {
    let part = dest.part().ok_or(ExportError::XlsxToStdout)?.to_path_buf();
    let rows = w.save(&part).map_err(|m| xlsx_err(&dest, m))?;
    dest.commit()?;
    Ok(Written::Complete { rows })
}

fn xlsx_err(dest: &Destination, message: String) -> ExportError {
    ExportError::Xlsx {
        path: dest.shown(),
        message,
    }
}

const DEVICE_HEADERS: [&str; 18] = [
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
    "Workspace",
];

const SUBSCRIPTION_HEADERS: [&str; 17] = [
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
    "Workspace",
];

fn date(t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn text(v: &Option<String>) -> Cell<'_> {
    Cell::Text(v.as_deref().unwrap_or(""))
}

/// Strings, always: a serial like 0012 must not become the number 12.
fn device_cells(r: &DeviceExportRow) -> [Cell<'_>; 18] {
    [
        Cell::Text(&r.serial_number),
        text(&r.mac_address),
        text(&r.part_number),
        text(&r.device_type),
        text(&r.model),
        text(&r.device_name),
        text(&r.region),
        text(&r.application_id),
        text(&r.assigned_state),
        Cell::Text(if r.archived { "yes" } else { "no" }),
        text(&r.subscription_keys),
        Cell::Owned(date(&r.subscription_end)),
        text(&r.tags),
        text(&r.location_name),
        Cell::Owned(date(&r.updated_at)),
        Cell::Owned(date(&r.removed_at)),
        Cell::Text(&r.id),
        text(&r.workspace),
    ]
}

fn subscription_cells(r: &SubscriptionExportRow) -> [Cell<'_>; 17] {
    let num = |v: Option<i64>| v.map_or(Cell::Empty, |n| Cell::Number(n as f64));
    [
        text(&r.key),
        text(&r.subscription_type),
        text(&r.tier),
        text(&r.subscription_status),
        num(r.quantity),
        num(r.available_quantity),
        text(&r.sku),
        text(&r.sku_description),
        Cell::Owned(date(&r.start_time)),
        Cell::Owned(date(&r.end_time)),
        text(&r.product_type),
        Cell::Text(match r.is_eval {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        }),
        text(&r.tags),
        Cell::Number(r.devices as f64),
        Cell::Owned(date(&r.removed_at)),
        Cell::Text(&r.id),
        text(&r.workspace),
    ]
}
