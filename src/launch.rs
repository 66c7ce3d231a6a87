//! Starting the interactive console: API client, database, sync engine, then the TUI, and an
//! orderly shutdown of the engine when the TUI exits.

use std::path::PathBuf;

use crate::cli::exit;
use crate::config::Config;
use crate::headless::Failure;
use crate::headless::sync_only::engine_config;
use crate::store::Store;
use crate::sync::engine;
use crate::sync::{EngineStatus, Mode, Scope, SyncCommand, Trigger};
use crate::tui::{self, TuiContext};
use tokio::sync::{mpsc, watch};

/// What to do right after the console opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstSync {
    None,
    /// Sync now (the demo, or an empty database): the user watches the progress.
    Now(Trigger),
}

/// Started beside the console with the engine's status and commands (the demo's second
/// sync, after it changed a few devices).
pub type AfterFirstSync =
    Box<dyn FnOnce(watch::Receiver<EngineStatus>, mpsc::Sender<SyncCommand>) + Send>;

/// Open the console (and sync first when asked, or when the database has never synced).
/// `assign` opens the Assign tab's wizard on that file and sheet.
pub async fn console(
    cfg: &Config,
    read_only: bool,
    first: FirstSync,
    assign: Option<(PathBuf, Option<String>)>,
) -> Result<(), Failure> {
    console_then(cfg, read_only, first, assign, None).await
}

/// [`console`], with `then` started beside it (one engine only: a console over several
/// workspaces does not run it).
pub async fn console_then(
    cfg: &Config,
    read_only: bool,
    first: FirstSync,
    assign: Option<(PathBuf, Option<String>)>,
    then: Option<AfterFirstSync>,
) -> Result<(), Failure> {
    // Browsing needs no credentials: read-only opens the stored inventory without them,
    // with sync off and the reason in the status bar.
    let (client, sync_off) = match crate::headless::assign::assign_client(cfg) {
        Ok(c) => (Some(c), None),
        Err(f) if read_only => (None, Some(no_credentials_reason(&f.message))),
        Err(f) => {
            return Err(Failure::new(
                f.code,
                format!(
                    "{}\nTo try the console without GreenLake credentials: glp-console --demo \
                     (or browse a synced database with --read-only)",
                    f.message
                ),
            ));
        }
    };
    let store = crate::sync::roster::open_store(cfg, cfg.database.pool_size.max(2)).await?;
    let Some(client) = client else {
        let result = without_engine(cfg, store.clone(), assign, sync_off).await;
        store.close().await;
        return result;
    };
    if cfg.is_multi_workspace() {
        let result = fleet_console(cfg, &store, client, read_only, first, assign).await;
        store.close().await;
        return result;
    }
    let handle = engine::spawn(client.clone(), store.clone(), engine_config(cfg));
    // A read-only console never syncs by itself: it refuses `s`, so an automatic first sync
    // would write what the user asked not to. The demo's own first sync stays: it fills the
    // demo's database, which `--demo --read-only` would otherwise show empty for good.
    let first = match first {
        FirstSync::None if !read_only && store.last_success().await?.is_none() => {
            FirstSync::Now(Trigger::Tui)
        }
        other => other,
    };
    let mut sync_asked = false;
    if let FirstSync::Now(trigger) = first {
        sync_asked = handle
            .commands
            .send(SyncCommand::SyncNow {
                scope: Scope::Both,
                mode: Mode::Auto,
                trigger,
            })
            .await
            .is_ok();
    }
    let commands = handle.commands.clone();
    if let Some(then) = then.filter(|_| sync_asked) {
        then(handle.status.clone(), commands.clone());
    }
    let result = tui::run(TuiContext {
        store: store.clone(),
        ui: cfg.ui.clone(),
        commands: handle.commands,
        events: handle.events,
        status: handle.status,
        read_only,
        client: Some(client),
        assign,
        reports_dir: cfg.reports_dir(),
        state_dir: cfg.state_dir(),
        sync_asked,
        sync_off: None,
        workspaces: None,
    })
    .await;
    // Stop a running sync cleanly (recorded as cancelled) before leaving.
    let _ = commands.send(SyncCommand::Shutdown).await;
    let _ = handle.task.await;
    store.close().await;
    result.map_err(|e| Failure::new(exit::CONFIG, format!("{e:#}")))
}

/// The console over several workspaces: one engine per workspace (a fleet), its events and
/// statuses fed to the console per workspace, `s` syncing them all.
async fn fleet_console(
    cfg: &Config,
    store: &Store,
    client: crate::glp::client::Client,
    read_only: bool,
    first: FirstSync,
    assign: Option<(PathBuf, Option<String>)>,
) -> Result<(), Failure> {
    let roster = crate::sync::roster::build(cfg, store, &[])
        .await
        .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
    for note in &roster.notes {
        tracing::warn!("{note}");
    }
    // The wizard writes with the client and engine of the workspace it runs in.
    let clients: Vec<crate::sync::fleet::Member> = roster
        .members
        .iter()
        .map(|m| crate::sync::fleet::Member {
            ws: m.ws.clone(),
            client: m.client.clone(),
        })
        .collect();
    let mut fleet = crate::sync::fleet::Fleet::spawn(
        roster.members,
        store,
        engine_config(cfg),
        cfg.sync.workspace_concurrency,
    );
    let feed = tui::run::FleetFeed::new(fleet.take_events(), &fleet.members);
    let targets = tui::WorkspaceTargets::new(
        store.workspace().clone(),
        &clients,
        &fleet.members,
        &roster.unavailable,
    );
    let status = match fleet.member(store.workspace()) {
        Some(m) => m.status.clone(),
        None => tokio::sync::watch::channel(crate::sync::EngineStatus::default()).1,
    };
    let (commands, task) = fleet.behind_commands(store.workspace().clone());
    let never_synced = store
        .workspace_overview(cfg.ui.expiring_days)
        .await?
        .iter()
        .all(|w| w.last_good_sync.is_none());
    let first = match first {
        FirstSync::None if !read_only && never_synced => FirstSync::Now(Trigger::Tui),
        other => other,
    };
    let mut sync_asked = false;
    if let FirstSync::Now(trigger) = first {
        let now = SyncCommand::SyncNow {
            scope: Scope::Both,
            mode: Mode::Auto,
            trigger,
        };
        sync_asked = commands.send(now).await.is_ok();
    }
    // The console's own engine channel stays silent: every event arrives through the feed,
    // tagged with its workspace.
    let (_no_events, events) = tokio::sync::mpsc::channel(1);
    let result = tui::run::run_with(
        TuiContext {
            store: store.clone(),
            ui: cfg.ui.clone(),
            commands: commands.clone(),
            events,
            status,
            read_only,
            client: Some(client),
            assign,
            reports_dir: cfg.reports_dir(),
            state_dir: cfg.state_dir(),
            sync_asked,
            sync_off: None,
            workspaces: Some(targets),
        },
        Some(feed),
    )
    .await;
    let _ = commands.send(SyncCommand::Shutdown).await;
    let _ = task.await;
    result.map_err(|e| Failure::new(exit::CONFIG, format!("{e:#}")))
}

/// What the status bar and every refused sync say when read-only has no credentials; the
/// configuration's own message (which variable is missing) goes to the log.
fn no_credentials_reason(message: &str) -> String {
    tracing::info!("read-only console without API credentials: {message}");
    "read-only, no credentials (GLP_CLIENT_ID, GLP_CLIENT_SECRET)".to_string()
}

/// The console on the stored inventory alone: no client, so no engine; the channels it
/// would feed stay silent.
async fn without_engine(
    cfg: &Config,
    store: Store,
    assign: Option<(PathBuf, Option<String>)>,
    sync_off: Option<String>,
) -> Result<(), Failure> {
    let (commands, _ignored) = tokio::sync::mpsc::channel(16);
    let (_no_events, events) = tokio::sync::mpsc::channel(1);
    let (_no_status, status) = tokio::sync::watch::channel(crate::sync::EngineStatus::default());
    tui::run(TuiContext {
        store,
        ui: cfg.ui.clone(),
        commands,
        events,
        status,
        read_only: true,
        client: None,
        assign,
        reports_dir: cfg.reports_dir(),
        state_dir: cfg.state_dir(),
        sync_asked: false,
        sync_off,
        workspaces: None,
    })
    .await
    .map_err(|e| Failure::new(exit::CONFIG, format!("{e:#}")))
}
