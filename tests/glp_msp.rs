//! The GreenLake client's MSP side against the simulator in MSP mode: tenant discovery, a
//! client per tenant whose tokens come from the token exchange (listing exactly that
//! tenant's inventory), a shared pacer for the "one budget per API client" scope, a refused
//! exchange as an error naming the tenant, and the MSP token renewed on a 401.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use glp_console::config::{ApiConfig, BreakerConfig, PageSizes, RateLimits, RetryConfig, Secret};
use glp_console::domain::WorkspaceId;
use glp_console::glp::auth::workspace_token_url;
use glp_console::glp::{Client, ErrorKind, GlpError, InventoryOwnership, Page};
use glp_console::sim::{self, MspSim, Ownership, SimConfig, SimHandle, TenantFaults};
use serde_json::Value;

fn api_cfg(sim: &SimHandle) -> ApiConfig {
    let ws = WorkspaceId::parse(&sim.workspace_id()).unwrap();
    ApiConfig {
        base_url: sim.base_url(),
        // The MSP's own per-workspace token URL.
        token_url: workspace_token_url(&sim.base_url(), &ws),
        client_id: sim.client_id().to_string(),
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_concurrency: 4,
        page_size: PageSizes {
            devices: 50,
            subscriptions: 200,
        },
        rate_limits: RateLimits {
            devices_get: 100_000,
            subscriptions_get: 100_000,
            devices_patch: 100_000,
            devices_post: 100_000,
            async_operations_get: 100_000,
            service_catalog_get: 100_000,
        },
        retry: RetryConfig {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_total: Duration::from_secs(10),
        },
        breaker: BreakerConfig {
            failure_threshold: 50,
            cooldown: Duration::from_secs(60),
            success_threshold: 2,
        },
        ..ApiConfig::default()
    }
}

async fn start(tenants: usize) -> (SimHandle, Client) {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 80,
        subscriptions: 20,
        msp: Some(MspSim {
            tenants,
            devices_per_tenant: 120,
            subscriptions_per_tenant: 12,
            ..MspSim::default()
        }),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let msp = Client::new(&api_cfg(&sim), Secret::new(sim.client_secret())).unwrap();
    (sim, msp)
}

async fn ids<T: glp_console::glp::model::HasId>(
    s: impl futures_util::Stream<Item = Result<Page<T>, GlpError>>,
) -> Result<HashSet<String>, GlpError> {
    let mut out = HashSet::new();
    let mut s = std::pin::pin!(s);
    while let Some(p) = s.next().await {
        out.extend(p?.items.iter().map(|i| i.data.id().to_string()));
    }
    Ok(out)
}

fn sim_ids(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

fn wid(s: &str) -> WorkspaceId {
    WorkspaceId::parse(s).unwrap()
}

#[tokio::test]
async fn discovery_finds_every_tenant() {
    let (sim, msp) = start(25).await;
    let tenants = msp.list_msp_tenants().await.unwrap();
    assert_eq!(tenants.len(), 25);
    let want: Vec<WorkspaceId> = sim.tenants().iter().map(|t| wid(&t.id)).collect();
    let got: Vec<WorkspaceId> = tenants.iter().map(|t| t.id.clone()).collect();
    assert_eq!(
        got, want,
        "the API's dashed ids normalise to the directory's"
    );
    assert_eq!(tenants[0].name, "tenant-01");
    assert!(tenants.iter().all(|t| t.created_at.is_some()));
    let customer = tenants
        .iter()
        .filter(|t| t.inventory_ownership == InventoryOwnership::CustomerOwned)
        .count();
    assert_eq!(customer, 6);

    // A tenant's client may not list tenants: GreenLake's 403 as an error.
    let t = msp.tenant_client(&tenants[0].id, None).unwrap();
    let e = t.list_msp_tenants().await.unwrap_err();
    assert_eq!(e.status(), Some(403), "{e}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_tenant_client_lists_exactly_that_tenants_inventory() {
    let (sim, msp) = start(4).await;
    let tenants = sim.tenants();
    // One MSP-owned tenant with its own pacer, one customer-owned sharing the MSP's pacer.
    for (t, shared) in [(&tenants[0], false), (&tenants[3], true)] {
        let pacer = shared.then(|| msp.pacer());
        let tc = msp.tenant_client(&wid(&t.id), pacer).unwrap();
        assert_eq!(Arc::ptr_eq(&tc.pacer(), &msp.pacer()), shared);
        assert_eq!(tc.auth().tenant(), Some(&wid(&t.id)));
        assert!(tc.auth().token_url().ends_with(&format!("/{}/token", t.id)));
        let devices = ids(tc.devices(None)).await.unwrap();
        assert_eq!(
            devices,
            sim_ids(&sim.devices_of(&t.id).unwrap()),
            "{}",
            t.name
        );
        assert_eq!(devices.len(), 120);
        let subs = ids(tc.subscriptions(None)).await.unwrap();
        assert_eq!(subs, sim_ids(&sim.subscriptions_of(&t.id).unwrap()));
        // The MSP view holds an MSP-owned tenant's devices, never a customer-owned one's.
        let msp_ids = sim_ids(&sim.devices());
        match t.ownership {
            Ownership::MspOwnedInventory => assert!(devices.is_subset(&msp_ids)),
            Ownership::CustomerOwnedInventory => assert!(devices.is_disjoint(&msp_ids)),
        }
        assert_eq!(tc.counters().token_fetches, 1, "one exchange");
    }
    // The MSP's own client lists the consolidated view.
    let all = ids(msp.devices(None)).await.unwrap();
    assert_eq!(all, sim_ids(&sim.devices()));
    assert_eq!(
        msp.counters().token_fetches,
        1,
        "one MSP token for everything"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_exchange_is_an_error_naming_the_tenant() {
    let (sim, msp) = start(3).await;
    let ts = sim.tenants();
    for (t, status) in [(&ts[0], 403u16), (&ts[1], 401)] {
        sim.set_tenant_faults(
            &t.id,
            TenantFaults {
                exchange_refused: Some(status),
                ..TenantFaults::default()
            },
        );
        let before = msp.counters().token_fetches;
        let tc = msp.tenant_client(&wid(&t.id), None).unwrap();
        let e = ids(tc.devices(None)).await.unwrap_err();
        let msg = e.to_string();
        assert_eq!(e.kind(), ErrorKind::Auth, "{msg}");
        assert!(msg.contains(&t.id), "names the tenant: {msg}");
        assert!(
            msg.contains(&sim.workspace_token_url(&t.id)),
            "names the URL: {msg}"
        );
        assert!(!msg.contains(sim.client_secret()), "{msg}");
        // A 401 renews the MSP token and tries once more; a 403 does not.
        let renewals = msp.counters().token_fetches - before;
        let exchanges = tc.counters().token_fetches;
        match status {
            401 => assert_eq!(renewals, 1, "{msg}"),
            _ => assert!(renewals <= 1, "{msg}"),
        }
        assert_eq!(exchanges, 1, "refusals are not retried: {msg}");
    }
    // The third tenant is fine.
    let tc = msp.tenant_client(&wid(&ts[2].id), None).unwrap();
    assert_eq!(ids(tc.devices(None)).await.unwrap().len(), 120);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_msp_token_is_renewed_when_the_exchange_gets_401() {
    let (sim, msp) = start(2).await;
    let t = &sim.tenants()[0];
    let tc = msp.tenant_client(&wid(&t.id), None).unwrap();
    assert_eq!(ids(tc.devices(None)).await.unwrap().len(), 120);
    assert_eq!(
        (msp.counters().token_fetches, tc.counters().token_fetches),
        (1, 1)
    );
    // Every token dies on the server's side: the tenant's call gets 401, its new exchange
    // gets 401 for the stale MSP token, the MSP token is renewed, the exchange succeeds.
    sim.expire_all_tokens();
    assert_eq!(ids(tc.devices(None)).await.unwrap().len(), 120);
    assert_eq!(
        msp.counters().token_fetches,
        2,
        "the MSP token renewed once"
    );
    // One more fetch: its refused exchange and the one after the renewal are one fetch.
    assert_eq!(tc.counters().token_fetches, 2);
    // The MSP's client picks up the renewed token without a fetch of its own.
    assert_eq!(
        ids(msp.devices(None)).await.unwrap().len(),
        sim.devices().len()
    );
    assert_eq!(msp.counters().token_fetches, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_msp_places_a_pool_device_into_a_tenant() {
    let (sim, msp) = start(4).await;
    let ts = sim.tenants();
    let target = wid(&ts[0].id);
    let customer = ts
        .iter()
        .find(|t| t.ownership == Ownership::CustomerOwnedInventory)
        .unwrap();
    let pool: Vec<String> = sim
        .devices()
        .iter()
        .filter(|d| d["inUseWorkspace"].is_null())
        .take(2)
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    let acc = msp
        .place_devices(&pool[..1], Some(&target), false)
        .await
        .unwrap();
    let out = msp
        .wait_operation(acc.location.as_deref().unwrap(), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(out.status, "SUCCEEDED", "{out:?}");
    let tc = msp.tenant_client(&target, None).unwrap();
    let own = ids(tc.devices(None)).await.unwrap();
    assert!(own.contains(&pool[0]));
    assert_eq!(
        sim.device(&pool[0]).unwrap()["tenantWorkspaceId"],
        Value::String(target.dashed())
    );
    // Into a customer-owned tenant: the operation fails for the device.
    let acc = msp
        .place_devices(&pool[1..], Some(&wid(&customer.id)), false)
        .await
        .unwrap();
    let out = msp
        .wait_operation(acc.location.as_deref().unwrap(), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(out.status, "FAILED", "{out:?}");
    assert_eq!(out.failed.len(), 1);
    sim.shutdown().await;
}
