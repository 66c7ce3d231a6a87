//! `glp-console --sync-only` as cron runs it: the real binary, a simulator on 127.0.0.1 and
//! a real PostgreSQL database; exit codes, the workspace lock and SIGTERM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{TestDb, TestDir};
use glp_console::sim::{self, Faults, SimConfig, SimHandle};

fn tempdir() -> TestDir {
    TestDir::new("glpc-hs-")
}

/// A config file with quick retries, a short breaker cool-down and a short patience (tests
/// must not wait minutes for an API that stays down) and no pacing limits.
fn config_file(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[api]\nmax_concurrency = 2\n[api.page_size]\ndevices = 100\nsubscriptions = 50\n\
         [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n\
         [api.retry]\nmax_attempts = 2\nbase_delay_ms = 10\nmax_delay_secs = 1\nmax_total_secs = 3\n\
         [api.breaker]\ncooldown_secs = 1\n[sync]\npatience = 3\n",
    )
    .unwrap();
    path
}

fn command(sim: Option<&SimHandle>, db: &TestDb, dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(config_file(dir))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(sim) = sim {
        c.env("GLP_BASE_URL", sim.base_url())
            .env("GLP_TOKEN_URL", sim.token_url())
            .env("GLP_CLIENT_ID", sim.client_id())
            .env("GLP_CLIENT_SECRET", sim.client_secret());
    }
    c
}

/// Wait (up to 30 s) until the running sync has stored its first page.
async fn wait_for_first_page(db: &TestDb) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
            .fetch_one(db.store.pool())
            .await
            .unwrap_or(0);
        if n > 0 || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

async fn start_sim(devices: usize) -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices,
        subscriptions: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// Run a prepared command to completion (off the async threads).
async fn run(cmd: &mut Command) -> Output {
    wait(cmd.spawn().unwrap()).await
}

async fn wait(child: Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn quiet_success_json_summary_and_secrets_kept_out_of_logs() {
    let db = TestDb::new().await;
    let sim = start_sim(250).await;
    let dir = tempdir();
    let out = run(command(Some(&sim), &db, &dir).arg("--sync-only")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "quiet on success: {}",
        text(&out)
    );

    let out = run(command(Some(&sim), &db, &dir).args(["--sync-only", "--json", "--full"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["outcome"], "succeeded");
    assert_eq!(v["mode"], "full");
    assert_eq!(v["resources"][1]["resource"], "devices");
    assert_eq!(v["resources"][1]["unchanged"], 250);

    let out = run(command(Some(&sim), &db, &dir).args(["--sync-only", "-v", "--devices"])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("sync #3 succeeded (incremental devices): devices 0 fetched"),
        "{stdout}"
    );

    // Neither the client secret nor a bearer token is in the log files.
    let logs: String = std::fs::read_dir(dir.join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect();
    assert!(logs.contains("sync finished"), "the log has content");
    assert!(!logs.contains(sim.client_secret()));
    assert!(!logs.to_lowercase().contains("bearer "), "no token in logs");
    sim.shutdown().await;
}

#[tokio::test]
async fn two_concurrent_syncs_one_runs_the_other_exits_with_the_lock_code() {
    let db = TestDb::new().await;
    let sim = start_sim(1500).await;
    sim.set_faults(Faults {
        latency: Duration::from_millis(120),
        ..Faults::default()
    });
    let dir = tempdir();
    let first = command(Some(&sim), &db, &dir)
        .arg("--sync-only")
        .spawn()
        .unwrap();
    // Let the first take the lock, then start the second.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let running: i64 =
            sqlx::query_scalar("SELECT count(*) FROM sync_history WHERE outcome = 'running'")
                .fetch_one(db.store.pool())
                .await
                .unwrap_or(0);
        if running > 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = run(command(Some(&sim), &db, &dir).arg("--sync-only")).await;
    assert_eq!(second.status.code(), Some(4), "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stderr)
            .contains("another sync of this workspace is running")
    );
    let first = wait(first).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    sim.shutdown().await;
}

#[tokio::test]
async fn sigterm_mid_sync_is_recorded_as_cancelled_and_data_stays_consistent() {
    let db = TestDb::new().await;
    let sim = start_sim(3000).await;
    sim.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    let dir = tempdir();
    let child = command(Some(&sim), &db, &dir)
        .args(["--sync-only", "--devices"])
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until some devices are stored, then SIGTERM.
    wait_for_first_page(&db).await;
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = wait(child).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let runs = db.store.recent_runs(1).await.unwrap();
    assert_eq!(runs[0].outcome, "cancelled");
    // Whole pages only: stored devices are a multiple of the page size, each with its tags.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(n > 0 && n < 3000 && n % 100 == 0, "{n} devices stored");
    let removed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM devices WHERE removed_at IS NOT NULL")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(removed, 0);
    // The next run completes it.
    sim.set_faults(Faults::default());
    let out = run(command(Some(&sim), &db, &dir).args(["--sync-only", "--devices"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 3000);
    sim.shutdown().await;
}

#[tokio::test]
async fn exit_codes_for_bad_credentials_unreachable_api_and_bad_config() {
    let db = TestDb::new().await;
    let sim = start_sim(10).await;
    let dir = tempdir();

    let out = run(command(Some(&sim), &db, &dir)
        .env("GLP_CLIENT_SECRET", "not-the-secret")
        .arg("--sync-only"))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("authentication failed") && err.contains(&sim.token_url()),
        "{err}"
    );
    assert!(!err.contains("not-the-secret"));

    // Nothing listens on this port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = run(command(None, &db, &dir)
        .env("GLP_BASE_URL", format!("http://127.0.0.1:{closed}"))
        .env("GLP_TOKEN_URL", sim.token_url())
        .env("GLP_CLIENT_ID", sim.client_id())
        .env("GLP_CLIENT_SECRET", sim.client_secret())
        .arg("--sync-only"))
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("127.0.0.1:{closed}")),
        "{}",
        text(&out)
    );

    // Bad configuration: named and exit 2, before anything runs.
    let out = run(command(Some(&sim), &db, &dir)
        .env("GLP_BASE_URL", "not-a-url")
        .arg("--sync-only"))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("environment GLP_BASE_URL = \"not-a-url\"")
    );

    // Missing credentials.
    let out = run(command(None, &db, &dir)
        .env_remove("GLP_CLIENT_ID")
        .env_remove("GLP_CLIENT_SECRET")
        .arg("--sync-only"))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GLP_CLIENT_ID"),
        "{}",
        text(&out)
    );

    // Unreachable database.
    let out = run(command(Some(&sim), &db, &dir)
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{closed}/x"),
        )
        .arg("--sync-only"))
    .await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    sim.shutdown().await;
}

#[tokio::test]
async fn status_and_reports_after_a_sync() {
    let db = TestDb::new().await;
    let sim = start_sim(200).await;
    let dir = tempdir();
    let out = run(command(Some(&sim), &db, &dir).arg("--sync-only")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(command(None, &db, &dir).args(["status", "--json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["runs"][0]["outcome"], "succeeded");

    // Expiring report agrees with the database function.
    let out = run(command(None, &db, &dir).args(["--expiring-days", "90", "--json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: i64 = sqlx::query_scalar("SELECT count(*) FROM subscriptions_expiring(90)")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(
        v["subscriptions"].as_array().unwrap().len() as i64,
        expected
    );
    assert!(
        expected > 0,
        "the simulator makes subscriptions that expire within 90 days"
    );

    // Exports: json is the exact API items; xlsx opens with calamine.
    let out = run(command(None, &db, &dir).args(["export", "devices", "--format", "json"])).await;
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items.len(), 200);
    let xlsx = dir.join("d.xlsx");
    let out = run(command(None, &db, &dir)
        .args(["export", "subscriptions", "--format", "xlsx", "-o"])
        .arg(&xlsx))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(&xlsx).unwrap();
    let range = book.worksheet_range("Subscriptions").unwrap();
    assert_eq!(range.height(), 21);
    let out = run(command(None, &db, &dir).args(["export", "devices", "--format", "csv"])).await;
    let csv_text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv_text.lines().count(), 201);
    assert!(csv_text.starts_with("id,serial_number,mac_address"));
    sim.shutdown().await;
}

#[tokio::test]
async fn sigkill_mid_sync_leaves_consistent_data_and_the_next_run_completes_it() {
    let db = TestDb::new().await;
    let sim = start_sim(3000).await;
    sim.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    let dir = tempdir();
    let mut child = command(Some(&sim), &db, &dir)
        .args(["--sync-only", "--devices", "--full"])
        .spawn()
        .unwrap();
    wait_for_first_page(&db).await;
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    let _ = child.wait();
    // Every stored device is whole: its tags and links committed with it.
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM device_tags t WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = t.device_id)",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(n % 100 == 0, "whole pages only: {n}");

    sim.set_faults(Faults::default());
    let out = run(command(Some(&sim), &db, &dir).args(["--sync-only", "--devices"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let runs = db.store.recent_runs(2).await.unwrap();
    assert_eq!(runs[0].outcome, "succeeded");
    assert_eq!(
        runs[1].outcome, "abandoned",
        "the killed run is recorded as such"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 3000);
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_seen")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(seen, 0, "the killed full sync's scratch marks are gone");
    sim.shutdown().await;
}

#[tokio::test]
async fn expiring_live_asks_the_api_and_matches_the_database_view() {
    let db = TestDb::new().await;
    let sim = start_sim(300).await;
    let dir = tempdir();
    let out = run(command(Some(&sim), &db, &dir).arg("--sync-only")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let from_db = run(command(None, &db, &dir).args(["--expiring-days", "60", "--json"])).await;
    let live =
        run(command(Some(&sim), &db, &dir).args(["--expiring-days", "60", "--json", "--live"]))
            .await;
    assert_eq!(live.status.code(), Some(0), "{}", text(&live));
    let keys = |o: &Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut k: Vec<String> = v["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        k.sort();
        k
    };
    assert!(!keys(&live).is_empty());
    assert_eq!(keys(&live), keys(&from_db));
    let requests = sim.stats().endpoint("subscriptions_get").requests;
    assert!(requests > 0);
    sim.shutdown().await;
}

/// Wait (up to 30 s) until a running full sync has stored at least one device page.
async fn wait_for_running_full_sync_page(db: &TestDb) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sync_seen s JOIN sync_history h ON h.id = s.sync_id \
              WHERE h.outcome = 'running' AND s.resource = 'devices'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap_or(0);
        if n > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the paced sync stored no page");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

#[tokio::test]
async fn status_stays_ok_after_a_cancel_that_follows_a_good_sync() {
    let db = TestDb::new().await;
    let sim = start_sim(2000).await;
    let dir = tempdir();
    let out = run(command(Some(&sim), &db, &dir).arg("--sync-only")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A user stops the next sync (Ctrl-x in the console, SIGTERM here: the same cancel).
    sim.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    let child = command(Some(&sim), &db, &dir)
        .args(["--sync-only", "--devices", "--full"])
        .spawn()
        .unwrap();
    let pid = child.id();
    wait_for_running_full_sync_page(&db).await;
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = wait(child).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));

    // The last completed run succeeded a moment ago: healthy, and the cancel is listed.
    let out = run(command(None, &db, &dir).args(["status", "--json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["runs"][0]["outcome"], "cancelled");
    assert_eq!(v["last_completed"]["outcome"], "succeeded");
    let out = run(command(None, &db, &dir).arg("status")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cancelled"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_subscription_outage_still_syncs_devices_exactly_and_exits_partial() {
    let db = TestDb::new().await;
    let sim = start_sim(250).await;
    sim.set_faults(Faults {
        failing_endpoints: vec!["subscriptions_get".into()],
        failing_endpoint_status: 503,
        ..Faults::default()
    });
    let dir = tempdir();
    let out = run(command(Some(&sim), &db, &dir).args(["--sync-only", "--json"])).await;
    assert_eq!(out.status.code(), Some(1), "partial: {}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "partial", "{v}");
    let resource = |name: &str| {
        v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == name)
            .cloned()
            .unwrap()
    };
    let subs = resource("subscriptions");
    assert_eq!(subs["outcome"], "failed", "{v}");
    assert_eq!(subs["complete"], false);
    assert!(
        subs["error"]
            .as_str()
            .unwrap()
            .contains("/subscriptions/v1/subscriptions"),
        "names what failed: {v}"
    );
    let devices = resource("devices");
    assert_eq!(devices["outcome"], "succeeded", "{v}");
    assert_eq!(devices["complete"], true);

    // Devices are exactly the simulator's; no subscription was invented or removed.
    let stored: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT id, raw_data FROM devices WHERE removed_at IS NULL ORDER BY id")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    let mut expected: Vec<(String, serde_json::Value)> = sim
        .devices()
        .into_iter()
        .map(|d| (d["id"].as_str().unwrap().to_string(), d))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(stored, expected);
    let subs_stored: i64 = sqlx::query_scalar("SELECT count(*) FROM subscriptions")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(subs_stored, 0);
    // The history records each resource's outcome.
    let per: Vec<(String, Option<String>, bool)> = sqlx::query_as(
        "SELECT resource, outcome, complete FROM sync_history_resources ORDER BY resource",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        per,
        vec![
            ("devices".into(), Some("succeeded".into()), true),
            ("subscriptions".into(), Some("failed".into()), false),
        ]
    );
    let runs = db.store.recent_runs(1).await.unwrap();
    assert_eq!(runs[0].outcome, "partial");
    // A partial run is a completed one that did not succeed: monitoring hears of it.
    let out = run(command(None, &db, &dir).arg("status")).await;
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));

    // Subscriptions come back: the next run completes both.
    sim.set_faults(Faults::default());
    let out = run(command(Some(&sim), &db, &dir).arg("--sync-only")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let subs_stored: i64 = sqlx::query_scalar("SELECT count(*) FROM subscriptions")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(subs_stored, 20);
    sim.shutdown().await;
}
