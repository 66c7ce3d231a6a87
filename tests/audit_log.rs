//! "Who did it": the simulator's audit-log endpoint as `audit-logs.json` specifies (paging,
//! the filter grammar and its 400s, the rate limit), its incremental sync into PostgreSQL
//! (each entry stored once, the second sync asking only from the watermark), and the
//! attribution of recorded changes to the user who made them — compared with the
//! simulator's own audit log and the database, never with the code's idea of the answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use common::TestDb;
use glp_console::config::SyncConfig;
use glp_console::sim::{self, Faults, Limits, SimConfig, SimHandle};
use glp_console::store::attribution::{AttributedChange, AttributionSource};
use glp_console::store::compliance::Across;
use glp_console::sync::engine::EngineHandle;
use glp_console::sync::{Mode, Outcome, SyncCommand, SyncSummary};
use serde_json::{Value, json};

const LOGS: &str = "/audit-log/v2beta1/logs";

async fn get(sim: &SimHandle, c: &reqwest::Client, tok: &str, q: &[(&str, &str)]) -> (u16, Value) {
    let r = c
        .get(format!("{}{LOGS}", sim.base_url()))
        .bearer_auth(tok)
        .query(q)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

fn issue(v: &Value) -> String {
    v["errorDetails"][0]["issues"][0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The `required` list of a schema of the published spec.
fn required(schema: &str) -> Vec<String> {
    let path = common::openapi::spec_dir().join("audit-logs.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set GLP_OPENAPI_DIR)", path.display()));
    let spec: Value = serde_json::from_str(&text).unwrap();
    spec["components"]["schemas"][schema]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Change the first `n` devices' names (each one audit entry); their ids and serials.
fn touch(sim: &SimHandle, skip: usize, n: usize, what: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for d in sim.devices().into_iter().skip(skip).take(n) {
        let id = d["id"].as_str().unwrap().to_string();
        let serial = d["serialNumber"].as_str().unwrap().to_string();
        assert!(sim.modify_device(&id, |d| d["deviceName"] = json!(format!("{what}-{serial}"))));
        out.push((id, serial));
    }
    out
}

#[tokio::test]
async fn the_simulator_serves_its_audit_log_as_the_spec_says() {
    let (sim, c, tok) = common::sim::start(SimConfig {
        devices: 20,
        subscriptions: 5,
        ..SimConfig::default()
    })
    .await;
    let touched = touched_by(&sim, "ops@example.com", 0, 5);
    let truth: Vec<String> = sim
        .audit_entries()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(truth.len(), 5, "one entry per change");

    // Every entry and the envelope carry the spec's required fields; the entry names the
    // device, its user and the platform.
    let (st, all) = get(&sim, &c, &tok, &[]).await;
    assert_eq!(st, 200);
    for k in required("AuditLogQueryResponse") {
        assert!(all.get(&k).is_some(), "envelope lacks {k}: {all}");
    }
    let item_fields = required("AuditLogItem");
    for e in all["items"].as_array().unwrap() {
        for k in &item_fields {
            assert!(e.get(k).is_some(), "entry lacks {k}: {e}");
        }
        assert_eq!(e["username"], "ops@example.com");
        assert_eq!(e["category"], "Device Management");
    }
    // Default order: newest first; default limit 50 holds all five.
    let mut newest_first = truth.clone();
    newest_first.reverse();
    assert_eq!(ids(&all), newest_first);
    assert_eq!(
        (all["count"].clone(), all["total"].clone()),
        (json!(5), json!(5))
    );
    assert_eq!(all["remainingRecords"], false);

    // Offset paging, oldest first, two at a time, gives every entry once in order.
    let mut paged = Vec::new();
    for offset in [0, 2, 4] {
        let off = offset.to_string();
        let (st, p) = get(
            &sim,
            &c,
            &tok,
            &[("sort", "createdAt asc"), ("limit", "2"), ("offset", &off)],
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(p["offset"], json!(offset));
        assert_eq!(p["total"], 5);
        paged.extend(ids(&p));
    }
    assert_eq!(paged, truth);

    // The grammar: eq, contains(), in (…), lt/ge on createdAt, joined by `and`.
    let (id3, serial3) = &touched[3];
    let f = format!("username eq 'ops@example.com' and contains(description, '{serial3}')");
    let (st, one) = get(&sim, &c, &tok, &[("filter", &f)]).await;
    assert_eq!(st, 200, "{one}");
    assert_eq!(ids(&one), vec![truth[3].clone()]);
    assert_eq!(
        one["items"][0]["additionalInfo"]["serverSerial"],
        serial3.as_str()
    );
    assert!(
        one["items"][0]["description"]
            .as_str()
            .unwrap()
            .contains(id3.as_str())
    );
    let (_, cats) = get(
        &sim,
        &c,
        &tok,
        &[(
            "filter",
            "category in ('User Management', 'Device Management')",
        )],
    )
    .await;
    assert_eq!(cats["total"], 5);
    let third = sim.audit_entries()[2]["createdAt"]
        .as_str()
        .unwrap()
        .to_string();
    let f = format!("createdAt ge '{third}'");
    let (_, late) = get(&sim, &c, &tok, &[("filter", &f), ("sort", "createdAt asc")]).await;
    assert_eq!(ids(&late), truth[2..].to_vec());
    let f = format!("createdAt lt '{third}'");
    let (_, early) = get(&sim, &c, &tok, &[("filter", &f), ("sort", "createdAt asc")]).await;
    assert_eq!(ids(&early), truth[..2].to_vec());
    let (_, nobody) = get(&sim, &c, &tok, &[("filter", "username eq 'x@example.com'")]).await;
    assert_eq!(nobody["total"], 0);

    // What the grammar does not have is a 400 that says what was wrong.
    for (f, says) in [
        ("username eq 'a' or username eq 'b'", "'or'"),
        ("username ne 'a'", "Invalid operator 'ne'"),
        (
            "createdAt gt '2026-01-01T00:00:00Z'",
            "Invalid operator 'gt'",
        ),
        (
            "serialNumber eq 'X'",
            "Unsupported filter parameter 'serialNumber'",
        ),
        ("createdAt ge 'yesterday'", "Invalid date format"),
        ("username eq 'a' and", "Expected a condition"),
    ] {
        let (st, e) = get(&sim, &c, &tok, &[("filter", f)]).await;
        assert_eq!(st, 400, "{f}: {e}");
        assert!(issue(&e).contains(says), "{f}: {}", issue(&e));
        assert_eq!(e["errorDetails"][0]["issues"][0]["subject"], "filter");
    }
    let (st, e) = get(&sim, &c, &tok, &[("limit", "2001")]).await;
    assert_eq!(st, 400);
    assert!(issue(&e).contains("Maximum allowed limit is 2000"), "{e}");
    let (st, _) = get(&sim, &c, &tok, &[("limit", "2000")]).await;
    assert_eq!(st, 200);

    // 100 a minute per user, through the simulator's limits.
    sim.set_limits(Some(Limits::default()));
    let mut codes = BTreeMap::new();
    for _ in 0..101 {
        let (st, _) = get(&sim, &c, &tok, &[("limit", "1")]).await;
        *codes.entry(st).or_insert(0) += 1;
    }
    assert_eq!(codes, BTreeMap::from([(200, 100), (429, 1)]));
    sim.shutdown().await;
}

/// Change `n` devices after `skip` as `user`.
fn touched_by(sim: &SimHandle, user: &str, skip: usize, n: usize) -> Vec<(String, String)> {
    sim.set_audit_user(user);
    touch(sim, skip, n, user)
}

async fn sync(h: &mut EngineHandle, mode: Mode) -> SyncSummary {
    common::engine::sync_now(h, mode).await
}

fn engine(sim: &SimHandle, db: &TestDb) -> EngineHandle {
    common::engine::engine_for(
        sim,
        &common::engine::api_config(sim),
        db,
        SyncConfig::default(),
    )
}

/// (id, username) of every stored audit row, and how many rows there are.
async fn stored(db: &TestDb) -> (BTreeSet<(String, String)>, i64) {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, username FROM audit_log ORDER BY occurred_at")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    let n = rows.len() as i64;
    (
        rows.into_iter()
            .map(|(id, u)| (id, u.unwrap_or_default()))
            .collect(),
        n,
    )
}

fn sim_truth(sim: &SimHandle) -> BTreeSet<(String, String)> {
    sim.audit_entries()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["username"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn two_syncs_store_every_entry_once_and_the_second_asks_from_the_watermark() {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 120,
        subscriptions: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let mut h = engine(&sim, &db);
    touched_by(&sim, "early@example.com", 0, 3);
    let before = Utc::now();
    let first = sync(&mut h, Mode::Full).await;
    assert_eq!(first.outcome, Outcome::Succeeded);
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);
    let (rows, n) = stored(&db).await;
    assert_eq!(rows, sim_truth(&sim));
    assert_eq!(n, 3);
    let q1 = sim.audit_queries();
    assert_eq!(q1.len(), 1, "one page: {q1:?}");
    assert_eq!(q1[0].sort.as_deref(), Some("createdAt asc"));
    // A workspace with nothing stored reads the last 7 days.
    let f1 = q1[0].filter.clone().unwrap();
    let t1 = filter_time(&f1);
    let week = chrono::Duration::days(7);
    assert!(
        t1 <= before - week + chrono::Duration::seconds(5)
            && t1 >= before - week - chrono::Duration::seconds(60),
        "{f1}"
    );
    let watermark: DateTime<Utc> = sqlx::query_scalar("SELECT max(occurred_at) FROM audit_log")
        .fetch_one(db.store.pool())
        .await
        .unwrap();

    touched_by(&sim, "later@example.com", 3, 4);
    let second = sync(&mut h, Mode::Incremental).await;
    let (rows, n) = stored(&db).await;
    assert_eq!(rows, sim_truth(&sim), "every entry of the simulator, once");
    assert_eq!(n, 7, "the re-read overlap is not stored twice");
    let a = second.audit_log.clone().unwrap();
    assert_eq!((a.fetched, a.stored), (7, 4), "{a:?}");
    let q2 = sim.audit_queries();
    assert_eq!(q2.len(), 2);
    let want = format!(
        "createdAt ge '{}'",
        (watermark - chrono::Duration::minutes(10)).to_rfc3339_opts(SecondsFormat::Millis, true)
    );
    assert_eq!(
        q2[1].filter.as_deref(),
        Some(want.as_str()),
        "from the watermark less 10 minutes"
    );

    // Retention prunes the audit log with the history.
    sqlx::query("UPDATE audit_log SET occurred_at = now() - interval '200 days' WHERE username = 'early@example.com'")
        .execute(db.store.pool())
        .await
        .unwrap();
    sync(&mut h, Mode::Incremental).await;
    let (rows, _) = stored(&db).await;
    assert!(
        rows.iter().all(|(_, u)| u == "later@example.com"),
        "{rows:?}"
    );
    h.commands.send(SyncCommand::Shutdown).await.unwrap();
    sim.shutdown().await;
}

fn filter_time(f: &str) -> DateTime<Utc> {
    let t = f
        .strip_prefix("createdAt ge '")
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{f}"));
    DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
}

fn by_item(changes: &[AttributedChange]) -> BTreeMap<String, BTreeSet<Option<String>>> {
    let mut m: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
    for c in changes {
        m.entry(c.change.item_id.clone())
            .or_default()
            .insert(c.who.as_ref().map(|w| w.user.clone()));
    }
    m
}

#[tokio::test]
async fn a_change_made_as_a_user_shows_that_user_and_only_next_to_its_devices() {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 120,
        subscriptions: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let mut h = engine(&sim, &db);
    // Before the first sync: an entry for device 9 that no later change may take.
    let early = touched_by(&sim, "early@example.com", 9, 1);
    sync(&mut h, Mode::Full).await;

    let x = touched_by(&sim, "x@example.com", 0, 2);
    let y = touched_by(&sim, "y@example.com", 2, 1);
    // Device 9 again, by X: the nearest entry is X's, not the early one.
    sim.set_audit_user("x@example.com");
    let (e_id, _) = &early[0];
    assert!(sim.modify_device(e_id, |d| d["deviceName"] = json!("renamed by x")));
    let sub = sim.subscriptions()[0]["id"].as_str().unwrap().to_string();
    sim.modify_subscription(&sub, |s| s["quantity"] = json!(4321));
    let run = sync(&mut h, Mode::Incremental).await;
    // A change GreenLake made without an audit entry (recorded in the same run).
    let untouched = sim.devices()[50]["id"].as_str().unwrap().to_string();
    sqlx::query(
        "INSERT INTO inventory_changes (workspace_id, resource, item_id, sync_id, field, \
         old_value, new_value) VALUES ('default', 'devices', $1, $2, 'name', 'a', 'b')",
    )
    .bind(&untouched)
    .bind(run.run_id)
    .execute(db.store.pool())
    .await
    .unwrap();

    let store = db
        .store
        .for_workspace(glp_console::domain::WorkspaceId::default_id());
    let since = Utc::now() - chrono::Duration::hours(1);
    let got = store
        .changes_attributed(since, 10_000, Across::ThisWorkspace)
        .await
        .unwrap();
    let truth: i64 = sqlx::query_scalar("SELECT count(*) FROM inventory_changes")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(got.len() as i64, truth, "every recorded change, once");
    let mut want: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
    for (id, _) in &x {
        want.insert(id.clone(), BTreeSet::from([Some("x@example.com".into())]));
    }
    want.insert(
        y[0].0.clone(),
        BTreeSet::from([Some("y@example.com".into())]),
    );
    want.insert(e_id.clone(), BTreeSet::from([Some("x@example.com".into())]));
    want.insert(sub.clone(), BTreeSet::from([None]));
    want.insert(untouched.clone(), BTreeSet::from([None]));
    assert_eq!(by_item(&got), want);
    for c in got.iter().filter(|c| c.who.is_some()) {
        let w = c.who.as_ref().unwrap();
        assert_eq!(w.source, AttributionSource::Audit);
        assert!(w.at <= c.change.changed_at);
        assert!(
            w.action.starts_with("Device Management: Device "),
            "{}",
            w.action
        );
        // The entry it names is the simulator's, for this device.
        let e = sim
            .audit_entries()
            .into_iter()
            .find(|e| e["id"] == w.reference.as_str())
            .unwrap();
        assert!(
            e["description"]
                .as_str()
                .unwrap()
                .contains(&c.change.item_id)
        );
    }
    // The label is the device's serial.
    let x0 = got.iter().find(|c| c.change.item_id == x[0].0).unwrap();
    assert_eq!(x0.label.as_deref(), Some(x[0].1.as_str()));

    // The console's Changes view names the same users next to the same items.
    let shown = db
        .store
        .view_changes_in(&glp_console::store::views::ViewScope::Single, since, 10_000)
        .await
        .unwrap();
    assert_eq!(
        shown.len() as i64,
        truth,
        "the view lists every change once"
    );
    let mut seen: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
    for c in &shown {
        seen.entry(c.item_id.clone()).or_default().insert(
            c.who
                .as_deref()
                .map(|w| w.trim_end_matches(" (audit log)").to_string()),
        );
    }
    assert_eq!(seen, want, "the Who column");
    h.commands.send(SyncCommand::Shutdown).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn our_own_assignment_run_is_named_next_to_the_devices_it_changed() {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 60,
        subscriptions: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let mut h = engine(&sim, &db);
    sync(&mut h, Mode::Full).await;
    let d = sim.devices()[4].clone();
    let (id, serial) = (
        d["id"].as_str().unwrap().to_string(),
        d["serialNumber"].as_str().unwrap().to_string(),
    );
    // The change itself as a person made it in GreenLake…
    touched_by(&sim, "someone@example.com", 4, 1);
    // …and then our assignment run recorded as touching that device (a later time: nearer).
    let run: i64 = sqlx::query_scalar(
        "INSERT INTO assignment_runs (workspace_id, kind, status, operator, finished_at) \
         VALUES ('default', 'apply', 'succeeded', 'alice', now()) RETURNING id",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO assignment_devices (run_id, serial, device_id, outcome) \
         VALUES ($1, $2, $3, 'succeeded')",
    )
    .bind(run)
    .bind(&serial)
    .bind(&id)
    .execute(db.store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO assignment_operations (run_id, seq, kind, method, path, device_ids, \
         serials, status, finished_at) VALUES ($1, 1, 'tags', 'PATCH', '/devices', \
         ARRAY[$2], ARRAY[$3], 'succeeded', now())",
    )
    .bind(run)
    .bind(&id)
    .bind(&serial)
    .execute(db.store.pool())
    .await
    .unwrap();
    sync(&mut h, Mode::Incremental).await;
    let got = db
        .store
        .for_workspace(glp_console::domain::WorkspaceId::default_id())
        .changes_attributed(
            Utc::now() - chrono::Duration::hours(1),
            100,
            Across::AllWorkspaces,
        )
        .await
        .unwrap();
    assert!(!got.is_empty());
    for c in &got {
        assert_eq!(c.change.item_id, id);
        let w = c.who.as_ref().unwrap();
        assert_eq!(w.source, AttributionSource::AssignmentRun);
        assert_eq!(
            (w.user.as_str(), w.reference.clone()),
            ("alice", run.to_string())
        );
        assert_eq!(w.label(), format!("assignment run #{run}, alice"));
    }
    h.commands.send(SyncCommand::Shutdown).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_on_the_audit_log_leaves_the_inventory_synced_and_exit_0_with_a_warning() {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 150,
        subscriptions: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.set_faults(Faults {
        failing_endpoints: vec!["audit_logs_get".into()],
        failing_endpoint_status: 403,
        ..Faults::default()
    });
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glp-console"))
        .args(["--config", &config.display().to_string()])
        .args(["--log-dir", &dir.path().join("logs").display().to_string()])
        .args(["--sync-only", "--full", "--json"])
        .envs(sim.env_vars())
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: audit log not synced"), "{stderr}");
    assert!(stderr.contains("403"), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["outcome"], "succeeded");
    assert_eq!(
        summary["warnings"].as_array().unwrap().len(),
        1,
        "{summary}"
    );
    assert!(
        summary["audit_log"]["error"]
            .as_str()
            .unwrap()
            .contains("403")
    );
    let devices: i64 = sqlx::query_scalar("SELECT count(*) FROM devices WHERE removed_at IS NULL")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(
        devices,
        sim.devices().len() as i64,
        "the inventory is synced"
    );
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM sync_history")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(outcome, "succeeded");
    assert_eq!(
        sim.stats().endpoint("audit_logs_get").client_4xx,
        1,
        "asked once, not retried"
    );
    sim.shutdown().await;
}
