//! The sync engine against the simulator over HTTP and a real PostgreSQL database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::TestDb;
use glp_console::config::{ApiConfig, Config, Secret, SyncConfig};
use glp_console::glp::client::Client;
use glp_console::sim::{self, Faults, SimConfig, SimHandle};
use glp_console::sync::engine::EngineHandle;
use glp_console::sync::{
    FailureKind, Mode, Outcome, Resource, ResourceOutcome, ResourceSummary, Scope, SyncCommand,
    SyncEvent, SyncSummary, Trigger,
};
use serde_json::Value;

/// The shared engine-test settings, with a breaker that cools down within a test (one
/// here waits for it).
fn api_config(sim: &SimHandle) -> ApiConfig {
    let mut api = common::engine::api_config(sim);
    api.breaker.cooldown = Duration::from_millis(500);
    api
}

async fn start_sim(devices: usize, subscriptions: usize) -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices,
        subscriptions,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

fn engine_for(sim: &SimHandle, db: &TestDb) -> EngineHandle {
    engine_with(sim, db, SyncConfig::default())
}

fn engine_with(sim: &SimHandle, db: &TestDb, sync: SyncConfig) -> EngineHandle {
    common::engine::engine_for(sim, &api_config(sim), db, sync)
}

/// Ask for a sync and wait for its final event.
async fn sync(h: &mut EngineHandle, scope: Scope, mode: Mode) -> SyncEvent {
    h.commands
        .send(SyncCommand::SyncNow {
            scope,
            mode,
            trigger: Trigger::Cli,
        })
        .await
        .unwrap();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(60), h.events.recv())
            .await
            .expect("the sync ends within a minute")
            .expect("engine alive");
        if matches!(ev, SyncEvent::Finished(_) | SyncEvent::Failed { .. }) {
            return ev;
        }
    }
}

fn finished(ev: SyncEvent) -> SyncSummary {
    match ev {
        SyncEvent::Finished(s) => s,
        other => panic!("expected a finished sync, got {other:?}"),
    }
}

fn res(s: &SyncSummary, r: Resource) -> ResourceSummary {
    s.resources
        .iter()
        .find(|x| x.resource == Some(r))
        .cloned()
        .unwrap_or_default()
}

async fn stored_raw(db: &TestDb, table: &str) -> BTreeMap<String, Value> {
    let rows: Vec<(String, Value)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, raw_data FROM {table} WHERE removed_at IS NULL"
    )))
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    rows.into_iter().collect()
}

fn by_id(items: Vec<Value>) -> BTreeMap<String, Value> {
    items
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_string(), v))
        .collect()
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

#[tokio::test]
async fn full_sync_stores_exactly_the_simulators_data_and_a_repeat_changes_nothing() {
    let db = TestDb::new().await;
    let sim = start_sim(450, 120).await;
    let mut h = engine_for(&sim, &db);
    let s = finished(sync(&mut h, Scope::Both, Mode::Auto).await);
    assert_eq!(s.mode, Mode::Full, "first run is full");
    assert_eq!(s.outcome, Outcome::Succeeded);
    let devices = by_id(sim.devices());
    let subs = by_id(sim.subscriptions());
    assert_eq!(res(&s, Resource::Devices).inserted, devices.len() as u64);
    assert_eq!(res(&s, Resource::Subscriptions).inserted, subs.len() as u64);
    assert_eq!(res(&s, Resource::Devices).pages, 5);

    // Rows: every item byte-for-byte (as JSON), nothing more.
    assert_eq!(stored_raw(&db, "devices").await, devices);
    assert_eq!(stored_raw(&db, "subscriptions").await, subs);

    // Columns, field by field.
    type Cols = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        Option<String>,
        Option<String>,
    );
    let cols: Vec<Cols> = sqlx::query_as(
        "SELECT id, serial_number, mac_address, device_type, region, application_id, archived, assigned_state, model FROM devices",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    for (id, serial, mac, ty, region, app, archived, state, model) in cols {
        let d = &devices[&id];
        assert_eq!(Some(serial), opt_str(&d["serialNumber"]), "{id}");
        assert_eq!(mac, opt_str(&d["macAddress"]), "{id}");
        assert_eq!(ty, opt_str(&d["deviceType"]), "{id}");
        assert_eq!(region, opt_str(&d["region"]), "{id}");
        assert_eq!(app, opt_str(&d["application"]["id"]), "{id}");
        assert_eq!(archived, d["archived"].as_bool().unwrap_or(false), "{id}");
        assert_eq!(state, opt_str(&d["assignedState"]), "{id}");
        assert_eq!(model, opt_str(&d["model"]), "{id}");
    }
    // Tags and links.
    let tags: Vec<(String, String, String)> =
        sqlx::query_as("SELECT device_id, tag_key, tag_value FROM device_tags")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    let tags: BTreeSet<_> = tags.into_iter().collect();
    let mut expected_tags = BTreeSet::new();
    let mut expected_links = BTreeSet::new();
    for (id, d) in &devices {
        if let Some(t) = d["tags"].as_object() {
            for (k, v) in t {
                expected_tags.insert((id.clone(), k.clone(), v.as_str().unwrap_or("").to_string()));
            }
        }
        if let Some(list) = d["subscription"].as_array() {
            for l in list {
                expected_links.insert((id.clone(), l["id"].as_str().unwrap().to_string()));
            }
        }
    }
    assert!(
        !expected_tags.is_empty() && !expected_links.is_empty(),
        "the sim makes tags and links"
    );
    assert_eq!(tags, expected_tags);
    let links: Vec<(String, String)> =
        sqlx::query_as("SELECT device_id, subscription_id FROM device_subscriptions")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    assert_eq!(links.into_iter().collect::<BTreeSet<_>>(), expected_links);
    let sub_tags: i64 = sqlx::query_scalar("SELECT count(*) FROM subscription_tags")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    let expected_sub_tags: usize = subs
        .values()
        .map(|s| s["tags"].as_object().map_or(0, |m| m.len()))
        .sum();
    assert_eq!(sub_tags as usize, expected_sub_tags);

    // Nothing changed: an incremental sync writes nothing, a full one neither.
    let s = finished(sync(&mut h, Scope::Both, Mode::Auto).await);
    assert_eq!(s.mode, Mode::Incremental);
    for r in &s.resources {
        assert_eq!((r.inserted, r.updated, r.removed), (0, 0, 0), "{r:?}");
    }
    let s = finished(sync(&mut h, Scope::Both, Mode::Full).await);
    let d = res(&s, Resource::Devices);
    assert_eq!(
        (d.inserted, d.updated, d.removed, d.unchanged),
        (0, 0, 0, devices.len() as u64)
    );

    // The runs are recorded.
    let runs = db.store.recent_runs(10).await.unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r.outcome == "succeeded"));
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn incremental_moves_only_what_changed_and_full_marks_removals() {
    let db = TestDb::new().await;
    let sim = start_sim(300, 40).await;
    let mut h = engine_for(&sim, &db);
    finished(sync(&mut h, Scope::Both, Mode::Auto).await);

    let ids: Vec<String> = sim
        .devices()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    // Change 3, add 2, remove 1.
    for id in &ids[..3] {
        assert!(sim.modify_device(id, |d| d["tags"] = serde_json::json!({"changed": "yes"})));
    }
    let added = sim.add_devices(2);
    assert!(sim.remove_device(&ids[10]));

    let s = finished(sync(&mut h, Scope::Devices, Mode::Auto).await);
    assert_eq!(s.mode, Mode::Incremental);
    let d = res(&s, Resource::Devices);
    assert_eq!(
        (d.fetched, d.inserted, d.updated, d.removed),
        (5, 2, 3, 0),
        "{d:?}"
    );
    let tag: String = sqlx::query_scalar(
        "SELECT tag_value FROM device_tags WHERE device_id = $1 AND tag_key = 'changed'",
    )
    .bind(&ids[0])
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(tag, "yes");
    for id in &added {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM devices WHERE id = $1")
            .bind(id)
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        assert_eq!(n, 1);
    }

    // A full sync reconciles: the removed device is marked, not deleted.
    let s = finished(sync(&mut h, Scope::Devices, Mode::Full).await);
    let d = res(&s, Resource::Devices);
    assert_eq!((d.inserted, d.updated, d.removed), (0, 0, 1), "{d:?}");
    let removed: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT removed_at FROM devices WHERE id = $1")
            .bind(&ids[10])
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert!(removed.is_some());
    assert_eq!(stored_raw(&db, "devices").await, by_id(sim.devices()));
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn an_outage_mid_sync_fails_the_run_keeps_data_and_the_next_run_succeeds() {
    let db = TestDb::new().await;
    let sim = start_sim(600, 20).await;
    // An outage longer than the patience (tests/sync_outage.rs rides out shorter ones).
    let mut h = engine_with(
        &sim,
        &db,
        SyncConfig {
            patience: Duration::from_secs(2),
            ..SyncConfig::default()
        },
    );
    finished(sync(&mut h, Scope::Devices, Mode::Auto).await);
    let before = stored_raw(&db, "devices").await;

    // Change some data, then take the API down after two more requests.
    let ids: Vec<String> = sim
        .devices()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    for id in ids.iter().rev().take(5) {
        sim.modify_device(id, |d| d["deviceName"] = serde_json::json!("renamed"));
    }
    sim.set_faults(Faults {
        outage: Some(sim::Outage {
            after_requests: 2,
            duration: Duration::from_secs(30),
        }),
        ..Faults::default()
    });
    let ev = sync(&mut h, Scope::Devices, Mode::Full).await;
    let SyncEvent::Failed {
        kind,
        summary,
        error,
        ..
    } = ev
    else {
        panic!("expected a failed run, got {ev:?}")
    };
    assert_eq!(kind, FailureKind::Api, "{error}");
    let summary = summary.unwrap();
    assert_eq!(summary.outcome, Outcome::Failed);
    assert!(!res(&summary, Resource::Devices).complete);
    // Nothing was lost or marked removed; the pages that did arrive are consistent.
    let after = stored_raw(&db, "devices").await;
    assert_eq!(after.len(), before.len());
    let removed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM devices WHERE removed_at IS NOT NULL")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(removed, 0);
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_seen")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(
        seen, 0,
        "an incomplete full sync leaves no seen-marks behind"
    );
    let runs = db.store.recent_runs(1).await.unwrap();
    assert_eq!(runs[0].outcome, "failed");
    assert!(
        runs[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("/devices/v1/devices"),
        "{:?}",
        runs[0].error
    );

    // The API comes back: the next run completes.
    sim.set_faults(Faults::default());
    tokio::time::sleep(Duration::from_millis(600)).await; // breaker cool-down in this config
    let s = finished(sync(&mut h, Scope::Devices, Mode::Full).await);
    assert_eq!(s.outcome, Outcome::Succeeded);
    assert_eq!(stored_raw(&db, "devices").await, by_id(sim.devices()));
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_second_request_while_running_is_answered_not_queued_and_cancel_records_the_run() {
    let db = TestDb::new().await;
    let sim = start_sim(800, 10).await;
    sim.set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let mut h = engine_for(&sim, &db);
    let now = SyncCommand::SyncNow {
        scope: Scope::Devices,
        mode: Mode::Full,
        trigger: Trigger::Tui,
    };
    h.commands.send(now.clone()).await.unwrap();
    // Wait for the first page, then ask again and cancel.
    loop {
        if let SyncEvent::Page { .. } = h.events.recv().await.unwrap() {
            break;
        }
    }
    h.commands.send(now).await.unwrap();
    let mut already = false;
    loop {
        match h.events.recv().await.unwrap() {
            SyncEvent::AlreadyRunning => {
                already = true;
                h.commands.send(SyncCommand::Cancel).await.unwrap();
            }
            SyncEvent::Failed { kind, summary, .. } => {
                assert_eq!(kind, FailureKind::Cancelled);
                assert_eq!(summary.unwrap().outcome, Outcome::Cancelled);
                break;
            }
            SyncEvent::Finished(s) => panic!("should have been cancelled: {s:?}"),
            _ => {}
        }
    }
    assert!(already);
    let runs = db.store.recent_runs(5).await.unwrap();
    assert_eq!(runs.len(), 1, "the second request did not start a run");
    assert_eq!(runs[0].outcome, "cancelled");
    let removed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM devices WHERE removed_at IS NOT NULL")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(removed, 0, "a cancelled full sync marks nothing removed");
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_fail_as_auth_without_touching_data() {
    let db = TestDb::new().await;
    let sim = start_sim(50, 5).await;
    let api = api_config(&sim);
    let client = Client::new(&api, Secret::new("wrong-secret")).unwrap();
    let mut h = common::engine::spawn_engine(client, &api, &db, Config::default().sync);
    let ev = sync(&mut h, Scope::Both, Mode::Auto).await;
    let SyncEvent::Failed { kind, error, .. } = ev else {
        panic!("{ev:?}")
    };
    assert_eq!(kind, FailureKind::Auth);
    assert!(
        error.contains(&sim.token_url()),
        "names the token URL: {error}"
    );
    assert!(!error.contains("wrong-secret"), "never the secret: {error}");
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_device_failure_still_syncs_subscriptions_exactly_and_the_run_is_partial() {
    let db = TestDb::new().await;
    let sim = start_sim(300, 120).await;
    // Every device list request is refused with a 400 (bad data in, say, a filter).
    sim.set_faults(Faults {
        failing_endpoints: vec!["devices_get".into()],
        failing_endpoint_status: 400,
        ..Faults::default()
    });
    let mut h = engine_for(&sim, &db);
    let ev = sync(&mut h, Scope::Both, Mode::Auto).await;
    let SyncEvent::Failed { kind, summary, .. } = ev else {
        panic!("expected a partial run, got {ev:?}")
    };
    assert_eq!(kind, FailureKind::Api);
    let summary = summary.unwrap();
    assert_eq!(summary.outcome, Outcome::Partial);
    let subs = res(&summary, Resource::Subscriptions);
    assert!(subs.complete);
    assert_eq!(subs.outcome, ResourceOutcome::Succeeded);
    let devices = res(&summary, Resource::Devices);
    assert!(!devices.complete);
    assert_eq!(devices.outcome, ResourceOutcome::Failed);
    assert!(
        devices
            .error
            .as_deref()
            .unwrap_or("")
            .contains("/devices/v1/devices"),
        "{devices:?}"
    );
    // Subscriptions exactly the simulator's; no device stored.
    assert_eq!(
        stored_raw(&db, "subscriptions").await,
        by_id(sim.subscriptions())
    );
    assert!(stored_raw(&db, "devices").await.is_empty());
    // Recorded per resource, as the history shows it again.
    let recorded = db.store.run_resources(summary.run_id).await.unwrap();
    let outcome = |r: Resource| {
        recorded
            .iter()
            .find(|x| x.resource == Some(r))
            .map(|x| (x.outcome, x.complete))
            .unwrap()
    };
    assert_eq!(
        outcome(Resource::Subscriptions),
        (ResourceOutcome::Succeeded, true)
    );
    assert_eq!(outcome(Resource::Devices), (ResourceOutcome::Failed, false));
    assert_eq!(db.store.recent_runs(1).await.unwrap()[0].outcome, "partial");

    // The devices come back: the next run syncs them exactly.
    sim.set_faults(Faults::default());
    let s = finished(sync(&mut h, Scope::Both, Mode::Auto).await);
    assert_eq!(s.outcome, Outcome::Succeeded);
    assert_eq!(stored_raw(&db, "devices").await, by_id(sim.devices()));
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

/// A full sync into a database PostgreSQL has never analysed leaves the planner knowing the
/// tables' real sizes (pg_class.reltuples is what it plans with): without that, the
/// consolidated and compliance reads ran as nested loops for minutes over 300 tenants.
#[tokio::test]
async fn a_large_sync_leaves_the_planner_knowing_the_tables_sizes() {
    let sim = start_sim(3000, 1500).await;
    let db = TestDb::new().await;
    let mut h = engine_for(&sim, &db);
    match sync(&mut h, Scope::Both, Mode::Full).await {
        SyncEvent::Finished(_) => {}
        other => panic!("{other:?}"),
    }
    for (table, truth) in [("devices", 3000.0), ("subscriptions", 1500.0)] {
        let (planned, analysed): (f32, bool) = sqlx::query_as(
            "SELECT c.reltuples, s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL \
               FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid \
              WHERE c.relname = $1 AND s.schemaname = current_schema()",
        )
        .bind(table)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        assert!(analysed, "{table} analysed");
        assert!(
            (f64::from(planned) - truth).abs() <= truth * 0.05,
            "{table}: the planner counts {planned} rows, the table holds {truth}"
        );
    }
    h.commands.send(SyncCommand::Shutdown).await.unwrap();
    sim.shutdown().await;
}
