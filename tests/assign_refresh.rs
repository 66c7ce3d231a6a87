//! The refresh after an assignment goes through the sync engine (issue 13, item 4): a run of
//! its own under the workspace lock, recorded in `sync_history` with trigger `assign`, one
//! filtered list request per batch of serials — and a full sync running meanwhile is
//! serialised with it, so it cannot overwrite the refreshed rows with older data.
//! The simulator over HTTP and a real PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::TestDb;
use glp_console::assign::refresh::{report_of, resync_serials};
use glp_console::config::SyncConfig;
use glp_console::glp::client::Client;
use glp_console::sim::{self, Faults, SimConfig, SimHandle};
use glp_console::sync::engine::EngineHandle;
use glp_console::sync::refresh::SERIALS_PER_LIST;
use glp_console::sync::{Mode, RefreshReply, Scope, SyncCommand, SyncEvent, Trigger};
use serde_json::{Value, json};

fn client(sim: &SimHandle) -> Client {
    common::engine::client(sim, &common::engine::api_config(sim))
}

async fn start_sim(devices: usize) -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices,
        subscriptions: 5,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

fn engine_for(sim: &SimHandle, db: &TestDb) -> EngineHandle {
    common::engine::engine_for(
        sim,
        &common::engine::api_config(sim),
        db,
        SyncConfig::default(),
    )
}

/// The next final event (`Finished`/`Failed`) from the engine.
async fn final_event(h: &mut EngineHandle) -> SyncEvent {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(120), h.events.recv())
            .await
            .expect("the run ends within two minutes")
            .expect("engine alive");
        if matches!(ev, SyncEvent::Finished(_) | SyncEvent::Failed { .. }) {
            return ev;
        }
    }
}

async fn started_event(h: &mut EngineHandle) -> (i64, Mode) {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(60), h.events.recv())
            .await
            .expect("the run starts within a minute")
            .expect("engine alive");
        if let SyncEvent::Started { run_id, mode, .. } = ev {
            return (run_id, mode);
        }
    }
}

async fn stored_devices(db: &TestDb) -> BTreeMap<String, Value> {
    let rows: Vec<(String, Value)> = sqlx::query_as("SELECT id, raw_data FROM devices")
        .fetch_all(db.store.pool())
        .await
        .unwrap();
    rows.into_iter().collect()
}

/// `(trigger, mode, outcome)` of every run, oldest first.
async fn runs(db: &TestDb) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT trigger, mode, outcome FROM sync_history ORDER BY id")
        .fetch_all(db.store.pool())
        .await
        .unwrap()
}

fn serial_and_id(d: &Value) -> (String, String) {
    (
        d["serialNumber"].as_str().unwrap().to_string(),
        d["id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn the_refresh_is_a_recorded_run_with_one_list_request_per_batch() {
    let db = TestDb::new().await;
    let sim = start_sim(400).await;
    let c = client(&sim);
    // 250 touched devices: three batches (100, 100, 50), some of them changed by GreenLake.
    let touched: Vec<(String, String)> =
        sim.devices().iter().take(250).map(serial_and_id).collect();
    for (_, id) in touched.iter().step_by(10) {
        sim.modify_device(id, |d| d["deviceName"] = json!("assigned"));
    }
    let serials: Vec<String> = touched.iter().map(|(s, _)| s.clone()).collect();
    sim.reset_stats();

    let r = resync_serials(&c, &db.store, &serials).await;

    assert_eq!(r.error, None);
    assert_eq!((r.requested, r.fetched), (250, 250));
    assert_eq!(r.inserted, 250, "an empty store: every device is new");
    let stats = sim.stats();
    let batches = serials.len().div_ceil(SERIALS_PER_LIST) as u64;
    assert_eq!(stats.endpoint("devices_get").requests, batches);
    assert_eq!(
        stats.endpoint("device_get").requests,
        0,
        "never one GET per device"
    );

    // Recorded like any run, with trigger `assign`; its counts are the simulator's items.
    assert_eq!(
        runs(&db).await,
        vec![("assign".into(), "refresh".into(), "succeeded".into())]
    );
    let (fetched, inserted, complete): (i32, i32, bool) = sqlx::query_as(
        "SELECT fetched, inserted, complete FROM sync_history_resources WHERE resource = 'devices'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!((fetched, inserted), (250, 250));
    assert!(!complete, "a refresh reads a few devices: never a baseline");
    let stored = stored_devices(&db).await;
    for (_, id) in &touched {
        assert_eq!(stored.get(id), sim.device(id).as_ref(), "device {id}");
    }
    // A refresh is not "the last good sync" of the whole inventory.
    assert_eq!(db.store.last_success().await.unwrap(), None);
}

#[tokio::test]
async fn a_full_sync_running_meanwhile_cannot_overwrite_the_refreshed_rows() {
    let db = TestDb::new().await;
    let sim = start_sim(300).await;
    let mut h = engine_for(&sim, &db);
    h.commands
        .send(SyncCommand::SyncNow {
            scope: Scope::Both,
            mode: Mode::Full,
            trigger: Trigger::Cli,
        })
        .await
        .unwrap();
    assert!(matches!(final_event(&mut h).await, SyncEvent::Finished(_)));

    // A full sync that holds the lock and cannot finish: the device list fails (503) and
    // the engine waits it out, with whatever it had fetched before.
    sim.set_faults(Faults {
        failing_endpoints: vec!["devices_get".into()],
        ..Faults::default()
    });
    h.commands
        .send(SyncCommand::SyncNow {
            scope: Scope::Devices,
            mode: Mode::Full,
            trigger: Trigger::Cli,
        })
        .await
        .unwrap();
    let (full_run, mode) = started_event(&mut h).await;
    assert_eq!(mode, Mode::Full);

    // The assignment changes devices; the refresh is asked for while the sync runs.
    let touched: Vec<(String, String)> = sim
        .devices()
        .iter()
        .rev()
        .take(7)
        .map(serial_and_id)
        .collect();
    for (_, id) in &touched {
        sim.modify_device(id, |d| d["deviceName"] = json!("assigned"));
    }
    let (reply, done) = RefreshReply::new();
    h.commands
        .send(SyncCommand::Refresh {
            serials: touched.iter().map(|(s, _)| s.clone()).collect(),
            trigger: Trigger::Assign,
            reply,
        })
        .await
        .unwrap();
    // It queues for the workspace lock in the server, and has recorded nothing yet.
    let waiting = async {
        loop {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_one(db.store.pool())
            .await
            .unwrap();
            if n > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the refresh waits for the lock");
    assert!(!runs(&db).await.iter().any(|(t, _, _)| t == "assign"));

    // The list answers again: the sync finishes first, then the refresh runs.
    sim.set_faults(Faults::default());
    let SyncEvent::Finished(full) = final_event(&mut h).await else {
        panic!("the full sync finishes")
    };
    assert_eq!(full.run_id, full_run);
    let SyncEvent::Finished(refresh) = final_event(&mut h).await else {
        panic!("the refresh finishes")
    };
    assert_eq!(refresh.mode, Mode::Refresh);
    let done = done.await.expect("the reply arrives");
    let report = report_of(touched.len(), &done);
    assert_eq!((report.fetched, report.error), (7, None));

    // Serialised: the refresh began after the sync ended, so nothing the sync fetched
    // before it can land after its rows.
    let (ok,): (bool,) = sqlx::query_as(
        "SELECT r.started_at >= f.finished_at FROM sync_history r, sync_history f \
         WHERE r.id = $1 AND f.id = $2",
    )
    .bind(refresh.run_id)
    .bind(full_run)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert!(ok, "the refresh started after the full sync finished");
    let (trigger, outcome): (String, String) =
        sqlx::query_as("SELECT trigger, outcome FROM sync_history WHERE id = $1")
            .bind(refresh.run_id)
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(
        (trigger.as_str(), outcome.as_str()),
        ("assign", "succeeded")
    );
    let stored = stored_devices(&db).await;
    for (_, id) in &touched {
        assert_eq!(stored[id]["deviceName"], json!("assigned"), "device {id}");
        assert_eq!(stored.get(id), sim.device(id).as_ref(), "device {id}");
    }
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    let _ = h.task.await;
}
