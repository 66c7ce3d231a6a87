//! The headless commands over a database holding several workspaces: `workspaces`, `status`
//! per workspace, `export` and `--expiring-days` with their workspace column and
//! `--workspace` filter. The rows are written with SQL (an MSP, two tenants, a tenant the MSP
//! no longer lists, and one device both the MSP view and its tenant return), and every output
//! is compared with direct SQL over the same tables.
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
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{TestDb, TestDir};

const MSP: &str = "a0000000000000000000000000000001";
const TENANT_A: &str = "b0000000000000000000000000000002";
const TENANT_B: &str = "c0000000000000000000000000000003";
const GONE: &str = "d0000000000000000000000000000004";

/// Stale after an hour; the expiring window of `workspaces` is 90 days.
const CONFIG: &str = "[sync]\nstale_after_minutes = 60\n[ui]\nexpiring_days = 90\n";

fn config_file(dir: &Path, config: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn command(db: &TestDb, dir: &Path, config: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(config_file(dir, config))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .env_remove("GLP_CLIENT_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

async fn run(db: &TestDb, dir: &Path, args: &[&str]) -> Output {
    run_with(db, dir, CONFIG, args).await
}

async fn run_with(db: &TestDb, dir: &Path, config: &str, args: &[&str]) -> Output {
    let child = command(db, dir, config, args).spawn().unwrap();
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The dashed spelling GreenLake's `tenantWorkspaceId` uses.
fn dashed(id: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..]
    )
}

async fn exec(db: &TestDb, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(db.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

/// An MSP "acme" with tenants "tenant-a", "tenant-b" and the removed "tenant-gone".
/// Devices: acme's view lists m1 (its own) and a1 placed in tenant-a (the dashed id, as GLP
/// sends it); tenant-a's view lists a1, a2 and the removed a3; tenant-b's lists b1.
/// Subscriptions: tenant-a's sa1 ends in 10 days and covers a1, a2; tenant-b's sb1 ends in 20
/// days and covers b1; acme's sm1 ends in 200 days; tenant-a's sa2 has ENDED.
/// Runs: acme's last good sync 5 h ago (stale after 60 min), tenant-a's 5 min ago, tenant-b
/// succeeded 10 min ago and then failed.
async fn seed(db: &TestDb) {
    let ws = format!(
        "INSERT INTO workspaces (id, name, kind, parent_id, inventory_ownership, first_seen_at, \
           last_seen_at, removed_at) VALUES \
         ('{MSP}', 'acme', 'msp', NULL, NULL, now(), now(), NULL), \
         ('{TENANT_A}', 'tenant-a', 'tenant', '{MSP}', 'CUSTOMER_OWNED_INVENTORY', now(), now(), NULL), \
         ('{TENANT_B}', 'tenant-b', 'tenant', '{MSP}', 'MSP_OWNED_INVENTORY', now(), now(), NULL), \
         ('{GONE}', 'tenant-gone', 'tenant', '{MSP}', NULL, now() - interval '3 days', \
           now() - interval '2 days', now() - interval '1 day')"
    );
    exec(db, &ws).await;
    let device = |ws: &str, id: &str, serial: &str, tenant: Option<String>, removed: bool| {
        format!(
            "('{ws}', '{id}', '{serial}', {}, {}, \
              '{{\"id\": \"{id}\", \"serialNumber\": \"{serial}\"}}'::jsonb, {})",
            tenant.as_ref().map_or("NULL", |_| "'MSP'"),
            tenant.map_or("NULL".to_string(), |t| format!("'{t}'")),
            if removed { "now()" } else { "NULL" }
        )
    };
    let rows = [
        device(MSP, "m1", "SER-M1", None, false),
        device(MSP, "a1", "SER-A1", Some(dashed(TENANT_A)), false),
        device(TENANT_A, "a1", "SER-A1", None, false),
        device(TENANT_A, "a2", "SER-A2", None, false),
        device(TENANT_A, "a3", "SER-A3", None, true),
        device(TENANT_B, "b1", "SER-B1", None, false),
    ];
    exec(
        db,
        &format!(
            "INSERT INTO devices (workspace_id, id, serial_number, management, \
               tenant_workspace_id, raw_data, removed_at) VALUES {}",
            rows.join(", ")
        ),
    )
    .await;
    let sub = |ws: &str, id: &str, status: &str, days: i32| {
        format!(
            "('{ws}', '{id}', 'KEY-{id}', 'CENTRAL_AP', '{status}', 10, 8, \
              now() + make_interval(days => {days}) + interval '1 hour', \
              '{{\"id\": \"{id}\", \"key\": \"KEY-{id}\"}}'::jsonb)"
        )
    };
    let subs = [
        sub(TENANT_A, "sa1", "STARTED", 10),
        sub(TENANT_A, "sa2", "ENDED", -30),
        sub(TENANT_B, "sb1", "STARTED", 20),
        sub(MSP, "sm1", "STARTED", 200),
    ];
    exec(
        db,
        &format!(
            "INSERT INTO subscriptions (workspace_id, id, key, subscription_type, \
               subscription_status, quantity, available_quantity, end_time, raw_data) VALUES {}",
            subs.join(", ")
        ),
    )
    .await;
    exec(
        db,
        &format!(
            "INSERT INTO device_subscriptions (workspace_id, device_id, subscription_id, key, end_time) \
             SELECT s.workspace_id, l.device_id, s.id, s.key, s.end_time \
               FROM (VALUES ('{TENANT_A}', 'a1', 'sa1'), ('{TENANT_A}', 'a2', 'sa1'), \
                            ('{TENANT_B}', 'b1', 'sb1')) AS l (ws, device_id, sub) \
               JOIN subscriptions s ON s.workspace_id = l.ws AND s.id = l.sub"
        ),
    )
    .await;
    let run = |ws: &str, minutes_ago: i32, outcome: &str, error: Option<&str>| {
        format!(
            "('{ws}', 'cron', 'incremental', 'both', \
              now() - make_interval(mins => {minutes_ago} + 1), \
              now() - make_interval(mins => {minutes_ago}), '{outcome}', {})",
            error.map_or("NULL".to_string(), |e| format!("'{e}'"))
        )
    };
    let runs = [
        run(MSP, 300, "succeeded", None),
        run(TENANT_A, 5, "succeeded", None),
        run(TENANT_B, 10, "succeeded", None),
        run(
            TENANT_B,
            2,
            "failed",
            Some("the token request was refused (invalid_client)"),
        ),
    ];
    exec(
        db,
        &format!(
            "INSERT INTO sync_history (workspace_id, trigger, mode, scope, started_at, \
               finished_at, outcome, error) VALUES {}",
            runs.join(", ")
        ),
    )
    .await;
}

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(db.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
}

#[tokio::test]
async fn workspaces_lists_each_workspace_and_totals_count_a_shared_device_once() {
    let db = TestDb::new().await;
    seed(&db).await;
    let dir = TestDir::new("glpc-hws-");

    let out = run(&db, &dir, &["workspaces", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = v["workspaces"].as_array().unwrap();
    let by_name: BTreeMap<&str, &serde_json::Value> = lines
        .iter()
        .map(|l| (l["name"].as_str().unwrap(), l))
        .collect();
    assert_eq!(
        by_name.keys().copied().collect::<Vec<_>>(),
        ["acme", "tenant-a", "tenant-b", "tenant-gone"]
    );
    // a1 is listed by acme and by tenant-a: it is tenant-a's, once.
    let devices: BTreeMap<&str, i64> = by_name
        .iter()
        .map(|(n, l)| (*n, l["devices"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        devices,
        BTreeMap::from([
            ("acme", 1),
            ("tenant-a", 2),
            ("tenant-b", 1),
            ("tenant-gone", 0)
        ])
    );
    assert_eq!(by_name["tenant-a"]["kind"], "tenant");
    assert_eq!(by_name["tenant-a"]["id"], TENANT_A);
    assert!(by_name["tenant-gone"]["removed_at"].is_string());
    assert_eq!(by_name["tenant-b"]["last_run_outcome"], "failed");
    assert_eq!(by_name["tenant-a"]["expiring"], 1);

    // The total line equals direct SQL with the DISTINCT rule — not the plain row count.
    let distinct_live = scalar(
        &db,
        "SELECT count(DISTINCT id) FROM devices WHERE removed_at IS NULL",
    )
    .await;
    let plain_live = scalar(&db, "SELECT count(*) FROM devices WHERE removed_at IS NULL").await;
    assert_eq!(distinct_live, 4);
    assert_ne!(distinct_live, plain_live, "the seed has one device twice");
    assert_eq!(v["total"]["devices"], distinct_live);
    assert_eq!(v["total"]["devices"], devices.values().sum::<i64>());
    let subs = scalar(
        &db,
        "SELECT count(DISTINCT id) FROM subscriptions WHERE removed_at IS NULL",
    )
    .await;
    assert_eq!(v["total"]["subscriptions"], subs);
    let expiring = scalar(
        &db,
        "SELECT count(DISTINCT id) FROM subscriptions WHERE removed_at IS NULL \
           AND subscription_status = 'STARTED' AND end_time >= now() \
           AND end_time < now() + interval '90 days'",
    )
    .await;
    assert_eq!(expiring, 2);
    assert_eq!(v["total"]["expiring"], expiring);
    assert_eq!(v["total"]["workspaces"], 4);

    // The table says the same.
    let out = run(&db, &dir, &["workspaces"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let total = table
        .lines()
        .find(|l| l.starts_with("total (4 workspace(s))"))
        .unwrap_or_else(|| panic!("no total line:\n{table}"));
    let figures: Vec<&str> = total.split_whitespace().skip(3).collect();
    assert_eq!(figures, ["4", &subs.to_string(), "2"], "{table}");
    let a = table.lines().find(|l| l.starts_with("tenant-a ")).unwrap();
    assert!(a.contains(TENANT_A) && a.contains("succeeded"), "{table}");
    let gone = table
        .lines()
        .find(|l| l.starts_with("tenant-gone"))
        .unwrap();
    assert!(
        gone.contains("(removed)") && gone.contains("never"),
        "{table}"
    );
}

#[tokio::test]
async fn status_names_every_failing_or_stale_workspace() {
    let db = TestDb::new().await;
    seed(&db).await;
    let dir = TestDir::new("glpc-hws-");

    let out = run(&db, &dir, &["status"]).await;
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 of 3 workspace(s) failing or stale"),
        "{stderr}"
    );
    assert!(
        stderr.contains("acme: stale: last good sync 5h"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tenant-b: last completed sync")
            && stderr.contains("failed: the token request was refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("tenant-a:"), "{stderr}");
    assert!(
        !stderr.contains("tenant-gone:"),
        "removed tenants never alert: {stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let state = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} line:\n{stdout}"))
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_string()
    };
    assert_eq!(state("acme"), "STALE");
    assert_eq!(state("tenant-a"), "ok");
    assert_eq!(state("tenant-b"), "FAILING");
    assert_eq!(state("tenant-gone"), "removed");

    let out = run(&db, &dir, &["status", "--json"]).await;
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(
        v["failing_or_stale"],
        serde_json::json!(["acme", "tenant-b"])
    );
    let last_b: i64 = scalar(
        &db,
        &format!("SELECT max(id) FROM sync_history WHERE workspace_id = '{TENANT_B}'"),
    )
    .await;
    let b = v["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "tenant-b")
        .unwrap();
    assert_eq!(b["last_completed"]["id"], last_b);
    assert_eq!(b["last_completed"]["outcome"], "failed");

    // One workspace named: its runs in full, as a single-workspace status shows them.
    let out = run(&db, &dir, &["status", "--workspace", "tenant-a"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("workspace: tenant-a ("), "{stdout}");
    assert!(stdout.contains("last good sync: "), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.contains(" cron ")).count(),
        1,
        "tenant-a's one run only: {stdout}"
    );
    let out = run(&db, &dir, &["status", "--workspace", "tenant-b"]).await;
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workspace tenant-b"));

    // Two named: the table of those two; the healthy pair exits 0.
    let out = run(
        &db,
        &dir,
        &[
            "status",
            "--workspace",
            "tenant-a",
            "--workspace",
            "tenant-gone",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A workspace the configuration declares but the database does not hold has never
    // synced: listed, and stale. The stored ones this configuration does not declare are
    // listed as not synced and never alert (cron with this file could not mend them).
    let declared = format!(
        "{CONFIG}[[workspaces]]\nname = \"tenant-a\"\nid = \"{}\"\nclient_id = \"a\"\n\
         client_secret = \"s\"\n[[workspaces]]\nname = \"emea\"\n\
         id = \"e0000000000000000000000000000005\"\nclient_id = \"e\"\nclient_secret = \"s\"\n",
        dashed(TENANT_A)
    );
    let out = run_with(&db, &dir, &declared, &["status"]).await;
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 of 2 workspace(s) failing or stale"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("tenant-b")).unwrap();
    assert!(line.contains("not synced"), "{stdout}");
    assert!(
        stderr.contains("emea: stale: never synced successfully"),
        "{stderr}"
    );
    assert!(!stderr.contains("tenant-a:"), "{stderr}");

    let out = run(&db, &dir, &["status", "--workspace", "nope"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("acme, tenant-a, tenant-b, tenant-gone"),
        "{}",
        text(&out)
    );
}

fn csv_rows(bytes: &[u8]) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_reader(bytes);
    let headers = r.headers().unwrap().clone();
    (headers, r.records().map(|r| r.unwrap()).collect())
}

#[tokio::test]
async fn export_has_a_workspace_column_and_a_workspace_filter() {
    let db = TestDb::new().await;
    seed(&db).await;
    let dir = TestDir::new("glpc-hws-");

    let out = run(&db, &dir, &["export", "devices", "--format", "csv"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (headers, rows) = csv_rows(&out.stdout);
    assert_eq!(headers.iter().next_back(), Some("workspace"));
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let got: BTreeMap<String, String> = rows
        .iter()
        .map(|r| (r[col("id")].to_string(), r[col("workspace")].to_string()))
        .collect();
    assert_eq!(
        rows.len() as i64,
        scalar(&db, "SELECT count(DISTINCT id) FROM devices").await,
        "one row per device across workspaces"
    );
    let want: BTreeMap<String, String> = [
        ("a1", "tenant-a"),
        ("a2", "tenant-a"),
        ("a3", "tenant-a"),
        ("b1", "tenant-b"),
        ("m1", "acme"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);

    let out = run(
        &db,
        &dir,
        &[
            "export",
            "devices",
            "--format",
            "csv",
            "--workspace",
            "tenant-a",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (_, rows) = csv_rows(&out.stdout);
    let ids: BTreeSet<String> = rows.iter().map(|r| r[col("id")].to_string()).collect();
    assert_eq!(ids, BTreeSet::from(["a1".into(), "a2".into(), "a3".into()]));

    // JSON: the items as GLP sent them, live ones, of the chosen workspaces.
    let out = run(
        &db,
        &dir,
        &[
            "export",
            "devices",
            "--format",
            "json",
            "--workspace",
            "acme",
            "--workspace",
            "tenant-b",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: BTreeSet<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, BTreeSet::from(["b1", "m1"]));

    // Subscriptions: the device counts are the links of the subscription's own workspace.
    let out = run(&db, &dir, &["export", "subscriptions", "--format", "csv"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (headers, rows) = csv_rows(&out.stdout);
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let got: BTreeMap<String, (String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[col("id")].to_string(),
                (
                    r[col("workspace")].to_string(),
                    r[col("devices")].to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(got["sa1"], ("tenant-a".to_string(), "2".to_string()));
    assert_eq!(got["sb1"], ("tenant-b".to_string(), "1".to_string()));
    assert_eq!(got["sm1"], ("acme".to_string(), "0".to_string()));
    assert_eq!(got.len(), 4);

    // xlsx ends in a Workspace column too.
    let xlsx = dir.join("d.xlsx");
    let out = run(
        &db,
        &dir,
        &[
            "export",
            "devices",
            "-o",
            xlsx.to_str().unwrap(),
            "--workspace",
            "tenant-b",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(&xlsx).unwrap();
    let range = book.worksheet_range("Devices").unwrap();
    let sheet: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(sheet.len(), 2, "a header and b1");
    assert_eq!(sheet[0].last().map(String::as_str), Some("Workspace"));
    assert_eq!(sheet[1].last().map(String::as_str), Some("tenant-b"));

    // An unknown name: exit 2, the known ones named, no file.
    let bad = dir.join("bad.csv");
    let out = run(
        &db,
        &dir,
        &[
            "export",
            "devices",
            "-o",
            bad.to_str().unwrap(),
            "--workspace",
            "tenant-z",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--workspace tenant-z") && stderr.contains("acme, tenant-a"),
        "{stderr}"
    );
    assert!(!bad.exists());
}

#[tokio::test]
async fn expiring_days_across_workspaces_and_for_one() {
    let db = TestDb::new().await;
    seed(&db).await;
    let dir = TestDir::new("glpc-hws-");

    let out = run(&db, &dir, &["--expiring-days", "30", "--csv"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (headers, rows) = csv_rows(&out.stdout);
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let got: BTreeSet<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[col("subscription_key")].to_string(),
                r[col("device_serial")].to_string(),
                r[col("workspace")].to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("KEY-sa1", "SER-A1", "tenant-a"),
        ("KEY-sa1", "SER-A2", "tenant-a"),
        ("KEY-sb1", "SER-B1", "tenant-b"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.into(), b.into(), c.into()))
    .collect();
    assert_eq!(got, want);
    let keys: BTreeSet<String> = rows
        .iter()
        .map(|r| r[col("subscription_key")].to_string())
        .collect();
    let from_sql: Vec<String> = sqlx::query_scalar("SELECT key FROM subscriptions_expiring(30)")
        .fetch_all(db.store.pool())
        .await
        .unwrap();
    assert_eq!(keys, from_sql.into_iter().collect::<BTreeSet<_>>());

    let out = run(
        &db,
        &dir,
        &["--expiring-days", "30", "--json", "--workspace", "tenant-b"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let subs = v["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["key"], "KEY-sb1");
    assert_eq!(subs[0]["workspace"], "tenant-b");
    assert_eq!(subs[0]["workspace_id"], TENANT_B);
    assert_eq!(v["devices"].as_array().unwrap().len(), 1);

    let out = run(&db, &dir, &["--expiring-days", "30"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("WORKSPACE "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("tenant-a ") && l.contains("KEY-sa1")),
        "{table}"
    );
    assert!(table.contains("per workspace:"), "{table}");

    let out = run(&db, &dir, &["--expiring-days", "30", "--workspace", "x"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test]
async fn one_workspace_keeps_the_output_of_earlier_versions() {
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-hws-");
    let out = run(&db, &dir, &["status"]).await;
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("last good sync: never"), "{stdout}");
    assert!(!stdout.contains("WORKSPACE"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the last sync failed or is too old"),
        "{}",
        text(&out)
    );
    let out = run(&db, &dir, &["workspaces"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("No workspace is stored yet"),
        "{}",
        text(&out)
    );
    // A legacy database's rows, and the one workspace migration 0009 records for them.
    exec(
        &db,
        "INSERT INTO workspaces (id, name, kind) VALUES ('default', 'default', 'standalone'); \
         INSERT INTO sync_history (workspace_id, trigger, mode, scope, finished_at, outcome) \
         VALUES ('default', 'cron', 'full', 'both', now(), 'succeeded')",
    )
    .await;
    let out = run(&db, &dir, &["workspaces"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.lines().any(|l| l.starts_with("default ")), "{table}");
    assert!(table.contains("total (1 workspace(s))"), "{table}");
    let out = run(&db, &dir, &["status"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("last good sync: "),
        "{}",
        text(&out)
    );
    let out = run(&db, &dir, &["--expiring-days", "30"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Nothing expires"));
}

#[tokio::test]
async fn workspace_flags_are_refused_where_they_mean_nothing() {
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-hws-");
    for args in [
        vec!["--workspace", "a"],
        vec!["--sync-only", "--all-workspaces", "--workspace", "a"],
        vec!["--all-workspaces"],
        vec!["--expiring-days", "30", "--live", "--workspace", "a"],
    ] {
        let out = run(&db, &dir, &args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
}

/// An MSP and four tenants synced by the real `--sync-only` from the simulator's MSP mode
/// (placed devices in both the MSP's view and their tenant's): `workspaces`, `export` and
/// `--expiring-days` agree with each other and with direct SQL under the DISTINCT rule.
#[tokio::test(flavor = "multi_thread")]
async fn after_an_msp_sync_every_report_counts_a_placed_device_once() {
    use glp_console::sim::{self, MspSim, SimConfig};
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 30,
        subscriptions: 4,
        msp: Some(MspSim {
            tenants: 4,
            devices_per_tenant: 30,
            subscriptions_per_tenant: 5,
            ..MspSim::default()
        }),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-hws-");
    let config = format!(
        "[api]\nbase_url = \"{base}\"\nmax_concurrency = 2\n\
         [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n\
         service_catalog_get = 100000\n\
         [sync]\npatience = 0\nworkspace_concurrency = 2\n[ui]\nexpiring_days = 3650\n\
         [msp]\nname = \"acme\"\nid = \"{id}\"\nclient_id = \"{client}\"\n\
         client_secret = \"{secret}\"\n",
        base = sim.base_url(),
        id = sim.workspace_id(),
        client = sim.client_id(),
        secret = sim.client_secret(),
    );
    let out = run_with(&db, &dir, &config, &["--sync-only"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sim.shutdown().await;
    let placed = scalar(
        &db,
        "SELECT count(*) FROM devices WHERE workspace_id <> placed_workspace_id",
    )
    .await;
    assert!(placed > 0, "the MSP view returns devices placed in tenants");

    let out = run_with(&db, &dir, &config, &["workspaces", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = v["workspaces"].as_array().unwrap();
    assert_eq!(lines.len(), 5, "the MSP and its four tenants");
    let distinct = scalar(
        &db,
        "SELECT count(DISTINCT id) FROM devices WHERE removed_at IS NULL",
    )
    .await;
    assert_eq!(v["total"]["devices"], distinct);
    assert_eq!(
        lines
            .iter()
            .map(|l| l["devices"].as_i64().unwrap())
            .sum::<i64>(),
        distinct
    );
    let subs = scalar(
        &db,
        "SELECT count(DISTINCT id) FROM subscriptions WHERE removed_at IS NULL",
    )
    .await;
    assert_eq!(v["total"]["subscriptions"], subs);

    // The export: one row per device, each workspace's rows as many as its line says.
    let out = run_with(
        &db,
        &dir,
        &config,
        &["export", "devices", "--format", "csv"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (headers, rows) = csv_rows(&out.stdout);
    let col = headers.iter().position(|h| h == "workspace").unwrap();
    assert_eq!(rows.len() as i64, distinct);
    let mut per_ws: BTreeMap<String, i64> = BTreeMap::new();
    for r in &rows {
        *per_ws.entry(r[col].to_string()).or_default() += 1;
    }
    for l in lines {
        let name = l["name"].as_str().unwrap();
        let n = l["devices"].as_i64().unwrap();
        assert_eq!(per_ws.get(name).copied().unwrap_or(0), n, "{name}");
        let out = run_with(
            &db,
            &dir,
            &config,
            &["export", "devices", "--format", "csv", "--workspace", name],
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(csv_rows(&out.stdout).1.len() as i64, n, "{name} alone");
    }

    // Everything that expires, once each, and the workspaces' own figures sum to it.
    let out = run_with(&db, &dir, &config, &["--expiring-days", "3650", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expiring = scalar(
        &db,
        "SELECT count(DISTINCT id) FROM subscriptions WHERE removed_at IS NULL \
           AND subscription_status = 'STARTED' AND end_time >= now() \
           AND end_time < now() + interval '3650 days'",
    )
    .await;
    assert_eq!(
        e["subscriptions"].as_array().unwrap().len() as i64,
        expiring
    );
    assert_eq!(v["total"]["expiring"], expiring);
    assert_eq!(
        lines
            .iter()
            .map(|l| l["expiring"].as_i64().unwrap())
            .sum::<i64>(),
        expiring
    );

    let out = run_with(&db, &dir, &config, &["status"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}
