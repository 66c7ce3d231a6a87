//! The compliance and utilisation views (migration 0010) and `glp-console report`, against
//! PostgreSQL and the simulator: each view lists exactly the rows a direct computation over
//! the simulator's JSON says it should (computed here in Rust, not with the views' SQL).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Months, Utc};
use common::TestDb;
use glp_console::assign::family::{compatible_categories, subscription_types_for};
use glp_console::assign::normalize::Category;
use glp_console::config::SyncConfig;
use glp_console::headless::report::{self, ReportFormat};
use glp_console::sim::{self, SimConfig, SimHandle};
use glp_console::store::Store;
use glp_console::store::compliance::{Across, DeviceCheck, SubscriptionCheck};
use glp_console::sync::{Mode, Scope, SyncCommand, SyncEvent, Trigger};
use serde_json::{Value, json};

const DAYS: u32 = 90;

/// A JSON string field, with null, absent and blank all `None` (as the store keeps them).
fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v[k].as_str().map(str::trim).filter(|t| !t.is_empty())
}

fn qty(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(t) => t.parse().ok(),
        _ => None,
    }
}

fn time(v: &Value, k: &str) -> Option<DateTime<Utc>> {
    s(v, k).and_then(|t| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

fn links(d: &Value) -> Vec<String> {
    d["subscription"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| s(r, "id").map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn start_sim() -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices: 800,
        subscriptions: 160,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Make the cases the generator draws rarely or never: type mismatches, devices in the MSP
/// pool, devices still on an ended subscription, an over-used subscription.
fn plant_cases(sim: &SimHandle) {
    let subs = sim.subscriptions();
    let by_id: HashMap<String, &Value> = subs.iter().map(|x| (id(x), x)).collect();
    let linked_to = |t: &str| -> Vec<Value> {
        sim.devices()
            .into_iter()
            .filter(|d| {
                links(d)
                    .iter()
                    .any(|l| by_id.get(l).and_then(|x| s(x, "subscriptionType")) == Some(t))
            })
            .collect()
    };
    let aps = linked_to("CENTRAL_AP");
    assert!(
        aps.len() >= 2,
        "the simulator links APs to AP subscriptions"
    );
    sim.modify_device(&id(&aps[0]), |d| d["deviceType"] = json!("SWITCH"));
    sim.modify_device(&id(&aps[1]), |d| {
        d["deviceType"] = json!("COMPUTE");
        d["category"] = json!("COMPUTE");
    });
    let devices = sim.devices();
    for d in devices.iter().skip(10).take(3) {
        sim.modify_device(&id(d), |d| {
            d["management"] = json!("MSP");
            d["tenantWorkspaceId"] = Value::Null;
            d["inUseWorkspace"] = Value::Null;
        });
    }
    let ended = subs
        .iter()
        .find(|x| s(x, "subscriptionStatus") == Some("ENDED"))
        .expect("the simulator generates ended subscriptions");
    let r = json!([{"id": ended["id"], "key": ended["key"], "tier": ended["tier"],
        "resourceUri": format!("/subscriptions/v1beta1/subscriptions/{}", id(ended)),
        "startTime": ended["startTime"], "endTime": ended["endTime"]}]);
    for d in devices.iter().skip(20).take(2) {
        sim.modify_device(&id(d), |d| d["subscription"] = r.clone());
    }
    let started = subs
        .iter()
        .find(|x| s(x, "subscriptionStatus") == Some("STARTED"))
        .unwrap();
    sim.modify_subscription(&id(started), |x| x["availableQuantity"] = json!(-3));
}

/// A full sync of `sim` into `db`.
async fn full_sync(sim: &SimHandle, db: &TestDb) {
    full_sync_into(sim, db, db.store.clone()).await;
}

/// A full sync of `sim` into `store`'s workspace of `db`.
async fn full_sync_into(sim: &SimHandle, db: &TestDb, store: Store) {
    let api = common::engine::api_config(sim);
    let mut h = glp_console::sync::engine::spawn(
        common::engine::client(sim, &api),
        store,
        glp_console::sync::engine::EngineConfig {
            sync: SyncConfig::default(),
            database_url: db.url.clone(),
            gate: None,
        },
    );
    h.commands
        .send(SyncCommand::SyncNow {
            scope: Scope::Both,
            mode: Mode::Full,
            trigger: Trigger::Cli,
        })
        .await
        .unwrap();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(120), h.events.recv())
            .await
            .expect("the sync ends within two minutes")
            .expect("engine alive");
        match ev {
            SyncEvent::Finished(_) => return,
            SyncEvent::Failed { .. } => panic!("sync failed: {ev:?}"),
            _ => {}
        }
    }
}

/// A subscription's seats: id, quantity, available, linked devices, over-used.
type Seats = (String, Option<i64>, Option<i64>, i64, bool);
/// Totals of a type and tier: type, tier, subscriptions, quantity, linked devices.
type Total = (Option<String>, Option<String>, i64, Option<i64>, i64);
/// Running totals of a (type, tier): subscriptions, quantity, linked devices.
type TotalSums = BTreeMap<(Option<String>, Option<String>), (i64, Option<i64>, i64)>;

/// What every view should list, computed from the simulator's JSON.
#[derive(Debug, Default)]
struct Expected {
    devices: BTreeMap<&'static str, BTreeSet<String>>,
    expiring: BTreeSet<(String, String, bool)>,
    ended_with_devices: BTreeSet<(String, i64)>,
    evaluation: BTreeSet<String>,
    mismatches: BTreeSet<(String, String)>,
    utilisation: BTreeSet<Seats>,
    totals: BTreeSet<Total>,
    renewals: BTreeSet<(String, i64, Option<i64>, i64)>,
}

fn expected(sim: &SimHandle, now: DateTime<Utc>) -> Expected {
    let devices = sim.devices();
    let subs = sim.subscriptions();
    let by_id: HashMap<String, &Value> = subs.iter().map(|x| (id(x), x)).collect();
    let mut linked: HashMap<String, i64> = HashMap::new();
    let mut e = Expected::default();
    for d in &devices {
        let did = id(d);
        let archived = d["archived"].as_bool().unwrap_or(false);
        let mut put = |k: &'static str, yes: bool| {
            if yes {
                e.devices.entry(k).or_default().insert(did.clone());
            }
        };
        put(
            "no_application",
            !archived && s(&d["application"], "id").is_none(),
        );
        put(
            "assigned_no_subscription",
            !archived
                && s(d, "assignedState") == Some("ASSIGNED_TO_SERVICE")
                && links(d).is_empty(),
        );
        put("archived", archived);
        put(
            "msp_pool",
            s(d, "management") == Some("MSP")
                && s(d, "tenantWorkspaceId").is_none()
                && s(&d["inUseWorkspace"], "id").is_none(),
        );
        for l in links(d) {
            *linked.entry(l.clone()).or_default() += 1;
            let Some(sub) = by_id.get(&l) else { continue };
            let status = s(sub, "subscriptionStatus");
            let end = time(sub, "endTime");
            let expired = status == Some("ENDED") || end.is_some_and(|t| t < now);
            let soon = status == Some("STARTED")
                && end.is_some_and(|t| t < now + chrono::Duration::days(DAYS.into()));
            if expired || soon {
                e.expiring.insert((did.clone(), l.clone(), expired));
            }
            let t = s(sub, "subscriptionType").unwrap_or_default();
            let cat = Category::of_stored(s(d, "category"), s(d, "deviceType"));
            let bad_cat = cat.is_some_and(|c| !compatible_categories(t).contains(&c));
            let bad_family = s(d, "deviceType")
                .and_then(subscription_types_for)
                .is_some_and(|f| !f.contains(&t));
            if bad_cat || bad_family {
                e.mismatches.insert((did.clone(), l.clone()));
            }
        }
    }
    let mut totals: TotalSums = BTreeMap::new();
    let mut renewals: BTreeMap<String, (i64, Option<i64>, i64)> = BTreeMap::new();
    for x in &subs {
        let sid = id(x);
        let n = linked.get(&sid).copied().unwrap_or(0);
        let status = s(x, "subscriptionStatus");
        let (q, a) = (qty(&x["quantity"]), qty(&x["availableQuantity"]));
        if matches!(status, Some("ENDED" | "SUSPENDED")) && n > 0 {
            e.ended_with_devices.insert((sid.clone(), n));
        }
        if x["isEval"].as_bool() == Some(true) {
            e.evaluation.insert(sid.clone());
        }
        let over = n > q.unwrap_or(0) || a.unwrap_or(0) < 0;
        e.utilisation.insert((sid.clone(), q, a, n, over));
        let key = (
            s(x, "subscriptionType").map(String::from),
            s(x, "tier").map(String::from),
        );
        let t = totals.entry(key).or_insert((0, None, 0));
        t.0 += 1;
        t.1 = match (t.1, q) {
            (None, q) => q,
            (Some(a), Some(b)) => Some(a + b),
            (a, None) => a,
        };
        t.2 += n;
        if let Some(end) = time(x, "endTime")
            && status == Some("STARTED")
            && end >= now
            && end < now + Months::new(12)
        {
            let r = renewals
                .entry(end.format("%Y-%m").to_string())
                .or_insert((0, None, 0));
            r.0 += 1;
            r.1 = Some(r.1.unwrap_or(0) + q.unwrap_or(0));
            r.2 += n;
        }
    }
    e.totals = totals
        .into_iter()
        .map(|((t, tier), (c, q, n))| (t, tier, c, q, n))
        .collect();
    e.renewals = renewals
        .into_iter()
        .map(|(m, (c, q, n))| (m, c, q, n))
        .collect();
    e
}

async fn check_views(store: &Store, e: &Expected, across: Across) {
    for check in DeviceCheck::ALL {
        let key = match check {
            DeviceCheck::NoApplication => "no_application",
            DeviceCheck::AssignedNoSubscription => "assigned_no_subscription",
            DeviceCheck::Archived => "archived",
            DeviceCheck::MspPool => "msp_pool",
        };
        let got: BTreeSet<String> = store
            .compliance_devices(check, across)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.device_id)
            .collect();
        let want = e.devices.get(key).cloned().unwrap_or_default();
        assert!(!want.is_empty(), "{key}: the data has cases");
        assert_eq!(got, want, "{key} ({across:?})");
    }
    let got: BTreeSet<_> = store
        .compliance_expiring(DAYS, across)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.device_id, r.subscription_id, r.expired))
        .collect();
    assert!(e.expiring.iter().any(|r| r.2) && e.expiring.iter().any(|r| !r.2));
    assert_eq!(got, e.expiring, "expired or expiring ({across:?})");
    let got: BTreeSet<_> = store
        .compliance_subscriptions(SubscriptionCheck::EndedWithDevices, across)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.devices))
        .collect();
    assert!(!e.ended_with_devices.is_empty());
    assert_eq!(got, e.ended_with_devices, "ended with devices ({across:?})");
    let got: BTreeSet<_> = store
        .compliance_subscriptions(SubscriptionCheck::Evaluation, across)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(got, e.evaluation, "evaluation ({across:?})");
    let got: BTreeSet<_> = store
        .type_mismatches(across)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.device_id, r.subscription_id))
        .collect();
    assert!(e.mismatches.len() >= 2, "the planted mismatches count");
    assert_eq!(got, e.mismatches, "type mismatches ({across:?})");
    let got: BTreeSet<_> = store
        .utilisation(across)
        .await
        .unwrap()
        .into_iter()
        .map(|u| {
            (
                u.id,
                u.quantity,
                u.available_quantity,
                u.linked_devices,
                u.over_use,
            )
        })
        .collect();
    assert!(
        e.utilisation.iter().any(|u| u.4),
        "an over-used subscription"
    );
    assert_eq!(got, e.utilisation, "utilisation ({across:?})");
    let got: BTreeSet<_> = store
        .utilisation_totals(across)
        .await
        .unwrap()
        .into_iter()
        .map(|t| {
            (
                t.subscription_type,
                t.tier,
                t.subscriptions,
                t.quantity,
                t.linked_devices.unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(got, e.totals, "totals ({across:?})");
    let got: BTreeSet<_> = store
        .renewals(across)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.month, m.subscriptions, m.seats, m.devices.unwrap_or(0)))
        .collect();
    assert!(!e.renewals.is_empty());
    assert_eq!(got, e.renewals, "renewals ({across:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_list_what_the_simulator_data_says() {
    let sim = start_sim().await;
    plant_cases(&sim);
    let db = TestDb::new().await;
    full_sync(&sim, &db).await;
    let e = expected(&sim, Utc::now());
    check_views(&db.store, &e, Across::ThisWorkspace).await;
    check_views(&db.store, &e, Across::AllWorkspaces).await;

    // The report holds the same counts, as JSON that parses.
    let r = report::collect(&db.store, DAYS, 7).await.unwrap();
    let text = report::render(&r, ReportFormat::Json).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let c = &v["counts"];
    let n = |k: &str| e.devices.get(k).map_or(0, |s| s.len() as u64);
    assert_eq!(c["no_application"], n("no_application"));
    assert_eq!(c["assigned_no_subscription"], n("assigned_no_subscription"));
    assert_eq!(c["archived"], n("archived"));
    assert_eq!(c["msp_pool"], n("msp_pool"));
    assert_eq!(c["type_mismatches"], e.mismatches.len() as u64);
    assert_eq!(c["evaluation"], e.evaluation.len() as u64);
    assert_eq!(c["ended_with_devices"], e.ended_with_devices.len() as u64);
    let expired = e.expiring.iter().filter(|x| x.2).count() as u64;
    assert_eq!(c["expired_devices"], expired);
    assert_eq!(c["expiring_devices"], e.expiring.len() as u64 - expired);
    assert_eq!(
        c["over_used"],
        e.utilisation.iter().filter(|u| u.4).count() as u64
    );
    assert_eq!(
        v["utilisation"].as_array().unwrap().len(),
        e.utilisation.len()
    );
    assert_eq!(v["renewals"].as_array().unwrap().len(), e.renewals.len());
    let started_soon = sim
        .subscriptions()
        .iter()
        .filter(|x| {
            s(x, "subscriptionStatus") == Some("STARTED")
                && time(x, "endTime")
                    .is_some_and(|t| t < Utc::now() + chrono::Duration::days(DAYS.into()))
        })
        .count();
    assert_eq!(
        v["expiring_subscriptions"].as_array().unwrap().len(),
        started_soon
    );

    // Markdown: the same bytes from a second read, every section present.
    let md = report::render(&r, ReportFormat::Markdown).unwrap();
    let again = report::collect(&db.store, DAYS, 7).await.unwrap();
    assert_eq!(md, report::render(&again, ReportFormat::Markdown).unwrap());
    for h in [
        "# GreenLake compliance report",
        "## Compliance at a glance",
        "## Expiring within 90 days",
        "## Devices with no application",
        "## Device/subscription type mismatches",
        "## Seat utilisation by type and tier",
        "## Renewals in the next 12 months",
    ] {
        assert!(md.contains(h), "markdown has {h}");
    }
    let mismatch = e.mismatches.iter().next().unwrap();
    let serial = sim.device(&mismatch.0).unwrap()["serialNumber"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(md.contains(&serial), "the mismatch's serial is listed");

    // The changes section counts what the next sync records: two devices' region.
    for d in sim.devices().iter().take(2) {
        sim.modify_device(&id(d), |d| d["region"] = json!("zz-test-1"));
    }
    full_sync(&sim, &db).await;
    let r = report::collect(&db.store, DAYS, 7).await.unwrap();
    let region = r
        .changes
        .iter()
        .find(|c| c.resource == "devices" && c.field == "region")
        .expect("the region changes are counted");
    assert_eq!((region.changes, region.items), (2, 2));
    assert!(report::markdown(&r).contains("## Changes in the last 7 days"));
}

/// `glp-console report -o FILE.json` and `--format md` on stdout, as a cron job runs them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_command_writes_json_and_markdown() {
    let sim = start_sim().await;
    let db = TestDb::new().await;
    full_sync(&sim, &db).await;
    let dir = common::TestDir::new("glp-report-");
    let cfg = dir.join("config.toml");
    std::fs::write(&cfg, "").unwrap();
    let run = |args: Vec<String>| {
        let (url, cfg, logs) = (db.url.clone(), cfg.clone(), dir.join("logs"));
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_glp-console"))
                .arg("--config")
                .arg(cfg)
                .arg("--log-dir")
                .arg(logs)
                .args(args)
                .env("DATABASE_URL", url)
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
    };
    let file = dir.join("report.json");
    let out = run(vec![
        "report".into(),
        "--days".into(),
        "30".into(),
        "-o".into(),
        file.display().to_string(),
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(v["days"], 30);
    let counts = db
        .store
        .compliance_counts(30, Across::AllWorkspaces)
        .await
        .unwrap();
    assert_eq!(v["counts"], serde_json::to_value(&counts).unwrap());
    // xlsx: one sheet per section, holding the rows the database does, and the chart.
    let xlsx = dir.join("report.xlsx");
    let out = run(vec![
        "report".into(),
        "-o".into(),
        xlsx.display().to_string(),
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut book = calamine::open_workbook_auto(&xlsx).expect("a real xlsx");
    let names = calamine::Reader::sheet_names(&book);
    for sheet in [
        "Summary",
        "Expiring",
        "No application",
        "Utilisation",
        "Renewals",
    ] {
        assert!(
            names.iter().any(|n| n == sheet),
            "sheet {sheet} in {names:?}"
        );
    }
    let rows = |book: &mut calamine::Sheets<_>, name: &str| {
        calamine::Reader::worksheet_range(book, name)
            .unwrap()
            .rows()
            .map(|r| r.to_vec())
            .collect::<Vec<Vec<calamine::Data>>>()
    };
    let summary = rows(&mut book, "Summary");
    assert_eq!(summary.len(), 11, "header and ten checks");
    assert_eq!(
        summary[1][1],
        calamine::Data::Float(counts.no_application as f64)
    );
    let util = db.store.utilisation(Across::AllWorkspaces).await.unwrap();
    assert_eq!(rows(&mut book, "Utilisation").len(), util.len() + 1);
    let renewals = db.store.renewals(Across::AllWorkspaces).await.unwrap();
    assert_eq!(rows(&mut book, "Renewals").len(), renewals.len() + 1);
    let bytes = std::fs::read(&xlsx).unwrap();
    assert!(
        bytes.windows(20).any(|w| w == b"xl/charts/chart1.xml"),
        "the expirations chart"
    );
    let md = |()| run(vec!["report".into(), "--format".into(), "md".into()]);
    let a = md(()).await.unwrap();
    let b = md(()).await.unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let text = String::from_utf8(a.stdout).unwrap();
    assert!(text.starts_with("# GreenLake compliance report"));
    assert_eq!(text, String::from_utf8(b.stdout).unwrap(), "md is stable");
}

/// Two workspaces listing the same devices and subscriptions (one seed): per workspace each
/// view lists that workspace's rows; across workspaces each id once, from the row the
/// consolidated views pick (here always workspace `aaaa`, the lower id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_workspaces_count_each_id_once_from_the_consolidated_row() {
    let a = start_sim().await;
    let b = start_sim().await;
    let with_app: Vec<String> = a
        .devices()
        .iter()
        .filter(|d| s(&d["application"], "id").is_some() && d["archived"] != json!(true))
        .map(id)
        .collect();
    let (x, y) = (with_app[3].clone(), with_app[4].clone());
    // x has no application only in `aaaa`, y only in `default`.
    for (sim, dev) in [(&b, &x), (&a, &y)] {
        sim.modify_device(dev, |d| {
            d["archived"] = json!(false);
            d["application"] = Value::Null;
        });
    }
    let db = TestDb::new().await;
    let other = db
        .store
        .for_workspace(glp_console::domain::WorkspaceId::parse("aaaa").unwrap());
    full_sync(&a, &db).await;
    full_sync_into(&b, &db, other.clone()).await;
    let ids = |rows: Vec<glp_console::store::compliance::DeviceFinding>| -> Vec<String> {
        rows.into_iter().map(|r| r.device_id).collect()
    };
    let check = DeviceCheck::NoApplication;
    let in_default = ids(db
        .store
        .compliance_devices(check, Across::ThisWorkspace)
        .await
        .unwrap());
    let in_other = ids(other
        .compliance_devices(check, Across::ThisWorkspace)
        .await
        .unwrap());
    let all = ids(db
        .store
        .compliance_devices(check, Across::AllWorkspaces)
        .await
        .unwrap());
    assert!(in_default.contains(&y) && !in_default.contains(&x));
    assert!(in_other.contains(&x) && !in_other.contains(&y));
    assert_eq!(
        all, in_other,
        "all workspaces: the `aaaa` rows, each device once"
    );
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len());
    let subs = |v: Vec<glp_console::store::compliance::Utilisation>| v.len();
    assert_eq!(
        subs(db.store.utilisation(Across::AllWorkspaces).await.unwrap()),
        b.subscriptions().len(),
        "each subscription once"
    );
    let counts = db
        .store
        .compliance_counts(DAYS, Across::AllWorkspaces)
        .await
        .unwrap();
    assert_eq!(counts.no_application, all.len() as i64);
}
