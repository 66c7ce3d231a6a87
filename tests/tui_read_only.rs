//! Browsing needs no credentials: the real binary, in tmux, opened with `--read-only` on a
//! database a sync filled, with no GLP_CLIENT_ID or secret anywhere. The tables, tabs,
//! filter and detail work; sync is off with the reason in the status bar, and `s` says why.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share); tests/common has long checkers"
)]

mod common;

use common::tmux::Tmux;

#[test]
fn read_only_opens_a_synced_database_without_credentials() {
    glp_console::tls::init();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(glp_console::sim::start(glp_console::sim::SimConfig {
            devices: 200,
            subscriptions: 20,
            ..glp_console::sim::SimConfig::default()
        }))
        .unwrap();
    let db = rt.block_on(common::TestDb::new());
    let dir = common::TestDir::new("glpc-read-only-");
    // The seed: one sync with the simulator's credentials, and a config file with none.
    let config = common::sim::seed_with_sync_only(&sim, &db.url, &dir);
    let bin = env!("CARGO_BIN_EXE_glp-console");
    // The console, with every credential variable removed (tmux's own environment may
    // have some).
    let cmd = format!(
        "env -u GLP_CLIENT_ID -u GLP_CLIENT_SECRET -u GLP_BASE_URL -u GLP_TOKEN_URL \
         DATABASE_URL={url} {bin} --read-only --config {config} --log-dir {logs}; \
         echo EXIT=$?; sleep 60",
        url = db.url,
        config = config.display(),
        logs = dir.join("logs").display(),
    );
    let t = Tmux::start(&format!("sh -c '{cmd}'"));
    let s = t.wait_for("the console on the stored inventory", 30, |s| {
        s.contains("Devices 200") && s.contains("200 rows")
    });
    assert!(s.contains("[read-only]"), "{s}");
    assert!(
        s.contains("sync off: read-only, no credentials (GLP_CLIENT_ID"),
        "the status bar says why sync is off: {s}"
    );
    assert!(
        s.contains("✓") || s.contains("synced"),
        "last sync shown: {s}"
    );
    // Sync is refused with the reason.
    t.keys(&["s"]);
    t.wait_for("the refusal", 10, |s| {
        s.contains("read-only, no credentials (GLP_CLIENT_ID, GLP_CLIENT_SECRET): no sync")
    });
    // Everything else works: tabs, filter, detail.
    t.keys(&["2"]);
    t.wait_for("the Subscriptions tab", 10, |s| {
        s.contains("[2 Subscriptions 20")
    });
    t.keys(&["1", "/"]);
    t.keys(&["-l", "SWITCH"]);
    t.wait_for("the filter", 10, |s| {
        s.contains("⟨SWITCH⟩") && s.contains(" of 200") && !s.contains(" of 200 rows")
    });
    t.keys(&["Escape"]);
    t.wait_for("the filter cleared", 10, |s| s.contains("200 rows"));
    t.keys(&["Enter"]);
    t.wait_for("the detail pane", 10, |s| s.contains("Serial"));
    // Apart: Esc then q at once reads as Alt-q.
    t.keys(&["Escape"]);
    t.wait_for("the pane closed", 10, |s| !s.contains("┌ Device"));
    t.keys(&["q"]);
    let s = t.wait_for("the console to exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
    drop(t);
    rt.block_on(sim.shutdown());
    drop(db);
}

/// With credentials, a read-only console on a database that has never synced still writes
/// nothing: it opens on the empty tables and sends GreenLake no request (it used to start
/// its automatic first sync, which `s` would have refused, and to read the application
/// names into the database).
#[test]
fn read_only_with_credentials_never_syncs_by_itself() {
    glp_console::tls::init();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(glp_console::sim::start(glp_console::sim::SimConfig {
            devices: 50,
            subscriptions: 5,
            ..glp_console::sim::SimConfig::default()
        }))
        .unwrap();
    let db = rt.block_on(common::TestDb::new());
    let dir = common::TestDir::new("glpc-read-only-creds-");
    let bin = env!("CARGO_BIN_EXE_glp-console");
    let envs: String = sim
        .env_vars()
        .iter()
        .map(|(k, v)| format!("{k}={v} "))
        .collect();
    let cmd = format!(
        "env {envs}DATABASE_URL={url} {bin} --read-only --log-dir {logs}; echo EXIT=$?; sleep 60",
        url = db.url,
        logs = dir.join("logs").display(),
    );
    let t = Tmux::start(&format!("sh -c '{cmd}'"));
    let s = t.wait_for("the console on the empty database", 30, |s| {
        s.contains("[read-only]") && s.contains("never synced")
    });
    assert!(s.contains("Devices 0"), "{s}");
    // The console has drawn, its engine is up: had it meant to sync, the request would be
    // on its way. Quitting waits for the engine to stop, so the count is final after it.
    t.keys(&["q"]);
    let s = t.wait_for("the console to exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
    // Not even the service catalog's names: read-only writes nothing by itself, and the
    // names are kept in the database.
    let total = sim.stats().total().requests;
    assert_eq!(total, 0, "read-only sent {total} requests to GreenLake");
    let runs: i64 = rt.block_on(async {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query_scalar("select count(*) from sync_history")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(runs, 0, "no sync run recorded");
    drop(t);
    rt.block_on(sim.shutdown());
    drop(db);
}
