//! The one loop: terminal input, engine events, engine status, loaded data, filter results,
//! a tick and signals go into the [`App`]; its effects are carried out here. The screen is
//! redrawn only when something changed, at most ~30 times a second, inside a synchronized
//! update so slow SSH links never show half a frame.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::app::{App, Effect, Loaded, T_DEVICES};
use super::clipboard::osc52;
use super::filter::{FilterResult, FilterWorker, MatcherKind};
use super::model::rows;
use super::terminal::TerminalGuard;
use super::theme::no_color_env;
use super::view;
use super::wizard::{WizardData, complete_path, wizard_data};
use crate::assign::apply::{self, ApplyHandle, ApplyOptions, ApplyRequest};
use crate::assign::load::LoadOptions;
use crate::assign::options::Catalog;
use crate::assign::report::ApplyReport;
use crate::assign::session;
use crate::config::UiConfig;
use crate::glp::client::Client;
use crate::store::Store;
use crate::sync::events::{EngineStatus, SyncCommand, SyncEvent};

/// Everything the console needs from the rest of the program.
pub struct TuiContext {
    pub store: Store,
    pub ui: UiConfig,
    /// Commands to the sync engine (sync now, cancel, shutdown on exit).
    pub commands: mpsc::Sender<SyncCommand>,
    pub events: mpsc::Receiver<SyncEvent>,
    pub status: watch::Receiver<EngineStatus>,
    /// `--read-only`: every write path is hidden.
    pub read_only: bool,
    /// The API client for the wizard (catalog, apply); `None` offers the stored
    /// application/region pairs and refuses to apply.
    pub client: Option<Client>,
    /// Open the Assign tab's wizard on this file (and sheet) at start.
    pub assign: Option<(PathBuf, Option<String>)>,
    /// Where the wizard exports reports.
    pub reports_dir: PathBuf,
}

/// Messages from tasks the loop started.
enum Msg {
    Loaded(Loaded),
    Filter(FilterResult),
    ReloadDone,
}

/// Shortest time between two frames (~30 fps).
const FRAME: Duration = Duration::from_millis(33);

/// Run the console until the user quits, the input closes, or SIGTERM/SIGHUP arrives.
pub async fn run(ctx: TuiContext) -> anyhow::Result<()> {
    let TuiContext {
        store,
        ui,
        commands,
        mut events,
        mut status,
        read_only,
        client,
        assign,
        reports_dir,
    } = ctx;
    let mut guard = TerminalGuard::enter(ui.mouse)?;
    let mut app = App::new(&ui, read_only, no_color_env(), Utc::now());
    app.reports_dir = reports_dir;
    app.home = std::env::var_os("HOME").map(PathBuf::from);
    if let Some((path, sheet)) = assign {
        app.wizard_open(&path.display().to_string(), sheet);
    }
    let mut apply_cancel: Option<CancellationToken> = None;
    app.on_status(status.borrow().clone());
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let ftx = tx.clone();
    let worker = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
        let _ = ftx.send(Msg::Filter(r));
    });
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut last_draw = Instant::now() - FRAME;
    let mut reloading = false;
    let mut reload_again = false;
    let mut events_open = true;
    let mut status_open = true;
    let mut result = Ok(());

    loop {
        for effect in app.take_effects() {
            match effect {
                Effect::Quit => {}
                Effect::Sync(cmd) => {
                    if commands.try_send(cmd).is_err() {
                        app.toast(
                            super::app::ToastLevel::Error,
                            "the sync engine is not answering (busy or stopped); try again shortly",
                        );
                    }
                }
                Effect::Reload => {
                    if reloading {
                        reload_again = true;
                    } else {
                        reloading = true;
                        spawn_reload(store.clone(), app.now, tx.clone());
                    }
                }
                Effect::LoadDetail { table, id } => {
                    spawn_detail(store.clone(), table, id, tx.clone())
                }
                Effect::Filter(job) => worker.submit(job),
                Effect::Copy(text) => {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(osc52(&text).as_bytes());
                    let _ = out.flush();
                }
                Effect::Export { path, header, rows } => {
                    spawn_export(path, header, rows, tx.clone())
                }
                Effect::WizardCatalog => {
                    let (store, client, tx) = (store.clone(), client.clone(), tx.clone());
                    tokio::spawn(async move {
                        let r = session::load_catalog(&store, client.as_ref())
                            .await
                            .map(|(c, note)| (Arc::new(c), note))
                            .map_err(|e| {
                                format!("reading subscriptions and tags from the database failed: {e}; check the database connection, then press r to retry")
                            });
                        let _ = tx.send(Msg::Loaded(Loaded::WizardCatalog(r)));
                    });
                }
                Effect::WizardComplete { typed } => {
                    let (home, tx) = (app.home.clone(), tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let (new, candidates) = complete_path(&typed, home.as_deref());
                        let _ = tx.send(Msg::Loaded(Loaded::WizardCompleted {
                            typed,
                            new,
                            candidates,
                            load: None,
                        }));
                    });
                }
                Effect::WizardLoad {
                    generation,
                    path,
                    typed,
                    sheet,
                } => {
                    let known = app.wizard.as_ref().and_then(|w| w.catalog.clone());
                    let job = WizardLoadJob {
                        store: store.clone(),
                        known,
                        path,
                        sheet,
                        client: client.clone(),
                    };
                    let (tx, home) = (tx.clone(), app.home.clone());
                    tokio::spawn(async move {
                        // Enter on a directory opens it, like Tab.
                        let p = job.path.clone();
                        let is_dir = tokio::task::spawn_blocking(move || p.is_dir())
                            .await
                            .unwrap_or(false);
                        if is_dir {
                            let t = format!("{}/", typed.trim_end_matches('/'));
                            let done = tokio::task::spawn_blocking(move || {
                                let (new, candidates) = complete_path(&t, home.as_deref());
                                Loaded::WizardCompleted {
                                    typed,
                                    new,
                                    candidates,
                                    load: Some(generation),
                                }
                            })
                            .await;
                            if let Ok(l) = done {
                                let _ = tx.send(Msg::Loaded(l));
                            }
                            return;
                        }
                        let result = wizard_load(job).await;
                        let _ = tx.send(Msg::Loaded(Loaded::Wizard { generation, result }));
                    });
                }
                Effect::WizardApply { plan, run, dry_run } => match &client {
                    None => app.on_loaded(Loaded::WizardDone(Err(
                        "no GreenLake API client is configured; set the credentials (see `glp-console config check`)".into(),
                    ))),
                    Some(c) => {
                        let h = apply::start(
                            c.clone(),
                            store.clone(),
                            ApplyRequest { plan: *plan, run: *run },
                            ApplyOptions {
                                dry_run,
                                engine: Some(commands.clone()),
                                ..ApplyOptions::default()
                            },
                        );
                        apply_cancel = Some(h.cancel.clone());
                        spawn_apply_forwarder(h, tx.clone());
                    }
                },
                Effect::WizardCancel => {
                    if let Some(c) = &apply_cancel {
                        c.cancel();
                    }
                }
                Effect::WizardExport { report, path } => {
                    let tx = tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let r = export_report(&report, &path);
                        let _ = tx.send(Msg::Loaded(Loaded::Exported(r)));
                    });
                }
            }
        }
        if app.quit {
            break;
        }
        if app.dirty && last_draw.elapsed() >= FRAME {
            draw(&mut guard, &mut app)?;
            last_draw = Instant::now();
        }
        let next_frame = last_draw + FRAME;
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) => app.handle_key(k),
                Some(Ok(Event::Resize(_, _))) => app.dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => { result = Err(anyhow::anyhow!("reading the terminal failed: {e}")); break; }
                None => break, // input closed (EOF)
            },
            ev = events.recv(), if events_open => match ev {
                Some(ev) => app.on_sync_event(ev),
                None => events_open = false,
            },
            changed = status.changed(), if status_open => match changed {
                Ok(()) => { let s = status.borrow_and_update().clone(); app.on_status(s); }
                Err(_) => status_open = false,
            },
            Some(msg) = rx.recv() => match msg {
                Msg::Loaded(l) => {
                    if matches!(l, Loaded::WizardDone(_)) {
                        apply_cancel = None;
                    }
                    app.on_loaded(l)
                }
                Msg::Filter(r) => app.on_filter(r),
                Msg::ReloadDone => {
                    reloading = false;
                    if std::mem::take(&mut reload_again) { app.effects.push(Effect::Reload); }
                }
            },
            _ = tick.tick() => app.on_tick(Utc::now()),
            _ = tokio::time::sleep_until(next_frame), if app.dirty => {}
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
        }
    }
    // An apply still running (SIGTERM, SIGHUP, input closed) is cancelled and followed
    // to its end, so the audit trail records what was sent.
    if let Some(c) = apply_cancel.take() {
        c.cancel();
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            if matches!(msg, Msg::Loaded(Loaded::WizardDone(_))) {
                break;
            }
        }
    }
    let _ = commands.try_send(SyncCommand::Shutdown);
    drop(worker);
    drop(guard);
    result
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
}

/// Read and match the sheet, then build the display rows — all off the UI task (also
/// used by tests to carry out `Effect::WizardLoad`).
pub async fn wizard_load(job: WizardLoadJob) -> Result<Box<WizardData>, String> {
    let started = Utc::now();
    let opts = LoadOptions { sheet: job.sheet };
    let prepared = session::prepare(&job.store, job.client.as_ref(), &job.path, &opts)
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
fn spawn_apply_forwarder(h: ApplyHandle, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let ApplyHandle {
            mut run_events,
            join,
            ..
        } = h;
        while let Some(ev) = run_events.recv().await {
            let _ = tx.send(Msg::Loaded(Loaded::WizardEvent(ev)));
        }
        let r = match join.await {
            Ok(Ok(report)) => Ok(Arc::new(report)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("the apply task ended abnormally: {e}")),
        };
        let _ = tx.send(Msg::Loaded(Loaded::WizardDone(r)));
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

fn draw(guard: &mut TerminalGuard, app: &mut App) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    crossterm::queue!(out, crossterm::terminal::BeginSynchronizedUpdate)?;
    guard.terminal.draw(|f| view::draw(f, app))?;
    crossterm::execute!(out, crossterm::terminal::EndSynchronizedUpdate)?;
    app.dirty = false;
    Ok(())
}

/// Load every tab, smallest first, building display rows off the UI task.
fn spawn_reload(store: Store, now: chrono::DateTime<Utc>, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let send = |l| {
            let _ = tx.send(Msg::Loaded(l));
        };
        if let Err(e) = load_all(&store, now, &send).await {
            send(Loaded::Failed(e.to_string()));
        }
        let _ = tx.send(Msg::ReloadDone);
    });
}

/// How many devices the first screen shows before the full list is in (a tall terminal
/// shows ~100 rows; the head also covers the first PgDn).
pub const HEAD_ROWS: i64 = 200;

/// The queries and row building behind a reload (also used by tests and benchmarks).
///
/// The first screenful of devices and the per-type counts come first, from two small
/// queries, so the console shows data within milliseconds; the full device list then
/// streams in and its display rows are built as the database rows arrive (the result set,
/// the records and the rows are never all in memory at once).
pub async fn load_all(
    store: &Store,
    now: chrono::DateTime<Utc>,
    send: &(dyn Fn(Loaded) + Sync),
) -> anyhow::Result<()> {
    let (last, counts, head) = tokio::join!(
        store.view_last_good_sync(),
        store.view_device_type_counts(),
        store.view_devices_head(HEAD_ROWS),
    );
    send(Loaded::LastGoodSync(last?));
    let counts = counts?;
    let total = counts
        .iter()
        .map(|(_, n)| usize::try_from(*n).unwrap_or(0))
        .sum::<usize>();
    let mut data = rows::device_rows(&head?, now);
    data.breakdown = rows::device_breakdown(&counts);
    send(Loaded::DevicesHead { data, total });
    let subs = store.view_subscriptions().await?;
    let (records, table) = tokio::task::spawn_blocking(move || {
        let table = rows::subscription_rows(&subs, now);
        (Arc::new(subs), table)
    })
    .await?;
    send(Loaded::Subscriptions { records, table });
    let mut devs = Vec::with_capacity(total);
    store
        .view_devices_each(|d| devs.push(rows::device_row(&d, now)))
        .await?;
    send(Loaded::Devices(rows::device_table(devs)));
    let mut covered = rows::Covered::default();
    store
        .view_covered_devices_each(now + chrono::Duration::days(3650), |d| covered.push(&d))
        .await?;
    covered.shrink();
    send(Loaded::Covered(covered));
    let runs = store.view_assignment_runs().await?;
    send(Loaded::Assign(rows::assign_rows(&runs)));
    Ok(())
}

fn spawn_detail(store: Store, table: usize, id: String, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let r = if table == T_DEVICES {
            store.view_device_detail(&id).await
        } else {
            store.view_subscription_detail(&id).await
        };
        let msg = match r {
            Ok(detail) => Loaded::Detail { table, id, detail },
            Err(e) => Loaded::Failed(format!("detail of {id}: {e}")),
        };
        let _ = tx.send(Msg::Loaded(msg));
    });
}

fn spawn_export(
    path: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::task::spawn_blocking(move || {
        let r = export_table(&path, &header, &rows);
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
