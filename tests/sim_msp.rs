//! The simulator's MSP mode over real HTTP: tenant discovery with paging and filters, the
//! token exchange (and its refusals), the consolidated MSP device view with the spec's id
//! formats, each tenant's own view, faults per tenant, rate limits per workspace or per API
//! client, and moving an MSP-owned device into a tenant.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use glp_console::sim::{LimitScope, Limits, MspSim, Ownership, SimConfig, SimHandle, TenantFaults};
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::sim::{exchange, list_all, tenant_token, token};

fn msp_cfg(tenants: usize) -> SimConfig {
    SimConfig {
        devices: 60,
        subscriptions: 20,
        msp: Some(MspSim {
            tenants,
            devices_per_tenant: 30,
            subscriptions_per_tenant: 8,
            ..MspSim::default()
        }),
        ..SimConfig::default()
    }
}

async fn start(cfg: SimConfig) -> (SimHandle, reqwest::Client, String) {
    common::sim::start(cfg).await
}

async fn get(c: &reqwest::Client, url: &str, tok: &str, q: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = c.get(url).bearer_auth(tok).query(q).send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

fn tenants_url(s: &SimHandle) -> String {
    format!("{}/workspaces/v1/msp-tenants", s.base_url())
}

fn devices_url(s: &SimHandle) -> String {
    format!("{}/devices/v1/devices", s.base_url())
}

fn ids(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

fn is_dashed_uuid(s: &str) -> bool {
    let parts: Vec<usize> = s.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

#[tokio::test]
async fn discovery_lists_every_tenant_with_paging_and_filters() {
    let (s, c, tok) = start(msp_cfg(25)).await;
    let all = list_all(&s, &c, &tok, "/workspaces/v1/msp-tenants", 10).await;
    assert_eq!(all.len(), 25);
    let names: Vec<&str> = all
        .iter()
        .map(|t| t["workspaceName"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "tenant-01");
    assert_eq!(names[24], "tenant-25");
    assert!(all.iter().all(|t| is_dashed_uuid(t["id"].as_str().unwrap())
        && t["createdAt"].is_string()
        && t["updatedAt"].is_string()));
    let customer = all
        .iter()
        .filter(|t| t["inventoryOwnership"] == "CUSTOMER_OWNED_INVENTORY")
        .count();
    assert_eq!(customer, 6, "every 4th tenant is customer-owned");
    // The simulator's directory is what the API lists.
    let dir = s.tenants();
    assert_eq!(dir.len(), 25);
    assert_eq!(
        all[2]["id"].as_str().unwrap().replace('-', ""),
        dir[2].id,
        "dashed in the list, dashless in the directory"
    );

    // Page envelope, default and maximum limit.
    let (st, page) = get(
        &c,
        &tenants_url(&s),
        &tok,
        &[("limit", "10"), ("offset", "20")],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (page["count"].as_u64(), page["total"].as_u64()),
        (Some(5), Some(25))
    );
    assert_eq!(page["offset"], 20);
    let (_, page) = get(&c, &tenants_url(&s), &tok, &[]).await;
    assert_eq!(page["count"], 25, "default limit 300");
    let (st, _) = get(&c, &tenants_url(&s), &tok, &[("limit", "301")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Filters on the name and on the id in either spelling.
    let (_, page) = get(
        &c,
        &tenants_url(&s),
        &tok,
        &[("filter", "workspaceName eq 'tenant-03'")],
    )
    .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], all[2]["id"]);
    for id in [
        all[7]["id"].as_str().unwrap().to_string(),
        dir[7].id.clone(),
    ] {
        let (_, page) = get(
            &c,
            &tenants_url(&s),
            &tok,
            &[("filter", &format!("id eq '{id}'"))],
        )
        .await;
        assert_eq!(page["total"], 1, "{id}");
        assert_eq!(page["items"][0]["workspaceName"], "tenant-08");
    }

    // Only the MSP has tenants: a tenant's token is refused.
    let t_tok = tenant_token(&s, &c, &dir[0].id, &tok).await;
    let (st, _) = get(&c, &tenants_url(&s), &t_tok, &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Workspace details: the MSP sees its tenants, a tenant itself.
    let ws_url = |id: &str| format!("{}/workspaces/v1/workspaces/{id}", s.base_url());
    let (st, w) = get(&c, &ws_url(all[0]["id"].as_str().unwrap()), &tok, &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (w["workspaceName"].as_str(), w["workspaceType"].as_str()),
        (Some("tenant-01"), Some("MSP_TENANT"))
    );
    let (st, _) = get(&c, &ws_url(&dir[1].id), &t_tok, &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "another tenant's details");

    // A tenant the MSP removed leaves the list, and comes back.
    let put = |f: Value| {
        let c = c.clone();
        let url = format!("{}/_sim/tenants/{}", s.base_url(), dir[4].id);
        async move { c.put(url).json(&f).send().await.unwrap().status() }
    };
    assert_eq!(put(json!({"unlisted": true})).await, StatusCode::OK);
    let listed = list_all(&s, &c, &tok, "/workspaces/v1/msp-tenants", 300).await;
    assert_eq!(listed.len(), 24);
    assert!(listed.iter().all(|t| t["workspaceName"] != "tenant-05"));
    assert_eq!(put(json!({})).await, StatusCode::OK);
    assert_eq!(
        list_all(&s, &c, &tok, "/workspaces/v1/msp-tenants", 300)
            .await
            .len(),
        25
    );
    s.shutdown().await;
}

#[tokio::test]
async fn token_exchange_gives_tenant_tokens_and_refuses_bad_subjects() {
    let (s, c, tok) = start(msp_cfg(5)).await;
    let t = s.tenants()[1].clone();
    // Client credentials at the MSP's own per-workspace URL work too.
    let r: Value = c
        .post(s.workspace_token_url(&s.workspace_id()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", s.client_id()),
            ("client_secret", s.client_secret()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["access_token"].is_string(), "{r}");

    // The exchange, at the dashless and at the dashed URL.
    let (st, v) = exchange(&s, &c, &t.id, &tok).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["expires_in"].as_u64().unwrap() > 0);
    let t_tok = v["access_token"].as_str().unwrap().to_string();
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &t.id[..8],
        &t.id[8..12],
        &t.id[12..16],
        &t.id[16..20],
        &t.id[20..]
    );
    let r = c
        .post(format!(
            "{}/authorization/v2/oauth2/{dashed}/token",
            s.base_url()
        ))
        .basic_auth(s.client_id(), Some(s.client_secret()))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", tok.as_str()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The tenant token lists the tenant's devices.
    let (st, page) = get(&c, &devices_url(&s), &t_tok, &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(page["total"], 30);

    // A subject token that is not a live MSP token: 401 with an OAuth error body.
    for bad in ["not-a-token", t_tok.as_str()] {
        let (st, v) = exchange(&s, &c, &t.id, bad).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(v["error"], "invalid_grant", "{v}");
    }
    s.expire_tokens_of(&s.workspace_id());
    let (st, _) = exchange(&s, &c, &t.id, &tok).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "an expired MSP token");
    let tok = token(&s, &c).await;

    // Wrong client secret; an unknown tenant; client credentials at a tenant's URL.
    let r = c
        .post(s.workspace_token_url(&t.id))
        .basic_auth(s.client_id(), Some("wrong"))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", tok.as_str()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    let (st, v) = exchange(&s, &c, "00000000000000000000000000000000", &tok).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let r = c
        .post(s.workspace_token_url(&t.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", s.client_id()),
            ("client_secret", s.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.shutdown().await;
}

#[tokio::test]
async fn consolidated_view_has_pool_placed_and_tenant_managed_devices() {
    let (s, c, tok) = start(msp_cfg(8)).await;
    let msp_view = list_all(&s, &c, &tok, "/devices/v1/devices", 2000).await;
    let tenants = s.tenants();
    let msp_owned: Vec<_> = tenants
        .iter()
        .filter(|t| t.ownership == Ownership::MspOwnedInventory)
        .collect();
    assert_eq!(msp_owned.len(), 6);
    assert_eq!(
        msp_view.len(),
        60 + 6 * 30,
        "the pool plus the MSP-owned tenants' devices"
    );
    assert_eq!(ids(&msp_view), ids(&s.devices()));

    let pool: Vec<&Value> = msp_view
        .iter()
        .filter(|d| d["inUseWorkspace"].is_null())
        .collect();
    assert_eq!(pool.len(), 60);
    assert!(
        pool.iter()
            .all(|d| d["management"] == "MSP" && d["tenantWorkspaceId"].is_null())
    );
    let placed: Vec<&Value> = msp_view
        .iter()
        .filter(|d| d["tenantWorkspaceId"].is_string())
        .collect();
    let managed: Vec<&Value> = msp_view
        .iter()
        .filter(|d| d["management"] == "TENANT")
        .collect();
    assert!(!placed.is_empty() && !managed.is_empty());
    assert_eq!(pool.len() + placed.len() + managed.len(), msp_view.len());
    for d in &placed {
        let tw = d["tenantWorkspaceId"].as_str().unwrap();
        let inuse = d["inUseWorkspace"]["id"].as_str().unwrap();
        assert_eq!(d["management"], "MSP");
        assert!(is_dashed_uuid(tw), "tenantWorkspaceId is dashed: {tw}");
        assert_eq!(inuse.len(), 32, "inUseWorkspace.id is dashless: {inuse}");
        assert_eq!(tw.replace('-', ""), inuse);
    }
    for d in &managed {
        assert!(d["tenantWorkspaceId"].is_null());
        assert_eq!(d["inUseWorkspace"]["id"].as_str().unwrap().len(), 32);
    }

    // Each tenant's token sees exactly that tenant's devices; placed ones in both views.
    let msp_by_id: std::collections::HashMap<&str, &Value> = msp_view
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d))
        .collect();
    for t in &tenants {
        let t_tok = tenant_token(&s, &c, &t.id, &tok).await;
        let own = list_all(&s, &c, &t_tok, "/devices/v1/devices", 2000).await;
        assert_eq!(own.len(), 30);
        assert_eq!(ids(&own), ids(&s.devices_of(&t.id).unwrap()));
        let subs = list_all(&s, &c, &t_tok, "/subscriptions/v1/subscriptions", 200).await;
        assert_eq!(ids(&subs), ids(&s.subscriptions_of(&t.id).unwrap()));
        for d in &own {
            assert_eq!(d["inUseWorkspace"]["id"], json!(t.id));
            let in_msp = msp_by_id.get(d["id"].as_str().unwrap());
            match t.ownership {
                Ownership::MspOwnedInventory => {
                    let m = in_msp.expect("an MSP-owned tenant's device is in the MSP view");
                    assert_eq!(m["serialNumber"], d["serialNumber"]);
                }
                Ownership::CustomerOwnedInventory => {
                    assert!(in_msp.is_none(), "customer-owned devices stay private");
                    assert!(d["management"].is_null());
                }
            }
        }
    }
    // Subscriptions are never consolidated.
    let msp_subs = list_all(&s, &c, &tok, "/subscriptions/v1/subscriptions", 200).await;
    assert_eq!(msp_subs.len(), 20);

    // A standalone simulator has no tenants.
    let (s2, c2, tok2) = start(SimConfig::default()).await;
    let (st, _) = get(&c2, &tenants_url(&s2), &tok2, &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s2.shutdown().await;
    s.shutdown().await;
}

#[tokio::test]
async fn faults_hit_one_tenant_only() {
    let mut cfg = msp_cfg(4);
    if let Some(m) = cfg.msp.as_mut() {
        m.tenant_faults.insert(
            1,
            TenantFaults {
                exchange_refused: Some(403),
                ..TenantFaults::default()
            },
        );
    }
    let (s, c, tok) = start(cfg).await;
    let ts = s.tenants();
    let (st, v) = exchange(&s, &c, &ts[0].id, &tok).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("tenant-01")
    );
    let t2 = tenant_token(&s, &c, &ts[1].id, &tok).await;
    let t3 = tenant_token(&s, &c, &ts[2].id, &tok).await;

    // An outage of tenant-02 (set over the control API): its calls and its exchange 503.
    let r = c
        .put(format!("{}/_sim/tenants/{}", s.base_url(), ts[1].id))
        .json(&json!({"outage": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, _) = get(&c, &devices_url(&s), &t2, &[]).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        exchange(&s, &c, &ts[1].id, &tok).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // The others answer.
    assert_eq!(get(&c, &devices_url(&s), &t3, &[]).await.0, StatusCode::OK);
    assert_eq!(get(&c, &devices_url(&s), &tok, &[]).await.0, StatusCode::OK);
    // Refusals switched at run time through the handle; then everything back to normal.
    assert!(s.set_tenant_faults(
        &ts[2].id,
        TenantFaults {
            exchange_refused: Some(401),
            ..TenantFaults::default()
        }
    ));
    assert_eq!(
        exchange(&s, &c, &ts[2].id, &tok).await.0,
        StatusCode::UNAUTHORIZED
    );
    for t in &ts {
        s.set_tenant_faults(&t.id, TenantFaults::default());
        tenant_token(&s, &c, &t.id, &tok).await;
    }
    assert_eq!(get(&c, &devices_url(&s), &t2, &[]).await.0, StatusCode::OK);
    // Per-workspace control endpoints reach one tenant.
    let stats: Value = c
        .get(format!("{}/_sim/ws/{}/stats", s.base_url(), ts[1].id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        stats["endpoints"]["devices_get"]["server_5xx"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(
        s.stats_of(&ts[2].id)
            .unwrap()
            .endpoint("devices_get")
            .server_5xx,
        0
    );
    s.shutdown().await;
}

async fn burst(c: &reqwest::Client, url: &str, tok: &str, n: usize) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(get(c, url, tok, &[("limit", "1")]).await.0);
    }
    out
}

#[tokio::test]
async fn rate_limits_per_workspace_or_per_client() {
    for scope in [LimitScope::Workspace, LimitScope::Client] {
        let mut cfg = msp_cfg(2);
        cfg.limits = Some(Limits::uniform(3));
        if let Some(m) = cfg.msp.as_mut() {
            m.limit_scope = scope;
        }
        let (s, c, tok) = start(cfg).await;
        let t_tok = tenant_token(&s, &c, &s.tenants()[0].id, &tok).await;
        let msp = burst(&c, &devices_url(&s), &tok, 4).await;
        assert_eq!(&msp[..3], &[StatusCode::OK; 3], "{scope:?}");
        assert_eq!(msp[3], StatusCode::TOO_MANY_REQUESTS, "{scope:?}");
        let tenant = burst(&c, &devices_url(&s), &t_tok, 1).await;
        match scope {
            LimitScope::Workspace => assert_eq!(tenant, [StatusCode::OK], "own budget"),
            LimitScope::Client => {
                assert_eq!(
                    tenant,
                    [StatusCode::TOO_MANY_REQUESTS],
                    "one budget for all"
                )
            }
        }
        s.shutdown().await;
    }
}

async fn patch_and_wait(
    s: &SimHandle,
    c: &reqwest::Client,
    tok: &str,
    ids: &[&str],
    body: Value,
) -> Value {
    let q: Vec<(&str, &str)> = ids.iter().map(|i| ("id", *i)).collect();
    let r = c
        .patch(format!("{}/devices/v2beta1/devices", s.base_url()))
        .bearer_auth(tok)
        .query(&q)
        .header("content-type", "application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, op) = get(c, &format!("{}{loc}", s.base_url()), tok, &[]).await;
        if op["status"] == "SUCCEEDED" || op["status"] == "FAILED" {
            return op;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "operation never ended: {op}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn patch_moves_an_msp_owned_device_into_a_tenant() {
    let (s, c, tok) = start(msp_cfg(4)).await;
    let ts = s.tenants();
    let target = &ts[0];
    assert_eq!(target.ownership, Ownership::MspOwnedInventory);
    let customer = ts
        .iter()
        .find(|t| t.ownership == Ownership::CustomerOwnedInventory)
        .unwrap();
    let devices = s.devices();
    let pool: Vec<&str> = devices
        .iter()
        .filter(|d| d["inUseWorkspace"].is_null())
        .map(|d| d["id"].as_str().unwrap())
        .take(2)
        .collect();
    let op = patch_and_wait(
        &s,
        &c,
        &tok,
        &pool[..1],
        json!({"tenantWorkspaceId": target.id}),
    )
    .await;
    assert_eq!(op["status"], "SUCCEEDED", "{op}");
    let moved = s.device(pool[0]).unwrap();
    assert_eq!(moved["management"], "MSP");
    assert!(is_dashed_uuid(moved["tenantWorkspaceId"].as_str().unwrap()));
    assert_eq!(moved["inUseWorkspace"]["id"], json!(target.id));
    // The tenant's own token lists it now, the same device.
    let t_tok = tenant_token(&s, &c, &target.id, &tok).await;
    let own = list_all(&s, &c, &t_tok, "/devices/v1/devices", 2000).await;
    let there = own.iter().find(|d| d["id"] == pool[0]).expect("moved in");
    assert_eq!(there["serialNumber"], moved["serialNumber"]);
    assert_eq!(own.len(), 31);

    // Into a customer-owned tenant, or a tenant-managed device: refused per device.
    let op = patch_and_wait(
        &s,
        &c,
        &tok,
        &pool[1..2],
        json!({"tenantWorkspaceId": customer.id}),
    )
    .await;
    assert_eq!(op["status"], "FAILED", "{op}");
    let reason = op["result"]["failedDevices"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(reason.contains("customer-owned"), "{op}");
    let managed = devices
        .iter()
        .find(|d| d["management"] == "TENANT")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let op = patch_and_wait(
        &s,
        &c,
        &tok,
        &[&managed],
        json!({"tenantWorkspaceId": target.id}),
    )
    .await;
    assert_eq!(op["status"], "FAILED", "{op}");
    assert_eq!(s.device(pool[1]).unwrap()["inUseWorkspace"], Value::Null);

    // Back to the pool: gone from the tenant's view.
    let op = patch_and_wait(&s, &c, &tok, &pool[..1], json!({"tenantWorkspaceId": null})).await;
    assert_eq!(op["status"], "SUCCEEDED", "{op}");
    let own = list_all(&s, &c, &t_tok, "/devices/v1/devices", 2000).await;
    assert_eq!(own.len(), 30);

    // A tenant's change to a device the MSP placed shows in the MSP's view.
    let placed = s
        .devices_of(&target.id)
        .unwrap()
        .into_iter()
        .find(|d| d["tenantWorkspaceId"].is_string())
        .unwrap();
    let pid = placed["id"].as_str().unwrap();
    let op = patch_and_wait(
        &s,
        &c,
        &t_tok,
        &[pid],
        json!({"tags": {"site": "tenant-side"}}),
    )
    .await;
    assert_eq!(op["status"], "SUCCEEDED", "{op}");
    assert_eq!(s.device(pid).unwrap()["tags"]["site"], "tenant-side");

    // Test controls per workspace: added and removed devices reach the MSP's view.
    let added = s.add_devices_in(&target.id, 2).unwrap();
    assert!(added.iter().all(|id| s.device(id).is_some()));
    assert!(s.remove_device_in(&target.id, &added[0]));
    assert!(s.device(&added[0]).is_none());
    assert_eq!(s.devices_of(&target.id).unwrap().len(), 31);
    s.shutdown().await;
}

#[test]
fn the_command_line_turns_msp_mode_on() {
    use clap::Parser;
    use glp_console::cli::{Cli, Command as Sub};
    let parse = |args: &[&str]| {
        let cli = Cli::try_parse_from(args).unwrap();
        match cli.command {
            Some(Sub::Simulate(a)) => a.to_sim_config(None),
            other => panic!("not simulate: {other:?}"),
        }
    };
    let c = parse(&["glp-console", "simulate"]).unwrap();
    assert!(c.msp.is_none(), "standalone by default");
    let c = parse(&[
        "glp-console",
        "simulate",
        "--msp-tenants",
        "12",
        "--msp-devices-per-tenant",
        "7",
        "--msp-subscriptions-per-tenant",
        "3",
        "--msp-customer-owned-every",
        "3",
        "--msp-limit-scope",
        "client",
    ])
    .unwrap();
    let m = c.msp.unwrap();
    assert_eq!(
        (m.tenants, m.devices_per_tenant, m.subscriptions_per_tenant),
        (12, 7, 3)
    );
    assert_eq!(m.customer_owned_every, 3);
    assert_eq!(m.limit_scope, LimitScope::Client);
    let e = parse(&[
        "glp-console",
        "simulate",
        "--msp-tenants",
        "2",
        "--msp-limit-scope",
        "x",
    ])
    .unwrap_err();
    assert!(e.contains("--msp-limit-scope"), "{e}");
}
