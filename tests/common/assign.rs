//! What the assignment tests share: a client with the write limits a test picks, the
//! simulator's inventory stored as a sync would, and a fixture of free access points with
//! an application and a CENTRAL_AP subscription that has seats for them.

use std::time::Duration;

use futures_util::StreamExt;
use glp_console::config::{ApiConfig, Secret};
use glp_console::glp::client::Client;
use glp_console::sim::{self, SimConfig, SimHandle};
use serde_json::Value;

use super::TestDb;

/// A client for `sim` with reads unthrottled and `patch_per_min` device PATCHes a minute.
pub fn write_client(sim: &SimHandle, patch_per_min: u32) -> Client {
    let mut api = ApiConfig {
        base_url: sim.base_url(),
        token_url: sim.token_url(),
        client_id: sim.client_id().to_string(),
        ..ApiConfig::default()
    };
    api.page_size.devices = 200;
    let r = &mut api.rate_limits;
    r.devices_get = 100_000;
    r.subscriptions_get = 100_000;
    r.async_operations_get = 100_000;
    r.devices_patch = patch_per_min;
    r.devices_post = 100_000;
    r.service_catalog_get = 100_000;
    api.retry.max_attempts = 3;
    api.retry.base_delay = Duration::from_millis(5);
    api.retry.max_delay = Duration::from_millis(20);
    Client::new(&api, Secret::new(sim.client_secret())).expect("client builds")
}

/// A simulator with `devices` devices, 60 subscriptions and quick async operations.
pub async fn start_sim(devices: usize) -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices,
        subscriptions: 60,
        op_delay: Duration::from_millis(50),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Every device and subscription of the simulator, stored.
pub async fn sync_all(c: &Client, db: &TestDb) {
    let s = c.devices(None);
    futures_util::pin_mut!(s);
    while let Some(p) = s.next().await {
        db.store
            .upsert_devices(&p.unwrap().items, None)
            .await
            .unwrap();
    }
    let s = c.subscriptions(None);
    futures_util::pin_mut!(s);
    while let Some(p) = s.next().await {
        db.store
            .upsert_subscriptions(&p.unwrap().items, None)
            .await
            .unwrap();
    }
}

/// The ids of a simulator device's subscriptions, sorted.
pub fn subs_of(d: &Value) -> Vec<String> {
    let mut v: Vec<String> = d["subscription"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}

pub struct Fixture {
    pub sim: SimHandle,
    pub db: TestDb,
    pub client: Client,
    /// Network APs without application or subscription.
    pub serials: Vec<String>,
    pub app: (String, String),
    pub sub_key: String,
    pub sub_id: String,
}

/// `n` free APs on a fresh simulator, all of it stored, with an application and a started
/// CENTRAL_AP subscription with seats for them (and five more).
pub async fn fixture(n: usize) -> Fixture {
    let sim = start_sim(n * 7 + 100).await;
    let db = TestDb::new().await;
    let client = write_client(&sim, 100_000);
    sync_all(&client, &db).await;
    let serials: Vec<String> = sim
        .devices()
        .into_iter()
        .filter(|d| {
            d["deviceType"] == "AP"
                && d["archived"] == false
                && d["application"].is_null()
                && subs_of(d).is_empty()
        })
        .take(n)
        .map(|d| d["serialNumber"].as_str().unwrap().to_uppercase())
        .collect();
    assert_eq!(serials.len(), n, "the simulator has enough free APs");
    let app = sim.provisioned_applications()[0].clone();
    let sub = sim
        .subscriptions()
        .into_iter()
        .find(|s| {
            s["subscriptionType"] == "CENTRAL_AP"
                && s["subscriptionStatus"] == "STARTED"
                && s["availableQuantity"].as_i64().unwrap_or(0) >= n as i64 + 5
        })
        .expect("a started CENTRAL_AP subscription with seats");
    Fixture {
        sim,
        db,
        client,
        serials,
        app,
        sub_key: sub["key"].as_str().unwrap().to_string(),
        sub_id: sub["id"].as_str().unwrap().to_string(),
    }
}
