//! A simulator on 127.0.0.1 plus a plain HTTP client and a bearer token, for the tests that
//! speak to it directly.

use glp_console::sim::{self, SimConfig, SimHandle};
use serde_json::Value;

/// Start a simulator and fetch a token from it.
pub async fn start(cfg: SimConfig) -> (SimHandle, reqwest::Client, String) {
    glp_console::tls::init();
    let s = sim::start(cfg).await.expect("the simulator starts");
    let c = reqwest::Client::new();
    let tok = token(&s, &c).await;
    (s, c, tok)
}

/// A fresh token (client credentials in the form body).
pub async fn token(s: &SimHandle, c: &reqwest::Client) -> String {
    let r: Value = c
        .post(s.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", s.client_id()),
            ("client_secret", s.client_secret()),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    r["access_token"]
        .as_str()
        .expect("access_token in the answer")
        .to_string()
}

/// A database filled as cron fills it: the real binary's `--sync-only --full` against `sim`,
/// with a config file in `dir` that lifts the rate limits and holds no credentials (they
/// come from the simulator's environment). Returns that config file for the console run.
pub fn seed_with_sync_only(
    sim: &SimHandle,
    db_url: &str,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n",
    )
    .expect("the test dir is writable");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glp-console"))
        .args(["--config", &config.display().to_string()])
        .args(["--log-dir", &dir.join("logs").display().to_string()])
        .args(["--sync-only", "--full"])
        .envs(sim.env_vars())
        .env("DATABASE_URL", db_url)
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{out:?}");
    config
}

/// RFC 8693 token exchange at `tenant`'s token URL with the MSP's client (HTTP Basic):
/// the raw answer (status and OAuth body).
pub async fn exchange(
    s: &SimHandle,
    c: &reqwest::Client,
    tenant: &str,
    msp_token: &str,
) -> (reqwest::StatusCode, Value) {
    let r = c
        .post(s.workspace_token_url(tenant))
        .basic_auth(s.client_id(), Some(s.client_secret()))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", msp_token),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
        ])
        .send()
        .await
        .expect("token exchange request");
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// A tenant's token by exchange (panics when refused).
pub async fn tenant_token(
    s: &SimHandle,
    c: &reqwest::Client,
    tenant: &str,
    msp_token: &str,
) -> String {
    let (st, v) = exchange(s, c, tenant, msp_token).await;
    assert_eq!(st, reqwest::StatusCode::OK, "exchange for {tenant}: {v}");
    v["access_token"]
        .as_str()
        .expect("access_token in the answer")
        .to_string()
}

/// Every item of a list endpoint, page by page (`limit` per page), with a bearer token.
pub async fn list_all(
    s: &SimHandle,
    c: &reqwest::Client,
    tok: &str,
    path: &str,
    limit: u32,
) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let r: Value = c
            .get(format!("{}{}", s.base_url(), path))
            .bearer_auth(tok)
            .query(&[
                ("offset", out.len().to_string()),
                ("limit", limit.to_string()),
            ])
            .send()
            .await
            .expect("list request")
            .json()
            .await
            .expect("list JSON");
        let items = r["items"].as_array().expect("items").clone();
        let total = r["total"].as_u64().expect("total") as usize;
        let n = items.len();
        out.extend(items);
        if n == 0 || out.len() >= total {
            return out;
        }
    }
}
