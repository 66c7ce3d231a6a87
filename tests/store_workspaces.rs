//! Many workspaces in one database: the migration of a single-workspace database, rows kept
//! apart per workspace, the consolidated count, and a fleet sync where one workspace fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share)"
)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::TestDb;
use glp_console::config::{Secret, SyncConfig};
use glp_console::domain::{WorkspaceId, WorkspaceKind};
use glp_console::glp::client::Client;
use glp_console::sim::{self, SimConfig, SimHandle};
use glp_console::store::MIGRATOR;
use glp_console::store::workspaces::WorkspaceSeen;
use glp_console::sync::engine::EngineConfig;
use glp_console::sync::fleet::{Fleet, Member, WorkspaceOutcome, outcome_of};
use glp_console::sync::{Mode, Scope, SyncCommand, SyncEvent, Trigger};

async fn start_sim(devices: usize, subscriptions: usize, seed: u64) -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices,
        subscriptions,
        seed,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Every stored row of `table` by (workspace, id), with its content hash.
async fn rows(db: &TestDb, table: &str) -> BTreeMap<(String, String), Option<i64>> {
    let q = format!("SELECT workspace_id, id, raw_hash FROM {table}");
    let r: Vec<(String, String, Option<i64>)> = sqlx::query_as(sqlx::AssertSqlSafe(q))
        .fetch_all(db.store.pool())
        .await
        .unwrap();
    r.into_iter().map(|(w, i, h)| ((w, i), h)).collect()
}

async fn count(db: &TestDb, q: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(q.to_string()))
        .fetch_one(db.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"))
}

fn seen(id: &str, name: &str) -> WorkspaceSeen {
    WorkspaceSeen {
        id: WorkspaceId::parse(id).unwrap(),
        name: name.into(),
        kind: WorkspaceKind::Standalone,
        parent_id: None,
        inventory_ownership: None,
    }
}

fn engine_cfg(db: &TestDb) -> EngineConfig {
    EngineConfig {
        sync: SyncConfig::default(),
        database_url: db.url.clone(),
        gate: None,
    }
}

/// Sync every member of a fleet once; the outcome of each, by workspace name.
async fn sync_fleet(mut fleet: Fleet) -> BTreeMap<String, WorkspaceOutcome> {
    fleet.sync_all(Scope::Both, Mode::Auto, Trigger::Cli).await;
    let mut out = BTreeMap::new();
    while out.len() < fleet.members.len() {
        let ev = tokio::time::timeout(Duration::from_secs(120), fleet.events.recv())
            .await
            .expect("every workspace's sync ends within two minutes")
            .expect("fleet alive");
        let ws = fleet.member(&ev.workspace).unwrap().ws.clone();
        if let Some(o) = outcome_of(&ws, &ev.event) {
            out.insert(ws.name.clone(), o);
        }
    }
    fleet.shutdown().await;
    out
}

#[tokio::test]
async fn a_single_workspace_database_migrates_with_every_row_kept_and_attributed() {
    let db = TestDb::new().await;
    let sim = start_sim(260, 70, 7).await;
    let mut h = common::engine::engine_for(
        &sim,
        &common::engine::api_config(&sim),
        &db,
        SyncConfig::default(),
    );
    h.commands
        .send(SyncCommand::SyncNow {
            scope: Scope::Both,
            mode: Mode::Full,
            trigger: Trigger::Cli,
        })
        .await
        .unwrap();
    loop {
        match h.events.recv().await.unwrap() {
            SyncEvent::Finished(_) => break,
            e @ SyncEvent::Failed { .. } => panic!("{e:?}"),
            _ => {}
        }
    }
    h.commands.send(SyncCommand::Shutdown).await.unwrap();
    let _ = h.task.await;
    let devices = rows(&db, "devices").await;
    let subs = rows(&db, "subscriptions").await;
    let links = count(&db, "SELECT count(*) FROM device_subscriptions").await;
    let runs = count(&db, "SELECT count(*) FROM sync_history").await;
    assert_eq!(devices.len(), 260);
    assert!(links > 0);

    // Back to the schema before workspaces (the rows stay, in that schema's shape)…
    MIGRATOR.undo(db.store.pool(), 8).await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM devices").await, 260);
    let has_column = count(
        &db,
        "SELECT count(*) FROM information_schema.columns \
         WHERE table_name = 'devices' AND column_name = 'workspace_id'",
    )
    .await;
    assert_eq!(
        has_column, 0,
        "the undo reached the single-workspace schema"
    );
    // …and forward again, as an upgrade does.
    db.store.migrate().await.unwrap();
    assert_eq!(
        rows(&db, "devices").await,
        devices,
        "every device kept, unchanged"
    );
    assert_eq!(rows(&db, "subscriptions").await, subs);
    assert_eq!(
        count(&db, "SELECT count(*) FROM device_subscriptions").await,
        links
    );
    assert_eq!(count(&db, "SELECT count(*) FROM sync_history").await, runs);
    for t in [
        "devices",
        "subscriptions",
        "device_subscriptions",
        "sync_history",
    ] {
        let other = count(
            &db,
            &format!("SELECT count(*) FROM {t} WHERE workspace_id <> 'default'"),
        )
        .await;
        assert_eq!(other, 0, "{t}: every row attributed to the one workspace");
    }
    let listed: Vec<(String, String)> = sqlx::query_as("SELECT id, kind FROM workspaces")
        .fetch_all(db.store.pool())
        .await
        .unwrap();
    assert_eq!(
        listed,
        vec![("default".to_string(), "standalone".to_string())]
    );
    // The history still counts: the next sync is incremental and finds nothing new.
    let store = db.store.for_workspace(WorkspaceId::default_id());
    let b = store
        .baseline(glp_console::domain::Resource::Devices)
        .await
        .unwrap();
    assert!(
        b.last_full_start.is_some(),
        "the full sync before the upgrade is remembered"
    );
}

#[tokio::test]
async fn a_fleet_keeps_workspaces_apart_and_one_failing_workspace_leaves_the_others_synced() {
    let db = TestDb::new().await;
    // Two workspaces whose data share device ids (same seed), one of them larger.
    let a = start_sim(150, 40, 11).await;
    let b = start_sim(220, 40, 11).await;
    let member = |sim: &SimHandle, id: &str, name: &str| {
        let api = common::engine::api_config(sim);
        Member {
            ws: seen(id, name),
            client: Client::new(&api, Secret::new(sim.client_secret())).unwrap(),
        }
    };
    let mut refused_api = common::engine::api_config(&a);
    refused_api.retry.max_total = Duration::from_secs(1);
    let refused = Member {
        ws: seen("3c3c", "refused"),
        client: Client::new(&refused_api, Secret::new("not-the-secret")).unwrap(),
    };
    let seen_all = vec![
        seen("1a1a", "alpha"),
        seen("2b2b", "beta"),
        seen("3c3c", "refused"),
    ];
    db.store.register_workspaces(&seen_all).await.unwrap();
    let sync = SyncConfig {
        patience: Duration::ZERO,
        ..SyncConfig::default()
    };
    let cfg = EngineConfig {
        sync,
        ..engine_cfg(&db)
    };
    let fleet = Fleet::spawn(
        vec![
            member(&a, "1a1a", "alpha"),
            member(&b, "2b2b", "beta"),
            refused,
        ],
        &db.store,
        cfg,
        2,
    );
    let out = sync_fleet(fleet).await;
    assert!(out["alpha"].succeeded(), "{:?}", out["alpha"]);
    assert!(out["beta"].succeeded(), "{:?}", out["beta"]);
    assert!(
        !out["refused"].succeeded(),
        "a refused token fails that workspace"
    );

    // Each workspace holds exactly its simulator's devices.
    let per_ws = |ws: &'static str| {
        let db = &db;
        async move {
            count(
                db,
                &format!(
                    "SELECT count(*) FROM devices WHERE workspace_id = '{ws}' AND removed_at IS NULL"
                ),
            )
            .await
        }
    };
    assert_eq!(per_ws("1a1a").await, a.devices().len() as i64);
    assert_eq!(per_ws("2b2b").await, b.devices().len() as i64);
    assert_eq!(per_ws("3c3c").await, 0);
    // The all-workspaces figure counts a device both hold once.
    let mut ids: Vec<String> = a
        .devices()
        .into_iter()
        .chain(b.devices())
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM devices_consolidated WHERE removed_at IS NULL"
        )
        .await,
        ids.len() as i64
    );
    let overview = db.store.workspace_overview(90).await.unwrap();
    let total: i64 = overview.iter().map(|o| o.devices).sum();
    assert_eq!(
        total,
        ids.len() as i64,
        "the per-workspace column sums to the total"
    );
    let refused = overview.iter().find(|o| o.ws.name == "refused").unwrap();
    assert_eq!(refused.last_good_sync, None);
    assert_eq!(refused.last_run_outcome.as_deref(), Some("failed"));
    assert!(
        overview
            .iter()
            .filter(|o| o.ws.name != "refused")
            .all(|o| o.last_good_sync.is_some())
    );
}
