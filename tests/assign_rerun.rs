//! Running a sheet again after an assignment run was killed mid-apply. The killed run
//! recorded no result and fetched nothing back, so the store still holds the devices as
//! they were before it — but GreenLake already has some of its changes. The rerun (the
//! console wizard's loader and `glp-console assign`) reads those devices again from the
//! simulator first: its plan shows the simulator's current state and sends only the calls
//! still needed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{TestDb, TestDir};
use glp_console::assign::options::{Catalog, WizardChoices};
use glp_console::assign::plan::AppTarget;
use glp_console::assign::session::plan_for;
use glp_console::assign::validate::IssueKind;
use glp_console::config::{ApiConfig, Secret};
use glp_console::glp::client::Client;
use glp_console::sim::{self, SimConfig, SimHandle};
use glp_console::store::Store;
use glp_console::store::audit::{NewDeviceRow, NewRun, RunKind};
use glp_console::tui::run::{WizardLoadJob, wizard_load};
use serde_json::{Value, json};

fn config_file(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\ndevices_patch = 100000\n\
         devices_post = 100000\nasync_operations_get = 100000\nservice_catalog_get = 100000\n\
         [api.retry]\nmax_attempts = 2\nbase_delay_ms = 10\nmax_delay_secs = 1\nmax_total_secs = 3\n",
    )
    .unwrap();
    path
}

async fn glpc(sim: &SimHandle, db: &TestDb, dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(config_file(dir))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in sim.env_vars() {
        c.env(k, v);
    }
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn client(sim: &SimHandle) -> Client {
    let mut api = ApiConfig {
        base_url: sim.base_url(),
        token_url: sim.token_url(),
        client_id: sim.client_id().to_string(),
        ..ApiConfig::default()
    };
    let r = &mut api.rate_limits;
    r.devices_get = 100_000;
    r.subscriptions_get = 100_000;
    r.async_operations_get = 100_000;
    r.devices_patch = 100_000;
    r.devices_post = 100_000;
    r.service_catalog_get = 100_000;
    Client::new(&api, Secret::new(sim.client_secret())).expect("client builds")
}

/// A run recorded by a process that then died (SIGKILL: no end recorded, its connections
/// closed), over `serials`, asking for `app` on each.
async fn killed_run(db: &TestDb, serials: &[(String, String)], app: &(String, String)) -> i64 {
    let gone = Store::connect(&db.url, 2).await.unwrap();
    let rows: Vec<NewDeviceRow> = serials
        .iter()
        .map(|(id, serial)| NewDeviceRow {
            serial: serial.to_uppercase(),
            device_id: Some(id.clone()),
            row_number: Some(2),
            before: Some(
                json!({"application_id": null, "region": null, "subscription_ids": [], "tags": {}}),
            ),
            intended: Some(
                json!({"application_id": app.0, "region": app.1, "subscription_ids": [], "tags": {}}),
            ),
            outcome: "pending".into(),
        })
        .collect();
    let run = gone
        .audit_start(
            &NewRun {
                kind: RunKind::Apply,
                undo_of: None,
                source_file: Some("sheet.csv".into()),
                sheet: None,
                requested: json!({}),
                operator: None,
            },
            &[],
            &rows,
        )
        .await
        .unwrap();
    let id = run.id;
    drop(run);
    gone.close().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let held: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 \
                              AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                              AND granted AND objid::text = $1)",
        )
        .bind(id.to_string())
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        if !held {
            return id;
        }
        assert!(
            Instant::now() < deadline,
            "the server never dropped the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What reached GreenLake before the kill: `app` on the device — behind the store's back.
fn assigned_behind_our_back(sim: &SimHandle, id: &str, app: &(String, String)) {
    assert!(sim.modify_device(id, |d| {
        d["application"] = json!({"id": app.0, "resourceUri": format!("/service-catalog/v1beta1/service-managers/{}", app.0)});
        d["region"] = json!(app.1);
        d["assignedState"] = json!("ASSIGNED_TO_SERVICE");
    }));
}

fn sheet(dir: &Path, name: &str, devices: &[(String, String)]) -> PathBuf {
    let path = dir.join(name);
    let serials: Vec<&str> = devices.iter().map(|(_, s)| s.as_str()).collect();
    std::fs::write(&path, format!("Serial Number\n{}\n", serials.join("\n"))).unwrap();
    path
}

async fn refreshed(db: &TestDb, run: i64) -> Vec<bool> {
    sqlx::query_scalar(
        "SELECT refreshed_at IS NOT NULL FROM assignment_devices WHERE run_id = $1 ORDER BY serial",
    )
    .bind(run)
    .fetch_all(db.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_rerun_after_a_killed_run_plans_from_greenlake_and_sends_only_what_is_missing() {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 120,
        subscriptions: 5,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-rerun-");
    let o = glpc(&sim, &db, &dir, &["--sync-only", "--full"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let free: Vec<(String, String)> = sim
        .devices()
        .iter()
        .filter(|d| d["archived"] == false && d["application"].is_null() && d["deviceType"] == "AP")
        .take(6)
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["serialNumber"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(free.len(), 6);
    let app = sim.provisioned_applications()[0].clone();
    let c = client(&sim);

    // The console wizard: a killed run over the first three; two of its calls got through.
    let (wizard_devices, cli_devices) = free.split_at(3);
    let killed = killed_run(&db, wizard_devices, &app).await;
    for (id, _) in &wizard_devices[..2] {
        assigned_behind_our_back(&sim, id, &app);
    }
    let data = wizard_load(WizardLoadJob {
        store: db.store.clone(),
        known: None,
        path: sheet(&dir, "wizard.csv", wizard_devices),
        sheet: None,
        client: Some(c.clone()),
        engine: None,
    })
    .await
    .unwrap();
    let note = data
        .prepared
        .match_issues
        .iter()
        .find(|i| i.kind == IssueKind::ReadAgain)
        .unwrap_or_else(|| panic!("{:?}", data.prepared.match_issues));
    assert!(
        note.message.contains(&format!("assignment run {killed}"))
            && note.message.contains("read again"),
        "{note}"
    );
    for (i, (id, _)) in wizard_devices.iter().enumerate() {
        let m = data
            .prepared
            .matches
            .iter()
            .find(|m| m.device.as_ref().is_some_and(|d| &d.id == id))
            .unwrap();
        let want = (i < 2).then(|| app.0.clone());
        assert_eq!(
            m.device.as_ref().unwrap().application_id,
            want,
            "the review shows what GreenLake holds now"
        );
    }
    let catalog = Catalog::new(
        db.store.assign_subscriptions().await.unwrap(),
        db.store.assign_region_pairs().await.unwrap(),
        db.store.assign_tags().await.unwrap(),
        None,
    );
    let choices = WizardChoices {
        application: Some(AppTarget {
            application_id: app.0.clone(),
            region: app.1.clone(),
        }),
        subscription_id: None,
        tags: Default::default(),
    };
    let planned = plan_for(&data.prepared, &catalog, &choices, chrono::Utc::now());
    let planned_serials: Vec<&str> = planned
        .plan
        .devices
        .iter()
        .map(|d| d.serial.as_str())
        .collect();
    assert_eq!(planned_serials, [wizard_devices[2].1.to_uppercase()]);
    assert_eq!(planned.plan.unchanged.len(), 2);
    assert_eq!(planned.plan.steps.len(), 1);
    assert_eq!(refreshed(&db, killed).await, [true, true, true]);

    // `glp-console assign`: another killed run, over the other three; one call got through.
    let killed = killed_run(&db, cli_devices, &app).await;
    assigned_behind_our_back(&sim, &cli_devices[1].0, &app);
    let path = sheet(&dir, "cli.csv", cli_devices);
    let args = [
        "assign",
        path.to_str().unwrap(),
        "--application",
        app.0.as_str(),
        "--region",
        app.1.as_str(),
        "--apply",
        "--yes",
        "--json",
    ];
    sim.reset_stats();
    let o = glpc(&sim, &db, &dir, &args).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["counts"]["devices_unchanged"], 1, "{v}");
    assert_eq!(v["counts"]["devices_succeeded"], 2, "{v}");
    let ops = v["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{v}");
    let mut sent: Vec<String> = ops[0]["serials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    sent.sort();
    let mut want = vec![
        cli_devices[0].1.to_uppercase(),
        cli_devices[2].1.to_uppercase(),
    ];
    want.sort();
    assert_eq!(sent, want, "only the devices still without the application");
    assert_eq!(sim.stats().endpoint("devices_patch").requests, 1);
    assert_eq!(refreshed(&db, killed).await, [true, true, true]);
    for (id, _) in cli_devices {
        assert_eq!(sim.device(id).unwrap()["application"]["id"], app.0.as_str());
    }
    sim.shutdown().await;
}
