//! Simulator rate limits, every fault switch, the counters and the `/_sim` control endpoints,
//! over real HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::time::{Duration, Instant};

use glp_console::sim::{Faults, Limits, Outage, SimConfig, SimHandle, Stats};
use serde_json::{Value, json};

use common::sim::{start as setup, token};

async fn devices(
    s: &SimHandle,
    c: &reqwest::Client,
    tok: &str,
    q: &[(&str, &str)],
) -> reqwest::Result<reqwest::Response> {
    c.get(format!("{}/devices/v1/devices", s.base_url()))
        .bearer_auth(tok)
        .query(q)
        .send()
        .await
}

#[tokio::test]
async fn rate_limits_429_headers_and_switching() {
    let (s, c, tok) = setup(SimConfig {
        limits: Some(Limits {
            devices_get: Some(3),
            ..Limits::default()
        }),
        retry_after_header: true,
        ..SimConfig::default()
    })
    .await;
    for i in 0..3 {
        let r = devices(&s, &c, &tok, &[("limit", "1")]).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["ratelimit-limit"], "3");
        assert_eq!(
            r.headers()["ratelimit-remaining"].to_str().unwrap(),
            (2 - i).to_string()
        );
    }
    let r = devices(&s, &c, &tok, &[("limit", "1")]).await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    let reset: u64 = r.headers()["ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&reset), "{reset}");
    assert_eq!(
        r.headers()["retry-after"].to_str().unwrap(),
        reset.to_string()
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["httpStatusCode"], 429);
    assert_eq!(v["errorCode"], "HPE_GL_ERROR_TOO_MANY_REQUESTS");
    assert_eq!(v["errorDetails"][0]["type"], "hpe.greenlake.metadata");
    // Other endpoints have their own buckets.
    let r = c
        .get(format!("{}/subscriptions/v1/subscriptions", s.base_url()))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let st = s.stats();
    assert_eq!(st.endpoint("devices_get").throttled_429, 1);
    assert_eq!(st.endpoint("devices_get").ok_2xx, 3);
    assert_eq!(
        st.max_in_window(Some("devices_get"), Duration::from_secs(60)),
        4
    );
    // Off mid-run.
    s.set_limits(None);
    assert_eq!(
        devices(&s, &c, &tok, &[("limit", "1")])
            .await
            .unwrap()
            .status(),
        200
    );
    // Default numbers are GLP-Sync-2's.
    let d = Limits::default();
    assert_eq!(
        (
            d.devices_get,
            d.subscriptions_get,
            d.devices_patch,
            d.devices_post,
            d.async_get
        ),
        (Some(160), Some(60), Some(20), Some(25), Some(90))
    );
    s.shutdown().await;
}

#[tokio::test]
async fn error_latency_and_drop_faults() {
    let (s, c, tok) = setup(SimConfig::default()).await;
    s.set_faults(Faults {
        error_rate: 1.0,
        error_statuses: vec![502],
        retry_after_seconds: 7,
        ..Faults::default()
    });
    let r = devices(&s, &c, &tok, &[]).await.unwrap();
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errorDetails"][0]["type"], "hpe.greenlake.retry_info");
    assert_eq!(v["errorDetails"][0]["retryAfterSeconds"], 7);
    // Roughly half with error_rate 0.5.
    s.set_faults(Faults {
        error_rate: 0.5,
        ..Faults::default()
    });
    let mut errors = 0;
    for _ in 0..40 {
        let st = devices(&s, &c, &tok, &[("limit", "1")])
            .await
            .unwrap()
            .status();
        if st.is_server_error() {
            assert!([500, 502, 503].contains(&st.as_u16()));
            errors += 1;
        }
    }
    assert!((8..=32).contains(&errors), "{errors}");
    s.set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let t0 = Instant::now();
    assert_eq!(
        devices(&s, &c, &tok, &[("limit", "1")])
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(t0.elapsed() >= Duration::from_millis(150));
    s.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let r = devices(&s, &c, &tok, &[("limit", "1")]).await;
    assert!(r.is_err(), "connection dropped: {r:?}");
    s.set_faults(Faults::default());
    assert_eq!(
        devices(&s, &c, &tok, &[("limit", "1")])
            .await
            .unwrap()
            .status(),
        200
    );
    let st = s.stats().endpoint("devices_get");
    assert_eq!(st.dropped, 1);
    assert!(st.server_5xx >= 9);
    s.shutdown().await;
}

#[tokio::test]
async fn body_faults_malformed_truncated_missing_total() {
    let (s, c, tok) = setup(SimConfig::default()).await;
    s.set_faults(Faults {
        malformed_rate: 1.0,
        ..Faults::default()
    });
    let r = devices(&s, &c, &tok, &[("limit", "10")]).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());
    s.set_faults(Faults {
        truncated_rate: 1.0,
        ..Faults::default()
    });
    let r = devices(&s, &c, &tok, &[("limit", "10")]).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.starts_with("{\"items\":["));
    assert!(serde_json::from_str::<Value>(&text).is_err());
    s.set_faults(Faults {
        missing_total_rate: 1.0,
        ..Faults::default()
    });
    let v: Value = devices(&s, &c, &tok, &[("limit", "10")])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["count"], 10);
    assert!(v.get("total").is_none());
    s.shutdown().await;
}

#[tokio::test]
async fn outage_window_and_early_token_expiry() {
    let (s, c, tok) = setup(SimConfig::default()).await;
    s.set_faults(Faults {
        outage: Some(Outage {
            after_requests: 2,
            duration: Duration::from_millis(300),
        }),
        ..Faults::default()
    });
    assert_eq!(
        devices(&s, &c, &tok, &[("limit", "1")])
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        devices(&s, &c, &tok, &[("limit", "1")])
            .await
            .unwrap()
            .status(),
        200
    );
    for _ in 0..3 {
        let r = devices(&s, &c, &tok, &[("limit", "1")]).await.unwrap();
        assert_eq!(r.status(), 503);
    }
    // The token endpoint is down too during an outage.
    let r = c
        .post(s.token_url())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        devices(&s, &c, &tok, &[("limit", "1")])
            .await
            .unwrap()
            .status(),
        200
    );
    // Tokens that expire early, though expires_in still says 900.
    s.set_faults(Faults {
        token_early_expiry: Some(Duration::from_millis(100)),
        ..Faults::default()
    });
    let short = token(&s, &c).await;
    assert_eq!(
        devices(&s, &c, &short, &[("limit", "1")])
            .await
            .unwrap()
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = devices(&s, &c, &short, &[("limit", "1")]).await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("expired"));
    s.shutdown().await;
}

#[tokio::test]
async fn insert_between_pages_shifts_the_next_page() {
    let (s, c, tok) = setup(SimConfig {
        devices: 50,
        ..SimConfig::default()
    })
    .await;
    s.set_faults(Faults {
        insert_between_pages: true,
        ..Faults::default()
    });
    let p1: Value = devices(&s, &c, &tok, &[("limit", "20"), ("offset", "0")])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let p2: Value = devices(&s, &c, &tok, &[("limit", "20"), ("offset", "20")])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p1["total"], 50);
    assert_eq!(p2["total"], 51);
    assert_eq!(
        p2["items"][0]["id"], p1["items"][19]["id"],
        "the last item of page 1 repeats"
    );
    assert!(!s.faults().insert_between_pages, "fires once");
    let first = &s.devices()[0];
    assert!(
        !p1["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == first["id"])
    );
    s.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_over_http() {
    let (s, c, tok) = setup(SimConfig::default()).await;
    let base = s.base_url();
    // Faults via PUT /_sim/faults (JSON, durations in ms).
    let r = c
        .put(format!("{base}/_sim/faults"))
        .json(&json!({"error_rate": 1.0, "error_statuses": [503], "latency_ms": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.faults().error_statuses, vec![503]);
    assert_eq!(devices(&s, &c, &tok, &[]).await.unwrap().status(), 503);
    let f: Value = c
        .get(format!("{base}/_sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f["latency_ms"], 1);
    c.put(format!("{base}/_sim/faults"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(devices(&s, &c, &tok, &[]).await.unwrap().status(), 200);
    // Limits via PUT /_sim/limits.
    c.put(format!("{base}/_sim/limits"))
        .json(&json!({"devices_get": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(s.limits().unwrap().devices_get, Some(1));
    assert_eq!(devices(&s, &c, &tok, &[]).await.unwrap().status(), 200);
    assert_eq!(devices(&s, &c, &tok, &[]).await.unwrap().status(), 429);
    c.put(format!("{base}/_sim/limits"))
        .json(&Value::Null)
        .send()
        .await
        .unwrap();
    assert!(s.limits().is_none());
    // Stats over HTTP.
    let st: Stats = c
        .get(format!("{base}/_sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let d = st.endpoint("devices_get");
    assert_eq!(
        (d.requests, d.ok_2xx, d.server_5xx, d.throttled_429),
        (4, 2, 1, 1)
    );
    assert_eq!(st.endpoint("token").ok_2xx, 1);
    assert!(st.log.iter().all(|e| e.endpoint != "control"));
    c.post(format!("{base}/_sim/reset-stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(s.stats().total().requests, 0);
    // Expire tokens.
    c.post(format!("{base}/_sim/expire-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(devices(&s, &c, &tok, &[]).await.unwrap().status(), 401);
    let tok = token(&s, &c).await;
    // Add devices.
    let n = s.devices().len();
    let v: Value = c
        .post(format!("{base}/_sim/devices?count=3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ids"].as_array().unwrap().len(), 3);
    let v: Value = devices(&s, &c, &tok, &[])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], n + 3);
    assert!(s.remove_device(v["items"][0]["id"].as_str().unwrap()));
    assert_eq!(s.devices().len(), n + 2);
    s.shutdown().await;
}
