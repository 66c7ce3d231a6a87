//! Simulator write API over real HTTP: device PATCH (every 400 rule, merge-patch, tag rules,
//! dry-run), POST v2beta1 and v1, async operations moving INITIALIZED → RUNNING → done, and
//! the business rules (application before subscription, availableQuantity, archived devices).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::time::Duration;

use glp_console::sim::{Faults, SimConfig, SimHandle};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct T {
    s: SimHandle,
    c: reqwest::Client,
    tok: String,
}

async fn setup(cfg: SimConfig) -> T {
    let (s, c, tok) = common::sim::start(cfg).await;
    T { s, c, tok }
}

impl T {
    async fn patch(
        &self,
        ids: &[&str],
        extra: &[(&str, &str)],
        body: Value,
    ) -> (StatusCode, Value, Option<String>) {
        let mut q: Vec<(&str, &str)> = ids.iter().map(|i| ("id", *i)).collect();
        q.extend_from_slice(extra);
        let r = self
            .c
            .patch(format!("{}/devices/v2beta1/devices", self.s.base_url()))
            .bearer_auth(&self.tok)
            .query(&q)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status(), r.json().await.unwrap_or(Value::Null), loc)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value, Option<String>) {
        let r = self
            .c
            .post(format!("{}{path}", self.s.base_url()))
            .bearer_auth(&self.tok)
            .json(&body)
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status(), r.json().await.unwrap_or(Value::Null), loc)
    }

    async fn op(&self, loc: &str) -> Value {
        self.c
            .get(format!("{}{loc}", self.s.base_url()))
            .bearer_auth(&self.tok)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Poll until the operation is terminal.
    async fn wait(&self, loc: &str) -> Value {
        for _ in 0..100 {
            let v = self.op(loc).await;
            if v["status"] == "SUCCEEDED" || v["status"] == "FAILED" {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("operation {loc} did not finish");
    }

    fn find(&self, pred: impl Fn(&Value) -> bool) -> Value {
        self.s
            .devices()
            .into_iter()
            .find(|d| pred(d))
            .expect("a matching generated device")
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn patch_validation_400_rules() {
    let t = setup(SimConfig::default()).await;
    let d = id(&t.s.devices()[0]);
    let ok_body = json!({"tags": {"site": "HQ"}});
    let many: Vec<String> = (0..26).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (app, region) = t.s.provisioned_applications()[0].clone();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, Value, &'a str);
    let cases: Vec<Case> = vec![
        (vec![], vec![], ok_body.clone(), "no ids"),
        (many.clone(), vec![], ok_body.clone(), "26 ids"),
        (vec!["not-a-uuid"], vec![], ok_body.clone(), "bad uuid"),
        (vec![&d, &d], vec![], ok_body.clone(), "duplicate ids"),
        (
            vec![&d],
            vec![("dry-run", "maybe")],
            ok_body.clone(),
            "bad dry-run",
        ),
        (vec![&d], vec![], json!({}), "empty body"),
        (vec![&d], vec![], json!({"colour": "red"}), "unknown field"),
        (
            vec![&d],
            vec![],
            json!({"archived": true, "tags": {"a": "b"}}),
            "archived not alone",
        ),
        (
            vec![&d],
            vec![],
            json!({"archived": "yes"}),
            "archived not bool",
        ),
        (
            vec![&d],
            vec![],
            json!({"subscription": [], "tags": {"a": "b"}}),
            "subscription mixed with device op",
        ),
        (
            vec![&d],
            vec![],
            json!({"subscription": [{"id": "x"}]}),
            "subscription id not uuid",
        ),
        (
            vec![&d],
            vec![],
            json!({"subscription": [{"id": uuid::Uuid::new_v4().to_string()}]}),
            "unknown subscription",
        ),
        (
            vec![&d],
            vec![],
            json!({"application": {"id": app}}),
            "application without region",
        ),
        (
            vec![&d],
            vec![],
            json!({"region": region}),
            "region without application",
        ),
        (
            vec![&d],
            vec![],
            json!({"application": {"id": uuid::Uuid::new_v4().to_string()}, "region": "us-west"}),
            "unknown application",
        ),
        (
            vec![&d],
            vec![],
            json!({"application": {"id": app}, "region": "mars-1"}),
            "not provisioned",
        ),
        (
            vec![&d],
            vec![],
            json!({"tags": {"": "x"}}),
            "empty tag key",
        ),
        (
            vec![&d],
            vec![],
            json!({"tags": {"k".repeat(129): "x"}}),
            "tag key too long",
        ),
        (
            vec![&d],
            vec![],
            json!({"tags": {"a": "v".repeat(257)}}),
            "tag value too long",
        ),
        (
            vec![&d],
            vec![],
            json!({"tags": {"bad#key": "x"}}),
            "tag key character",
        ),
        (
            vec![&d],
            vec![],
            json!({"tags": {"Site": "a", "SITE": "b"}}),
            "case-insensitive duplicate",
        ),
        (
            vec![&d],
            vec![],
            json!({"tags": (0..51).map(|i| (format!("k{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            "51 tags",
        ),
        (
            vec![&d],
            vec![],
            json!({"tags": {"a": 1}}),
            "tag value not string",
        ),
    ];
    for (ids, extra, body, what) in cases {
        let (st, v, _) = t.patch(&ids, &extra, body).await;
        assert_eq!(st, 400, "{what}: {v}");
        assert_eq!(v["httpStatusCode"], 400, "{what}");
    }
    // Not JSON, and the wrong content type.
    let r =
        t.c.patch(format!("{}/devices/v2beta1/devices?id={d}", t.s.base_url()))
            .bearer_auth(&t.tok)
            .header("content-type", "application/merge-patch+json")
            .body("{nope")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    let r =
        t.c.patch(format!("{}/devices/v2beta1/devices?id={d}", t.s.base_url()))
            .bearer_auth(&t.tok)
            .json(&ok_body)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 415);
    t.s.shutdown().await;
}

#[tokio::test]
async fn patch_tags_merge_and_op_lifecycle() {
    let t = setup(SimConfig {
        op_delay: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    let d = t.find(|d| {
        d["tags"]
            .as_object()
            .is_some_and(|m| m.contains_key("site") && m.contains_key("env") && m.len() < 10)
    });
    let did = id(&d);
    let before = d["updatedAt"].as_str().unwrap().to_string();
    let (st, v, loc) = t
        .patch(
            &[&did],
            &[],
            json!({"tags": {"site": "Zürich Büro", "env": null, "new key": "x"}}),
        )
        .await;
    assert_eq!(st, 202);
    assert_eq!(v["code"], 202);
    assert_eq!(v["status"], "202 ACCEPTED");
    let loc = loc.unwrap();
    assert_eq!(
        loc,
        format!(
            "/devices/v1/async-operations/{}",
            v["transactionId"].as_str().unwrap()
        )
    );
    let first = t.op(&loc).await;
    assert_eq!(first["status"], "INITIALIZED");
    assert_eq!(first["type"], "devices/asyncOperation");
    assert!(first["suggestedPollingIntervalSeconds"].as_u64().unwrap() >= 1);
    assert_eq!(
        t.s.device(&did).unwrap()["tags"],
        d["tags"],
        "not applied before the op runs"
    );
    tokio::time::sleep(Duration::from_millis(170)).await;
    assert_eq!(t.op(&loc).await["status"], "RUNNING");
    let done = t.wait(&loc).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["progressPercent"], 100);
    assert_eq!(done["resultType"], "PatchDeviceResponseV2");
    assert_eq!(done["result"]["succeededDevices"][0]["id"], did.as_str());
    let after = t.s.device(&did).unwrap();
    let tags = after["tags"].as_object().unwrap();
    assert_eq!(tags["site"], "Zürich Büro");
    assert!(!tags.contains_key("env"));
    assert_eq!(tags["new key"], "x");
    assert_eq!(tags.len(), d["tags"].as_object().unwrap().len());
    assert!(after["updatedAt"].as_str().unwrap() > before.as_str());
    // A case clash fails that device in the op.
    let (_, _, loc) = t.patch(&[&did], &[], json!({"tags": {"SITE": "x"}})).await;
    let done = t.wait(&loc.unwrap()).await;
    assert_eq!(done["status"], "FAILED");
    assert!(
        done["result"]["failedDevices"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("clashes")
    );
    // dry-run: validated, reported, not applied.
    let (st, _, loc) = t
        .patch(
            &[&did],
            &[("dry-run", "true")],
            json!({"tags": {"site": "dry"}}),
        )
        .await;
    assert_eq!(st, 202);
    let done = t.wait(&loc.unwrap()).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(t.s.device(&did).unwrap()["tags"]["site"], "Zürich Büro");
    // Unknown operation id → 404.
    let v = t
        .op(&format!(
            "/devices/v1/async-operations/{}",
            uuid::Uuid::new_v4()
        ))
        .await;
    assert_eq!(v["httpStatusCode"], 404);
    t.s.shutdown().await;
}

#[tokio::test]
async fn application_subscription_business_rules() {
    let t = setup(SimConfig {
        devices: 500,
        subscriptions: 200,
        op_delay: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let bare = t.find(|d| {
        d["archived"] == false && d["application"].is_null() && d["category"] == "NETWORK"
    });
    let bid = id(&bare);
    let sub =
        t.s.subscriptions()
            .into_iter()
            .find(|s| {
                s["subscriptionStatus"] == "STARTED"
                    && s["availableQuantity"].as_i64().is_some_and(|q| q > 0)
            })
            .unwrap();
    let sid = id(&sub);
    let avail = sub["availableQuantity"].as_i64().unwrap();
    // Subscription before application → that device fails.
    let (st, _, loc) = t
        .patch(&[&bid], &[], json!({"subscription": [{"id": sid}]}))
        .await;
    assert_eq!(st, 202);
    let done = t.wait(&loc.unwrap()).await;
    assert_eq!(done["status"], "FAILED");
    assert!(
        done["result"]["failedDevices"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no application")
    );
    // Assign the application: assignedState follows.
    let (app, region) = t.s.provisioned_applications()[0].clone();
    let (_, _, loc) = t
        .patch(
            &[&bid],
            &[],
            json!({"application": {"id": app}, "region": region}),
        )
        .await;
    assert_eq!(t.wait(&loc.unwrap()).await["status"], "SUCCEEDED");
    let d = t.s.device(&bid).unwrap();
    assert_eq!(d["assignedState"], "ASSIGNED_TO_SERVICE");
    assert_eq!(d["application"]["id"], app.as_str());
    assert_eq!(d["region"], region.as_str());
    // Now the subscription works and availableQuantity goes down.
    let (_, _, loc) = t
        .patch(&[&bid], &[], json!({"subscription": [{"id": sid}]}))
        .await;
    assert_eq!(t.wait(&loc.unwrap()).await["status"], "SUCCEEDED");
    assert_eq!(
        t.s.device(&bid).unwrap()["subscription"][0]["id"],
        sid.as_str()
    );
    assert_eq!(
        t.s.subscription(&sid).unwrap()["availableQuantity"],
        avail - 1
    );
    // Removing gives it back.
    let (_, _, loc) = t.patch(&[&bid], &[], json!({"subscription": []})).await;
    assert_eq!(t.wait(&loc.unwrap()).await["status"], "SUCCEEDED");
    assert_eq!(t.s.subscription(&sid).unwrap()["availableQuantity"], avail);
    // Unassign the application.
    let (_, _, loc) = t
        .patch(&[&bid], &[], json!({"application": {"id": null}}))
        .await;
    assert_eq!(t.wait(&loc.unwrap()).await["status"], "SUCCEEDED");
    let d = t.s.device(&bid).unwrap();
    assert_eq!(d["assignedState"], "UNASSIGNED");
    assert!(d["application"].is_null() && d["region"].is_null());
    // Archived devices cannot be assigned: FAILED op (not 400); archiving works alone.
    let (_, _, loc) = t.patch(&[&bid], &[], json!({"archived": true})).await;
    assert_eq!(t.wait(&loc.unwrap()).await["status"], "SUCCEEDED");
    assert_eq!(t.s.device(&bid).unwrap()["archived"], true);
    let other = t.find(|d| d["archived"] == false && d["application"].is_null());
    let oid = id(&other);
    let (st, _, loc) = t
        .patch(
            &[&bid, &oid],
            &[],
            json!({"application": {"id": app}, "region": region}),
        )
        .await;
    assert_eq!(st, 202);
    let done = t.wait(&loc.unwrap()).await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["result"]["failedDevices"][0]["id"], bid.as_str());
    assert!(
        done["result"]["failedDevices"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("archived")
    );
    assert_eq!(done["result"]["succeededDevices"][0]["id"], oid.as_str());
    assert!(done["error"]["message"].is_string());
    // fail_ops_for makes chosen devices fail.
    t.s.set_faults(Faults {
        fail_ops_for: vec![other["serialNumber"].as_str().unwrap().to_string()],
        ..Faults::default()
    });
    let (_, _, loc) = t.patch(&[&oid], &[], json!({"tags": {"x": "y"}})).await;
    assert_eq!(t.wait(&loc.unwrap()).await["status"], "FAILED");
    t.s.shutdown().await;
}

#[tokio::test]
async fn post_devices_v2beta1_and_v1() {
    let t = setup(SimConfig {
        op_delay: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await;
    let n0 = t.s.devices().len();
    // v2beta1: 400 rules.
    for (body, what) in [
        (
            json!({"deviceType": "NETWORK", "macAddress": "AA:BB:CC:DD:EE:FF"}),
            "no serial",
        ),
        (json!({"serialNumber": "SIMNEW0001"}), "no deviceType"),
        (
            json!({"serialNumber": "SIMNEW0001", "deviceType": "AP"}),
            "bad deviceType",
        ),
        (
            json!({"serialNumber": "SIMNEW0001", "deviceType": "NETWORK"}),
            "network without MAC",
        ),
        (
            json!({"serialNumber": "SIMNEW0001", "deviceType": "NETWORK", "macAddress": "zz"}),
            "bad MAC",
        ),
        (
            json!({"serialNumber": "SIMNEW0001", "deviceType": "COMPUTE"}),
            "compute without part number",
        ),
        (
            json!({"serialNumber": "SIMNEW0001", "deviceType": "STORAGE"}),
            "storage without part number",
        ),
        (
            json!([{"serialNumber": "SIMNEW0001"}]),
            "array instead of one device",
        ),
    ] {
        let (st, _, _) = t.post("/devices/v2beta1/devices", body).await;
        assert_eq!(st, 400, "{what}");
    }
    let (st, v, loc) = t
        .post("/devices/v2beta1/devices", json!({"serialNumber": "SIMNEW0001", "deviceType": "NETWORK", "macAddress": "aa:bb:cc:dd:ee:01", "tags": {"site": "HQ"}}))
        .await;
    assert_eq!(st, 202, "{v}");
    let done = t.wait(&loc.unwrap()).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["result"], "SUCCEEDED");
    assert_eq!(done["resultType"], "postDevicesResponse");
    let all = t.s.devices();
    assert_eq!(all.len(), n0 + 1);
    let new = all
        .iter()
        .find(|d| d["serialNumber"] == "SIMNEW0001")
        .unwrap();
    assert_eq!(new["assignedState"], "UNASSIGNED");
    assert!(new["application"].is_null() && new["subscription"].is_null());
    assert_eq!(new["macAddress"], "AA:BB:CC:DD:EE:01");
    assert_eq!(new["tags"]["site"], "HQ");
    // Duplicate serial → FAILED with failedDevicesSerial.
    let (_, _, loc) = t.post("/devices/v2beta1/devices", json!({"serialNumber": "SIMNEW0001", "deviceType": "NETWORK", "macAddress": "AA:BB:CC:DD:EE:02"})).await;
    let done = t.wait(&loc.unwrap()).await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["result"]["failedDevicesSerial"][0], "SIMNEW0001");
    // dry-run adds nothing.
    let r = t
        .c
        .post(format!("{}/devices/v2beta1/devices?dry-run=true", t.s.base_url()))
        .bearer_auth(&t.tok)
        .json(&json!({"serialNumber": "SIMDRY0001", "deviceType": "COMPUTE", "partNumber": "P52499-B21"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(t.wait(&loc).await["status"], "SUCCEEDED");
    assert!(
        !t.s.devices()
            .iter()
            .any(|d| d["serialNumber"] == "SIMDRY0001")
    );
    // v1: all three arrays required, at most 5, partial failure lists the failing serials.
    let (st, v, _) = t.post("/devices/v1/devices", json!({"network": []})).await;
    assert_eq!(st, 400);
    assert!(
        v.to_string()
            .contains("compute: must not be null; storage: must not be null")
    );
    let (st, _, _) = t
        .post(
            "/devices/v1/devices",
            json!({"network": [], "compute": [], "storage": []}),
        )
        .await;
    assert_eq!(st, 400, "no devices");
    let six: Vec<Value> = (0..6)
        .map(|i| json!({"serialNumber": format!("SIMSIX{i}"), "partNumber": "R7G83A"}))
        .collect();
    let (st, _, _) = t
        .post(
            "/devices/v1/devices",
            json!({"network": [], "compute": [], "storage": six}),
        )
        .await;
    assert_eq!(st, 400, "six devices");
    let (st, _, loc) = t
        .post(
            "/devices/v1/devices",
            json!({"network": [{"serialNumber": "SIMNEW0001", "macAddress": "AA:BB:CC:DD:EE:03"}],
                   "compute": [{"serialNumber": "SIMNEW0002", "partNumber": "P52499-B21"}],
                   "storage": [{"serialNumber": "SIMNEW0003", "partNumber": "R7G83A"}]}),
        )
        .await;
    assert_eq!(st, 202);
    let done = t.wait(&loc.unwrap()).await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["result"]["failedDevicesSerial"], json!(["SIMNEW0001"]));
    let all = t.s.devices();
    assert!(
        all.iter()
            .any(|d| d["serialNumber"] == "SIMNEW0002" && d["category"] == "COMPUTE")
    );
    assert!(
        all.iter()
            .any(|d| d["serialNumber"] == "SIMNEW0003" && d["category"] == "STORAGE")
    );
    t.s.shutdown().await;
}

#[tokio::test]
async fn legacy_vocabulary_and_retention() {
    let t = setup(SimConfig {
        legacy_status_vocab: true,
        op_delay: Duration::ZERO,
        op_retention: Duration::from_millis(100),
        ..SimConfig::default()
    })
    .await;
    let did = id(&t.s.devices()[0]);
    let (_, _, loc) = t.patch(&[&did], &[], json!({"tags": {"a": "b"}})).await;
    let loc = loc.unwrap();
    let v = t.op(&loc).await;
    assert_eq!(v["status"], "COMPLETED");
    assert_eq!(v["progress"], 100);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        t.op(&loc).await["httpStatusCode"],
        404,
        "gone after retention"
    );
    t.s.shutdown().await;
}

#[tokio::test]
async fn patch_v1_rules() {
    let t = setup(SimConfig {
        op_delay: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let (app, region) = t.s.provisioned_applications()[0].clone();
    let d = t.find(|d| d["archived"] == false && d["application"].is_null());
    let did = id(&d);
    let send = |ids: Vec<String>, body: Value| {
        let q: Vec<(String, String)> = ids.into_iter().map(|i| ("id".to_string(), i)).collect();
        t.c.patch(format!("{}/devices/v1/devices", t.s.base_url()))
            .bearer_auth(&t.tok)
            .query(&q)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string())
            .send()
    };
    let six: Vec<String> = (0..6).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let assign = json!({"application": {"id": app}, "region": region});
    assert_eq!(
        send(six, assign.clone()).await.unwrap().status(),
        400,
        "more than 5 ids"
    );
    let both = json!({"application": {"id": app}, "region": region, "subscription": []});
    assert_eq!(
        send(vec![did.clone()], both).await.unwrap().status(),
        400,
        "two operations"
    );
    assert_eq!(
        send(vec![did.clone()], json!({"tags": {"a": "b"}}))
            .await
            .unwrap()
            .status(),
        400,
        "tags not in v1"
    );
    let r = send(vec![did.clone()], assign).await.unwrap();
    assert_eq!(r.status(), 202);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(t.wait(&loc).await["status"], "SUCCEEDED");
    assert_eq!(
        t.s.device(&did).unwrap()["assignedState"],
        "ASSIGNED_TO_SERVICE"
    );
    assert_eq!(t.s.stats().endpoint("devices_v1_patch").requests, 4);
    t.s.shutdown().await;
}
