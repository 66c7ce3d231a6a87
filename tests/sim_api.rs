//! Simulator read API over real HTTP: tokens, bearer checks, device/subscription lists
//! (limits, paging, filter, sort, select), service catalog, data variety, and that what it
//! serves parses with our model and stores in PostgreSQL.
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

use glp_console::glp::model::{Device, RawPage, Subscription, parse_items};
use glp_console::sim::{self, SimConfig, SimHandle};
use reqwest::StatusCode;
use serde_json::Value;

use common::sim::{start as sim, token};

async fn get(
    s: &SimHandle,
    c: &reqwest::Client,
    tok: &str,
    path: &str,
    q: &[(&str, &str)],
) -> (StatusCode, Value) {
    let r = c
        .get(format!("{}{}", s.base_url(), path))
        .bearer_auth(tok)
        .query(q)
        .send()
        .await
        .unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

fn issue(v: &Value) -> String {
    v["errorDetails"][0]["issues"][0]["subject"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn token_endpoints_form_basic_and_errors() {
    let (s, c, tok) = sim(SimConfig {
        token_ttl: Duration::from_secs(600),
        ..SimConfig::default()
    })
    .await;
    assert_eq!(tok.split('.').count(), 3, "JWT-looking token");
    // Basic auth on the per-workspace URL.
    let r = c
        .post(format!(
            "{}/authorization/v2/oauth2/ws1/token",
            s.base_url()
        ))
        .basic_auth(s.client_id(), Some(s.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 600);
    // Wrong secret → 401 invalid_client.
    let r = c
        .post(s.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sim-client"),
            ("client_secret", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    // Wrong grant → 400.
    let r = c
        .post(s.token_url())
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Missing / unknown / expired bearer → 401 §5.3 body.
    let r = c
        .get(format!("{}/devices/v1/devices", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errorCode"], "HPE_GL_ERROR_UNAUTHORIZED");
    assert!(v["debugId"].is_string());
    let (st, _) = get(&s, &c, "bogus", "/devices/v1/devices", &[]).await;
    assert_eq!(st, 401);
    let (st, _) = get(&s, &c, &tok, "/devices/v1/devices", &[("limit", "1")]).await;
    assert_eq!(st, 200);
    s.expire_all_tokens();
    let (st, v) = get(&s, &c, &tok, "/devices/v1/devices", &[("limit", "1")]).await;
    assert_eq!(st, 401);
    assert!(v.to_string().contains("expired"));
    let tok2 = token(&s, &c).await;
    let (st, _) = get(&s, &c, &tok2, "/devices/v1/devices", &[("limit", "1")]).await;
    assert_eq!(st, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn device_paging_envelope_bounds_and_stable_order() {
    let (s, c, tok) = sim(SimConfig {
        devices: 250,
        ..SimConfig::default()
    })
    .await;
    let all = s.devices();
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let o = offset.to_string();
        let (st, v) = get(
            &s,
            &c,
            &tok,
            "/devices/v1/devices",
            &[("limit", "100"), ("offset", &o)],
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(v["total"], 250);
        assert_eq!(v["offset"], offset);
        let items = v["items"].as_array().unwrap();
        assert_eq!(v["count"], items.len());
        if items.is_empty() {
            break;
        }
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        offset += 100;
    }
    let expected: Vec<String> = all
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        seen, expected,
        "pages cover every device once, in served order"
    );
    // Default limit 2000 → everything in one page; v2beta1 default 100.
    let (_, v) = get(&s, &c, &tok, "/devices/v1/devices", &[]).await;
    assert_eq!(v["count"], 250);
    let (_, v) = get(&s, &c, &tok, "/devices/v2beta1/devices", &[]).await;
    assert_eq!(v["count"], 100);
    // Every 400 rule on list parameters.
    for (path, q) in [
        ("/devices/v1/devices", vec![("limit", "0")]),
        ("/devices/v1/devices", vec![("limit", "2001")]),
        ("/devices/v1/devices", vec![("limit", "abc")]),
        ("/devices/v1/devices", vec![("offset", "-1")]),
        ("/devices/v1/devices", vec![("offset", "x")]),
        ("/devices/v2beta1/devices", vec![("limit", "501")]),
        ("/subscriptions/v1/subscriptions", vec![("limit", "201")]),
        ("/devices/v1/devices", vec![("filter", "serialNumber eq")]),
        (
            "/devices/v1/devices",
            vec![("filter", "serialNumber like 'x'")],
        ),
        ("/devices/v1/devices", vec![("filter-tags", "'a' eq")]),
        (
            "/devices/v1/devices",
            vec![("sort", "serialNumber sideways")],
        ),
        ("/devices/v1/devices", vec![("select", ",")]),
        (
            "/devices/v2beta1/devices",
            vec![("filter-tags", "'a' eq 'b'")],
        ),
    ] {
        let (st, v) = get(&s, &c, &tok, path, &q).await;
        assert_eq!(st, 400, "{path} {q:?}");
        assert_eq!(v["errorCode"], "HPE_GL_ERROR_BAD_REQUEST");
        assert_eq!(v["errorDetails"][0]["type"], "hpe.greenlake.bad_request");
        assert!(!issue(&v).is_empty());
    }
    // Beyond the end: empty page, total kept.
    let (_, v) = get(&s, &c, &tok, "/devices/v1/devices", &[("offset", "5000")]).await;
    assert_eq!(v["count"], 0);
    assert_eq!(v["total"], 250);
    // By id, and 404 with the error body.
    let id = expected[7].clone();
    let (st, v) = get(&s, &c, &tok, &format!("/devices/v1/devices/{id}"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(v["id"], id.as_str());
    let (st, v) = get(
        &s,
        &c,
        &tok,
        "/devices/v1/devices/00000000-0000-0000-0000-000000000000",
        &[],
    )
    .await;
    assert_eq!(st, 404);
    assert_eq!(v["errorCode"], "HPE_GL_ERROR_NOT_FOUND");
    s.shutdown().await;
}

#[tokio::test]
async fn filters_sort_select_and_incremental_updated_at() {
    let (s, c, tok) = sim(SimConfig {
        devices: 400,
        ..SimConfig::default()
    })
    .await;
    let all = s.devices();
    let d0 = &all[3];
    let serial = d0["serialNumber"].as_str().unwrap();
    let f = format!("serialNumber eq '{serial}'");
    let (_, v) = get(&s, &c, &tok, "/devices/v1/devices", &[("filter", &f)]).await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["id"], d0["id"]);
    let (_, v) = get(
        &s,
        &c,
        &tok,
        "/devices/v1/devices",
        &[("filter", "deviceType in 'COMPUTE', 'STORAGE'")],
    )
    .await;
    let n = all
        .iter()
        .filter(|d| d["deviceType"] == "COMPUTE" || d["deviceType"] == "STORAGE")
        .count();
    assert_eq!(v["total"], n);
    let (_, v) = get(
        &s,
        &c,
        &tok,
        "/devices/v1/devices",
        &[("filter", "archived eq true or not deviceType ne 'AP'")],
    )
    .await;
    let n = all
        .iter()
        .filter(|d| d["archived"] == true || d["deviceType"] == "AP")
        .count();
    assert_eq!(v["total"], n);
    let (_, v) = get(
        &s,
        &c,
        &tok,
        "/devices/v1/devices",
        &[("filter", "application eq null")],
    )
    .await;
    let n = all
        .iter()
        .filter(|d| d.get("application").is_none_or(Value::is_null))
        .count();
    assert_eq!(v["total"], n);
    // Incremental sync: nothing changed after now, then one change shows up.
    let mark = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let f = format!("updatedAt gt '{mark}'");
    let (_, v) = get(&s, &c, &tok, "/devices/v1/devices", &[("filter", &f)]).await;
    assert_eq!(v["total"], 0);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let id = all[10]["id"].as_str().unwrap();
    assert!(s.modify_device(id, |d| d["deviceName"] = "renamed".into()));
    let (_, v) = get(&s, &c, &tok, "/devices/v1/devices", &[("filter", &f)]).await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["deviceName"], "renamed");
    // filter-tags
    let (_, v) = get(
        &s,
        &c,
        &tok,
        "/devices/v1/devices",
        &[("filter-tags", "'env' eq 'prod'")],
    )
    .await;
    let n = all.iter().filter(|d| d["tags"]["env"] == "prod").count();
    assert_eq!(v["total"], n);
    // sort desc + select
    let (_, v) = get(
        &s,
        &c,
        &tok,
        "/devices/v1/devices",
        &[
            ("sort", "serialNumber desc"),
            ("select", "id,serialNumber"),
            ("limit", "5"),
        ],
    )
    .await;
    let items = v["items"].as_array().unwrap();
    let mut serials: Vec<&str> = all
        .iter()
        .map(|d| d["serialNumber"].as_str().unwrap())
        .collect();
    serials.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(items[0]["serialNumber"], serials[0]);
    assert_eq!(items[0].as_object().unwrap().len(), 2);
    s.shutdown().await;
}

#[tokio::test]
async fn subscriptions_page_cap_filters_and_by_id() {
    let (s, c, tok) = sim(SimConfig {
        subscriptions: 300,
        subscription_page_max: 200,
        ..SimConfig::default()
    })
    .await;
    let (_, v) = get(&s, &c, &tok, "/subscriptions/v1/subscriptions", &[]).await;
    assert_eq!(v["count"], 50, "default page 50");
    assert_eq!(v["total"], 300);
    let (st, v) = get(
        &s,
        &c,
        &tok,
        "/subscriptions/v1/subscriptions",
        &[("limit", "200")],
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["count"], 200);
    let (st, _) = get(
        &s,
        &c,
        &tok,
        "/subscriptions/v1/subscriptions",
        &[("limit", "201")],
    )
    .await;
    assert_eq!(st, 400);
    // The GLP-Sync-2 "expiring" query.
    let now = chrono::Utc::now();
    let today = now.format("%Y-%m-%dT00:00:00.000Z").to_string();
    let in90 = (now + chrono::Duration::days(90))
        .format("%Y-%m-%dT00:00:00.000Z")
        .to_string();
    let f =
        format!("subscriptionStatus eq 'STARTED' and endTime gt '{today}' and endTime lt '{in90}'");
    let (st, v) = get(
        &s,
        &c,
        &tok,
        "/subscriptions/v1/subscriptions",
        &[("filter", &f), ("sort", "endTime asc"), ("limit", "50")],
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        v["total"].as_u64().unwrap() > 0,
        "some subscriptions expire within 90 days"
    );
    let ends: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["endTime"].as_str().unwrap())
        .collect();
    let mut sorted = ends.clone();
    sorted.sort_unstable();
    assert_eq!(ends, sorted);
    let sub = &s.subscriptions()[0];
    let (st, v) = get(
        &s,
        &c,
        &tok,
        &format!(
            "/subscriptions/v1/subscriptions/{}",
            sub["id"].as_str().unwrap()
        ),
        &[],
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["key"], sub["key"]);
    s.shutdown().await;
}

#[tokio::test]
async fn service_catalog_endpoints() {
    let (s, c, tok) = sim(SimConfig::default()).await;
    let (st, v) = get(&s, &c, &tok, "/service-catalog/v1/service-managers", &[]).await;
    assert_eq!(st, 200);
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "Aruba Central")
    );
    let (_, v) = get(
        &s,
        &c,
        &tok,
        "/service-catalog/v1/per-region-service-managers",
        &[],
    )
    .await;
    assert!(v["total"].as_u64().unwrap() >= 3);
    let (st, v) = get(
        &s,
        &c,
        &tok,
        "/service-catalog/v1/per-region-service-managers/us-west",
        &[],
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["regionName"], "US West");
    let (st, _) = get(
        &s,
        &c,
        &tok,
        "/service-catalog/v1/per-region-service-managers/mars",
        &[],
    )
    .await;
    assert_eq!(st, 404);
    let (app, region) = s.provisioned_applications()[0].clone();
    let f =
        format!("serviceManagerId eq '{app}' and region eq '{region}' and status eq 'PROVISIONED'");
    let (_, v) = get(
        &s,
        &c,
        &tok,
        "/service-catalog/v1/service-manager-provisions",
        &[("filter", &f)],
    )
    .await;
    assert_eq!(v["total"], 1);
    s.shutdown().await;
}

#[tokio::test]
async fn generated_data_is_deterministic_and_varied() {
    glp_console::tls::init();
    let cfg = SimConfig {
        devices: 3000,
        subscriptions: 600,
        seed: 7,
        ..SimConfig::default()
    };
    let a = sim::start(cfg.clone()).await.unwrap();
    let b = sim::start(cfg).await.unwrap();
    let (da, db) = (a.devices(), b.devices());
    assert_eq!(da, db, "same seed, same devices");
    let subs = a.subscriptions();
    let kinds: HashSet<&str> = da.iter().filter_map(|d| d["deviceType"].as_str()).collect();
    assert!(kinds.len() >= 8, "{kinds:?}");
    let states: HashSet<&str> = da
        .iter()
        .filter_map(|d| d["assignedState"].as_str())
        .collect();
    assert_eq!(states.len(), 4, "{states:?}");
    assert!(da.iter().any(|d| d["archived"] == true));
    assert!(
        da.iter()
            .any(|d| d["subscription"].as_array().is_some_and(|a| !a.is_empty()))
    );
    assert!(da.iter().any(|d| d.get("tags").is_none()));
    assert!(
        da.iter()
            .any(|d| d["tags"].is_null() && d.get("tags").is_some())
    );
    assert!(
        da.iter()
            .any(|d| d["tags"].as_object().is_some_and(|t| t.len() >= 50))
    );
    assert!(da.iter().any(|d| d["tags"].as_object().is_some_and(|t| {
        t.values()
            .any(|v| v.as_str().is_some_and(|s| s.chars().count() == 256))
    })));
    assert!(da.iter().any(|d| d.to_string().contains("東京")));
    let mac = regex_like_mac;
    assert!(da.iter().filter_map(|d| d["macAddress"].as_str()).all(mac));
    let serials: HashSet<&str> = da
        .iter()
        .map(|d| d["serialNumber"].as_str().unwrap())
        .collect();
    assert_eq!(serials.len(), da.len(), "serials unique");
    let statuses: HashSet<&str> = subs
        .iter()
        .filter_map(|s| s["subscriptionStatus"].as_str())
        .collect();
    assert_eq!(statuses.len(), 6, "{statuses:?}");
    let now = chrono::Utc::now();
    let days = |s: &Value| {
        (chrono::DateTime::parse_from_rfc3339(s["endTime"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
            - now)
            .num_days()
    };
    let started: Vec<&Value> = subs
        .iter()
        .filter(|s| s["subscriptionStatus"] == "STARTED")
        .collect();
    for (lo, hi) in [(0, 30), (30, 60), (60, 90)] {
        assert!(
            started.iter().any(|s| (lo..hi).contains(&days(s))),
            "some end within {lo}..{hi} days"
        );
    }
    assert!(subs.iter().any(|s| days(s) < 0), "some expired");
    // availableQuantity accounts for linked devices.
    let linked = da
        .iter()
        .flat_map(|d| d["subscription"].as_array().cloned().unwrap_or_default())
        .count() as i64;
    let used: i64 = subs
        .iter()
        .map(|s| {
            let q = |v: &Value| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|x| x.parse().ok()))
                    .unwrap()
            };
            q(&s["quantity"]) - q(&s["availableQuantity"])
        })
        .sum();
    assert_eq!(linked, used);
    a.shutdown().await;
    b.shutdown().await;
}

fn regex_like_mac(s: &str) -> bool {
    let p: Vec<&str> = s.split(':').collect();
    p.len() == 6
        && p.iter()
            .all(|x| x.len() == 2 && x.chars().all(|c| c.is_ascii_hexdigit()))
}

#[tokio::test]
async fn served_items_parse_with_the_model_and_store_in_postgres() {
    let (s, c, tok) = sim(SimConfig {
        devices: 600,
        subscriptions: 150,
        ..SimConfig::default()
    })
    .await;
    let body = c
        .get(format!("{}/devices/v1/devices", s.base_url()))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page: RawPage = serde_json::from_str(&body).unwrap();
    assert_eq!(page.total, Some(600));
    let (devices, bad) = parse_items::<Device>(page.items);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(devices.len(), 600);
    let body = c
        .get(format!("{}/subscriptions/v1/subscriptions", s.base_url()))
        .bearer_auth(&tok)
        .query(&[("limit", "50")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page: RawPage = serde_json::from_str(&body).unwrap();
    let (subs, bad) = parse_items::<Subscription>(page.items);
    assert!(bad.is_empty(), "{bad:?}");
    assert!(subs.iter().all(|s| s.data.quantity.is_some()));
    let db = common::TestDb::new().await;
    db.store.upsert_subscriptions(&subs, None).await.unwrap();
    let counts = db.store.upsert_devices(&devices, None).await.unwrap();
    assert_eq!(counts.inserted, 600);
    s.shutdown().await;
}
