//! `glp-console assign` as a person or a script runs it: the real binary, a simulator on
//! 127.0.0.1 and a real PostgreSQL database. Review, confirmation, apply, report, undo.
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
use glp_console::sim::{self, Faults, SimConfig, SimHandle};
use serde_json::Value;

fn tempdir() -> TestDir {
    TestDir::new("glpc-assign-")
}

fn config_file(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[api.page_size]\ndevices = 200\nsubscriptions = 50\n\
         [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\ndevices_patch = 100000\n\
         devices_post = 100000\nasync_operations_get = 100000\nservice_catalog_get = 100000\n\
         [api.retry]\nmax_attempts = 2\nbase_delay_ms = 10\nmax_delay_secs = 1\nmax_total_secs = 3\n",
    )
    .unwrap();
    path
}

async fn glpc(sim: &SimHandle, db: &TestDb, dir: &Path, args: &[&str]) -> Output {
    let mut c = command(sim, db, dir, args);
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

fn command(sim: &SimHandle, db: &TestDb, dir: &Path, args: &[&str]) -> Command {
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
    c
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn review_confirm_apply_report_and_undo() {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 300,
        subscriptions: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let dir = tempdir();
    let o = glpc(&sim, &db, &dir, &["--sync-only", "--full"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let original = sim.devices();
    let picked: Vec<Value> = original
        .iter()
        .filter(|d| d["archived"] == false && d["application"].is_null())
        .take(5)
        .cloned()
        .collect();
    let (app, region) = sim.provisioned_applications()[0].clone();
    let mut csv = String::from("Serial Number\n");
    for d in &picked {
        csv.push_str(d["serialNumber"].as_str().unwrap());
        csv.push('\n');
    }
    let sheet = dir.join("sheet.csv");
    std::fs::write(&sheet, &csv).unwrap();
    let s = sheet.to_str().unwrap();
    let choice = [
        "--application",
        app.as_str(),
        "--region",
        region.as_str(),
        "--tag",
        "Wave7=Lab 2",
    ];

    // Review only: the plan, exit 0, nothing sent.
    let mut args = vec!["assign", s];
    args.extend(choice);
    let o = glpc(&sim, &db, &dir, &args).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("API calls for 5 devices"), "{out}");
    assert_eq!(sim.devices(), original);

    // --apply without a terminal and without --yes: refused, nothing sent.
    args.push("--apply");
    let o = glpc(&sim, &db, &dir, &args).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--yes"),
        "{}",
        text(&o)
    );
    assert_eq!(sim.devices(), original);

    // --dry-run: sent with dry-run=true, no confirmation needed, nothing changes.
    let mut dry: Vec<&str> = args[..args.len() - 1].to_vec();
    dry.push("--dry-run");
    let o = glpc(&sim, &db, &dir, &dry).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("dry run: GreenLake validated"),
        "{}",
        text(&o)
    );
    assert_eq!(sim.devices(), original);

    // --apply --yes --json --report: applied, report written, run id in the JSON.
    let report = dir.join("report.xlsx");
    args.extend(["--yes", "--report", report.to_str().unwrap(), "--json"]);
    let o = glpc(&sim, &db, &dir, &args).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["counts"]["devices_succeeded"], 5);
    assert_eq!(v["resync"]["fetched"], 5);
    let run_id = v["run_id"].as_i64().unwrap();
    assert!(std::fs::metadata(&report).unwrap().len() > 1000);
    for p in &picked {
        let d = sim.device(p["id"].as_str().unwrap()).unwrap();
        assert_eq!(d["application"]["id"], app.as_str());
        assert_eq!(d["region"], region.as_str());
        assert_eq!(d["tags"]["Wave7"], "Lab 2");
    }
    let secret = sim.client_secret().to_string();
    assert!(!text(&o).contains(&secret), "no secret in the output");

    // The same sheet again: nothing to do.
    let o = glpc(&sim, &db, &dir, &args[..args.len() - 5]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Nothing to"),
        "{}",
        text(&o)
    );

    // Undo: review, then apply.
    let id = run_id.to_string();
    let o = glpc(&sim, &db, &dir, &["assign", "--undo", &id]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("unassign_application"),
        "{}",
        text(&o)
    );
    let o = glpc(
        &sim,
        &db,
        &dir,
        &["assign", "--undo", &id, "--apply", "--yes"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("(undo of run {run_id})")),
        "{}",
        text(&o)
    );
    for p in &picked {
        let d = sim.device(p["id"].as_str().unwrap()).unwrap();
        assert!(d["application"].is_null());
        assert!(d["region"].is_null());
        assert_eq!(d["tags"], p["tags"]);
    }
    // Unknown run and a sheet with an error.
    let o = glpc(&sim, &db, &dir, &["assign", "--undo", "999999"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("999999"));
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "Serial Number,MAC Address\nABC123,not-a-mac\n").unwrap();
    let o = glpc(&sim, &db, &dir, &["assign", bad.to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("row 2"),
        "{}",
        text(&o)
    );
    sim.shutdown().await;
}

/// Status and "finished" of every assignment run, oldest first.
async fn runs(db: &TestDb) -> Vec<(i64, String, bool)> {
    sqlx::query_as("SELECT id, status, finished_at IS NOT NULL FROM assignment_runs ORDER BY id")
        .fetch_all(db.store.pool())
        .await
        .unwrap()
}

/// `assign --apply --yes` killed with SIGKILL mid-run leaves its run `running`; the next
/// assignment run finds the owner gone (its lock went with its connection) and marks it
/// `abandoned`, its devices' outcome unknown.
#[tokio::test]
async fn sigkill_mid_apply_is_marked_abandoned_by_the_next_run() {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 200,
        subscriptions: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let dir = tempdir();
    let o = glpc(&sim, &db, &dir, &["--sync-only", "--full"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Three devices for the killed run, three others for the next one (so the next one has
    // work to do whatever the killed one got done).
    let free: Vec<String> = sim
        .devices()
        .iter()
        .filter(|d| d["archived"] == false && d["application"].is_null())
        .take(6)
        .map(|d| d["serialNumber"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(free.len(), 6);
    let (app, region) = sim.provisioned_applications()[0].clone();
    let sheet = |name: &str, serials: &[String]| {
        let path = dir.join(name);
        std::fs::write(&path, format!("Serial Number\n{}\n", serials.join("\n"))).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (first, second) = (sheet("kill.csv", &free[..3]), sheet("next.csv", &free[3..]));
    let args = |sheet: &str| -> Vec<String> {
        [
            "assign",
            sheet,
            "--application",
            app.as_str(),
            "--region",
            region.as_str(),
            "--apply",
            "--yes",
        ]
        .map(String::from)
        .to_vec()
    };
    let (first, second) = (args(&first), args(&second));
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let second: Vec<&str> = second.iter().map(String::as_str).collect();

    // Slow answers, so the run is still in flight when it is killed.
    sim.set_faults(Faults {
        latency: Duration::from_millis(1500),
        ..Faults::default()
    });
    let mut child = command(&sim, &db, &dir, &first).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while runs(&db).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the apply never recorded its run"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    let _ = child.wait();
    let killed = runs(&db).await;
    assert_eq!(killed.len(), 1);
    let killed_id = killed[0].0;
    assert_eq!(killed[0].1, "running", "nothing recorded an end");
    // The server notices the dead connection and drops the run's lock.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let held: bool = sqlx::query_scalar(
            // pg_locks is cluster-wide: other tests' run locks are not this one's.
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 \
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        if !held {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the killed run's lock is still held"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The next run: applies, and marks the killed one abandoned.
    sim.set_faults(Faults::default());
    let o = glpc(&sim, &db, &dir, &second).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let after = runs(&db).await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0], (killed_id, "abandoned".to_string(), true));
    assert_eq!(after[1].1, "succeeded");
    let unknown: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assignment_devices WHERE run_id = $1 AND outcome = 'unknown'",
    )
    .bind(killed_id)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assignment_devices WHERE run_id = $1 AND outcome = 'pending'",
    )
    .bind(killed_id)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!((unknown, pending), (3, 0));
    sim.shutdown().await;
}
