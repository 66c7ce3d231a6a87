//! Starting the interactive console: API client, database, sync engine, then the TUI, and an
//! orderly shutdown of the engine when the TUI exits.

use std::path::PathBuf;

use crate::cli::exit;
use crate::config::Config;
use crate::headless::Failure;
use crate::headless::sync_only::{build_client, engine_config};
use crate::store::Store;
use crate::sync::engine;
use crate::sync::{Mode, Scope, SyncCommand, Trigger};
use crate::tui::{self, TuiContext};

/// What to do right after the console opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstSync {
    None,
    /// Sync now (the demo, or an empty database): the user watches the progress.
    Now(Trigger),
}

/// Open the console (and sync first when asked, or when the database has never synced).
/// `assign` opens the Assign tab's wizard on that file and sheet.
pub async fn console(
    cfg: &Config,
    read_only: bool,
    first: FirstSync,
    assign: Option<(PathBuf, Option<String>)>,
) -> Result<(), Failure> {
    let client = build_client(cfg).map_err(|f| {
        Failure::new(
            f.code,
            format!(
                "{}\nTo try the console without GreenLake credentials: glp-console --demo",
                f.message
            ),
        )
    })?;
    let store = Store::open(&cfg.database.url, cfg.database.pool_size.max(2)).await?;
    let handle = engine::spawn(client.clone(), store.clone(), engine_config(cfg));
    let first = match first {
        FirstSync::None if store.last_success().await?.is_none() => FirstSync::Now(Trigger::Tui),
        other => other,
    };
    if let FirstSync::Now(trigger) = first {
        let _ = handle
            .commands
            .send(SyncCommand::SyncNow {
                scope: Scope::Both,
                mode: Mode::Auto,
                trigger,
            })
            .await;
    }
    let commands = handle.commands.clone();
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
    })
    .await;
    // Stop a running sync cleanly (recorded as cancelled) before leaving.
    let _ = commands.send(SyncCommand::Shutdown).await;
    let _ = handle.task.await;
    store.close().await;
    result.map_err(|e| Failure::new(exit::CONFIG, format!("{e:#}")))
}
