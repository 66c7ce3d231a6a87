//! The overview tab (issue 16, item 5) over a database filled by a full sync from the
//! simulator: snapshots at 80×24 and 160×48, and every number a jump — Enter on it opens a
//! table showing exactly as many rows as the number says, and that number is what the
//! simulator's items (or, for the type rule, a direct count over the database) say.
//! The subscriptions' dates and the sync's times are pinned to a fixed "now" before the
//! snapshots, so they do not move with the calendar.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Months, TimeZone, Utc};
use common::TestDb;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::{SyncConfig, UiConfig};
use glp_console::glp::health::HealthSnapshot;
use glp_console::sim::{self, SimConfig, SimHandle};
use glp_console::store::compliance::{DeviceCheck, SubscriptionCheck};
use glp_console::store::overview::{DeviceStatus, Jump};
use glp_console::store::views::ViewScope;
use glp_console::sync::events::EngineStatus;
use glp_console::sync::{Mode, Scope, SyncCommand, SyncEvent, Trigger};
use glp_console::tui::app::{App, Effect, Loaded, OverviewItem, Tab};
use glp_console::tui::run::{jump_ids, load_all};
use glp_console::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

/// The window the console's reload counts "expiring" in (`load_all`'s).
const WINDOW: i64 = 30;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v[k].as_str().map(str::trim).filter(|t| !t.is_empty())
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
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

fn end_of(v: &Value) -> Option<DateTime<Utc>> {
    s(v, "endTime").and_then(|t| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A small simulator whose subscriptions end on fixed days from [`now`], with the cases the
/// generator draws rarely: devices in the MSP pool, one on the wrong type of subscription,
/// devices on an ended subscription, an over-used subscription.
async fn start_sim() -> SimHandle {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 150,
        subscriptions: 30,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    const ENDS: [i64; 10] = [-40, 12, 25, 50, 80, 120, 170, 230, 300, 420];
    for (i, x) in sim.subscriptions().iter().enumerate() {
        let end = now()
            + chrono::Duration::days(ENDS[i % ENDS.len()])
            + chrono::Duration::hours(i as i64);
        let start = end - chrono::Duration::days(365);
        sim.modify_subscription(&id(x), |x| {
            x["startTime"] = json!(ts(start));
            x["endTime"] = json!(ts(end));
        });
    }
    let devices = sim.devices();
    for d in devices.iter().skip(10).take(3) {
        sim.modify_device(&id(d), |d| {
            d["management"] = json!("MSP");
            d["tenantWorkspaceId"] = Value::Null;
            d["inUseWorkspace"] = Value::Null;
        });
    }
    let subs = sim.subscriptions();
    let of_type = |t: &str| {
        subs.iter()
            .find(|x| s(x, "subscriptionType") == Some(t))
            .cloned()
    };
    if let Some(ap) = of_type("CENTRAL_AP")
        && let Some(d) = devices.iter().find(|d| links(d).contains(&id(&ap)))
    {
        sim.modify_device(&id(d), |d| d["deviceType"] = json!("SWITCH"));
    }
    if let Some(ended) = subs
        .iter()
        .find(|x| s(x, "subscriptionStatus") == Some("ENDED"))
    {
        let r = json!([{"id": ended["id"], "key": ended["key"], "tier": ended["tier"],
            "resourceUri": format!("/subscriptions/v1beta1/subscriptions/{}", id(ended)),
            "startTime": ended["startTime"], "endTime": ended["endTime"]}]);
        for d in devices.iter().skip(20).take(2) {
            sim.modify_device(&id(d), |d| d["subscription"] = r.clone());
        }
    }
    if let Some(started) = subs
        .iter()
        .find(|x| s(x, "subscriptionStatus") == Some("STARTED"))
    {
        sim.modify_subscription(&id(started), |x| x["availableQuantity"] = json!(-3));
    }
    sim
}

/// A full sync of `sim` into `db`, then the run's times pinned to an hour before [`now`].
async fn full_sync(sim: &SimHandle, db: &TestDb) {
    let api = common::engine::api_config(sim);
    let mut h = common::engine::engine_for(sim, &api, db, SyncConfig::default());
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
            SyncEvent::Finished(_) => break,
            SyncEvent::Failed { .. } => panic!("sync failed: {ev:?}"),
            _ => {}
        }
    }
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sqlx::query(
        "UPDATE sync_history SET started_at = $1 - interval '1 hour', \
         finished_at = $1 - interval '1 hour' + interval '2 seconds', duration_ms = 2000",
    )
    .bind(now())
    .execute(db.store.pool())
    .await
    .unwrap();
}

async fn app(db: &TestDb) -> App {
    let mut app = App::new(&UiConfig::default(), false, false, now());
    let msgs = Mutex::new(Vec::new());
    load_all(&db.store, now(), &|l| msgs.lock().unwrap().push(l))
        .await
        .unwrap();
    for l in msgs.into_inner().unwrap() {
        app.on_loaded(l);
    }
    let _ = app.take_effects();
    app.on_status(EngineStatus {
        health: HealthSnapshot::answered_at(now()),
        ..EngineStatus::default()
    });
    app
}

fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    t
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// Carry out the jump Enter asked for, as the console's loader does.
async fn settle_jump(app: &mut App, db: &TestDb) {
    for e in app.take_effects() {
        if let Effect::LoadJump {
            jump,
            scope,
            now,
            window_days,
        } = e
        {
            let ids = jump_ids(&db.store, &jump, &scope, now, window_days).await;
            app.on_loaded(Loaded::Jump { jump, ids });
        }
    }
}

/// What each number should be, from the simulator's items.
fn truth(sim: &SimHandle, jump: &Jump) -> Option<i64> {
    let devices = sim.devices();
    let subs = sim.subscriptions();
    let by_id: HashMap<String, &Value> = subs.iter().map(|x| (id(x), x)).collect();
    let mut linked: HashMap<String, i64> = HashMap::new();
    for d in &devices {
        for l in links(d) {
            *linked.entry(l).or_default() += 1;
        }
    }
    let archived = |d: &Value| d["archived"].as_bool().unwrap_or(false);
    let expired = |x: &Value| {
        s(x, "subscriptionStatus") == Some("ENDED") || end_of(x).is_some_and(|t| t < now())
    };
    let on = |d: &Value, f: &dyn Fn(&Value) -> bool| {
        links(d).iter().any(|l| by_id.get(l).is_some_and(|x| f(x)))
    };
    let devs = |f: &dyn Fn(&Value) -> bool| devices.iter().filter(|d| f(d)).count() as i64;
    let subs_n = |f: &dyn Fn(&Value) -> bool| subs.iter().filter(|x| f(x)).count() as i64;
    Some(match jump {
        Jump::DeviceType(t) => devs(&|d| s(d, "deviceType") == t.as_deref()),
        Jump::Region(r) => devs(&|d| s(d, "region") == r.as_deref()),
        Jump::Status(st) => devs(&|d| {
            let a = s(d, "assignedState");
            let word = if archived(d) {
                DeviceStatus::Archived
            } else if a.is_none() || a == Some("UNASSIGNED") {
                DeviceStatus::Unassigned
            } else {
                DeviceStatus::Assigned
            };
            word == *st
        }),
        Jump::Check(DeviceCheck::NoApplication) => {
            devs(&|d| !archived(d) && s(&d["application"], "id").is_none())
        }
        Jump::Check(DeviceCheck::AssignedNoSubscription) => devs(&|d| {
            !archived(d)
                && s(d, "assignedState") == Some("ASSIGNED_TO_SERVICE")
                && links(d).is_empty()
        }),
        Jump::Check(DeviceCheck::Archived) => devs(&|d| archived(d)),
        Jump::Check(DeviceCheck::MspPool) => devs(&|d| {
            s(d, "management") == Some("MSP")
                && s(d, "tenantWorkspaceId").is_none()
                && s(&d["inUseWorkspace"], "id").is_none()
        }),
        Jump::Expired => devs(&|d| on(d, &expired)),
        Jump::Expiring => devs(&|d| {
            on(d, &|x| {
                !expired(x)
                    && s(x, "subscriptionStatus") == Some("STARTED")
                    && end_of(x).is_some_and(|t| t < now() + chrono::Duration::days(WINDOW))
            })
        }),
        // The family rule lives in one place (tests/compliance.rs checks the view against
        // it): counted directly over the database below.
        Jump::TypeMismatch => return None,
        Jump::SubscriptionCheck(SubscriptionCheck::EndedWithDevices) => subs_n(&|x| {
            matches!(s(x, "subscriptionStatus"), Some("ENDED" | "SUSPENDED"))
                && linked.get(&id(x)).copied().unwrap_or(0) > 0
        }),
        Jump::SubscriptionCheck(SubscriptionCheck::Evaluation) => {
            subs_n(&|x| x["isEval"].as_bool() == Some(true))
        }
        Jump::OverUsed => subs_n(&|x| {
            let q = x["quantity"].as_i64().unwrap_or(0);
            let a = x["availableQuantity"].as_i64().unwrap_or(0);
            linked.get(&id(x)).copied().unwrap_or(0) > q || a < 0
        }),
        Jump::Seats {
            subscription_type,
            tier,
        } => subs_n(&|x| {
            s(x, "subscriptionType") == subscription_type.as_deref()
                && s(x, "tier") == tier.as_deref()
        }),
        Jump::Month(m) => subs_n(&|x| {
            s(x, "subscriptionStatus") == Some("STARTED")
                && end_of(x).is_some_and(|t| {
                    t >= now()
                        && t < now().checked_add_months(Months::new(12)).unwrap()
                        && t.format("%Y-%m").to_string() == *m
                })
        }),
    })
}

#[tokio::test]
async fn overview_snapshots_and_every_number_opens_its_rows() {
    let sim = start_sim().await;
    let db = TestDb::new().await;
    full_sync(&sim, &db).await;
    let mut app = app(&db).await;
    press(&mut app, KeyCode::Char('0'));
    assert_eq!(app.tab(), Tab::Overview);
    let small = screen(&app, 80, 24);
    insta::assert_snapshot!("overview_80x24", small.backend());
    let big = screen(&app, 160, 48);
    insta::assert_snapshot!("overview_160x48", big.backend());

    // Every number of the roomy layout (the last drawn), in cursor order.
    let items: Vec<OverviewItem> = app.overview().items();
    assert!(items.len() > 25, "{items:?}");
    let mismatched: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT device_id) FROM compliance_type_mismatches")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    let mut jumped = HashSet::new();
    for (k, item) in items.iter().enumerate() {
        let expected = truth(&sim, &item.jump).unwrap_or(mismatched);
        assert_eq!(item.n, expected, "{}: the overview's number", item.label);
        assert_eq!(app.tab(), Tab::Overview);
        press(&mut app, KeyCode::Char('g'));
        for _ in 0..k {
            press(&mut app, KeyCode::Char('j'));
        }
        assert_eq!(app.overview_selected().as_ref(), Some(item));
        press(&mut app, KeyCode::Enter);
        settle_jump(&mut app, &db).await;
        if item.n == 0 {
            assert_eq!(app.tab(), Tab::Overview, "{}: nothing to open", item.label);
            continue;
        }
        let want = match item.jump.table() {
            glp_console::store::overview::JumpTable::Devices => Tab::Devices,
            glp_console::store::overview::JumpTable::Subscriptions => Tab::Subscriptions,
        };
        assert_eq!(app.tab(), want, "{}", item.label);
        assert!(app.table().drill().is_some());
        assert_eq!(
            app.table().len() as i64,
            item.n,
            "{}: rows shown after the jump",
            item.label
        );
        if jumped.is_empty() && want == Tab::Devices {
            let t = screen(&app, 80, 24);
            insta::assert_snapshot!("overview_jump_devices_80x24", t.backend());
        }
        jumped.insert(format!("{:?}", std::mem::discriminant(&item.jump)));
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.tab(), Tab::Overview, "Esc goes back to the overview");
        assert!(
            app.table_by_id(glp_console::tui::app::TableId::Devices)
                .drill()
                .is_none()
        );
    }
    // Every kind of number was opened at least once (the planted cases see to the checks).
    assert!(jumped.len() >= 8, "{jumped:?}");
    assert!(matches!(
        app.reload_scope(),
        ViewScope::Single | ViewScope::All
    ));
}

#[tokio::test]
async fn overview_is_reachable_by_command_and_tab_keys() {
    let db = TestDb::new().await;
    let mut app = app(&db).await;
    assert_eq!(app.tab(), Tab::Devices);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.tab(), Tab::Overview, "the pulse comes first");
    press(&mut app, KeyCode::Char('1'));
    app.type_str(":overview");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.tab(), Tab::Overview);
    // An empty database: every number is zero and Enter opens nothing.
    press(&mut app, KeyCode::Enter);
    assert!(
        app.take_effects()
            .iter()
            .all(|e| !matches!(e, Effect::LoadJump { .. }))
    );
    assert_eq!(app.tab(), Tab::Overview);
    let t = screen(&app, 80, 24);
    let text = format!("{:?}", t.backend());
    assert!(text.contains("Compliance"), "{text}");
}
