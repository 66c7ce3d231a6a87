//! `glp-console changes` (the real binary, reading the database cron filled): the JSON lists
//! exactly the `inventory_changes` rows of the window, with the simulator's audit user next
//! to the devices that user changed; the CSV parses into the same rows; a bad `--since`
//! names the value and the accepted forms.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and the shared helpers hold long checks"
)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use common::TestDb;
use glp_console::sim::{self, SimConfig, SimHandle};
use serde_json::{Value, json};

fn bin(sim: &SimHandle, db: &TestDb, dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_glp-console"))
        .args(["--config", &dir.join("config.toml").display().to_string()])
        .args(["--log-dir", &dir.join("logs").display().to_string()])
        .args(args)
        .envs(sim.env_vars())
        .env("DATABASE_URL", &db.url)
        .output()
        .expect("the binary runs")
}

type Fact = (String, String, String, Option<String>, Option<String>);

/// (workspace, item, field, old, new) of the database's changes of the last 24 hours.
async fn truth(db: &TestDb) -> BTreeSet<Fact> {
    sqlx::query_as(
        "SELECT workspace_id, item_id, field, old_value, new_value FROM inventory_changes \
          WHERE changed_at >= now() - interval '24 hours'",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect()
}

async fn scenario() -> (SimHandle, TestDb, tempfile::TempDir, Vec<String>) {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 80,
        subscriptions: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    common::sim::seed_with_sync_only(&sim, &db.url, dir.path());
    sim.set_audit_user("ops@example.com");
    let mut touched = Vec::new();
    for d in sim.devices().into_iter().take(3) {
        let id = d["id"].as_str().unwrap().to_string();
        sim.modify_device(&id, |d| d["deviceName"] = json!("changed, with \"quotes\""));
        touched.push(id);
    }
    let out = bin(&sim, &db, dir.path(), &["--sync-only"]);
    assert!(out.status.success(), "{out:?}");
    // An old change outside the window.
    sqlx::query(
        "INSERT INTO inventory_changes (workspace_id, resource, item_id, changed_at, field, \
         old_value, new_value) VALUES ('default', 'devices', 'old-one', now() - interval '3 days', \
         'name', 'x', 'y')",
    )
    .execute(db.store.pool())
    .await
    .unwrap();
    (sim, db, dir, touched)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_json_lists_exactly_the_windows_rows_with_who_made_them() {
    let (sim, db, dir, touched) = scenario().await;
    let out = bin(
        &sim,
        &db,
        dir.path(),
        &["changes", "--since", "24h", "--json"],
    );
    assert!(out.status.success(), "{out:?}");
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let got: BTreeSet<Fact> = rows
        .iter()
        .map(|r| {
            (
                r["workspace_id"].as_str().unwrap().to_string(),
                r["item_id"].as_str().unwrap().to_string(),
                r["field"].as_str().unwrap().to_string(),
                r["old_value"].as_str().map(str::to_string),
                r["new_value"].as_str().map(str::to_string),
            )
        })
        .collect();
    let want = truth(&db).await;
    assert_eq!(got, want);
    assert_eq!(rows.len(), want.len(), "each row once");
    assert!(!want.is_empty());
    for r in &rows {
        let id = r["item_id"].as_str().unwrap();
        let who = &r["who"];
        if touched.iter().any(|t| t == id) {
            assert_eq!(who["user"], "ops@example.com", "{r}");
            assert_eq!(who["source"], "audit");
        } else {
            assert!(who.is_null(), "{r}");
        }
        let serial = sim.device(id).map(|d| d["serialNumber"].clone());
        assert_eq!(Some(r["serial_or_key"].clone()), serial);
    }
    // The table names the user too.
    let out = bin(&sim, &db, dir.path(), &["changes", "--since", "7d"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ops@example.com (audit log)"), "{text}");
    assert!(
        text.contains("old-one"),
        "7 days reach the old change: {text}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_csv_parses_into_the_same_rows_and_bad_since_is_explained() {
    let (sim, db, dir, _) = scenario().await;
    let file = dir.path().join("changes.csv");
    let f = file.display().to_string();
    let out = bin(&sim, &db, dir.path(), &["changes", "--csv", "-o", &f]);
    assert!(out.status.success(), "{out:?}");
    let mut r = csv::Reader::from_path(&file).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let (ws, item, field, old, new) = (
        col("workspace_id"),
        col("item_id"),
        col("field"),
        col("old_value"),
        col("new_value"),
    );
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let got: Vec<Fact> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                rec[ws].to_string(),
                rec[item].to_string(),
                rec[field].to_string(),
                opt(&rec[old]),
                opt(&rec[new]),
            )
        })
        .collect();
    let want = truth(&db).await;
    assert_eq!(got.len(), want.len());
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);

    let out = bin(&sim, &db, dir.path(), &["changes", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"yesterday\"") && err.contains("24h") && err.contains("2026-01-31"),
        "{err}"
    );
    let out = bin(&sim, &db, dir.path(), &["changes", "--workspace", "nope"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    sim.shutdown().await;
}
