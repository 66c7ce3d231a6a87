//! The one loop: terminal input, engine events, engine status, loaded data, filter results,
//! a tick and signals go into the [`App`]; `tui::effects` carries out what it asks for and
//! `tui::loaders` are the tasks. The screen is redrawn only when something changed, at most
//! ~30 times a second; `tui::output` sends only what changed on screen, in one synchronized
//! update, so slow SSH links never show half a frame.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::app::{App, Effect, Loaded};
use super::effects::Effects;
use super::filter::{FilterWorker, MatcherKind};
use super::loaders::{self, Msg};
use super::terminal::TerminalGuard;
use super::theme::no_color_env;
use super::view;
use super::wizard::WizardMsg;
use crate::config::UiConfig;
use crate::domain::WorkspaceId;
use crate::glp::client::Client;
use crate::store::Store;
use crate::sync::events::{EngineStatus, SyncCommand, SyncEvent};
use crate::sync::fleet::{FleetMember, WorkspaceEvent};

/// Kept here for the callers that knew them as the loop's (tests, benchmarks).
pub use super::loaders::{
    HEAD_ROWS, ReloadJob, WizardLoadJob, export_report, export_table, jump_ids, load_all,
    load_detail, load_scope, wizard_load,
};
pub use super::run_loaders::{CHANGES_LIMIT, ChangesJob, load_changes};

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
    /// A sync was sent to the engine before the console opened (the demo's first sync):
    /// the empty tables say it is coming rather than "no rows yet".
    pub sync_asked: bool,
    /// Why this console cannot sync beyond read-only mode (no credentials).
    pub sync_off: Option<String>,
    /// A console over several workspaces: each one's client and engine, so the wizard
    /// writes to the workspace it was opened in (`None`: one workspace, `client` above).
    pub workspaces: Option<super::targets::WorkspaceTargets>,
    /// Where the saved views live (`Config::state_dir`).
    pub state_dir: PathBuf,
}

/// A fleet's feed for a console over several workspaces (one engine per workspace): every
/// member's events, tagged, and each member's newest status.
pub struct FleetFeed {
    pub events: mpsc::Receiver<WorkspaceEvent>,
    pub statuses: mpsc::Receiver<(WorkspaceId, EngineStatus)>,
}

impl FleetFeed {
    /// The feed of a fleet's members: their events (the fleet's merged stream) and a task
    /// per member forwarding its status whenever it changes.
    pub fn new(events: mpsc::Receiver<WorkspaceEvent>, members: &[FleetMember]) -> FleetFeed {
        let (tx, statuses) = mpsc::channel(256);
        for m in members {
            let (id, mut rx, tx) = (m.ws.id.clone(), m.status.clone(), tx.clone());
            tokio::spawn(async move {
                while rx.changed().await.is_ok() {
                    let s = rx.borrow_and_update().clone();
                    if tx.send((id.clone(), s)).await.is_err() {
                        break;
                    }
                }
            });
        }
        FleetFeed { events, statuses }
    }
}

/// Shortest time between two frames (~30 fps).
const FRAME: Duration = Duration::from_millis(33);

/// Run the console until the user quits, the input closes, or SIGTERM/SIGHUP arrives.
pub async fn run(ctx: TuiContext) -> anyhow::Result<()> {
    run_with(ctx, None).await
}

/// [`run`], with a fleet's events and statuses beside the context's engine (a console over
/// several workspaces: each workspace's progress, breaker and outcome reach its row).
pub async fn run_with(ctx: TuiContext, fleet: Option<FleetFeed>) -> anyhow::Result<()> {
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
        sync_asked,
        sync_off,
        workspaces,
        state_dir,
    } = ctx;
    let mouse = ui.mouse;
    let mut guard = TerminalGuard::enter(mouse)?;
    let mut app = App::new(&ui, read_only, no_color_env(), Utc::now());
    app.set_reports_dir(reports_dir);
    app.load_views(&state_dir);
    if let Some(why) = sync_off {
        app.set_sync_off(why);
    }
    if sync_asked {
        app.sync_requested();
    }
    app.set_home(std::env::var_os("HOME").map(PathBuf::from));
    if let Some(p) = workspaces.as_ref().and_then(|w| w.primary()) {
        app.set_primary_workspace(p.clone());
    }
    if let Some((path, sheet)) = assign {
        app.wizard_open(&path.display().to_string(), sheet);
    }
    app.on_status(status.borrow().clone());
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let ftx = tx.clone();
    let worker = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
        let _ = ftx.send(Msg::Filter(r));
    });
    // Read-only writes nothing by itself, the names cache included: it shows the names
    // the database already has.
    if let Some(c) = client.as_ref().filter(|_| !read_only) {
        loaders::spawn_application_names(store.clone(), c.clone(), tx.clone());
    }
    let mut effects =
        Effects::new(store, client, commands.clone(), tx, worker).with_targets(workspaces);
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut last_draw = Instant::now() - FRAME;
    let mut events_open = true;
    let mut status_open = true;
    let (mut fleet_events, mut fleet_statuses) = match fleet {
        Some(f) => (Some(f.events), Some(f.statuses)),
        None => (None, None),
    };
    let mut result = Ok(());

    loop {
        effects.carry_out(&mut app);
        if app.quitting() {
            break;
        }
        if std::mem::take(&mut effects.suspend) {
            super::suspend::suspend(&mut guard, mouse)?;
            app.mark_dirty();
        }
        if app.is_dirty() && last_draw.elapsed() >= FRAME {
            draw(&mut guard, &mut app)?;
            last_draw = Instant::now();
        }
        let next_frame = last_draw + FRAME;
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) => app.handle_key(k),
                Some(Ok(Event::Resize(_, _))) => app.mark_dirty(),
                Some(Ok(_)) => {}
                Some(Err(e)) => { result = Err(anyhow::anyhow!("reading the terminal failed: {e}")); break; }
                None => break, // input closed (EOF)
            },
            ev = events.recv(), if events_open => match ev {
                Some(ev) => app.on_sync_event(ev),
                None => events_open = false,
            },
            Some(ev) = recv_or_wait(&mut fleet_events) => app.on_fleet_event(ev),
            Some((id, s)) = recv_or_wait(&mut fleet_statuses) => app.on_workspace_status(id, s),
            changed = status.changed(), if status_open => match changed {
                Ok(()) => { let s = status.borrow_and_update().clone(); app.on_status(s); }
                Err(_) => status_open = false,
            },
            Some(msg) = rx.recv() => match msg {
                Msg::Loaded(l) => {
                    if matches!(l, Loaded::Wizard(WizardMsg::Done(_))) {
                        effects.apply_done();
                    }
                    app.on_loaded(l)
                }
                Msg::Filter(r) => app.on_filter(r),
                Msg::ReloadDone => effects.reload_done(&mut app),
                Msg::NamesKept => app.push_effect(Effect::Reload),
            },
            _ = tick.tick() => app.on_tick(Utc::now()),
            _ = tokio::time::sleep_until(next_frame), if app.is_dirty() => {}
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
        }
    }
    // An apply still running (SIGTERM, SIGHUP, input closed) is cancelled and followed
    // to its end, so the audit trail records what was sent.
    if effects.cancel_apply() {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            if matches!(msg, Msg::Loaded(Loaded::Wizard(WizardMsg::Done(_)))) {
                break;
            }
        }
    }
    let _ = commands.try_send(SyncCommand::Shutdown);
    drop(effects);
    drop(guard);
    result
}

/// The next message of an optional channel; never, when there is none or it closed (the
/// channel is dropped then, so a closed feed does not wake the loop again).
async fn recv_or_wait<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    let Some(r) = rx.as_mut() else {
        return std::future::pending().await;
    };
    match r.recv().await {
        Some(v) => Some(v),
        None => {
            *rx = None;
            std::future::pending().await
        }
    }
}

/// The backend writes the frame in one synchronized update, or nothing when nothing on
/// screen changed (`tui::output`).
fn draw(guard: &mut TerminalGuard, app: &mut App) -> anyhow::Result<()> {
    guard.terminal.draw(|f| view::draw(f, app))?;
    app.mark_drawn();
    Ok(())
}
