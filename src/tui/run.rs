//! The one loop: terminal input, engine events, engine status, loaded data, filter results,
//! a tick and signals go into the [`App`]; its effects are carried out here. The screen is
//! redrawn only when something changed, at most ~30 times a second, inside a synchronized
//! update so slow SSH links never show half a frame.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::app::{App, Effect, Loaded, T_DEVICES};
use super::clipboard::osc52;
use super::filter::{FilterResult, FilterWorker, MatcherKind};
use super::model::rows;
use super::terminal::TerminalGuard;
use super::theme::no_color_env;
use super::view;
use crate::config::UiConfig;
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
    } = ctx;
    let mut guard = TerminalGuard::enter(ui.mouse)?;
    let mut app = App::new(&ui, read_only, no_color_env(), Utc::now());
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
                Msg::Loaded(l) => app.on_loaded(l),
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
    let _ = commands.try_send(SyncCommand::Shutdown);
    drop(worker);
    drop(guard);
    result
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
        let r = export_csv(&path, &header, &rows);
        let _ = tx.send(Msg::Loaded(Loaded::Exported(r)));
    });
}

/// Write the shown rows to a CSV file; the message says where, or what went wrong.
pub fn export_csv(path: &str, header: &[String], rows: &[Vec<String>]) -> Result<String, String> {
    let fail = |e: &dyn std::fmt::Display| format!("export to {path} failed: {e}");
    let mut w = csv::Writer::from_path(path).map_err(|e| fail(&e))?;
    w.write_record(header).map_err(|e| fail(&e))?;
    for r in rows {
        w.write_record(r).map_err(|e| fail(&e))?;
    }
    w.flush().map_err(|e| fail(&e))?;
    Ok(format!("exported {} rows to {path}", rows.len()))
}
