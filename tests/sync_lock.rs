//! Losing the workspace lock mid-sync (issue 12, item 0): the real binary, a paced simulator
//! over HTTP and a real PostgreSQL — once with the lock holder's backend terminated, once
//! with a throwaway cluster restarted (`pg_ctl restart -m fast`) under the running sync.
//!
//! What a user checks: a second `--sync-only` started meanwhile never writes while the first
//! still does; no live item is marked removed; the first run exits 8 (lost lock) and its
//! history row never says `succeeded`; the next run is exact.
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
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{TestDb, TestDir};
use glp_console::sim::{self, Faults, SimConfig, SimHandle};
use glp_console::store::Store;
use glp_console::store::cluster::TempCluster;
use serde_json::Value;

const DEVICES: usize = 1500;

fn config_file(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[api]\nmax_concurrency = 2\n[api.page_size]\ndevices = 100\nsubscriptions = 50\n\
         [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n\
         [api.retry]\nmax_attempts = 2\nbase_delay_ms = 10\nmax_delay_secs = 1\nmax_total_secs = 3\n",
    )
    .unwrap();
    path
}

fn command(sim: &SimHandle, db_url: &str, dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(config_file(dir))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env("DATABASE_URL", db_url)
        .env_remove("RUST_LOG")
        .env("GLP_BASE_URL", sim.base_url())
        .env("GLP_TOKEN_URL", sim.token_url())
        .env("GLP_CLIENT_ID", sim.client_id())
        .env("GLP_CLIENT_SECRET", sim.client_secret())
        .args(["--sync-only", "--full"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
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

async fn start_sim() -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices: DEVICES,
        subscriptions: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// Poll `probe` until it holds (content, not time: the machine may be loaded).
async fn wait_until<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !probe().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Record, per sync, when each page transaction wrote its seen-marks and when it committed
/// (a deferred constraint trigger fires at commit; rolled-back pages leave no trace).
async fn install_write_log(store: &Store) {
    for stmt in [
        "CREATE TABLE test_write_log (sync_id BIGINT, phase TEXT, at TIMESTAMPTZ)",
        "CREATE FUNCTION test_log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           INSERT INTO test_write_log VALUES (NEW.sync_id, TG_ARGV[0], clock_timestamp()); \
           RETURN NULL; END $$",
        "CREATE TRIGGER test_seen_write AFTER INSERT ON sync_seen FOR EACH ROW \
           EXECUTE FUNCTION test_log_write('write')",
        "CREATE CONSTRAINT TRIGGER test_seen_commit AFTER INSERT ON sync_seen \
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_log_write('commit')",
    ] {
        sqlx::query(stmt).execute(store.pool()).await.unwrap();
    }
}

/// The first run's last committed page came before the second run's first page write.
async fn assert_never_two_writers(store: &Store, first: i64, second: i64) {
    let (last_commit, first_write): (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
    ) = sqlx::query_as(
        "SELECT (SELECT max(at) FROM test_write_log WHERE sync_id = $1 AND phase = 'commit'), \
                (SELECT min(at) FROM test_write_log WHERE sync_id = $2 AND phase = 'write')",
    )
    .bind(first)
    .bind(second)
    .fetch_one(store.pool())
    .await
    .unwrap();
    let (last_commit, first_write) = (last_commit.unwrap(), first_write.unwrap());
    assert!(
        last_commit < first_write,
        "sync #{first} committed a page at {last_commit} after sync #{second} began writing at \
         {first_write}"
    );
}

async fn stored(store: &Store) -> BTreeMap<String, Value> {
    let rows: Vec<(String, Value)> =
        sqlx::query_as("SELECT id, raw_data FROM devices WHERE removed_at IS NULL")
            .fetch_all(store.pool())
            .await
            .unwrap();
    rows.into_iter().collect()
}

fn sim_devices(sim: &SimHandle) -> BTreeMap<String, Value> {
    sim.devices()
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_string(), v))
        .collect()
}

async fn removed(store: &Store) -> i64 {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM devices WHERE removed_at IS NOT NULL) \
              + (SELECT count(*) FROM subscriptions WHERE removed_at IS NOT NULL)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
}

async fn history(store: &Store, id: i64) -> (String, String) {
    let (outcome, error): (String, Option<String>) =
        sqlx::query_as("SELECT outcome, error FROM sync_history WHERE id = $1")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    (outcome, error.unwrap_or_default())
}

/// The id of the running sync, once it has committed at least `pages` device pages.
async fn running_sync_with_pages(store: &Store, pages: i64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT h.id, (SELECT count(*) FROM sync_seen s WHERE s.sync_id = h.id \
                             AND s.resource = 'devices') \
               FROM sync_history h WHERE h.outcome = 'running' ORDER BY h.id DESC LIMIT 1",
        )
        .fetch_optional(store.pool())
        .await
        .ok()
        .flatten();
        if let Some((id, n)) = row
            && n >= pages * 100
        {
            return id;
        }
        assert!(
            Instant::now() < deadline,
            "the paced sync never stored {pages} device pages"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What both scenarios check once the two runs have ended, and the exact next run.
async fn check_aftermath(
    store: &Store,
    sim: &SimHandle,
    db_url: &str,
    dir: &std::path::Path,
    first: (i64, Output),
    second: Output,
) {
    let (first_id, first_out) = first;
    assert_eq!(
        first_out.status.code(),
        Some(8),
        "the run that lost its lock exits 8: {}",
        text(&first_out)
    );
    assert!(
        String::from_utf8_lossy(&first_out.stderr).contains("lost lock"),
        "{}",
        text(&first_out)
    );
    assert_eq!(
        second.status.code(),
        Some(0),
        "the second run syncs: {}",
        text(&second)
    );
    let second_id: i64 = sqlx::query_scalar("SELECT max(id) FROM sync_history")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(second_id > first_id);
    assert_never_two_writers(store, first_id, second_id).await;

    // History is truthful: the first run failed (or was closed as abandoned by the second)
    // and says why; never `succeeded`.
    let (outcome, error) = history(store, first_id).await;
    assert!(
        outcome == "failed" || outcome == "abandoned",
        "sync #{first_id} recorded as {outcome}: {error}"
    );
    assert!(error.contains("lost lock"), "{outcome}: {error}");
    assert_eq!(history(store, second_id).await.0, "succeeded");
    // And it stays that way: no writer can turn an ended run into `succeeded`.
    let overwrite = sqlx::query("UPDATE sync_history SET outcome = 'succeeded' WHERE id = $1")
        .bind(first_id)
        .execute(store.pool())
        .await;
    assert!(overwrite.is_err(), "an ended run's outcome is final");

    // No live item marked removed: the database holds exactly the simulator's devices.
    assert_eq!(removed(store).await, 0, "live items were marked removed");
    assert_eq!(stored(store).await, sim_devices(sim));

    // The next run is exact.
    sim.set_faults(Faults::default());
    let next = wait(command(sim, db_url, dir).spawn().unwrap()).await;
    assert_eq!(next.status.code(), Some(0), "{}", text(&next));
    assert_eq!(removed(store).await, 0);
    assert_eq!(stored(store).await, sim_devices(sim));
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_seen")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(seen, 0, "no seen-marks outlive their runs");
}

fn paced() -> Faults {
    Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    }
}

#[tokio::test]
async fn terminating_the_lock_holders_backend_stops_the_sync_as_lost_lock_and_removes_nothing() {
    let db = TestDb::new().await;
    let sim = start_sim().await;
    let dir = TestDir::new("glpc-lock-");
    let first = wait(command(&sim, &db.url, &dir).spawn().unwrap()).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    install_write_log(&db.store).await;

    sim.set_faults(paced());
    let child = command(&sim, &db.url, &dir).spawn().unwrap();
    let first_id = running_sync_with_pages(&db.store, 2).await;
    // The backend holding this database's advisory lock: the sync's lock connection.
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(killed, vec![true], "exactly one lock holder, terminated");
    wait_until(
        "the server to drop the terminated session's lock",
        || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = \
               (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_one(db.store.pool())
            .await
            .is_ok_and(|n| n == 0)
        },
    )
    .await;
    let second = wait(command(&sim, &db.url, &dir).spawn().unwrap());
    let first_out = wait(child).await;
    let second = second.await;
    check_aftermath(
        &db.store,
        &sim,
        &db.url,
        &dir,
        (first_id, first_out),
        second,
    )
    .await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_server_restart_mid_sync_stops_the_sync_as_lost_lock_and_the_next_run_is_exact() {
    let cluster = std::sync::Arc::new(TempCluster::start().expect("a throwaway cluster starts"));
    let store = Store::open(&cluster.url, 4).await.unwrap();
    let sim = start_sim().await;
    let dir = TestDir::new("glpc-lock-");
    let first = wait(command(&sim, &cluster.url, &dir).spawn().unwrap()).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    install_write_log(&store).await;

    sim.set_faults(paced());
    let child = command(&sim, &cluster.url, &dir).spawn().unwrap();
    let first_id = running_sync_with_pages(&store, 2).await;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.restart())
        .await
        .unwrap()
        .expect("pg_ctl restart -m fast");
    let second = wait(command(&sim, &cluster.url, &dir).spawn().unwrap());
    let first_out = wait(child).await;
    let second = second.await;
    check_aftermath(
        &store,
        &sim,
        &cluster.url,
        &dir,
        (first_id, first_out),
        second,
    )
    .await;
    store.close().await;
    sim.shutdown().await;
}
