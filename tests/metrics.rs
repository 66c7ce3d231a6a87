//! `--metrics-file PATH` as node_exporter's textfile collector reads it: the real binary
//! against the simulator and PostgreSQL; the file parsed as Prometheus text format (by a
//! small parser here) and its values compared with the run's JSON summary, the simulator's
//! data and the database. A failed run still writes the file; a bad path is named and the
//! synced data stays.
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
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{TestDb, TestDir};
use glp_console::sim::{self, Faults, MspSim, SimConfig, SimHandle};

const CONFIG: &str = "[api]\nmax_concurrency = 2\n[api.page_size]\ndevices = 100\nsubscriptions = 50\n\
     [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\nservice_catalog_get = 100000\n\
     [api.retry]\nmax_attempts = 2\nbase_delay_ms = 10\nmax_delay_secs = 1\nmax_total_secs = 3\n\
     [api.breaker]\ncooldown_secs = 1\n[sync]\npatience = 0\n";

/// One sample: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parse the text exposition format strictly enough to catch what a scraper refuses: every
/// sample's family has HELP and TYPE lines before it, families are not split, label values
/// are quoted with `\\`, `\"` and `\n` escapes, values are numbers.
fn parse(text: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'), "the file ends with a line feed");
    let mut helped = BTreeSet::new();
    let mut typed = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.is_empty(), "{line}");
            assert!(
                helped.insert(name.to_string()),
                "one HELP per family: {line}"
            );
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(
                ["gauge", "counter", "untyped", "histogram", "summary"].contains(&kind),
                "{line}"
            );
            assert!(
                typed.insert(name.to_string()),
                "one TYPE per family: {line}"
            );
            if let Some(prev) = current.replace(name.to_string()) {
                finished.insert(prev);
            }
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "unexpected line {line:?}"
        );
        let name_end = line.find(['{', ' ']).expect("a sample has a value");
        let name = &line[..name_end];
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name {name:?}"
        );
        assert!(
            helped.contains(name) && typed.contains(name),
            "no HELP/TYPE for {line}"
        );
        assert_eq!(current.as_deref(), Some(name), "family split: {line}");
        assert!(!finished.contains(name));
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices().peekable();
            let end = loop {
                let (i, c) = chars.next().expect("unclosed labels");
                if c == '}' {
                    break i;
                }
                if c == ',' {
                    continue;
                }
                let mut key = String::from(c);
                for (_, c) in chars.by_ref() {
                    if c == '=' {
                        break;
                    }
                    key.push(c);
                }
                assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "quoted: {line}");
                let mut value = String::new();
                loop {
                    match chars.next().expect("unterminated label value").1 {
                        '"' => break,
                        '\\' => match chars.next().expect("escape").1 {
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            'n' => value.push('\n'),
                            other => panic!("bad escape \\{other} in {line}"),
                        },
                        c => value.push(c),
                    }
                }
                assert!(
                    labels.insert(key, value).is_none(),
                    "duplicate label: {line}"
                );
            };
            rest = &body[end + 1..];
        }
        let value: f64 = rest
            .strip_prefix(' ')
            .expect("space before the value")
            .parse()
            .unwrap_or_else(|_| panic!("value of {line}"));
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    samples
}

/// The value of the one sample with this name and these labels.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name && s.labels == want)
        .collect();
    assert_eq!(found.len(), 1, "one {name}{labels:?} in {samples:#?}");
    found[0].value
}

fn read(path: &Path) -> Vec<Sample> {
    parse(&std::fs::read_to_string(path).unwrap())
}

fn base_command(db: &TestDb, dir: &Path, config: &str) -> Command {
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(path)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn command(sim: &SimHandle, db: &TestDb, dir: &Path) -> Command {
    let mut c = base_command(db, dir, CONFIG);
    c.env("GLP_BASE_URL", sim.base_url())
        .env("GLP_TOKEN_URL", sim.token_url())
        .env("GLP_CLIENT_ID", sim.client_id())
        .env("GLP_CLIENT_SECRET", sim.client_secret());
    c
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
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

fn resource<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == name)
        .unwrap()
}

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

/// End of the newest succeeded run of a workspace, in unix seconds (as the file carries it).
async fn last_success(db: &TestDb, ws: &str) -> f64 {
    let t: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "SELECT max(finished_at) FROM sync_history WHERE outcome = 'succeeded' AND workspace_id = $1",
    )
    .bind(ws)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    t.timestamp_millis() as f64 / 1000.0
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// The figures of one workspace's run in the file equal the JSON summary's.
fn assert_run_matches(samples: &[Sample], ws: &str, v: &serde_json::Value) {
    let w = [("workspace", ws)];
    for (metric, key) in [
        ("glp_console_last_run_requests", "requests"),
        ("glp_console_last_run_retries", "retries"),
        ("glp_console_last_run_throttled", "throttled"),
        ("glp_console_last_run_breaker_trips", "breaker_trips"),
    ] {
        assert_eq!(
            value(samples, metric, &w),
            v[key].as_f64().unwrap(),
            "{metric} of {ws}"
        );
    }
    let duration = value(samples, "glp_console_last_run_duration_seconds", &w);
    // `status` reads the database's milliseconds.
    assert!(
        (duration - v["duration_seconds"].as_f64().unwrap()).abs() < 0.0015,
        "{duration} vs {v}"
    );
    let outcome = v["outcome"].as_str().unwrap();
    for o in ["succeeded", "partial", "failed", "cancelled"] {
        let want = if o == outcome { 1.0 } else { 0.0 };
        let got = value(
            samples,
            "glp_console_last_run_outcome",
            &[("workspace", ws), ("outcome", o)],
        );
        assert_eq!(got, want, "outcome {o} of {ws}");
    }
    for res in ["devices", "subscriptions"] {
        let r = resource(v, res);
        for what in ["fetched", "inserted", "updated", "removed"] {
            let got = value(
                samples,
                &format!("glp_console_last_run_items_{what}"),
                &[("workspace", ws), ("resource", res)],
            );
            assert_eq!(got, r[what].as_f64().unwrap(), "{what} {res} of {ws}");
        }
    }
}

#[tokio::test]
async fn single_workspace_success_failure_status_bad_path_and_lock() {
    glp_console::tls::init();
    let db = TestDb::new().await;
    let sim = sim::start(SimConfig {
        devices: 250,
        subscriptions: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = TestDir::new("glpc-metrics-");
    let prom_dir = dir.join("textfile");
    std::fs::create_dir(&prom_dir).unwrap();
    let prom = prom_dir.join("glp.prom");

    // A good full sync: the file's figures are the JSON summary's, the simulator's and the
    // database's.
    let mut c = command(&sim, &db, &dir);
    c.args(["--sync-only", "--json", "--full", "--metrics-file"])
        .arg(&prom);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let samples = read(&prom);
    assert_run_matches(&samples, "default", &v);
    let devices = sim.devices().len() as f64;
    assert_eq!(devices, 250.0);
    let fetched = [("workspace", "default"), ("resource", "devices")];
    assert_eq!(
        value(&samples, "glp_console_last_run_items_fetched", &fetched),
        devices
    );
    assert_eq!(
        value(&samples, "glp_console_last_run_items_inserted", &fetched),
        scalar(&db, "SELECT count(*) FROM devices WHERE removed_at IS NULL").await as f64
    );
    let good = last_success(&db, "default").await;
    assert_eq!(
        value(
            &samples,
            "glp_console_last_success_timestamp_seconds",
            &[("workspace", "default")]
        ),
        good
    );
    assert_eq!(value(&samples, "glp_console_workspaces_synced", &[]), 1.0);
    assert_eq!(value(&samples, "glp_console_workspaces_failing", &[]), 0.0);
    assert_eq!(
        files_in(&prom_dir),
        BTreeSet::from(["glp.prom".to_string()]),
        "no temporary file left"
    );

    // A failing run still writes the file: the failure is recorded, the last success is
    // still the earlier one.
    sim.set_faults(Faults {
        failing_endpoints: vec!["devices_get".into(), "subscriptions_get".into()],
        failing_endpoint_status: 503,
        ..Faults::default()
    });
    let mut c = command(&sim, &db, &dir);
    c.args(["--sync-only", "--json", "--metrics-file"])
        .arg(&prom);
    let out = run(c).await;
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "failed", "{v}");
    let samples = read(&prom);
    assert_run_matches(&samples, "default", &v);
    assert_eq!(
        value(
            &samples,
            "glp_console_last_success_timestamp_seconds",
            &[("workspace", "default")]
        ),
        good
    );
    assert_eq!(value(&samples, "glp_console_workspaces_synced", &[]), 0.0);
    assert_eq!(value(&samples, "glp_console_workspaces_failing", &[]), 1.0);

    // status writes the same figures from the database: the last run failed.
    let mut c = command(&sim, &db, &dir);
    c.args(["status", "--metrics-file"]).arg(&prom);
    let st = run(c).await;
    assert_eq!(st.status.code(), Some(7), "{}", text(&st));
    let from_status = read(&prom);
    assert_run_matches(&from_status, "default", &v);
    assert_eq!(
        value(&from_status, "glp_console_workspaces_failing", &[]),
        1.0
    );

    // A directory that does not exist: the error names the path, exit 2, the data stays.
    sim.set_faults(Faults::default());
    let before = scalar(
        &db,
        "SELECT count(*) FROM sync_history WHERE outcome = 'succeeded'",
    )
    .await;
    let missing = dir.join("no-such-dir").join("glp.prom");
    let mut c = command(&sim, &db, &dir);
    c.args(["--sync-only", "--full", "--metrics-file"])
        .arg(&missing);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&missing.display().to_string()),
        "{}",
        text(&out)
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM sync_history WHERE outcome = 'succeeded'"
        )
        .await,
        before + 1,
        "the sync itself was recorded"
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM devices WHERE removed_at IS NULL").await,
        250
    );

    // Another sync holds the lock (here: this test): the refused run did not run, so the
    // file shows the newest completed run, the good one just above, not a failure.
    let mut holder = db.store.pool().acquire().await.unwrap();
    let key = glp_console::store::lock::lock_key(&glp_console::domain::WorkspaceId::default_id());
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *holder)
        .await
        .unwrap();
    assert!(held);
    let mut c = command(&sim, &db, &dir);
    c.args(["--sync-only", "--metrics-file"]).arg(&prom);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let samples = read(&prom);
    let outcome = |o| {
        value(
            &samples,
            "glp_console_last_run_outcome",
            &[("workspace", "default"), ("outcome", o)],
        )
    };
    assert_eq!((outcome("succeeded"), outcome("failed")), (1.0, 0.0));
    assert_eq!(
        value(
            &samples,
            "glp_console_last_run_items_fetched",
            &[("workspace", "default"), ("resource", "devices")]
        ),
        250.0,
        "the full run's figures"
    );
    assert_eq!(
        value(
            &samples,
            "glp_console_last_success_timestamp_seconds",
            &[("workspace", "default")]
        ),
        last_success(&db, "default").await
    );
    let _: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .fetch_one(&mut *holder)
        .await
        .unwrap();
    sim.shutdown().await;
}

fn msp_config(sim: &SimHandle) -> String {
    let api = format!("[api]\nbase_url = \"{}\"\n", sim.base_url());
    format!(
        "{}workspace_concurrency = 2\n\
         [msp]\nname = \"acme\"\nid = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"GLP_MSP_SECRET\"\n",
        CONFIG.replacen("[api]\n", &api, 1),
        sim.workspace_id(),
        sim.client_id(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_writes_one_series_per_workspace() {
    glp_console::tls::init();
    let sim = common::msp::start(
        30,
        5,
        MspSim {
            tenants: 3,
            devices_per_tenant: 20,
            subscriptions_per_tenant: 4,
            tenant_faults: common::msp::faults(&[(2, common::msp::refused(403))]),
            ..MspSim::default()
        },
    )
    .await;
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-metrics-msp-");
    let prom = dir.join("fleet.prom");
    let refused = sim.tenants()[1].name.clone();
    let mut c = base_command(&db, &dir, &msp_config(&sim));
    c.env("GLP_MSP_SECRET", sim.client_secret())
        .env_remove("GLP_CLIENT_ID")
        .env_remove("GLP_CLIENT_SECRET")
        .args(["--sync-only", "--json", "--metrics-file"])
        .arg(&prom);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(1), "partial: {}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let samples = read(&prom);
    let listed = v["workspaces"].as_array().unwrap();
    assert_eq!(listed.len(), 4, "the MSP and its 3 tenants: {v}");
    let names: BTreeSet<String> = samples
        .iter()
        .filter(|s| s.name == "glp_console_last_success_timestamp_seconds")
        .map(|s| s.labels["workspace"].clone())
        .collect();
    let expected: BTreeSet<String> = listed
        .iter()
        .map(|w| w["workspace"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, expected);
    for w in listed {
        let name = w["workspace"].as_str().unwrap();
        let id = w["workspace_id"].as_str().unwrap();
        if name == refused {
            assert_eq!(w["outcome"], "failed", "{w}");
            let o = |outcome| {
                value(
                    &samples,
                    "glp_console_last_run_outcome",
                    &[("workspace", name), ("outcome", outcome)],
                )
            };
            assert_eq!((o("failed"), o("succeeded")), (1.0, 0.0));
            assert_eq!(
                value(
                    &samples,
                    "glp_console_last_success_timestamp_seconds",
                    &[("workspace", name)]
                ),
                0.0,
                "never synced"
            );
            continue;
        }
        assert_run_matches(&samples, name, &w["sync"]);
        let stored = scalar(
            &db,
            &format!(
                "SELECT count(*) FROM devices WHERE workspace_id = '{id}' AND removed_at IS NULL"
            ),
        )
        .await as f64;
        assert_eq!(
            value(
                &samples,
                "glp_console_last_run_items_inserted",
                &[("workspace", name), ("resource", "devices")]
            ),
            stored,
            "{name}"
        );
        assert_eq!(
            value(
                &samples,
                "glp_console_last_success_timestamp_seconds",
                &[("workspace", name)]
            ),
            last_success(&db, id).await
        );
    }
    assert_eq!(value(&samples, "glp_console_workspaces_synced", &[]), 3.0);
    assert_eq!(value(&samples, "glp_console_workspaces_failing", &[]), 1.0);

    // status judges the same workspaces from the database: the refused tenant never synced.
    let status_prom = dir.join("status.prom");
    let mut c = base_command(&db, &dir, &msp_config(&sim));
    c.args(["status", "--metrics-file"]).arg(&status_prom);
    let st = run(c).await;
    assert_eq!(st.status.code(), Some(7), "{}", text(&st));
    let from_status = read(&status_prom);
    assert_eq!(
        value(&from_status, "glp_console_workspaces_synced", &[]),
        3.0
    );
    assert_eq!(
        value(&from_status, "glp_console_workspaces_failing", &[]),
        1.0
    );
    for w in listed.iter().filter(|w| w["workspace"] != refused.as_str()) {
        let name = w["workspace"].as_str().unwrap();
        assert_run_matches(&from_status, name, &w["sync"]);
    }

    // A command without sync figures refuses the flag rather than write nothing.
    let mut c = base_command(&db, &dir, &msp_config(&sim));
    c.args(["workspaces", "--metrics-file"])
        .arg(dir.join("w.prom"));
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--metrics-file"));
    assert!(!dir.join("w.prom").exists());
    sim.shutdown().await;
}
