//! The official API contract: every request our client sends and every answer our simulator
//! gives, recorded by a proxy between the two during a real sync, a real assignment apply and
//! the other calls the client makes, is checked against HPE's published OpenAPI specs
//! (`../shared/glp-openapi/`, or `GLP_OPENAPI_DIR`).
//!
//! The token endpoint is not in any of the specs (they only name the `Bearer` security
//! scheme): the checks there are that every API call carries a bearer token and that the
//! token requests are client-credentials POSTs.
//!
//! The errata list (where the spec contradicts itself) and the simulator's known deviations
//! are `common::openapi::AMENDMENTS` (schema corrections) and `EXAMPLE_ERRATA` (examples
//! that are wrong where the schema is right), each with its reason.
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
use std::sync::OnceLock;
use std::time::Duration;

use common::TestDb;
use common::openapi::{AMENDMENTS, Contract, ENV, EXAMPLE_ERRATA, Exchange, Why};
use common::recorder::Recorder;
use glp_console::assign::apply::{self, ApplyOptions, ApplyRequest};
use glp_console::assign::normalize::Category;
use glp_console::assign::plan::{AddDevice, AppTarget, Desired, DeviceState, DeviceTarget, plan};
use glp_console::assign::report::{ApplyReport, DeviceStatus, OpStatus, RunStatus};
use glp_console::config::{ApiConfig, RateLimits, SyncConfig};
use glp_console::glp::client::Client;
use glp_console::glp::ops::{DeviceKind, NewDevice, OperationState};
use glp_console::glp::pace::{Endpoint, Pacer};
use glp_console::sim::{self, Faults, Limits, SimConfig, SimHandle};
use glp_console::store::audit::{NewRun, RunKind};
use glp_console::sync::{Mode, Outcome, Scope, SyncCommand, SyncEvent, Trigger};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn contract() -> &'static Contract {
    static C: OnceLock<Contract> = OnceLock::new();
    C.get_or_init(Contract::load_default)
}

/// The operations the client uses; each must be seen answering 2xx and following the spec.
const COVERED: &[&str] = &[
    "getDevicesV1",
    "getDeviceByIdV1",
    "patchDevicesV2beta1",
    "postDevicesV2beta1",
    "postDevicesV1",
    "getDevicesAsyncOperationResourceV1",
    "getSubscriptionsV1",
    "getSubscriptionDetailsByIDV1",
    "patchSubscriptionsV1",
    "getSubscriptionsAsyncOperationResourceV1",
];

/// The API paths the specs cover (the token endpoint and the simulator's `/_sim` are not).
fn in_spec(x: &Exchange) -> bool {
    x.path.starts_with("/devices/") || x.path.starts_with("/subscriptions/")
}

/// Check every recorded API exchange; panics with all violations.
fn assert_contract(xs: &[Exchange]) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    let mut violations = Vec::new();
    for x in xs.iter().filter(|x| in_spec(x)) {
        match contract().check(x) {
            Ok(op) => *seen.entry(op).or_insert(0) += 1,
            Err(v) => violations.extend(v),
        }
    }
    violations.dedup();
    assert!(
        violations.is_empty(),
        "{} violation(s) of the published contract:\n{}",
        violations.len(),
        violations.join("\n")
    );
    seen
}

fn api(base: &str, sim: &SimHandle) -> ApiConfig {
    let mut api = ApiConfig {
        base_url: base.to_string(),
        token_url: format!("{base}/as/token.oauth2"),
        client_id: sim.client_id().to_string(),
        ..ApiConfig::default()
    };
    // Small device pages so the sync pages; the subscription page size stays the default.
    api.page_size.devices = 40;
    let r = &mut api.rate_limits;
    r.devices_get = 100_000;
    r.subscriptions_get = 100_000;
    r.async_operations_get = 100_000;
    r.devices_patch = 100_000;
    r.devices_post = 100_000;
    r.service_catalog_get = 100_000;
    api.retry.max_attempts = 3;
    api.retry.base_delay = Duration::from_millis(5);
    api.retry.max_delay = Duration::from_millis(20);
    api.retry.max_total = Duration::from_secs(20);
    api
}

fn client(cfg: &ApiConfig, sim: &SimHandle) -> Client {
    common::engine::client(sim, cfg)
}

async fn start_sim(devices: usize) -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices,
        subscriptions: 60,
        op_delay: Duration::from_millis(60),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

async fn run_sync(cfg: &ApiConfig, sim: &SimHandle, db: &TestDb, mode: Mode) {
    let mut h = common::engine::engine_for(sim, cfg, db, SyncConfig::default());
    h.commands
        .send(SyncCommand::SyncNow {
            scope: Scope::Both,
            mode,
            trigger: Trigger::Cli,
        })
        .await
        .unwrap();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(60), h.events.recv())
            .await
            .expect("the sync ends within a minute")
            .expect("engine alive");
        match ev {
            SyncEvent::Finished(s) => {
                assert_eq!(s.outcome, Outcome::Succeeded, "{s:?}");
                break;
            }
            SyncEvent::Failed { .. } => panic!("sync failed: {ev:?}"),
            _ => {}
        }
    }
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    let _ = h.task.await;
}

fn subs_of(d: &Value) -> Vec<String> {
    d["subscription"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect()
}

/// Unassigned, unarchived access points of the simulator.
fn free_aps(sim: &SimHandle, n: usize) -> Vec<Value> {
    let v: Vec<Value> = sim
        .devices()
        .into_iter()
        .filter(|d| {
            d["deviceType"] == "AP"
                && d["archived"] == false
                && d["application"].is_null()
                && subs_of(d).is_empty()
        })
        .take(n)
        .collect();
    assert_eq!(v.len(), n, "the simulator has {n} free access points");
    v
}

fn started_ap_subscription(sim: &SimHandle, seats: i64) -> Value {
    sim.subscriptions()
        .into_iter()
        .find(|s| {
            s["subscriptionType"] == "CENTRAL_AP"
                && s["subscriptionStatus"] == "STARTED"
                && s["availableQuantity"]
                    .as_i64()
                    .or_else(|| s["availableQuantity"].as_str()?.parse().ok())
                    .unwrap_or(0)
                    >= seats
        })
        .expect("a started CENTRAL_AP subscription with seats")
}

fn target(d: &Value) -> DeviceTarget {
    DeviceTarget {
        serial: d["serialNumber"].as_str().unwrap().to_string(),
        row: None,
        device_id: d["id"].as_str().map(str::to_string),
        current: Some(DeviceState::default()),
        add: None,
        application: Desired::Keep,
        subscription: Desired::Keep,
        tags: BTreeMap::new(),
        tenant: Desired::Keep,
    }
}

async fn apply_targets(
    c: &Client,
    db: &TestDb,
    targets: &[DeviceTarget],
    opts: &ApplyOptions,
) -> ApplyReport {
    let (tx, mut rx) = mpsc::channel(10_000);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let report = apply::apply(
        c,
        &db.store,
        ApplyRequest {
            plan: plan(targets),
            run: NewRun {
                kind: RunKind::Apply,
                undo_of: None,
                source_file: Some("contract.csv".into()),
                sheet: None,
                requested: json!({}),
                operator: None,
            },
        },
        opts,
        &tx,
        &CancellationToken::new(),
    )
    .await
    .expect("the run is recorded");
    drop(tx);
    let _ = drain.await;
    report
}

fn fast() -> ApplyOptions {
    ApplyOptions {
        first_poll: Duration::from_millis(100),
        op_timeout: Duration::from_secs(30),
        ..ApplyOptions::default()
    }
}

#[test]
fn missing_specs_fail_with_where_they_are_expected() {
    let dir = tempfile::tempdir().unwrap();
    let err = match Contract::load(dir.path()) {
        Ok(_) => panic!("an empty directory cannot hold the specs"),
        Err(e) => e,
    };
    assert!(
        err.contains(&dir.path().display().to_string()),
        "names the directory: {err}"
    );
    assert!(err.contains("device-management.json"), "{err}");
    assert!(err.contains("../shared/glp-openapi/"), "{err}");
    assert!(err.contains(ENV), "{err}");
}

/// The whole test binary, pointed at an empty directory by the environment variable, fails
/// with the expected location in its output (what CI shows when shared/ is missing).
#[test]
fn an_empty_spec_dir_from_the_environment_fails_the_contract_tests() {
    if std::env::var_os("GLP_CONTRACT_CHILD").is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "spec_examples_agree_with_their_schemas_after_the_errata",
            "--exact",
            "--test-threads=1",
        ])
        .env(ENV, dir.path())
        .env("GLP_CONTRACT_CHILD", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the child passed:\n{text}");
    assert!(
        text.contains(&dir.path().display().to_string()) && text.contains(ENV),
        "the failure names the location and the variable:\n{text}"
    );
}

#[test]
fn spec_examples_agree_with_their_schemas_after_the_errata() {
    let c = contract();
    let ids = c.operation_ids();
    for op in COVERED {
        assert!(ids.iter().any(|i| i == op), "{op} is in the specs");
    }
    // The operations we use, and the v1 PATCH beside the v2beta1 one.
    let mut ops = COVERED.to_vec();
    ops.push("patchDevicesV1");
    let v = c.example_violations(&ops);
    assert!(
        v.is_empty(),
        "{} example(s) contradict their schema; add an errata entry with its reason or fix \
         the amendment:\n{}",
        v.len(),
        v.join("\n")
    );
    // Every amendment says why, and the kinds are the two the contract allows.
    for a in AMENDMENTS {
        assert!(a.reason.len() > 20, "{}", a.reason);
        assert!(matches!(a.why, Why::Errata | Why::KnownDeviation));
    }
    for (name, reason) in EXAMPLE_ERRATA {
        assert!(reason.len() > 20, "{name}: {reason}");
    }
}

fn exchange(method: &str, path: &str, query: &[(&str, &str)], body: Value) -> Exchange {
    Exchange {
        method: method.into(),
        path: path.into(),
        query: query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        request_headers: vec![
            ("authorization".into(), "Bearer x.y.z".into()),
            ("content-type".into(), "application/merge-patch+json".into()),
        ],
        request_body: if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        },
        status: 200,
        response_headers: vec![("content-type".into(), "application/json".into())],
        response_body: json!({"items": [], "count": 0, "offset": 0, "total": 0})
            .to_string()
            .into_bytes(),
    }
}

/// The checker itself: what the spec forbids is reported, naming the exchange.
#[test]
fn the_checker_reports_what_the_spec_forbids() {
    let c = contract();
    let ok = exchange(
        "GET",
        "/subscriptions/v1/subscriptions",
        &[("limit", "200"), ("offset", "0")],
        Value::Null,
    );
    assert_eq!(c.check(&ok).unwrap(), "getSubscriptionsV1");
    let mut bad = exchange(
        "GET",
        "/subscriptions/v1/subscriptions",
        &[("limit", "201"), ("offset", "x"), ("page", "2")],
        Value::Null,
    );
    bad.request_headers.clear();
    let v = c.check(&bad).unwrap_err().join("\n");
    for want in ["query limit", "query offset", "`page`", "Bearer"] {
        assert!(v.contains(want), "{want} in {v}");
    }
    // Repeated ids (the schema wants unique ones), a body field of the wrong type and an
    // undocumented status.
    let mut patch = exchange(
        "PATCH",
        "/devices/v2beta1/devices",
        &[
            ("id", "6a1b1c28-0f5e-4a77-9f57-2f6c4a3a0b11"),
            ("id", "6a1b1c28-0f5e-4a77-9f57-2f6c4a3a0b11"),
        ],
        json!({"archived": "yes"}),
    );
    patch.status = 299;
    let v = c.check(&patch).unwrap_err().join("\n");
    for want in ["query id", "request body", "status 299"] {
        assert!(v.contains(want), "{want} in {v}");
    }
    let none = exchange("GET", "/devices/v9/gadgets", &[], Value::Null);
    assert!(c.check(&none).unwrap_err()[0].contains("no operation"));
}

/// The client's default pacing never exceeds the rate each operation's description
/// publishes, and the write limits are the published ones (not GLP-Sync-2's older 20/25).
#[test]
fn default_pacing_follows_the_published_rate_limits() {
    let c = contract();
    let limits = RateLimits::default();
    let pacer = Pacer::new(&limits);
    let per_min =
        |e: Endpoint| Duration::from_secs(60).as_secs_f64() / pacer.interval(e).as_secs_f64();
    for (op, ep) in [
        ("getDevicesV1", Endpoint::DevicesGet),
        ("getDeviceByIdV1", Endpoint::DeviceGetById),
        ("patchDevicesV2beta1", Endpoint::DevicesPatch),
        ("postDevicesV2beta1", Endpoint::DevicesPost),
        ("postDevicesV1", Endpoint::DevicesPost),
        (
            "getDevicesAsyncOperationResourceV1",
            Endpoint::AsyncOperationsGet,
        ),
        ("getSubscriptionsV1", Endpoint::SubscriptionsGet),
        (
            "getSubscriptionDetailsByIDV1",
            Endpoint::SubscriptionGetById,
        ),
        ("patchSubscriptionsV1", Endpoint::SubscriptionsPatch),
        (
            "getSubscriptionsAsyncOperationResourceV1",
            Endpoint::SubscriptionAsyncOperationsGet,
        ),
    ] {
        let published = c
            .rate_limit(op)
            .unwrap_or_else(|| panic!("{op} states a rate limit"));
        let ours = per_min(ep);
        assert!(
            ours <= f64::from(published),
            "{op}: the client paces {ep:?} at {ours:.1}/min, the spec allows {published}"
        );
        // Close to the limit, not needlessly slow (the pacer keeps a 0.5 % margin).
        assert!(
            ours >= f64::from(published) * 0.99,
            "{op}: {ours:.1}/min is well under the published {published}"
        );
    }
    assert_eq!(
        c.rate_limit("patchDevicesV2beta1"),
        Some(limits.devices_patch)
    );
    assert_eq!(
        c.rate_limit("postDevicesV2beta1"),
        Some(limits.devices_post)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_and_simulator_keep_the_published_contract() {
    let sim = start_sim(160).await;
    let proxy = Recorder::start(&sim.base_url()).await;
    let db = TestDb::new().await;
    let cfg = api(&proxy.base_url(), &sim);

    // A real sync, full then incremental.
    run_sync(&cfg, &sim, &db, Mode::Full).await;
    run_sync(&cfg, &sim, &db, Mode::Incremental).await;

    // A real assignment apply: application + region + tags, then a subscription, for three
    // access points; and one device added (POST v2beta1) in the same run.
    let c = client(&cfg, &sim);
    let aps = free_aps(&sim, 3);
    let sub = started_ap_subscription(&sim, 10);
    let sub_id = sub["id"].as_str().unwrap().to_string();
    let (app, region) = sim.provisioned_applications()[0].clone();
    let mut targets: Vec<DeviceTarget> = aps
        .iter()
        .map(|d| DeviceTarget {
            application: Desired::Set(AppTarget {
                application_id: app.clone(),
                region: region.clone(),
            }),
            subscription: Desired::Set(vec![sub_id.clone()]),
            tags: [("Project".to_string(), Some("Contract 1".to_string()))].into(),
            ..target(d)
        })
        .collect();
    targets.push(DeviceTarget {
        serial: "CONTRACT0001".into(),
        row: None,
        device_id: None,
        current: None,
        add: Some(AddDevice {
            category: Category::Network,
            mac: Some("3C:E8:6E:C1:8A:B0".into()),
            part_number: None,
        }),
        application: Desired::Keep,
        subscription: Desired::Keep,
        tags: [("Site".to_string(), Some("Lab 2".to_string()))].into(),
        tenant: Desired::Keep,
    });
    let report = apply_targets(&c, &db, &targets, &fast()).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{report:#?}");
    for d in &aps {
        let now = sim.device(d["id"].as_str().unwrap()).unwrap();
        assert_eq!(now["application"]["id"], app.as_str());
        assert_eq!(subs_of(&now), vec![sub_id.clone()]);
    }

    // The other calls the client makes: one device and one subscription by id, the v1 batch
    // add, and a subscription tag PATCH followed on the subscription service's operations.
    let one = aps[0]["id"].as_str().unwrap();
    assert_eq!(c.device(one).await.unwrap().data.id, one);
    assert_eq!(c.subscription(&sub_id).await.unwrap().data.id, sub_id);
    let acc = c
        .add_devices_v1(&[NewDevice {
            serial_number: "CONTRACT0002".into(),
            kind: DeviceKind::Compute,
            mac_address: None,
            part_number: Some("P19766-B21".into()),
            tags: BTreeMap::new(),
            location_id: None,
        }])
        .await
        .unwrap();
    let out = c
        .wait_operation(acc.location.as_deref().unwrap(), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(out.state, OperationState::Succeeded, "{out:?}");
    let acc = c
        .patch_subscription_tags(
            std::slice::from_ref(&sub_id),
            &[("Budget".to_string(), Some("FY27".to_string()))].into(),
            false,
        )
        .await
        .unwrap();
    let loc = acc.location.clone().unwrap();
    assert!(
        loc.starts_with("/subscriptions/v1/async-operations/"),
        "{loc}"
    );
    let out = c
        .wait_operation(&loc, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(out.state, OperationState::Succeeded, "{out:?}");
    assert_eq!(
        sim.subscription(&sub_id).unwrap()["tags"]["Budget"],
        "FY27",
        "the simulator changed the subscription's tags"
    );
    // A dry run (the `dry-run` query parameter) validates and changes nothing.
    let before = sim.device(one).unwrap();
    let acc = c
        .patch_devices(&[one.to_string()], &json!({"tags": {"Dry": "run"}}), true)
        .await
        .unwrap();
    let out = c
        .wait_operation(acc.location.as_deref().unwrap(), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(out.state, OperationState::Succeeded, "{out:?}");
    assert_eq!(sim.device(one).unwrap()["tags"], before["tags"]);
    // A subscription operation is not served on the device service's path.
    let raw = reqwest::Client::new();
    let tok = common::sim::token(&sim, &raw).await;
    let id = loc.rsplit('/').next().unwrap();
    let r = raw
        .get(format!(
            "{}/devices/v1/async-operations/{id}",
            proxy.base_url()
        ))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let xs = proxy.exchanges();
    // The simulator refused nothing our client sent (a 400 here would mean it rejects a
    // request the spec allows, or the client sent one the spec forbids).
    let refused: Vec<String> = xs
        .iter()
        .filter(|x| in_spec(x) && (400..500).contains(&x.status) && x.status != 404)
        .map(Exchange::line)
        .collect();
    assert!(refused.is_empty(), "refused: {refused:#?}");
    // Subscriptions are listed 200 at a time, explicitly (the spec's default is 50); device
    // pages name their limit too.
    let lists: Vec<&Exchange> = xs
        .iter()
        .filter(|x| x.method == "GET" && x.path == "/subscriptions/v1/subscriptions")
        .collect();
    assert!(!lists.is_empty());
    for x in &lists {
        assert!(
            x.query.iter().any(|(k, v)| k == "limit" && v == "200"),
            "{}",
            x.line()
        );
    }
    for x in xs
        .iter()
        .filter(|x| x.method == "GET" && x.path == "/devices/v1/devices")
    {
        assert!(x.query.iter().any(|(k, _)| k == "limit"), "{}", x.line());
    }
    // The incremental sync filtered on updatedAt.
    assert!(
        xs.iter().any(|x| x
            .query
            .iter()
            .any(|(k, v)| k == "filter" && v.starts_with("updatedAt gt '"))),
        "an incremental sync asks for changes only"
    );
    // The token endpoint is not specified; the client uses client credentials on it.
    let tokens: Vec<&Exchange> = xs.iter().filter(|x| x.path == "/as/token.oauth2").collect();
    assert!(!tokens.is_empty());
    for x in tokens {
        assert_eq!(x.method, "POST");
        let body = String::from_utf8_lossy(&x.request_body);
        assert!(body.contains("grant_type=client_credentials"), "{body}");
    }

    // Every accepted write names its operation on the service's own async path (the spec's
    // Location examples), and each operation says which service it belongs to.
    for x in xs.iter().filter(|x| in_spec(x) && x.status == 202) {
        let service = if x.path.starts_with("/subscriptions/") {
            "subscriptions"
        } else {
            "devices"
        };
        let loc = x.response_header("location").unwrap_or_default();
        let id = loc
            .strip_prefix(&format!("/{service}/v1/async-operations/"))
            .unwrap_or_else(|| panic!("{}: Location {loc}", x.line()));
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{}: {loc}", x.line());
    }
    for x in xs
        .iter()
        .filter(|x| x.path.contains("/async-operations/") && x.status == 200)
    {
        let v: Value = serde_json::from_slice(&x.response_body).unwrap();
        let service = x.path.split('/').nth(1).unwrap();
        assert_eq!(
            v["type"],
            format!("{service}/asyncOperation"),
            "{}",
            x.line()
        );
    }

    let seen = assert_contract(&xs);
    let ok: BTreeSet<&str> = xs
        .iter()
        .filter(|x| in_spec(x) && (200..300).contains(&x.status))
        .filter_map(|x| contract().check(x).ok())
        .map(|s| {
            COVERED
                .iter()
                .find(|c| **c == s)
                .copied()
                .unwrap_or("other")
        })
        .collect();
    for op in COVERED {
        assert!(
            ok.contains(op),
            "{op} was not exercised with success: {seen:?}"
        );
    }
    sim.shutdown().await;
}

/// The error bodies the simulator serves (401, 400, 404, 429, 503) follow the spec's error
/// schemas for the operations that return them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_error_answers_keep_the_published_contract() {
    let sim = start_sim(20).await;
    let proxy = Recorder::start(&sim.base_url()).await;
    let raw = reqwest::Client::new();
    let tok = common::sim::token(&sim, &raw).await;
    let base = proxy.base_url();
    let dev = sim.devices()[0]["id"].as_str().unwrap().to_string();
    let unknown = "00000000-0000-4000-8000-000000000000";
    let get = |path: String, t: &str| raw.get(format!("{base}{path}")).bearer_auth(t).send();

    let r = get(format!("/devices/v1/devices/{unknown}"), &tok)
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = get(format!("/subscriptions/v1/subscriptions/{unknown}"), &tok)
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = get(format!("/devices/v1/async-operations/{unknown}"), &tok)
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = get("/devices/v1/devices?limit=5".into(), "not-a-token")
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    sim.expire_all_tokens();
    let r = get("/devices/v1/devices?limit=5".into(), &tok)
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "an expired token");
    let tok = common::sim::token(&sim, &raw).await;
    // A well-formed PATCH the simulator refuses: the application is no service manager.
    let r = raw
        .patch(format!("{base}/devices/v2beta1/devices?id={dev}"))
        .bearer_auth(&tok)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"application": {"id": unknown}, "region": "us-west"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // 429 once the bucket is empty.
    sim.set_limits(Some(Limits {
        device_get: Some(1),
        ..Limits::default()
    }));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = get(format!("/devices/v1/devices/{dev}"), &tok)
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    sim.set_limits(None);
    // 500 and 503 with retry information.
    for status in [500, 503] {
        sim.set_faults(Faults {
            failing_endpoints: vec!["subscriptions_get".into()],
            failing_endpoint_status: status,
            ..Faults::default()
        });
        let r = get("/subscriptions/v1/subscriptions?limit=10".into(), &tok)
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status);
    }
    sim.set_faults(Faults::default());

    let xs = proxy.exchanges();
    // 503 is not a documented status of any operation: only the body shape can be checked,
    // against the documented 500 body.
    let mut checked = Vec::new();
    for mut x in xs.into_iter().filter(in_spec) {
        if x.status == 503 {
            x.status = 500;
        }
        checked.push(x);
    }
    assert_contract(&checked);
    sim.shutdown().await;
}

/// An operation that reports `PAUSED` (not terminal in the spec) is followed to its end, and
/// `TIMEDOUT` counts as failed, with nothing changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_rides_through_paused_and_reports_timedout_as_failed() {
    let sim = start_sim(60).await;
    let proxy = Recorder::start(&sim.base_url()).await;
    let db = TestDb::new().await;
    let cfg = api(&proxy.base_url(), &sim);
    let c = client(&cfg, &sim);
    let (app, region) = sim.provisioned_applications()[0].clone();
    let aps = free_aps(&sim, 4);

    // PAUSED for 1.5 s after it starts running, then SUCCEEDED: the first poll (after
    // 100 ms) and the next (the suggested 1 s later) both fall in the pause, so a slow
    // machine still sees it.
    sim.set_faults(Faults {
        ops_paused: Some(Duration::from_millis(1500)),
        ..Faults::default()
    });
    let targets: Vec<DeviceTarget> = aps[..2]
        .iter()
        .map(|d| DeviceTarget {
            application: Desired::Set(AppTarget {
                application_id: app.clone(),
                region: region.clone(),
            }),
            ..target(d)
        })
        .collect();
    let report = apply_targets(&c, &db, &targets, &fast()).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{report:#?}");
    assert!(
        report
            .devices
            .iter()
            .all(|d| d.status == DeviceStatus::Succeeded)
    );
    for d in &aps[..2] {
        let now = sim.device(d["id"].as_str().unwrap()).unwrap();
        assert_eq!(now["application"]["id"], app.as_str());
    }
    let polls: Vec<String> = proxy
        .exchanges()
        .iter()
        .filter(|x| x.path.starts_with("/devices/v1/async-operations/") && x.status == 200)
        .filter_map(|x| {
            let v: Value = serde_json::from_slice(&x.response_body).ok()?;
            v["status"].as_str().map(str::to_string)
        })
        .collect();
    assert!(
        polls.iter().any(|s| s == "PAUSED"),
        "the client saw PAUSED: {polls:?}"
    );
    assert_eq!(polls.last().map(String::as_str), Some("SUCCEEDED"));
    assert_contract(&proxy.exchanges());

    // TIMEDOUT: the run reports the device failed and GreenLake (the simulator) unchanged.
    let victim = aps[2]["serialNumber"].as_str().unwrap().to_string();
    sim.set_faults(Faults {
        time_out_ops_for: vec![victim.clone()],
        ..Faults::default()
    });
    let t = DeviceTarget {
        application: Desired::Set(AppTarget {
            application_id: app.clone(),
            region: region.clone(),
        }),
        ..target(&aps[2])
    };
    let report = apply_targets(&c, &db, &[t], &fast()).await;
    assert_eq!(report.status, RunStatus::Failed, "{report:#?}");
    let op = &report.operations[0];
    assert_eq!(op.status, OpStatus::Failed);
    assert!(
        op.error.as_deref().unwrap_or_default().contains("timeout"),
        "{op:?}"
    );
    let dev = report.devices.iter().find(|d| d.serial == victim).unwrap();
    assert_eq!(dev.status, DeviceStatus::Failed, "{dev:?}");
    assert!(
        sim.device(aps[2]["id"].as_str().unwrap()).unwrap()["application"].is_null(),
        "a timed-out operation changed nothing"
    );
    assert_contract(&proxy.exchanges());
    sim.shutdown().await;
}

/// A finished operation is forgotten 24 h after it ends: a 404 on a later poll of an
/// operation seen running means "ended, outcome unknown", not "never existed".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_404_means_the_operation_ended_with_its_outcome_unknown() {
    glp_console::tls::init();
    // Ends 600 ms after it starts and is forgotten at once: the first poll (right after the
    // 202) sees it, the next (the suggested 1 s later) finds it gone.
    let sim = sim::start(SimConfig {
        devices: 20,
        subscriptions: 10,
        op_delay: Duration::from_millis(600),
        op_retention: Duration::from_millis(1),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cfg = api(&sim.base_url(), &sim);
    let c = client(&cfg, &sim);
    let id = sim.devices()[0]["id"].as_str().unwrap().to_string();
    let acc = c
        .patch_devices(&[id], &json!({"tags": {"Late": "poll"}}), false)
        .await
        .unwrap();
    let loc = acc.location.unwrap();
    let e = c
        .wait_operation(&loc, Duration::from_secs(20))
        .await
        .unwrap_err();
    assert!(
        matches!(e, glp_console::glp::GlpError::OperationGone { .. }),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains(&loc) && text.contains("outcome is unknown"),
        "{text}"
    );
    // An operation never seen is a plain 404.
    let e = c
        .wait_operation(
            "/devices/v1/async-operations/00000000-0000-4000-8000-000000000000",
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e:?}");
    sim.shutdown().await;
}
