//! The GreenLake client against the simulator over HTTP on 127.0.0.1.
//!
//! The simulator keeps its own clocks (`std::time::Instant`), so these tests run in real time
//! with short durations (token lifetimes of seconds, cool-downs of hundreds of ms). The timing
//! rules themselves (refresh buffer, pacing slots, backoff, breaker cool-down) are tested with
//! paused tokio time in the unit tests of `src/glp/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use glp_console::config::{ApiConfig, BreakerConfig, PageSizes, RateLimits, RetryConfig, Secret};
use glp_console::glp::breaker::BreakerState;
use glp_console::glp::ops::{DeviceKind, NewDevice, OperationState};
use glp_console::glp::{Client, ClientEvent, Device, ErrorKind, GlpError, Page, Subscription};
use glp_console::sim::{self, Faults, Limits, Outage, SimConfig, SimHandle};
use serde_json::json;

fn fast_limits() -> RateLimits {
    RateLimits {
        devices_get: 100_000,
        subscriptions_get: 100_000,
        devices_patch: 100_000,
        devices_post: 100_000,
        async_operations_get: 100_000,
        service_catalog_get: 100_000,
    }
}

fn api_cfg(sim: &SimHandle) -> ApiConfig {
    ApiConfig {
        base_url: sim.base_url(),
        token_url: sim.token_url(),
        client_id: sim.client_id().to_string(),
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_concurrency: 4,
        page_size: PageSizes {
            devices: 50,
            subscriptions: 200,
        },
        rate_limits: fast_limits(),
        retry: RetryConfig {
            max_attempts: 8,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(100),
            max_total: Duration::from_secs(30),
        },
        breaker: BreakerConfig {
            failure_threshold: 5,
            cooldown: Duration::from_secs(60),
            success_threshold: 2,
        },
        ..ApiConfig::default()
    }
}

async fn start(cfg: SimConfig) -> SimHandle {
    glp_console::tls::init();
    sim::start(cfg).await.expect("simulator starts")
}

fn client(sim: &SimHandle, cfg: &ApiConfig) -> Client {
    Client::new(cfg, Secret::new(sim.client_secret())).expect("client builds")
}

async fn collect<T: glp_console::glp::model::HasId>(
    s: impl futures_util::Stream<Item = Result<Page<T>, GlpError>>,
) -> Result<(Vec<String>, Vec<Page<T>>), GlpError> {
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    let mut s = std::pin::pin!(s);
    while let Some(p) = s.next().await {
        let mut p = p?;
        ids.extend(p.items.iter().map(|i| i.data.id().to_string()));
        p.items.clear();
        pages.push(p);
    }
    Ok((ids, pages))
}

fn sim_ids(v: Vec<serde_json::Value>) -> Vec<String> {
    v.iter()
        .filter_map(|d| d["id"].as_str().map(str::to_string))
        .collect()
}

fn assert_same_set(got: &[String], want: &[String]) {
    let g: HashSet<_> = got.iter().collect();
    assert_eq!(g.len(), got.len(), "duplicates delivered");
    let w: HashSet<_> = want.iter().collect();
    let lost: Vec<_> = w.difference(&g).collect();
    let extra: Vec<_> = g.difference(&w).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "lost {lost:?}, extra {extra:?}"
    );
}

#[tokio::test]
async fn lists_everything_in_order_and_falls_back_to_50() {
    // The API before August 2026: subscription pages of at most 50.
    let sim = start(SimConfig {
        subscription_page_max: 50,
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim, &api_cfg(&sim));
    let (ids, pages) = collect::<Device>(c.devices(None)).await.unwrap();
    assert_eq!(ids, sim_ids(sim.devices()), "devices in API order");
    assert_eq!(pages.len(), 6);
    let last = pages.last().unwrap();
    assert_eq!((last.page, last.pages_total), (6, Some(6)));
    assert_eq!((last.items_so_far, last.items_total), (300, Some(300)));

    // The simulator caps subscription pages at 50: 200 is refused with 400, then 50 is used.
    let (ids, pages) = collect::<Subscription>(c.subscriptions(None))
        .await
        .unwrap();
    assert_eq!(ids, sim_ids(sim.subscriptions()));
    assert_eq!(pages.len(), 2);
    assert_eq!(sim.stats().endpoint("subscriptions_get").client_4xx, 1);

    // A filter goes through; one item by id.
    let one = &ids[3];
    let s = c.subscription(one).await.unwrap();
    assert_eq!(&s.data.id, one);
    sim.shutdown().await;
}

#[tokio::test]
async fn token_refreshed_before_expiry_single_flight_and_after_early_expiry() {
    let sim = start(SimConfig {
        token_ttl: Duration::from_secs(2),
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim, &api_cfg(&sim));
    let id = sim_ids(sim.devices())[0].clone();
    // 20 concurrent calls on a cold client: one token request.
    let mut hs = Vec::new();
    for _ in 0..20 {
        let c = c.clone();
        let id = id.clone();
        hs.push(tokio::spawn(async move { c.device(&id).await }));
    }
    for h in hs {
        h.await.unwrap().unwrap();
    }
    assert_eq!(sim.stats().endpoint("token").requests, 1);
    // 2 s token: the buffer is 1 s (half the lifetime), so after 1.2 s it is refreshed
    // before use and the API never sees an expired token.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    c.device(&id).await.unwrap();
    let st = sim.stats();
    assert_eq!(st.endpoint("token").requests, 2);
    assert_eq!(st.endpoint("device_get").client_4xx, 0, "no 401 seen");

    // Early expiry: the server stops accepting the token; one 401, then a new token.
    sim.expire_all_tokens();
    c.device(&id).await.unwrap();
    let st = sim.stats();
    assert_eq!(st.endpoint("token").requests, 3);
    assert_eq!(st.endpoint("device_get").client_4xx, 1);
    assert_eq!(c.counters().token_fetches, 3);

    sim.set_faults(Faults {
        token_early_expiry: Some(Duration::from_millis(100)),
        ..Faults::default()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (ids, _) = collect::<Device>(c.devices(None)).await.unwrap();
    assert_eq!(ids.len(), 300);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_are_clear_and_not_retried() {
    let sim = start(SimConfig::default()).await;
    let c = Client::new(&api_cfg(&sim), Secret::new("wrong-secret")).unwrap();
    let err = collect::<Device>(c.devices(None)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let msg = err.to_string();
    assert!(msg.contains(&sim.token_url()), "{msg}");
    assert!(
        msg.contains("invalid_client") && msg.contains("client id or secret"),
        "{msg}"
    );
    assert!(!msg.contains("wrong-secret"));
    assert!(!format!("{err:?}").contains("wrong-secret"));
    assert!(!format!("{c:?}").contains("wrong-secret"));
    let st = sim.stats();
    assert_eq!(st.endpoint("token").requests, 1);
    assert_eq!(st.endpoint("devices_get").requests, 0);
    // Credentials problems do not trip the breaker.
    assert_eq!(c.breaker_snapshot().failures, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn client_errors_surface_the_api_body_without_retry() {
    let sim = start(SimConfig::default()).await;
    let c = client(&sim, &api_cfg(&sim));
    let err = c
        .device("00000000-0000-4000-8000-000000000000")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let msg = err.to_string();
    assert!(
        msg.contains("HTTP 404") && msg.contains("HPE_GL_ERROR_NOT_FOUND"),
        "{msg}"
    );
    assert!(msg.contains("debugId"), "{msg}");
    assert!(msg.contains(&sim.base_url()), "{msg}");
    assert_eq!(sim.stats().endpoint("device_get").requests, 1);

    // A PATCH GreenLake rejects (application without region) shows its issues.
    let ids = sim_ids(sim.devices());
    let err = c
        .patch_devices(&ids[..1], &json!({"application": {"id": "nope"}}), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    assert!(err.to_string().contains("HPE_GL"), "{err}");
    // Checked before sending: 26 ids.
    let many: Vec<String> = ids[..26].to_vec();
    let err = c
        .patch_devices(&many, &json!({"tags": {"a": "b"}}), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.to_string().contains("at most 25"));
    sim.shutdown().await;
}

#[tokio::test]
async fn faulty_server_loses_and_duplicates_nothing() {
    let sim = start(SimConfig {
        devices: 600,
        ..SimConfig::default()
    })
    .await;
    sim.set_faults(Faults {
        error_rate: 0.2,
        retry_after_seconds: 0,
        drop_rate: 0.05,
        malformed_rate: 0.05,
        truncated_rate: 0.05,
        missing_total_rate: 0.2,
        ..Faults::default()
    });
    let c = client(&sim, &api_cfg(&sim));
    let mut events = c.subscribe();
    let (ids, _) = collect::<Device>(c.devices(None)).await.unwrap();
    assert_eq!(ids, sim_ids(sim.devices()));
    let (ids, _) = collect::<Subscription>(c.subscriptions(None))
        .await
        .unwrap();
    assert_eq!(ids, sim_ids(sim.subscriptions()));
    let n = c.counters();
    assert!(n.retries > 0, "{n:?}");
    assert!(matches!(events.try_recv(), Ok(ClientEvent::Retry { .. })));
    assert_eq!(c.breaker_snapshot().state, BreakerState::Closed);
    sim.shutdown().await;
}

#[tokio::test]
async fn insert_at_offset_zero_mid_pagination() {
    for conc in [1, 4] {
        let sim = start(SimConfig {
            devices: 500,
            ..SimConfig::default()
        })
        .await;
        sim.set_faults(Faults {
            insert_between_pages: true,
            ..Faults::default()
        });
        let mut cfg = api_cfg(&sim);
        cfg.max_concurrency = conc;
        let c = client(&sim, &cfg);
        let (ids, pages) = collect::<Device>(c.devices(None)).await.unwrap();
        let want = sim_ids(sim.devices());
        assert_eq!(want.len(), 501, "the simulator inserted one device");
        assert_same_set(&ids, &want);
        assert_eq!(pages.last().unwrap().items_total, Some(501));
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn paced_at_the_configured_rate_without_429() {
    let sim = start(SimConfig {
        devices: 300,
        limits: Some(Limits {
            devices_get: Some(600),
            ..Limits::default()
        }),
        ..SimConfig::default()
    })
    .await;
    let mut cfg = api_cfg(&sim);
    cfg.page_size.devices = 10;
    cfg.rate_limits.devices_get = 600;
    let c = client(&sim, &cfg);
    let (ids, _) = collect::<Device>(c.devices(None)).await.unwrap();
    assert_eq!(ids.len(), 300);
    let st = sim.stats();
    assert_eq!(st.endpoint("devices_get").throttled_429, 0);
    // 600/min = 10/s: no second of the run saw more than 10 requests.
    let peak = st.max_in_window(Some("devices_get"), Duration::from_secs(1));
    let log: Vec<u64> = st
        .log
        .iter()
        .filter(|e| e.endpoint == "devices_get")
        .map(|e| e.at_ms)
        .collect();
    let span = log.last().unwrap() - log.first().unwrap();
    eprintln!("peak {peak} in 1 s; {} requests over {span} ms", log.len());
    // Slots are 100.5 ms apart; arrival jitter on a busy machine may squeeze one extra
    // request into a 1 s window, never more, and the run as a whole is never faster.
    assert!(peak <= 11, "peak {peak} requests in 1 s");
    assert!(
        span >= (log.len() as u64 - 1) * 100,
        "{span} ms for {} requests",
        log.len()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn storm_of_429_is_ridden_out() {
    let sim = start(SimConfig {
        devices: 16,
        limits: Some(Limits {
            devices_get: Some(120),
            ..Limits::default()
        }),
        ..SimConfig::default()
    })
    .await;
    // Another client of the workspace empties the bucket (120/min: a burst of 120, then 2/s).
    let http = reqwest::Client::new();
    let tok: serde_json::Value = http
        .post(sim.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = tok["access_token"].as_str().unwrap().to_string();
    let url = format!("{}/devices/v1/devices?limit=1", sim.base_url());
    let hog = (0..130).map(|_| http.get(&url).bearer_auth(&bearer).send());
    futures_util::future::join_all(hog).await;
    sim.reset_stats();
    // Our client believes it may send 100 000/min with 8 in flight: a storm of 429s, from
    // which it must learn the limit, wait as told, and finish.
    let mut cfg = api_cfg(&sim);
    cfg.page_size.devices = 1;
    cfg.max_concurrency = 8;
    let c = client(&sim, &cfg);
    let mut ev = c.subscribe();
    let (ids, _) = collect::<Device>(c.devices(None)).await.unwrap();
    assert_eq!(ids, sim_ids(sim.devices()));
    let n = c.counters();
    assert!(n.throttled > 0, "{n:?}");
    let st = sim.stats();
    let dg = st.endpoint("devices_get");
    assert_eq!(dg.ok_2xx, 16);
    // Learned pacing: a handful of 429s (the requests in flight when the bucket ran dry),
    // not one per request.
    assert!(dg.throttled_429 <= 16, "{dg:?}");
    // After the storm the client keeps to the server's 2/s.
    let first_429 = st
        .log
        .iter()
        .find(|e| e.status == 429)
        .map(|e| e.at_ms)
        .unwrap_or(0);
    let after: Vec<u64> = st
        .log
        .iter()
        .filter(|e| e.endpoint == "devices_get" && e.at_ms > first_429 + 1500)
        .map(|e| e.at_ms)
        .collect();
    for w in after.windows(2) {
        assert!(
            w[1] - w[0] >= 450,
            "requests {} ms apart after learning",
            w[1] - w[0]
        );
    }
    let mut saw_rl = false;
    while let Ok(e) = ev.try_recv() {
        saw_rl |= matches!(e, ClientEvent::RateLimited { .. });
    }
    assert!(saw_rl);
    sim.shutdown().await;
}

#[tokio::test]
async fn outage_opens_breaker_probes_once_and_recovers() {
    let sim = start(SimConfig::default()).await;
    let mut cfg = api_cfg(&sim);
    cfg.retry.max_attempts = 2;
    // The outage's 503s advise retrying when it ends (`retryAfterSeconds`); a budget shorter
    // than that makes each call give up at once instead of waiting the outage out.
    cfg.retry.max_total = Duration::from_millis(300);
    cfg.breaker = BreakerConfig {
        failure_threshold: 3,
        cooldown: Duration::from_millis(400),
        success_threshold: 2,
    };
    let c = client(&sim, &cfg);
    let id = sim_ids(sim.devices())[0].clone();
    c.device(&id).await.unwrap(); // token fetched, breaker closed
    sim.set_faults(Faults {
        outage: Some(Outage {
            after_requests: 0,
            duration: Duration::from_millis(1500),
        }),
        retry_after_seconds: 0,
        ..Faults::default()
    });
    let watch = c.breaker();
    for _ in 0..3 {
        let e = c.device(&id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    }
    assert_eq!(watch.borrow().state, BreakerState::Open);
    assert_eq!(c.counters().breaker_trips, 1);
    let before = sim.stats().endpoint("device_get").requests;
    let e = c.device(&id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BreakerOpen);
    assert!(e.to_string().contains("next try in"), "{e}");
    assert_eq!(
        sim.stats().endpoint("device_get").requests,
        before,
        "fail fast: nothing sent"
    );

    // Cool-down over, outage still on: exactly one probe goes out and fails.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let calls = (0..5).map(|_| {
        let c = c.clone();
        let id = id.clone();
        tokio::spawn(async move { c.device(&id).await })
    });
    let res: Vec<_> = futures_util::future::join_all(calls).await;
    let open = res
        .iter()
        .filter(|r| matches!(r.as_ref().unwrap(), Err(e) if e.kind() == ErrorKind::BreakerOpen))
        .count();
    assert_eq!(open, 4, "one probe, four rejected");
    assert_eq!(sim.stats().endpoint("device_get").requests, before + 1);
    assert_eq!(watch.borrow().state, BreakerState::Open);

    // After the outage and another cool-down: two successful probes close it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    c.device(&id).await.unwrap();
    assert_eq!(c.breaker_snapshot().state, BreakerState::HalfOpen);
    c.device(&id).await.unwrap();
    assert_eq!(watch.borrow().state, BreakerState::Closed);
    let (ids, _) = collect::<Device>(c.devices(None)).await.unwrap();
    assert_eq!(ids.len(), 300);
    sim.shutdown().await;
}

#[tokio::test]
async fn writes_and_async_operations() {
    let sim = start(SimConfig {
        op_delay: Duration::from_millis(30),
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim, &api_cfg(&sim));
    let ids = sim_ids(sim.devices());

    // Catalog: pick a provisioned application/region pair from the API.
    let regions = c.regions().await.unwrap();
    assert!(!regions.is_empty());
    let provs = c.provisions(None).await.unwrap();
    let p = provs
        .iter()
        .find(|p| p.is_provisioned())
        .expect("a provisioned app");
    assert!(!c.service_managers().await.unwrap().is_empty());
    let (app, region) = (
        p.service_manager_id.clone().unwrap(),
        p.region.clone().unwrap(),
    );

    let batch: Vec<String> = ids[..3].to_vec();
    let body = json!({"application": {"id": app}, "region": region});
    let acc = c.patch_devices(&batch, &body, false).await.unwrap();
    assert_eq!(acc.status, 202);
    let loc = acc.location.clone().expect("Location header");
    let out = c
        .wait_operation(&loc, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(out.state, OperationState::Succeeded, "{out:?}");
    assert_eq!(out.succeeded.len(), 3, "{out:?}");
    let d = sim.device(&ids[0]).unwrap();
    assert_eq!(d["application"]["id"], json!(app));

    // A per-device failure.
    sim.set_faults(Faults {
        fail_ops_for: vec![ids[5].clone()],
        ..Faults::default()
    });
    let acc = c
        .patch_devices(&ids[4..6], &json!({"tags": {"site": "HQ"}}), false)
        .await
        .unwrap();
    let out = c
        .wait_operation(acc.location.as_deref().unwrap(), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        out.failed
            .iter()
            .any(|f| f.id.as_deref() == Some(ids[5].as_str())),
        "{out:?}"
    );

    // POST v2beta1 (one device) and v1 (batch).
    let dev = NewDevice {
        serial_number: "SNTEST00001".into(),
        kind: DeviceKind::Network,
        mac_address: Some("AA:BB:CC:00:00:01".into()),
        part_number: None,
        tags: Default::default(),
        location_id: None,
    };
    let acc = c.add_device_v2(&dev, false).await.unwrap();
    let out = c
        .wait_operation(acc.location.as_deref().unwrap(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(out.state, OperationState::Succeeded, "{out:?}");
    let compute = NewDevice {
        serial_number: "SNTEST00002".into(),
        kind: DeviceKind::Compute,
        mac_address: None,
        part_number: Some("P12345-B21".into()),
        tags: Default::default(),
        location_id: None,
    };
    // The first serial now exists: the batch op fails for that serial only.
    let acc = c.add_devices_v1(&[dev.clone(), compute]).await.unwrap();
    let out = c
        .wait_operation(acc.location.as_deref().unwrap(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(out.state, OperationState::Failed, "{out:?}");
    assert_eq!(out.failed[0].serial_number.as_deref(), Some("SNTEST00001"));
    assert!(
        sim.devices()
            .iter()
            .any(|d| d["serialNumber"] == "SNTEST00002")
    );
    sim.shutdown().await;
}
