//! `--metrics-file PATH`: what a headless command learnt about each workspace's syncing, as a
//! Prometheus text-format file for node_exporter's textfile collector.
//!
//! The collector reads every `*.prom` file of its directory on each scrape, so the file is
//! written whole to a hidden temporary file in the same directory and renamed over the old
//! one: a scrape sees the previous file or the new one, never half of one. Every value is a
//! gauge: the counters describe the *last* run (they start again at 0 on the next run), and
//! the outcome is one series per outcome label with value 1 for the one that happened (the
//! enum idiom), so `glp_console_last_run_outcome{outcome="succeeded"} == 0` alerts.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::Failure;
use crate::cli::exit;
use crate::domain::{ResourceSummary, SyncSummary, WorkspaceId};
use crate::store::history::RunRecord;
use crate::store::workspaces::WorkspaceRecord;
use crate::store::{Store, StoreError};
use crate::sync::FailureKind;

/// The outcomes always listed (the one that happened has value 1, the others 0), so an
/// alert on any of them has a series to compare with.
const OUTCOMES: [&str; 4] = ["succeeded", "partial", "failed", "cancelled"];

/// Why the metrics file could not be written; names the path the user gave.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot write the metrics file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How one workspace's sync ended, as a headless sync saw it.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub name: String,
    pub ws: WorkspaceId,
    /// The run's summary when it started (a run refused before it started has none).
    pub summary: Option<SyncSummary>,
    /// `None` when the run finished cleanly.
    pub failure: Option<FailureKind>,
}

/// The figures of one workspace's last run.
#[derive(Debug, Clone, PartialEq)]
pub struct LastRun {
    pub outcome: String,
    pub duration_secs: f64,
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    pub breaker_trips: u64,
    pub resources: Vec<ResourceSummary>,
}

impl LastRun {
    fn from_end(end: &RunEnd) -> LastRun {
        match &end.summary {
            Some(s) => LastRun {
                outcome: s.outcome.as_str().to_string(),
                duration_secs: s.duration.as_secs_f64(),
                requests: s.requests,
                retries: s.retries,
                throttled: s.throttled,
                breaker_trips: s.breaker_trips,
                resources: s.resources.clone(),
            },
            // Refused before it started (credentials, lock, database): nothing was fetched.
            None => LastRun {
                outcome: match end.failure {
                    Some(FailureKind::Cancelled) => "cancelled",
                    Some(_) => "failed",
                    None => "succeeded",
                }
                .to_string(),
                duration_secs: 0.0,
                requests: 0,
                retries: 0,
                throttled: 0,
                breaker_trips: 0,
                resources: Vec::new(),
            },
        }
    }
}

/// One workspace's series.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceMetrics {
    pub name: String,
    /// End of the last sync that succeeded, from the database (this run's or an earlier one).
    pub last_success: Option<DateTime<Utc>>,
    pub last_run: Option<LastRun>,
}

/// Everything the file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub workspaces: Vec<WorkspaceMetrics>,
    pub synced: usize,
    pub failing: usize,
}

/// After a headless sync: the series of each workspace that ran (its last success read back
/// from the database, so a failed run still says when the last good one was), written to
/// `path`. A database that cannot answer leaves the last success out, never the file. A
/// workspace refused because another sync holds its lock did not run: its last run is the
/// newest completed one in the database (the sync holding the lock writes its own figures),
/// so a harmless overlap does not show as a failed run.
pub async fn after_sync(store: &Store, path: &Path, ends: &[RunEnd]) -> Result<(), MetricsError> {
    let mut workspaces = Vec::with_capacity(ends.len());
    for end in ends {
        let scoped = store.for_workspace(end.ws.clone());
        let last_success = scoped.last_success().await.ok().flatten();
        let last_run = match (&end.summary, end.failure) {
            (None, Some(FailureKind::Locked)) => match scoped.last_completed_run().await {
                Ok(Some(r)) => stored_run(&scoped, r).await.ok(),
                _ => None,
            },
            _ => Some(LastRun::from_end(end)),
        };
        workspaces.push(WorkspaceMetrics {
            name: end.name.clone(),
            last_success,
            last_run,
        });
    }
    let synced = ends.iter().filter(|e| e.failure.is_none()).count();
    let m = Metrics {
        workspaces,
        synced,
        failing: ends.len() - synced,
    };
    write_file(path, &render(&m, Utc::now()))
}

/// The exit code of a sync whose metrics file could not be written: the sync's own when it
/// failed (that says more), otherwise a configuration error (the path is wrong).
pub fn exit_code_after_write_error(sync_code: i32) -> i32 {
    if sync_code == exit::OK {
        exit::CONFIG
    } else {
        sync_code
    }
}

/// `status --metrics-file`: the series of each workspace `status` judges (`names` as its
/// `--workspace`, `configured` as [`super::status::configured`]), from the database: the
/// newest run of each, and as synced/failing the workspaces `status` finds ok or not.
pub async fn from_store(
    store: &Store,
    names: &[String],
    configured: &[WorkspaceRecord],
    stale_after: std::time::Duration,
) -> Result<Metrics, Failure> {
    let mut stored = store.workspaces().await?;
    for c in configured {
        if !stored.iter().any(|s| s.id == c.id) {
            stored.push(c.clone());
        }
    }
    stored.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let list: Vec<(String, Store, bool)> = match super::workspaces::select(&stored, names)? {
        Some(chosen) => chosen
            .into_iter()
            .map(|w| (w.name, store.for_workspace(w.id), w.removed_at.is_some()))
            .collect(),
        // A legacy database holds no workspace row: its one workspace is the default.
        None if stored.is_empty() => vec![(WorkspaceId::DEFAULT.to_string(), store.clone(), false)],
        None => stored
            .into_iter()
            .map(|w| (w.name, store.for_workspace(w.id), w.removed_at.is_some()))
            .collect(),
    };
    let (mut synced, mut failing) = (0, 0);
    let mut workspaces = Vec::with_capacity(list.len());
    for (name, scoped, removed) in list {
        let health = super::reports::health(&scoped, stale_after).await?;
        if health.ok() {
            synced += 1;
        } else if !removed {
            failing += 1;
        }
        let last_run = match scoped.recent_runs(1).await?.into_iter().next() {
            Some(r) => Some(stored_run(&scoped, r).await?),
            None => None,
        };
        workspaces.push(WorkspaceMetrics {
            name,
            last_success: health.last_good,
            last_run,
        });
    }
    Ok(Metrics {
        workspaces,
        synced,
        failing,
    })
}

/// A run as `sync_history` recorded it, with its per-resource counters.
async fn stored_run(scoped: &Store, r: RunRecord) -> Result<LastRun, StoreError> {
    Ok(LastRun {
        resources: scoped.run_resources(r.id).await?,
        outcome: r.outcome,
        duration_secs: r.duration_ms.unwrap_or(0) as f64 / 1000.0,
        requests: count(r.requests),
        retries: count(r.retries),
        throttled: count(r.throttled),
        breaker_trips: count(r.breaker_trips),
    })
}

/// `status --metrics-file`: [`from_store`] written to `path`; a file that cannot be written
/// is a configuration error naming the path.
pub async fn after_status(
    store: &Store,
    path: &Path,
    names: &[String],
    configured: &[WorkspaceRecord],
    stale_after: std::time::Duration,
) -> Result<(), Failure> {
    let m = from_store(store, names, configured, stale_after).await?;
    write_file(path, &render(&m, Utc::now())).map_err(|e| Failure::new(exit::CONFIG, e.to_string()))
}

fn count(v: i32) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Write `text` to `path` atomically: a hidden temporary file in the same directory (not
/// `*.prom`, so the collector skips it), flushed to disk, then renamed over `path`.
pub fn write_file(path: &Path, text: &str) -> Result<(), MetricsError> {
    let err = |source| MetricsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file name",
        ))
    })?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

/// A label value escaped as the text format wants: backslash, double quote and line feed.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One metric family: its HELP and TYPE lines, then every sample (labels already rendered).
struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn start(&mut self, name: &str, help: &str) {
        self.out
            .push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
            .collect();
        let labels = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", labels.join(","))
        };
        self.out.push_str(&format!("{name}{labels} {value}\n"));
    }
}

fn unix_seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// Per-run figures: name, help, and how to read them from a run.
type RunFigure = (&'static str, &'static str, fn(&LastRun) -> f64);

const RUN_FIGURES: [RunFigure; 5] = [
    (
        "glp_console_last_run_duration_seconds",
        "How long the last sync run took.",
        |r| r.duration_secs,
    ),
    (
        "glp_console_last_run_requests",
        "API requests the last sync run sent.",
        |r| r.requests as f64,
    ),
    (
        "glp_console_last_run_retries",
        "Requests the last sync run retried.",
        |r| r.retries as f64,
    ),
    (
        "glp_console_last_run_throttled",
        "HTTP 429 (rate limited) answers the last sync run got.",
        |r| r.throttled as f64,
    ),
    (
        "glp_console_last_run_breaker_trips",
        "Times the circuit breaker opened during the last sync run.",
        |r| r.breaker_trips as f64,
    ),
];

/// Per-resource item counts of the last run.
type ItemFigure = (&'static str, &'static str, fn(&ResourceSummary) -> u64);

const ITEM_FIGURES: [ItemFigure; 4] = [
    (
        "glp_console_last_run_items_fetched",
        "Items the last sync run fetched, per resource.",
        |r| r.fetched,
    ),
    (
        "glp_console_last_run_items_inserted",
        "Items the last sync run stored for the first time, per resource.",
        |r| r.inserted,
    ),
    (
        "glp_console_last_run_items_updated",
        "Stored items the last sync run changed, per resource.",
        |r| r.updated,
    ),
    (
        "glp_console_last_run_items_removed",
        "Items the last sync run marked removed, per resource.",
        |r| r.removed,
    ),
];

/// The whole file, every family grouped as the format requires.
pub fn render(m: &Metrics, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut f = Family { out: &mut out };
    let name = "glp_console_last_success_timestamp_seconds";
    f.start(
        name,
        "End of the last successful sync (unix seconds; 0 when none ever succeeded).",
    );
    for w in &m.workspaces {
        let t = w.last_success.map_or(0.0, unix_seconds);
        f.sample(name, &[("workspace", &w.name)], t);
    }
    let runs: Vec<(&str, &LastRun)> = m
        .workspaces
        .iter()
        .filter_map(|w| Some((w.name.as_str(), w.last_run.as_ref()?)))
        .collect();
    let name = "glp_console_last_run_outcome";
    f.start(
        name,
        "How the last sync run ended: 1 for its outcome, 0 for the others.",
    );
    for (ws, r) in &runs {
        let mut outcomes: Vec<&str> = OUTCOMES.to_vec();
        if !outcomes.contains(&r.outcome.as_str()) {
            outcomes.push(&r.outcome);
        }
        for o in outcomes {
            let v = if o == r.outcome { 1.0 } else { 0.0 };
            f.sample(name, &[("workspace", ws), ("outcome", o)], v);
        }
    }
    for (name, help, read) in RUN_FIGURES {
        f.start(name, help);
        for (ws, r) in &runs {
            f.sample(name, &[("workspace", ws)], read(r));
        }
    }
    for (name, help, read) in ITEM_FIGURES {
        f.start(name, help);
        for (ws, r) in &runs {
            for res in &r.resources {
                if let Some(resource) = res.resource {
                    let labels = [("workspace", *ws), ("resource", resource.as_str())];
                    f.sample(name, &labels, read(res) as f64);
                }
            }
        }
    }
    let totals = [
        (
            "glp_console_workspaces_synced",
            "Workspaces whose sync succeeded (status: that are neither failing nor stale).",
            m.synced,
        ),
        (
            "glp_console_workspaces_failing",
            "Workspaces whose sync did not succeed (status: that are failing or stale).",
            m.failing,
        ),
    ];
    for (name, help, n) in totals {
        f.start(name, help);
        f.sample(name, &[], n as f64);
    }
    let name = "glp_console_metrics_written_timestamp_seconds";
    f.start(name, "When this file was written (unix seconds).");
    f.sample(name, &[], unix_seconds(now));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn every_family_has_help_and_type_and_one_outcome_is_set() {
        let m = Metrics {
            workspaces: vec![WorkspaceMetrics {
                name: "we\"ird".into(),
                last_success: None,
                last_run: Some(LastRun {
                    outcome: "partial".into(),
                    duration_secs: 1.5,
                    requests: 3,
                    retries: 1,
                    throttled: 0,
                    breaker_trips: 0,
                    resources: Vec::new(),
                }),
            }],
            synced: 0,
            failing: 1,
        };
        let text = render(&m, Utc::now());
        assert!(
            text.contains(
                "glp_console_last_success_timestamp_seconds{workspace=\"we\\\"ird\"} 0\n"
            )
        );
        assert!(text.contains(
            "glp_console_last_run_outcome{workspace=\"we\\\"ird\",outcome=\"partial\"} 1\n"
        ));
        assert!(text.contains(
            "glp_console_last_run_outcome{workspace=\"we\\\"ird\",outcome=\"succeeded\"} 0\n"
        ));
        assert!(
            text.contains("glp_console_last_run_duration_seconds{workspace=\"we\\\"ird\"} 1.5\n")
        );
        assert!(text.contains("glp_console_workspaces_failing 1\n"));
        for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
            assert!(line.ends_with(" gauge"), "{line}");
        }
    }
}
