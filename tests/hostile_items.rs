//! Hostile items and a small page cap (issue 12): legal JSON PostgreSQL cannot hold as sent
//! (NUL characters anywhere, 64 KiB names, 5 000-character tags, indexed values of several
//! kilobytes, ids too long for any index) and a server that refuses our page size. Against
//! the simulator over HTTP and a real PostgreSQL database.
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
use std::process::{Command, Stdio};
use std::time::Duration;

use common::engine::api_config;
use common::{TestDb, TestDir};
use glp_console::config::{ApiConfig, SyncConfig};
use glp_console::glp::model::{Device, Item, RawPage, parse_items};
use glp_console::sim::{self, Faults, SimConfig, SimHandle};
use glp_console::sync::engine::EngineHandle;
use glp_console::sync::{
    Mode, Outcome, Resource, ResourceSummary, Scope, SyncCommand, SyncEvent, SyncSummary, Trigger,
};
use serde_json::{Value, json};

/// Longer than a btree index entry may be: such an id cannot be stored under any key.
const UNSTORABLE_ID: usize = 2704;

async fn start_sim(cfg: SimConfig) -> SimHandle {
    glp_console::tls::init();
    sim::start(cfg).await.expect("simulator starts")
}

fn engine_for(api: &ApiConfig, sim: &SimHandle, db: &TestDb) -> EngineHandle {
    common::engine::engine_for(sim, api, db, SyncConfig::default())
}

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
        let ev = tokio::time::timeout(Duration::from_secs(120), h.events.recv())
            .await
            .expect("the sync ends within two minutes")
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

/// What PostgreSQL can hold of a JSON value: every NUL (in strings and keys) as U+FFFD.
fn storable(v: &Value) -> Value {
    let fix = |s: &str| s.replace('\0', "\u{FFFD}");
    match v {
        Value::String(s) => Value::String(fix(s)),
        Value::Array(a) => Value::Array(a.iter().map(storable).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (fix(k), storable(x))).collect()),
        other => other.clone(),
    }
}

fn has_nul(v: &Value) -> bool {
    serde_json::to_string(v).unwrap().contains("\\u0000")
}

/// The simulator's items split into what must be stored (as PostgreSQL can hold it, by id)
/// and the ids that cannot be stored; plus how many had NUL characters.
fn expected(items: Vec<Value>) -> (BTreeMap<String, Value>, BTreeSet<String>, u64) {
    let mut store = BTreeMap::new();
    let mut unstorable = BTreeSet::new();
    let mut nul = 0;
    for v in items {
        let id = v["id"].as_str().unwrap().to_string();
        if id.len() > UNSTORABLE_ID {
            unstorable.insert(id);
            continue;
        }
        nul += u64::from(has_nul(&v));
        store.insert(
            storable(&Value::String(id)).as_str().unwrap().into(),
            storable(&v),
        );
    }
    (store, unstorable, nul)
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

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Every device column the sync fills from a string, and tags and links, against the items.
async fn assert_device_columns(db: &TestDb, devices: &BTreeMap<String, Value>) {
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Value,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, serial_number, mac_address, device_name, secondary_name, model, \
                location_city, tags FROM devices",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), devices.len());
    for (id, serial, mac, name, secondary, model, city, tags) in rows {
        let d = &devices[&id];
        assert_eq!(Some(serial), s(&d["serialNumber"]), "{id}");
        assert_eq!(mac, s(&d["macAddress"]), "{id}");
        assert_eq!(name, s(&d["deviceName"]), "{id}");
        assert_eq!(secondary, s(&d["secondaryName"]), "{id}");
        assert_eq!(model, s(&d["model"]), "{id}");
        assert_eq!(city, s(&d["location"]["city"]), "{id}");
        let want = d["tags"].as_object().cloned().map(Value::Object);
        assert_eq!(tags, want.unwrap_or(json!({})), "{id}");
    }
    let links: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT device_id, subscription_id, key FROM device_subscriptions")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    let mut want = BTreeSet::new();
    for (id, d) in devices {
        for l in d["subscription"].as_array().into_iter().flatten() {
            want.insert((id.clone(), s(&l["id"]).unwrap(), s(&l["key"])));
        }
    }
    assert_eq!(links.into_iter().collect::<BTreeSet<_>>(), want);
}

async fn assert_subscription_columns(db: &TestDb, subs: &BTreeMap<String, Value>) {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Value,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, key, sku, sku_description, subscription_status, tags FROM subscriptions",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), subs.len());
    for (id, key, sku, desc, status, tags) in rows {
        let v = &subs[&id];
        assert_eq!(key, s(&v["key"]), "{id}");
        assert_eq!(sku, s(&v["sku"]), "{id}");
        assert_eq!(desc, s(&v["skuDescription"]), "{id}");
        assert_eq!(status, s(&v["subscriptionStatus"]), "{id}");
        let want = v["tags"].as_object().cloned().map(Value::Object);
        assert_eq!(tags, want.unwrap_or(json!({})), "{id}");
    }
}

#[tokio::test]
async fn hostile_items_are_stored_with_u_fffd_or_skipped_by_id_and_the_rest_is_exact() {
    let db = TestDb::new().await;
    let sim = start_sim(SimConfig {
        devices: 450,
        subscriptions: 120,
        hostile_items: 6,
        ..SimConfig::default()
    })
    .await;
    let (devices, bad_devices, nul_devices) = expected(sim.devices());
    let (subs, bad_subs, nul_subs) = expected(sim.subscriptions());
    // The simulator makes every kind, for both resources.
    assert_eq!((bad_devices.len(), nul_devices), (2, 2));
    assert_eq!((bad_subs.len(), nul_subs), (2, 2));
    let long_name = devices.values().filter(|d| {
        d["deviceName"]
            .as_str()
            .is_some_and(|n| n.len() >= 64 * 1024)
            && d["tags"]["long_a"]
                .as_str()
                .is_some_and(|t| t.chars().count() == 5000)
            && d["serialNumber"].as_str().is_some_and(|t| t.len() == 4000)
    });
    assert_eq!(long_name.count(), 2);

    let api = api_config(&sim);
    let mut h = engine_for(&api, &sim, &db);
    let s = finished(sync(&mut h, Scope::Both, Mode::Full).await);
    assert_eq!(s.outcome, Outcome::Succeeded, "{:?}", s.error);
    let d = res(&s, Resource::Devices);
    let sub = res(&s, Resource::Subscriptions);
    assert_eq!((d.sanitised, d.skipped), (2, 2), "{d:?}");
    assert_eq!((sub.sanitised, sub.skipped), (2, 2), "{sub:?}");
    assert_eq!(d.inserted, devices.len() as u64);
    assert_eq!(sub.inserted, subs.len() as u64);

    // Every storable item exactly (NUL as U+FFFD, long values whole), nothing else.
    assert_eq!(stored_raw(&db, "devices").await, devices);
    assert_eq!(stored_raw(&db, "subscriptions").await, subs);
    assert_device_columns(&db, &devices).await;
    assert_subscription_columns(&db, &subs).await;

    // The counters are recorded with the run.
    let recorded = db.store.run_resources(s.run_id).await.unwrap();
    let rd = recorded
        .iter()
        .find(|r| r.resource == Some(Resource::Devices))
        .unwrap();
    assert_eq!((rd.sanitised, rd.skipped), (2, 2));

    // A rerun fails the same way no more: nothing changes, nothing is marked removed.
    let s = finished(sync(&mut h, Scope::Both, Mode::Full).await);
    let d = res(&s, Resource::Devices);
    assert_eq!(
        (d.inserted, d.updated, d.removed, d.unchanged, d.skipped),
        (0, 0, 0, devices.len() as u64, 2)
    );
    assert_eq!(stored_raw(&db, "devices").await, devices);
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_page_cap_of_20_syncs_devices_and_subscriptions_exactly() {
    let db = TestDb::new().await;
    let sim = start_sim(SimConfig {
        devices: 450,
        subscriptions: 120,
        subscription_page_max: 200,
        faults: Faults {
            page_cap: Some(20),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    // The page sizes we use against GreenLake itself: 2000 devices, 200 subscriptions.
    let mut api = api_config(&sim);
    api.page_size = Default::default();
    assert!(api.page_size.devices > 20 && api.page_size.subscriptions > 20);
    let mut h = engine_for(&api, &sim, &db);
    let s = finished(sync(&mut h, Scope::Both, Mode::Full).await);
    assert_eq!(s.outcome, Outcome::Succeeded, "{:?}", s.error);
    assert_eq!(
        res(&s, Resource::Devices).pages,
        450usize.div_ceil(20) as u64
    );
    assert_eq!(
        res(&s, Resource::Subscriptions).pages,
        120usize.div_ceil(20) as u64
    );
    let devices: BTreeMap<String, Value> = sim
        .devices()
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_string(), v))
        .collect();
    let subs: BTreeMap<String, Value> = sim
        .subscriptions()
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_string(), v))
        .collect();
    assert_eq!(stored_raw(&db, "devices").await, devices);
    assert_eq!(stored_raw(&db, "subscriptions").await, subs);
    assert_device_columns(&db, &devices).await;
    assert_subscription_columns(&db, &subs).await;

    // One refusal per list, then the named limit for every page of the run (subscriptions:
    // 200 first; the message names 20, not the old fallback of 50).
    let stats = sim.stats();
    let refused = |ep: &str| {
        stats
            .log
            .iter()
            .filter(|e| e.endpoint == ep && e.status == 400)
            .count()
    };
    let ok = |ep: &str| {
        stats
            .log
            .iter()
            .filter(|e| e.endpoint == ep && e.status == 200)
            .count()
    };
    assert_eq!((refused("devices_get"), ok("devices_get")), (1, 23));
    assert_eq!(
        (refused("subscriptions_get"), ok("subscriptions_get")),
        (1, 6)
    );
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

/// `n` letters that do not compress (PostgreSQL compresses long index entries first).
fn noise(n: usize) -> String {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (b'A' + (x % 26) as u8) as char
        })
        .collect()
}

fn page_of(values: &[Value]) -> Vec<Item<Device>> {
    let page: RawPage = serde_json::from_value(json!({ "items": values })).unwrap();
    let (ok, bad) = parse_items::<Device>(page.items);
    assert!(bad.is_empty(), "{bad:?}");
    ok
}

#[tokio::test]
async fn an_unstorable_item_is_skipped_alone_but_a_failing_database_still_fails_the_page() {
    let db = TestDb::new().await;
    let long_id = noise(4000);
    let mut values: Vec<Value> = (0..40)
        .map(|i| {
            json!({"id": format!("dev-{i}"), "serialNumber": format!("SN{i}"),
                        "subscription": [{"id": format!("sub-{i}")}]})
        })
        .collect();
    values[17] = json!({"id": long_id, "serialNumber": "SN-LONG"});
    values[30]["deviceName"] = json!("nul\u{0}here");
    let page = page_of(&values);
    let counts = db.store.upsert_devices(&page, None).await.unwrap();
    assert_eq!(
        (counts.inserted, counts.skipped, counts.sanitised),
        (39, 1, 1)
    );
    let ids: BTreeSet<String> = stored_raw(&db, "devices").await.into_keys().collect();
    let want: BTreeSet<String> = (0..40)
        .filter(|i| *i != 17)
        .map(|i| format!("dev-{i}"))
        .collect();
    assert_eq!(ids, want);
    let links: i64 = sqlx::query_scalar("SELECT count(*) FROM device_subscriptions")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(links, 39);

    // Changed rows take the upsert path: a NUL there is replaced too, and a row whose new
    // link cannot be stored (a subscription id too long for the link's key) is skipped with
    // its stored copy kept as it was.
    let before_5 = stored_raw(&db, "devices").await["dev-5"].clone();
    values[5]["subscription"] = json!([{"id": noise(3000)}]);
    values[6]["deviceName"] = json!("changed\u{0}");
    let counts = db
        .store
        .upsert_devices(&page_of(&values), None)
        .await
        .unwrap();
    assert_eq!(
        (
            counts.updated,
            counts.unchanged,
            counts.skipped,
            counts.sanitised
        ),
        (1, 37, 2, 2)
    );
    let stored = stored_raw(&db, "devices").await;
    assert_eq!(stored["dev-5"], before_5);
    assert_eq!(stored["dev-6"]["deviceName"], "changed\u{FFFD}");
    let name: String = sqlx::query_scalar("SELECT device_name FROM devices WHERE id = 'dev-6'")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(name, "changed\u{FFFD}");

    // A database that is gone is not bad data: the write fails, nothing is "skipped".
    let gone = db.store.clone();
    gone.close().await;
    let err = gone.upsert_devices(&page_of(&values[..3]), None).await;
    assert!(err.is_err(), "{err:?}");
}

#[tokio::test]
async fn cron_run_with_hostile_items_exits_0_and_names_the_skipped_ids_in_its_log() {
    let db = TestDb::new().await;
    let sim = start_sim(SimConfig {
        devices: 200,
        subscriptions: 30,
        hostile_items: 3,
        ..SimConfig::default()
    })
    .await;
    let bad: Vec<String> = sim
        .devices()
        .iter()
        .filter_map(|d| d["id"].as_str().filter(|i| i.len() > UNSTORABLE_ID))
        .map(str::to_string)
        .collect();
    assert_eq!(bad.len(), 1);
    let dir = TestDir::new("glpc-hostile-");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[api]\n[api.page_size]\ndevices = 100\nsubscriptions = 50\n\
         [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    cmd.arg("--config")
        .arg(&config)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .args(["--sync-only", "--json"])
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .env("GLP_BASE_URL", sim.base_url())
        .env("GLP_TOKEN_URL", sim.token_url())
        .env("GLP_CLIENT_ID", sim.client_id())
        .env("GLP_CLIENT_SECRET", sim.client_secret())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Bad data is not the database being down (5): the run is complete, exit 0.
    assert_eq!(out.status.code(), Some(0), "{text}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["outcome"], "succeeded");
    let devices = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "devices")
        .unwrap()
        .clone();
    assert_eq!(
        (devices["sanitised"].clone(), devices["skipped"].clone()),
        (json!(1), json!(1))
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(stored, 199);
    let logs: String = std::fs::read_dir(dir.join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect();
    assert!(
        logs.contains(&bad[0][..80]),
        "the log names the skipped id: {logs}"
    );
    // …and so does stderr, which cron mails: a person learns of it without a failed run.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&bad[0][..80]), "{stderr}");
    assert!(stderr.contains("U+FFFD"), "{stderr}");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_simulator_serves_hostile_json_and_refuses_limits_above_its_page_cap() {
    let (sim, http, token) = common::sim::start(SimConfig {
        devices: 60,
        subscriptions: 10,
        hostile_items: 3,
        ..SimConfig::default()
    })
    .await;
    let get = |path: String| {
        let req = http
            .get(format!("{}{path}", sim.base_url()))
            .bearer_auth(&token);
        async move { req.send().await.unwrap() }
    };
    // NUL travels as the JSON escape, as GreenLake would send it.
    let r = get("/devices/v1/devices?limit=100".into()).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("\\u0000"), "NUL escapes on the wire");
    assert!(body.len() > 64 * 1024, "the 64 KiB device name is served");

    sim.set_faults(Faults {
        page_cap: Some(20),
        ..Faults::default()
    });
    for path in ["/devices/v1/devices", "/subscriptions/v1/subscriptions"] {
        let r = get(format!("{path}?limit=21")).await;
        assert_eq!(r.status(), 400, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errorCode"], "HPE_GL_ERROR_BAD_REQUEST");
        assert_eq!(
            v["errorDetails"][0]["issues"][0]["description"],
            "limit must be between 1 and 20"
        );
        let r = get(format!("{path}?limit=20")).await;
        assert_eq!(r.status(), 200, "{path}");
        // Without `limit`, at most the cap.
        let v: Value = get(path.to_string()).await.json().await.unwrap();
        assert!(v["items"].as_array().unwrap().len() <= 20, "{path}");
    }
    sim.shutdown().await;
}
