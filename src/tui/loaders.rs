//! The loaders: every task that reads (the database, a spreadsheet, the file system) or
//! writes (exports) for the console, and sends its answer back to the loop as a [`Msg`].
//! Display rows are built here, off the UI task.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc;

use super::app::{Loaded, TableId};
use super::filter::FilterResult;
use super::model::table as rows_row;
use super::model::{rows, workspaces};
use super::wizard::{WizardData, WizardMsg, complete_path, wizard_data};
use crate::assign::apply::ApplyHandle;
use crate::assign::load::LoadOptions;
use crate::assign::options::Catalog;
use crate::assign::report::ApplyReport;
use crate::assign::session;
use crate::domain::Resource;
use crate::glp::client::Client;
use crate::store::Store;
use crate::store::overview::{Jump, Rows};
use crate::store::views::{SubscriptionRecord, ViewScope};
use crate::store::workspaces::WorkspaceOverview;
use crate::sync::events::SyncCommand;

/// Messages from tasks the loop started.
pub(super) enum Msg {
    Loaded(Loaded),
    Filter(FilterResult),
    ReloadDone,
    /// The service catalog named applications the tables did not know: reload them.
    NamesKept,
}

/// What the wizard's loader task needs.
pub struct WizardLoadJob {
    pub store: Store,
    /// The catalog already read, for the review's application names.
    pub known: Option<Arc<Catalog>>,
    pub path: PathBuf,
    pub sheet: Option<String>,
    /// Re-reads devices an abandoned run left in doubt before matching (`None`: the
    /// stored values are used).
    pub client: Option<Client>,
    /// The console's engine, so that re-read runs as one of its refreshes (shown like any
    /// run, serialised with its syncs).
    pub engine: Option<mpsc::Sender<SyncCommand>>,
}

/// Read and match the sheet, then build the display rows — all off the UI task (also
/// used by tests to carry out `Effect::WizardLoad`).
pub async fn wizard_load(job: WizardLoadJob) -> Result<Box<WizardData>, String> {
    let started = Utc::now();
    let opts = LoadOptions { sheet: job.sheet };
    let prepared = session::prepare(
        &job.store,
        job.client.as_ref(),
        job.engine.as_ref(),
        &job.path,
        &opts,
    )
    .await
    .map_err(|e| e.to_string())?;
    let known = job.known;
    tokio::task::spawn_blocking(move || {
        Box::new(wizard_data(prepared, known.as_deref(), started, Utc::now()))
    })
    .await
    .map_err(|e| format!("building the review failed: {e}"))
}

/// Forward an apply's events to the loop, then its report.
pub(super) fn spawn_apply_forwarder(h: ApplyHandle, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let ApplyHandle {
            mut run_events,
            join,
            ..
        } = h;
        while let Some(ev) = run_events.recv().await {
            let _ = tx.send(Msg::Loaded(Loaded::Wizard(WizardMsg::Event(ev))));
        }
        let r = match join.await {
            Ok(Ok(report)) => Ok(Arc::new(report)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("the apply task ended abnormally: {e}")),
        };
        let _ = tx.send(Msg::Loaded(Loaded::Wizard(WizardMsg::Done(r))));
    });
}

/// Write the wizard's report; the message says where, or what went wrong.
pub fn export_report(report: &ApplyReport, path: &Path) -> Result<String, String> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "cannot create the report directory {}: {e}; check its permissions",
                dir.display()
            )
        })?;
    }
    report.write(path).map_err(|e| e.to_string())?;
    // The file name first: on a narrow screen the toast is cut from the right.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    Ok(format!("wrote {name} to {dir}"))
}

/// What a reload reads: the scope asked for (the loader reads one workspace's tables as
/// they are when the database holds only one), the window the Workspaces tab counts
/// expiring subscriptions in, and the "now" of the display rows.
#[derive(Debug, Clone)]
pub struct ReloadJob {
    pub scope: ViewScope,
    pub window_days: u32,
    pub now: chrono::DateTime<Utc>,
}

/// Load every tab, smallest first, building display rows off the UI task.
pub(super) fn spawn_reload(store: Store, job: ReloadJob, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let send = |l| {
            let _ = tx.send(Msg::Loaded(l));
        };
        if let Err(e) = load_scope(&store, &job, &send).await {
            send(Loaded::Failed(e.to_string()));
        }
        let _ = tx.send(Msg::ReloadDone);
    });
}

/// How many devices the first screen shows before the full list is in (a tall terminal
/// shows ~100 rows; the head also covers the first PgDn).
pub const HEAD_ROWS: i64 = 200;

/// The queries and row building behind a reload of every workspace (also used by tests and
/// benchmarks); see [`load_scope`].
pub async fn load_all(
    store: &Store,
    now: chrono::DateTime<Utc>,
    send: &(dyn Fn(Loaded) + Sync),
) -> anyhow::Result<()> {
    let job = ReloadJob {
        scope: ViewScope::All,
        window_days: 30,
        now,
    };
    load_scope(store, &job, send).await
}

/// The scope the tables are read for: one workspace's tables as they are when the database
/// holds no other; else the one asked for if it is stored, or all of them.
pub(super) fn effective_scope(asked: &ViewScope, list: &[WorkspaceOverview]) -> ViewScope {
    if list.len() <= 1 {
        return ViewScope::Single;
    }
    match asked {
        ViewScope::One(id) if list.iter().any(|o| o.ws.id == *id) => asked.clone(),
        _ => ViewScope::All,
    }
}

/// A workspace before its figures are counted.
pub(super) fn without_figures(ws: crate::store::workspaces::WorkspaceRecord) -> WorkspaceOverview {
    WorkspaceOverview {
        ws,
        devices: 0,
        subscriptions: 0,
        expiring: 0,
        last_good_sync: None,
        last_run_outcome: None,
        last_run_error: None,
        last_run_finished: None,
    }
}

/// A workspace's name for the Workspace column (its id if it is not stored).
fn ws_name<'a>(names: &'a std::collections::HashMap<String, String>, id: &'a str) -> &'a str {
    names.get(id).map_or(id, String::as_str)
}

/// The queries and row building behind a reload.
///
/// The stored workspaces come first (they decide whether the tables have a Workspace
/// column), then the first screenful of devices and the per-type counts, from two small
/// queries, so the console shows data within milliseconds; the full device list then
/// streams in and its display rows are built as the database rows arrive (the result set,
/// the records and the rows are never all in memory at once).
pub async fn load_scope(
    store: &Store,
    job: &ReloadJob,
    send: &(dyn Fn(Loaded) + Sync),
) -> anyhow::Result<()> {
    let now = job.now;
    // The workspaces themselves first (a small table): they decide the scope and the
    // Workspace column. Their figures read every device, so they are counted beside the
    // first screenful, not before it, and follow it.
    let records = store.workspaces().await?;
    let list: Vec<WorkspaceOverview> = records.into_iter().map(without_figures).collect();
    let scope = effective_scope(&job.scope, &list);
    let multi = scope != ViewScope::Single;
    let names = workspaces::names(&list);
    let name = |id: &str| -> Box<str> { ws_name(&names, id).into() };
    send(Loaded::Workspaces {
        scope: scope.clone(),
        list: Arc::new(list),
        figures: false,
    });
    // The count reads every device (the consolidated one of 301 workspaces ~250 ms), the
    // head only its first rows: the screenful is sent as soon as it is read, the count
    // beside it when done. The workspaces' figures read every device too, so they start
    // after both rather than take a core from them.
    let counts = {
        let (store, scope) = (store.clone(), scope.clone());
        tokio::spawn(async move { store.view_device_type_counts_in(&scope).await })
    };
    let (last, head) = tokio::join!(
        store.view_last_good_sync_in(&scope),
        store.view_devices_head_in(&scope, HEAD_ROWS),
    );
    send(Loaded::LastGoodSync(last?));
    let head: Vec<rows_row::Row> = head?
        .iter()
        .map(|(ws, d)| rows::device_row_in(d, now, multi.then(|| ws_name(&names, ws))))
        .collect();
    // No breakdown of its own: the head's types are not the inventory's, so the line waits
    // for the count.
    send(Loaded::DevicesHead {
        data: rows_row::TableData {
            rows: head,
            breakdown: Vec::new(),
        },
    });
    let counts = counts.await??;
    let total: usize = counts
        .iter()
        .map(|(_, n)| usize::try_from(*n).unwrap_or(0))
        .sum();
    send(Loaded::DeviceCounts {
        breakdown: rows::device_breakdown(&counts),
        total,
    });
    let list = store.workspace_overview(job.window_days).await?;
    send(Loaded::Workspaces {
        scope: scope.clone(),
        list: Arc::new(list),
        figures: true,
    });
    let subs = store.view_subscriptions_in(&scope).await?;
    let sub_names: Vec<Box<str>> = subs.iter().map(|(ws, _)| name(ws)).collect();
    let records: Vec<SubscriptionRecord> = subs.into_iter().map(|(_, s)| s).collect();
    let (records, table, sub_names) = tokio::task::spawn_blocking(move || {
        let table = if multi {
            rows::subscription_rows_in(&records, Some(&sub_names), now)
        } else {
            rows::subscription_rows(&records, now)
        };
        (Arc::new(records), table, Arc::new(sub_names))
    })
    .await?;
    if multi {
        send(Loaded::ScopedSubscriptions {
            records,
            names: sub_names,
            table,
        });
    } else {
        send(Loaded::Subscriptions { records, table });
    }
    let mut devs = Vec::with_capacity(total);
    store
        .view_devices_each_in(&scope, |ws, d| {
            devs.push(rows::device_row_in(
                &d,
                now,
                multi.then(|| ws_name(&names, &ws)),
            ));
        })
        .await?;
    send(Loaded::Devices(rows::device_table_in(devs, multi)));
    let mut covered = rows::Covered::default();
    store
        .view_covered_devices_each_in(&scope, |d| covered.push(&d))
        .await?;
    covered.shrink();
    send(Loaded::Covered(covered));
    let runs = store.view_assignment_runs_in(&scope).await?;
    let run_names: Vec<Box<str>> = runs.iter().map(|(ws, _)| name(ws)).collect();
    let runs: Vec<_> = runs.into_iter().map(|(_, r)| r).collect();
    send(Loaded::Assign(rows::assign_rows_in(
        &runs,
        multi.then_some(run_names.as_slice()),
    )));
    let (scoped, rows) = overview_scope(store, &scope);
    let figures = scoped.overview_figures(now, job.window_days, rows).await?;
    send(Loaded::Overview(Arc::new(figures)));
    Ok(())
}

/// The store and rows the overview reads for a table scope: those the tabs show.
pub fn overview_scope(store: &Store, scope: &ViewScope) -> (Store, Rows) {
    match scope {
        ViewScope::Single => (store.clone(), Rows::Own),
        ViewScope::One(id) => (store.for_workspace(id.clone()), Rows::Attributed),
        ViewScope::All => (store.clone(), Rows::All),
    }
}

/// The ids behind one of the overview's numbers (also used by tests to carry out
/// `Effect::LoadJump`).
pub async fn jump_ids(
    store: &Store,
    jump: &Jump,
    scope: &ViewScope,
    now: chrono::DateTime<Utc>,
    window_days: u32,
) -> Result<Vec<String>, String> {
    let (scoped, rows) = overview_scope(store, scope);
    scoped
        .overview_ids(jump, now, window_days, rows)
        .await
        .map_err(|e| e.to_string())
}

pub(super) fn spawn_jump(
    store: Store,
    jump: Jump,
    scope: ViewScope,
    now: chrono::DateTime<Utc>,
    window_days: u32,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let ids = jump_ids(&store, &jump, &scope, now, window_days).await;
        let _ = tx.send(Msg::Loaded(Loaded::Jump { jump, ids }));
    });
}

/// A record's detail and its change history, read together (also used by tests): the
/// pane shows both as soon as either would.
pub async fn load_detail(
    store: &Store,
    table: TableId,
    id: String,
) -> Result<Loaded, crate::store::StoreError> {
    let (resource, detail) = if table == TableId::Devices {
        (Resource::Devices, store.view_device_detail(&id).await?)
    } else {
        (
            Resource::Subscriptions,
            store.view_subscription_detail(&id).await?,
        )
    };
    let history = store
        .view_item_history(resource, &id)
        .await
        .map_err(|e| e.to_string());
    Ok(Loaded::Detail {
        table,
        id,
        detail,
        history,
    })
}

pub(super) fn spawn_detail(
    store: Store,
    table: TableId,
    id: String,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let msg = match load_detail(&store, table, id.clone()).await {
            Ok(msg) => msg,
            Err(e) => Loaded::Failed(format!("detail of {id}: {e}")),
        };
        let _ = tx.send(Msg::Loaded(msg));
    });
}

pub(super) fn spawn_export(
    path: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    overwrite: bool,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::task::spawn_blocking(move || {
        let full = std::path::absolute(&path).map_or(path, |p| p.display().to_string());
        if !overwrite && std::path::Path::new(&full).exists() {
            let ask = Loaded::ExportExists {
                path: full,
                header,
                rows,
            };
            let _ = tx.send(Msg::Loaded(ask));
            return;
        }
        let r = export_table(&full, &header, &rows);
        let _ = tx.send(Msg::Loaded(Loaded::Exported(r)));
    });
}

/// Write the shown rows to `path` in the format its extension names (the export code the
/// headless `export` uses); the message says where, or what went wrong.
pub fn export_table(path: &str, header: &[String], rows: &[Vec<String>]) -> Result<String, String> {
    use crate::headless::export::{self, Written};
    match export::table(std::path::Path::new(path), header, rows) {
        Ok(Written::Complete { rows }) => Ok(format!("exported {rows} rows to {path}")),
        Ok(Written::ReaderGone) => Ok(format!("exported to {path}")),
        Err(e) => Err(format!("export to {path} failed: {e}")),
    }
}

/// Keep the service catalog's application names (once, at start) for the tables.
pub(super) fn spawn_application_names(
    store: Store,
    client: Client,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        if session::keep_application_names(&store, &client).await {
            let _ = tx.send(Msg::NamesKept);
        }
    });
}

/// Read what the wizard's choices are made from.
pub(super) fn spawn_catalog(store: Store, client: Option<Client>, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let r = session::load_catalog(&store, client.as_ref())
            .await
            .map(|(c, note)| (Arc::new(c), note))
            .map_err(|e| format!("reading subscriptions and tags from the database failed: {e}"));
        let _ = tx.send(Msg::Loaded(Loaded::Wizard(WizardMsg::Catalog(r))));
    });
}

/// Complete a typed path (Tab on the file step); a network home can hang, so on a task.
pub(super) fn spawn_complete(typed: String, home: Option<PathBuf>, tx: mpsc::UnboundedSender<Msg>) {
    tokio::task::spawn_blocking(move || {
        let (new, candidates) = complete_path(&typed, home.as_deref());
        let _ = tx.send(Msg::Loaded(Loaded::Wizard(WizardMsg::Completed {
            typed,
            new,
            candidates,
            load: None,
        })));
    });
}

/// Read and match a sheet, or — Enter on a directory — open it like Tab.
pub(super) fn spawn_sheet_load(
    job: WizardLoadJob,
    generation: u64,
    typed: String,
    home: Option<PathBuf>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let p = job.path.clone();
        let is_dir = tokio::task::spawn_blocking(move || p.is_dir())
            .await
            .unwrap_or(false);
        if is_dir {
            let t = format!("{}/", typed.trim_end_matches('/'));
            let done = tokio::task::spawn_blocking(move || {
                let (new, candidates) = complete_path(&t, home.as_deref());
                Loaded::Wizard(WizardMsg::Completed {
                    typed,
                    new,
                    candidates,
                    load: Some(generation),
                })
            })
            .await;
            if let Ok(l) = done {
                let _ = tx.send(Msg::Loaded(l));
            }
            return;
        }
        let result = wizard_load(job).await;
        let _ = tx.send(Msg::Loaded(Loaded::Wizard(WizardMsg::Loaded {
            generation,
            result,
        })));
    });
}

/// Write the wizard's report on a blocking task.
pub(super) fn spawn_report_export(
    report: Arc<ApplyReport>,
    path: PathBuf,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::task::spawn_blocking(move || {
        let r = export_report(&report, &path);
        let _ = tx.send(Msg::Loaded(Loaded::Exported(r)));
    });
}
