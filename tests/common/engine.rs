//! The API settings, client and sync engine the engine tests point at a simulator, built in
//! one place: a setting the console comes to need, or a change in how it derives the
//! workspace lock key, is then made once rather than in every test file.

use std::time::Duration;

use glp_console::config::{ApiConfig, Secret, SyncConfig};
use glp_console::glp::client::Client;
use glp_console::sim::SimHandle;
use glp_console::sync::engine::{self, EngineConfig, EngineHandle};

use super::TestDb;

/// Settings that reach `sim`: small pages so every sync pages (100 devices, 50
/// subscriptions), the list and operation limits far away (pacing has its own tests), and
/// few, fast retries so a failure shows within a test's patience. Tests that need more
/// (a breaker cool-down, slower retries) change the result.
pub fn api_config(sim: &SimHandle) -> ApiConfig {
    let mut api = ApiConfig {
        base_url: sim.base_url(),
        token_url: sim.token_url(),
        client_id: sim.client_id().to_string(),
        ..ApiConfig::default()
    };
    api.page_size.devices = 100;
    api.page_size.subscriptions = 50;
    let r = &mut api.rate_limits;
    r.devices_get = 100_000;
    r.subscriptions_get = 100_000;
    r.async_operations_get = 100_000;
    api.retry.max_attempts = 3;
    api.retry.base_delay = Duration::from_millis(5);
    api.retry.max_delay = Duration::from_millis(20);
    api.retry.max_total = Duration::from_secs(5);
    api
}

/// A client for `api` with the simulator's secret.
pub fn client(sim: &SimHandle, api: &ApiConfig) -> Client {
    Client::new(api, Secret::new(sim.client_secret())).expect("client builds")
}

/// A sync engine over `db` that reaches `sim` with `api`.
pub fn engine_for(sim: &SimHandle, api: &ApiConfig, db: &TestDb, sync: SyncConfig) -> EngineHandle {
    spawn_engine(client(sim, api), api, db, sync)
}

/// A sync engine over `db` with a client built otherwise (wrong credentials, a recording
/// proxy in front), under the lock key the console takes for `api`'s workspace.
pub fn spawn_engine(
    client: Client,
    _api: &ApiConfig,
    db: &TestDb,
    sync: SyncConfig,
) -> EngineHandle {
    engine::spawn(
        client,
        db.store.clone(),
        EngineConfig {
            sync,
            database_url: db.url.clone(),
            gate: None,
        },
    )
}

/// Ask `h` for a sync of both resources and wait for its end: its summary, or a panic with
/// the failure (a minute at most).
pub async fn sync_now(
    h: &mut EngineHandle,
    mode: glp_console::sync::Mode,
) -> glp_console::sync::SyncSummary {
    use glp_console::sync::{Scope, SyncCommand, SyncEvent, Trigger};
    h.commands
        .send(SyncCommand::SyncNow {
            scope: Scope::Both,
            mode,
            trigger: Trigger::Cli,
        })
        .await
        .expect("the engine takes commands");
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(60), h.events.recv())
            .await
            .expect("the sync ends within a minute")
            .expect("engine alive");
        match ev {
            SyncEvent::Finished(s) => return s,
            e @ SyncEvent::Failed { .. } => panic!("{e:?}"),
            _ => {}
        }
    }
}
