//! `glp-console assign --undo` on devices whose tag keys differ only in case: the real
//! binary, the simulator over HTTP and a real PostgreSQL. An undo changes only the keys the
//! run changed, spelled as the run recorded them; the simulator's device is the judge.
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

use common::{TestDb, TestDir};
use glp_console::sim::{self, SimConfig, SimHandle};
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

/// Run the command, expect exit 0, and return its JSON report.
async fn ok_json(sim: &SimHandle, db: &TestDb, dir: &Path, args: &[&str]) -> Value {
    let o = glpc(sim, db, dir, args).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

/// The tag PATCH bodies of a run, as sent.
async fn tag_payloads(db: &TestDb, run_id: i64) -> Vec<Value> {
    sqlx::query_scalar(
        "SELECT payload FROM assignment_operations WHERE run_id = $1 AND kind = 'tags' ORDER BY seq",
    )
    .bind(run_id)
    .fetch_all(db.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn undo_leaves_case_variant_tags_the_run_never_touched() {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 50,
        subscriptions: 5,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-undo-");
    let device = sim
        .devices()
        .into_iter()
        .find(|d| d["archived"] == false)
        .unwrap();
    let id = device["id"].as_str().unwrap().to_string();
    let serial = device["serialNumber"].as_str().unwrap().to_string();
    // Two keys that differ only in case, as GreenLake still holds them from before it
    // refused such pairs (the value has characters a PATCH may no longer send).
    let original = json!({"Owner": "42", "owner": "x=y&z"});
    assert!(sim.modify_device(&id, |d| d["tags"] = original.clone()));
    let o = glpc(&sim, &db, &dir, &["--sync-only", "--full"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let sheet = dir.join("rel.csv");
    std::fs::write(&sheet, format!("Serial Number\n{serial}\n")).unwrap();
    let s = sheet.to_str().unwrap();

    // A run that only adds rel=1.
    let run = ok_json(
        &sim,
        &db,
        &dir,
        &["assign", s, "--tag", "rel=1", "--apply", "--yes", "--json"],
    )
    .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let run_id = run["run_id"].as_i64().unwrap();
    assert_eq!(
        sim.device(&id).unwrap()["tags"],
        json!({"Owner": "42", "owner": "x=y&z", "rel": "1"})
    );
    assert_eq!(
        tag_payloads(&db, run_id).await,
        vec![json!({"tags": {"rel": "1"}})]
    );

    // Its undo removes rel and nothing else.
    let id_text = run_id.to_string();
    let undo = ok_json(
        &sim,
        &db,
        &dir,
        &["assign", "--undo", &id_text, "--apply", "--yes", "--json"],
    )
    .await;
    assert_eq!(undo["status"], "succeeded", "{undo}");
    assert_eq!(sim.device(&id).unwrap()["tags"], original);
    let undo_id = undo["run_id"].as_i64().unwrap();
    assert_eq!(
        tag_payloads(&db, undo_id).await,
        vec![json!({"tags": {"rel": null}})]
    );

    // A run that changes one of the two spellings: it and its undo touch that one only.
    let run = ok_json(
        &sim,
        &db,
        &dir,
        &[
            "assign", s, "--tag", "Owner=43", "--apply", "--yes", "--json",
        ],
    )
    .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        sim.device(&id).unwrap()["tags"],
        json!({"Owner": "43", "owner": "x=y&z"})
    );
    let id_text = run["run_id"].as_i64().unwrap().to_string();
    let undo = ok_json(
        &sim,
        &db,
        &dir,
        &["assign", "--undo", &id_text, "--apply", "--yes", "--json"],
    )
    .await;
    assert_eq!(undo["status"], "succeeded", "{undo}");
    assert_eq!(sim.device(&id).unwrap()["tags"], original);
    assert_eq!(
        tag_payloads(&db, undo["run_id"].as_i64().unwrap()).await,
        vec![json!({"tags": {"Owner": "42"}})]
    );
    sim.shutdown().await;
}

/// A dry-run undo is recorded as an undo (with `dry_run` in its request): it changed
/// nothing, so undoing it is refused like undoing a dry run, not "restored".
#[tokio::test]
async fn undo_of_a_dry_run_undo_is_refused() {
    use glp_console::assign::apply::{ApplyError, plan_undo_run};
    use glp_console::store::audit::{NewDeviceRow, NewRun, RunKind};
    let db = TestDb::new().await;
    let mut ids = Vec::new();
    for kind in [RunKind::DryRun, RunKind::Undo] {
        let run = db
            .store
            .audit_start(
                &NewRun {
                    kind,
                    undo_of: None,
                    source_file: None,
                    sheet: None,
                    requested: json!({"dry_run": true}),
                    operator: None,
                },
                &[],
                &[NewDeviceRow {
                    serial: "SN1".into(),
                    device_id: Some("d1".into()),
                    row_number: None,
                    before: Some(json!({"tags": {}})),
                    intended: Some(json!({"tags": {"k": "v"}})),
                    outcome: "succeeded".into(),
                }],
            )
            .await
            .unwrap();
        ids.push(run.id);
    }
    for id in ids {
        let r = plan_undo_run(&db.store, id).await;
        assert!(
            matches!(r, Err(ApplyError::UndoDryRun(i)) if i == id),
            "run {id}: {r:?}"
        );
    }
}
