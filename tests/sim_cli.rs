//! `glp-console simulate`: flags become the right settings, and the command serves the API
//! on the port it prints, with the `GLP_*` settings a client needs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Parser;
use glp_console::cli::{Cli, Command as Sub};
use serde_json::Value;

fn parse(args: &[&str]) -> glp_console::sim::SimConfig {
    let cli = Cli::try_parse_from(args).unwrap();
    match cli.command {
        Some(Sub::Simulate(a)) => a.to_sim_config(cli.global.client_id.clone()).unwrap(),
        other => panic!("not simulate: {other:?}"),
    }
}

#[test]
fn flags_map_to_sim_config() {
    let c = parse(&["glp-console", "simulate"]);
    assert_eq!(c.port, 8700);
    assert_eq!(
        (c.client_id.as_str(), c.client_secret.as_str()),
        ("sim-client", "sim-secret")
    );
    assert_eq!(c.token_ttl, Duration::from_secs(900));
    assert_eq!(c.limits, Some(glp_console::sim::Limits::default()));
    assert_eq!(
        c.subscription_page_max, 200,
        "as the 2026-08-03 spec allows"
    );
    let c = parse(&[
        "glp-console",
        "simulate",
        "--port",
        "0",
        "--client-id",
        "me",
        "--client-secret",
        "s3",
        "--devices",
        "10",
        "--subscriptions",
        "5",
        "--seed",
        "9",
        "--token-ttl",
        "60",
        "--subscription-page-max",
        "200",
        "--limits",
        "spec-2026",
        "--limit",
        "devices_get=10",
        "--retry-after",
        "--op-delay-ms",
        "5",
        "--error-rate",
        "0.1",
        "--error-statuses",
        "503",
        "--latency-ms",
        "3",
        "--drop-rate",
        "0.2",
        "--malformed-rate",
        "0.3",
        "--truncated-rate",
        "0.4",
        "--missing-total-rate",
        "0.5",
        "--outage-after",
        "7",
        "--outage-secs",
        "2",
        "--token-expiry-secs",
        "30",
        "--insert-between-pages",
        "--fail-ops-for",
        "SN1,SN2",
        "--ops-paused-ms",
        "700",
        "--time-out-ops-for",
        "SN3",
    ]);
    assert_eq!((c.port, c.devices, c.subscriptions, c.seed), (0, 10, 5, 9));
    assert_eq!(
        (c.client_id.as_str(), c.client_secret.as_str()),
        ("me", "s3")
    );
    assert_eq!(c.subscription_page_max, 200);
    let l = c.limits.unwrap();
    assert_eq!((l.devices_get, l.devices_patch), (Some(10), Some(40)));
    assert!(c.retry_after_header);
    assert_eq!(c.op_delay, Duration::from_millis(5));
    let f = c.faults;
    assert_eq!(
        (f.error_rate, f.error_statuses.clone(), f.latency),
        (0.1, vec![503], Duration::from_millis(3))
    );
    assert_eq!(
        (
            f.drop_rate,
            f.malformed_rate,
            f.truncated_rate,
            f.missing_total_rate
        ),
        (0.2, 0.3, 0.4, 0.5)
    );
    let o = f.outage.unwrap();
    assert_eq!((o.after_requests, o.duration), (7, Duration::from_secs(2)));
    assert_eq!(f.token_early_expiry, Some(Duration::from_secs(30)));
    assert!(f.insert_between_pages);
    assert_eq!(f.fail_ops_for, vec!["SN1", "SN2"]);
    assert_eq!(f.ops_paused, Some(Duration::from_millis(700)));
    assert_eq!(f.time_out_ops_for, vec!["SN3"]);
    assert!(
        parse(&["glp-console", "simulate", "--limits", "off"])
            .limits
            .is_none()
    );
    let bad = Cli::try_parse_from(["glp-console", "simulate", "--error-rate", "2"]).unwrap();
    let Some(Sub::Simulate(a)) = bad.command else {
        panic!()
    };
    assert!(a.to_sim_config(None).is_err());
}

#[tokio::test]
async fn simulate_command_serves_and_prints_settings() {
    glp_console::tls::init();
    let mut child = Command::new(env!("CARGO_BIN_EXE_glp-console"))
        .args([
            "simulate",
            "--port",
            "0",
            "--devices",
            "120",
            "--subscriptions",
            "30",
            "--limits",
            "off",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut env = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(kv) = line.strip_prefix("export ") {
                let (k, v) = kv.split_once('=').unwrap();
                env.push((k.to_string(), v.to_string()));
                if k == "GLP_CLIENT_SECRET" {
                    break;
                }
            }
        }
        env
    })
    .await
    .unwrap();
    let get = |k: &str| {
        lines
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let c = reqwest::Client::new();
    let tok: Value = c
        .post(get("GLP_TOKEN_URL"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &get("GLP_CLIENT_ID")),
            ("client_secret", &get("GLP_CLIENT_SECRET")),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let v: Value = c
        .get(format!("{}/devices/v1/devices", get("GLP_BASE_URL")))
        .bearer_auth(tok["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 120);
    child.kill().unwrap();
    let _ = child.wait();
}
