//! Whole-screen snapshots of the console (ratatui TestBackend + insta) against data loaded
//! from a real PostgreSQL through the same queries the console runs, with a fixed "now".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::TestDb;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::glp::breaker::{BreakerSnapshot, BreakerState};
use glp_console::glp::health::HealthSnapshot;
use glp_console::glp::model::{Device, Item, RawPage, Subscription, parse_items};
use glp_console::store::inventory::Resource;
use glp_console::sync::events::{EngineStatus, Mode, Progress, Scope, SyncEvent, Trigger};
use glp_console::tui::app::{App, Effect, Loaded};
use glp_console::tui::filter::{FilterWorker, MatcherKind};
use glp_console::tui::run::{load_all, load_detail};
use glp_console::tui::view;
use glp_console::tui::wizard::{WizardEffect, WizardMsg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use serde_json::{Value, json};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn iso(days: i64) -> String {
    (now() + chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn items<T: for<'de> serde::Deserialize<'de> + glp_console::glp::model::HasId>(
    values: &[Value],
) -> Vec<Item<T>> {
    let page: RawPage = serde_json::from_value(json!({ "items": values })).unwrap();
    let (ok, bad) = parse_items::<T>(page.items);
    assert!(bad.is_empty(), "{bad:?}");
    ok
}

/// (key, type, tier, status, qty, avail, end in days from now)
const SUBS: &[(&str, &str, &str, &str, i64, i64, i64)] = &[
    (
        "PAT4DYYJAEEEJA",
        "CENTRAL_AP",
        "FOUNDATION_AP",
        "STARTED",
        100,
        37,
        10,
    ),
    (
        "SW7QK2LM9X01",
        "CENTRAL_SWITCH",
        "ADVANCED_SWITCH_6300",
        "STARTED",
        50,
        10,
        45,
    ),
    (
        "GW11PLM22QA",
        "CENTRAL_GW",
        "FOUNDATION_70XX",
        "STARTED",
        20,
        18,
        80,
    ),
    (
        "APLONG99887766",
        "CENTRAL_AP",
        "ADVANCED_AP",
        "STARTED",
        500,
        120,
        400,
    ),
    (
        "OLDAP0001",
        "CENTRAL_AP",
        "FOUNDATION_AP",
        "ENDED",
        10,
        0,
        -20,
    ),
    (
        "OLDSW0002",
        "CENTRAL_SWITCH",
        "FOUNDATION_SWITCH_6200",
        "STARTED",
        25,
        5,
        -3,
    ),
    (
        "CMP6MONTHS01",
        "CENTRAL_COMPUTE",
        "ENHANCED_PROLIANT",
        "STARTED",
        8,
        2,
        170,
    ),
    (
        "EVALSUSP001",
        "CENTRAL_AP",
        "FOUNDATION_AP",
        "SUSPENDED",
        5,
        5,
        200,
    ),
];

fn sub_id(i: usize) -> String {
    format!("5ub00000-0000-0000-0000-{:012}", i)
}

/// (serial, type, model, state, region, subscription index, tags)
/// (serial, type, model, state, region, subscription index, tags)
type DevSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<usize>,
    &'static [(&'static str, &'static str)],
);

const DEVS: &[DevSpec] = &[
    (
        "VNT8KWC09Q",
        "AP",
        "AP-635-US",
        "ASSIGNED_TO_SERVICE",
        Some("us-west"),
        Some(0),
        &[("site", "HQ")],
    ),
    (
        "VNT8KWC10R",
        "AP",
        "AP-635-US",
        "ASSIGNED_TO_SERVICE",
        Some("us-west"),
        Some(0),
        &[("site", "HQ"), ("floor", "3")],
    ),
    (
        "CN12SWX001",
        "SWITCH",
        "6300M-48G",
        "ASSIGNED_TO_SERVICE",
        Some("eu-central"),
        Some(1),
        &[],
    ),
    (
        "CN12SWX002",
        "SWITCH",
        "6200F-24G-4SFP+",
        "UNASSIGNED",
        None,
        Some(5),
        &[],
    ),
    (
        "GW7000A1",
        "GATEWAY",
        "9004-US",
        "ASSIGNED_TO_ACTIVATE_CONFIG",
        Some("us-east"),
        Some(2),
        &[("role", "branch")],
    ),
    (
        "AP515OLD01",
        "AP",
        "AP-515",
        "UNASSIGNED",
        None,
        Some(4),
        &[],
    ),
    (
        "SGH123ABCD",
        "COMPUTE",
        "ProLiant DL360 Gen11",
        "ASSIGNED_TO_SERVICE",
        Some("us-west"),
        Some(6),
        &[],
    ),
    ("ARCHIVED01", "AP", "AP-505", "UNASSIGNED", None, None, &[]),
    (
        "GONE000001",
        "SWITCH",
        "2930F",
        "UNASSIGNED",
        None,
        None,
        &[],
    ),
    (
        "ÜNÏ-序列号-1",
        "AP",
        "AP-655 会議室",
        "ASSIGNED_TO_SERVICE",
        Some("ap-northeast"),
        Some(3),
        &[("Ort", "Zürich")],
    ),
];

async fn seed(db: &TestDb) {
    let subs: Vec<Value> = SUBS
        .iter()
        .enumerate()
        .map(|(i, (key, ty, tier, st, q, a, end))| {
            json!({"id": sub_id(i), "type": "subscriptions/subscription", "key": key,
                   "subscriptionType": ty, "subscriptionStatus": st, "quantity": q,
                   "availableQuantity": a, "sku": "R4H16AAE", "tier": tier,
                   "startTime": iso(end - 365), "endTime": iso(*end), "isEval": st == &"SUSPENDED",
                   "tags": {}, "createdAt": iso(-400), "updatedAt": iso(-1)})
        })
        .collect();
    db.store
        .upsert_subscriptions(&items::<Subscription>(&subs), None)
        .await
        .unwrap();
    let devs: Vec<Value> = DEVS
        .iter()
        .enumerate()
        .map(|(i, (serial, ty, model, state, region, sub, tags))| {
            let subscription = sub.map(|s| {
                json!([{"id": sub_id(s), "resourceUri": format!("/subscriptions/v1beta1/subscriptions/{}", sub_id(s)),
                        "key": SUBS[s].0, "tier": SUBS[s].2, "startTime": iso(SUBS[s].6 - 365), "endTime": iso(SUBS[s].6)}])
            });
            let tags: serde_json::Map<String, Value> = tags.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
            json!({"id": format!("de000000-0000-0000-0000-{:012}", i), "type": "devices/device",
                   "serialNumber": serial, "partNumber": "R7J28A",
                   "macAddress": format!("3C:E8:6E:C1:8A:{:02X}", i), "deviceType": ty, "model": model,
                   "assignedState": state, "archived": serial == &"ARCHIVED01", "region": region,
                   "application": region.map(|_| json!({"id": "df5b41c4-7c35-4158-af63-302042b9911b",
                        "resourceUri": "/service-catalog/v1beta1/service-managers/df5b41c4-7c35-4158-af63-302042b9911b"})),
                   "deviceName": if i == 0 { json!("lobby-ap") } else { Value::Null },
                   "tags": tags, "subscription": subscription,
                   "createdAt": iso(-300), "updatedAt": iso(-2)})
        })
        .collect();
    db.store
        .upsert_devices(&items::<Device>(&devs), None)
        .await
        .unwrap();
    let pool = db.store.pool();
    sqlx::query("UPDATE devices SET last_seen_at = $1 - interval '1 hour', removed_at = CASE WHEN serial_number = 'GONE000001' THEN $1 - interval '2 days' END")
        .bind(now())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO sync_history (workspace_id, trigger, mode, scope, started_at, finished_at, outcome) VALUES ('default', 'cron','full','both',$1 - interval '2 hours 1 minute',$1 - interval '2 hours','succeeded')")
        .bind(now())
        .execute(pool)
        .await
        .unwrap();
    let run: i64 = sqlx::query_scalar("INSERT INTO assignment_runs (workspace_id, created_at, finished_at, kind, status, source_file, operator) VALUES ('default', $1 - interval '3 days', $1 - interval '3 days' + interval '4 minutes', 'apply', 'partial', 'branch-rollout.xlsx', 'netops') RETURNING id")
        .bind(now())
        .fetch_one(pool)
        .await
        .unwrap();
    for (serial, outcome) in [
        ("VNT8KWC09Q", "succeeded"),
        ("VNT8KWC10R", "succeeded"),
        ("CN12SWX002", "failed"),
    ] {
        sqlx::query("INSERT INTO assignment_devices (run_id, serial, outcome) VALUES ($1, $2, $3)")
            .bind(run)
            .bind(serial)
            .bind(outcome)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO assignment_runs (workspace_id, created_at, finished_at, kind, status, source_file, operator) VALUES ('default', $1 - interval '10 days', $1 - interval '10 days', 'dry_run', 'succeeded', 'q3.csv', 'alice')")
        .bind(now())
        .execute(pool)
        .await
        .unwrap();
}

async fn app(db: &TestDb, read_only: bool) -> App {
    let mut app = App::new(&UiConfig::default(), read_only, false, now());
    let msgs = Mutex::new(Vec::new());
    load_all(&db.store, now(), &|l| msgs.lock().unwrap().push(l))
        .await
        .unwrap();
    for l in msgs.into_inner().unwrap() {
        app.on_loaded(l);
    }
    assert!(matches!(app.take_effects().as_slice(), [Effect::Reload]));
    // A console that has talked to GreenLake (the light of one without requests has its
    // own tests in tests/tui_health.rs).
    app.on_status(EngineStatus {
        health: HealthSnapshot::answered_at(now()),
        ..EngineStatus::default()
    });
    app
}

fn screen(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    t
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// Run pending filter jobs on a real worker and wait for their results; load details.
async fn settle(app: &mut App, db: &TestDb) {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
        let _ = tx.send(r);
    });
    for e in app.take_effects() {
        match e {
            Effect::Filter(job) => {
                worker.submit(job);
                let r = rx.recv_timeout(Duration::from_secs(10)).unwrap();
                app.on_filter(r);
            }
            Effect::LoadDetail { table, id } => {
                app.on_loaded(load_detail(&db.store, table, id).await.unwrap());
            }
            _ => {}
        }
    }
}

/// Marks every underlined (matched) cell with `^`, for the filter-highlight snapshot.
fn underlines(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            line.push(if c.modifier.contains(Modifier::UNDERLINED) {
                '^'
            } else {
                ' '
            });
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn status_rows(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let h = buf.area.height;
    let mut out = String::new();
    for y in h - 2..h {
        let line: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn every_tab_at_both_sizes() {
    let db = TestDb::new().await;
    seed(&db).await;
    let mut app = app(&db, false).await;
    for (key, name) in [
        ('1', "devices"),
        ('2', "subscriptions"),
        ('3', "expiring"),
        ('4', "assign"),
    ] {
        press(&mut app, KeyCode::Char(key));
        for (w, h) in [(80, 24), (160, 48)] {
            let t = screen(&mut app, w, h);
            insta::assert_snapshot!(format!("tab_{name}_{w}x{h}"), t.backend());
        }
    }
    // The Expiring tab with the 30-day window and the expired list in focus.
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('w'));
    let t = screen(&mut app, 80, 24);
    insta::assert_snapshot!("expiring_window_30_80x24", t.backend());
    press(&mut app, KeyCode::Char('x'));
    let t = screen(&mut app, 160, 48);
    insta::assert_snapshot!("expiring_expired_list_160x48", t.backend());
}

#[tokio::test]
async fn detail_help_filter_and_too_small() {
    let db = TestDb::new().await;
    seed(&db).await;
    let mut app = app(&db, false).await;
    // Detail of the first device, then scrolled into the raw JSON.
    press(&mut app, KeyCode::Enter);
    settle(&mut app, &db).await;
    insta::assert_snapshot!("detail_device_80x24", screen(&mut app, 80, 24).backend());
    insta::assert_snapshot!("detail_device_160x48", screen(&mut app, 160, 48).backend());
    for _ in 0..30 {
        press(&mut app, KeyCode::Char('j'));
    }
    insta::assert_snapshot!(
        "detail_device_scrolled_80x24",
        screen(&mut app, 80, 24).backend()
    );
    press(&mut app, KeyCode::Esc);
    // Subscription detail lists the devices it covers.
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Enter);
    settle(&mut app, &db).await;
    insta::assert_snapshot!(
        "detail_subscription_160x48",
        screen(&mut app, 160, 48).backend()
    );
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('1'));

    press(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!("help_80x24", screen(&mut app, 80, 24).backend());
    insta::assert_snapshot!("help_160x48", screen(&mut app, 160, 48).backend());
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('/'));
    app.type_str("cn12");
    settle(&mut app, &db).await;
    let t = screen(&mut app, 80, 24);
    insta::assert_snapshot!("filter_typing_80x24", t.backend());
    insta::assert_snapshot!("filter_typing_80x24_highlights", underlines(&t));
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("filter_chip_160x48", screen(&mut app, 160, 48).backend());

    let mut small = Terminal::new(TestBackend::new(50, 12)).unwrap();
    small.draw(|f| view::draw(f, &app)).unwrap();
    insta::assert_snapshot!("too_small_50x12", small.backend());
}

#[tokio::test]
async fn status_bar_in_each_breaker_state_and_mid_sync() {
    let db = TestDb::new().await;
    seed(&db).await;
    let mut app = app(&db, false).await;
    let mut shots = String::new();
    let mut shot = |app: &mut App, label: &str| {
        for w in [80, 160] {
            shots.push_str(&format!("--- {label} @{w}\n"));
            shots.push_str(&status_rows(&screen(app, w, 24)));
        }
    };
    shot(&mut app, "idle, breaker closed");
    app.on_sync_event(SyncEvent::Breaker(BreakerSnapshot {
        state: BreakerState::Open,
        failures: 5,
        retry_in: Some(Duration::from_secs(60)),
        trips: 1,
    }));
    app.on_tick(now() + chrono::Duration::seconds(18));
    app.set_stale(true);
    app.clear_toasts();
    shot(&mut app, "breaker open, 42 s to retry, stale");
    app.on_sync_event(SyncEvent::Breaker(BreakerSnapshot {
        state: BreakerState::HalfOpen,
        failures: 5,
        retry_in: None,
        trips: 1,
    }));
    shot(&mut app, "breaker half-open");
    app.on_sync_event(SyncEvent::Breaker(BreakerSnapshot::default()));
    app.set_stale(false);

    // Mid-sync: subscriptions done, devices on page 12 of 50.
    app.on_sync_event(SyncEvent::Started {
        run_id: 7,
        scope: Scope::Both,
        mode: Mode::Full,
        trigger: Trigger::Tui,
    });
    app.on_sync_event(SyncEvent::Page {
        resource: Resource::Subscriptions,
        page: 1,
        pages_total: Some(1),
        items: 8,
        items_total: Some(8),
    });
    let mut t = now() + chrono::Duration::seconds(18);
    for page in 1..=12u64 {
        t += chrono::Duration::seconds(1);
        app.on_tick(t);
        app.on_status(EngineStatus {
            running: Some(Progress {
                resource: Some(Resource::Devices),
                page,
                pages_total: Some(50),
                items: page * 2000,
                items_total: Some(100_000),
                rate: 1500.0 + (page as f64 * 50.0),
            }),
            last_success: app.status().last_success,
            ..app.status().clone()
        });
        app.on_sync_event(SyncEvent::Page {
            resource: Resource::Devices,
            page,
            pages_total: Some(50),
            items: page * 2000,
            items_total: Some(100_000),
        });
    }
    app.clear_toasts();
    shot(&mut app, "mid-sync, devices page 12/50");
    insta::assert_snapshot!("status_bar_states", shots);
    // A full-screen picture of the mid-sync state too.
    insta::assert_snapshot!("mid_sync_160x48", screen(&mut app, 160, 48).backend());
}

// ---- the Assign tab's wizard ------------------------------------------------------------

/// Carry out the wizard's loads the way the run loop does (the real loader, no API client:
/// the catalog comes from the stored application/region pairs), with a fixed read time and
/// application names so the screens are the same on every run.
async fn settle_wizard(app: &mut App, db: &TestDb) {
    for e in app.take_effects() {
        match e {
            Effect::Wizard(WizardEffect::Catalog) => {
                let (mut c, note) = glp_console::assign::session::load_catalog(&db.store, None)
                    .await
                    .unwrap();
                for a in &mut c.applications {
                    a.application_name = Some("Aruba Central".into());
                }
                app.on_loaded(Loaded::Wizard(WizardMsg::Catalog(Ok((
                    std::sync::Arc::new(c),
                    note,
                )))));
            }
            Effect::Wizard(WizardEffect::Complete { typed }) => {
                let (new, candidates) = glp_console::tui::wizard::complete_path(&typed, None);
                app.on_loaded(Loaded::Wizard(WizardMsg::Completed {
                    typed,
                    new,
                    candidates,
                    load: None,
                }));
            }
            Effect::Wizard(WizardEffect::Load {
                generation,
                path,
                sheet,
                ..
            }) => {
                let known = app.wizard().and_then(|w| w.catalog().clone());
                let job = glp_console::tui::run::WizardLoadJob {
                    store: db.store.clone(),
                    known,
                    path,
                    sheet,
                    client: None,
                    engine: None,
                };
                let result = glp_console::tui::run::wizard_load(job).await.map(|mut d| {
                    d.elapsed_ms = 42;
                    d
                });
                app.on_loaded(Loaded::Wizard(WizardMsg::Loaded { generation, result }));
            }
            Effect::Filter(_) => app.push_effect(e),
            _ => {}
        }
    }
    settle(app, db).await;
}

/// Draw at the smallest usable size and at a very wide one: nothing may panic or overflow.
fn extremes(app: &mut App) {
    for (w, h) in [(60, 15), (61, 16), (250, 70)] {
        let _ = screen(app, w, h);
    }
}

fn sample_report() -> glp_console::assign::report::ApplyReport {
    use glp_console::assign::plan::{Method, Phase};
    use glp_console::assign::report::*;
    use glp_console::store::audit::RunKind;
    let op = |seq: usize, phase: Phase, serials: &[&str], status: OpStatus, error: Option<&str>| {
        OperationReport {
            seq,
            phase,
            method: Method::Patch,
            path: "/devices/v2beta1/devices".into(),
            body: json!({}),
            serials: serials.iter().map(|s| s.to_string()).collect(),
            device_ids: Vec::new(),
            http_status: Some(202),
            operation_id: None,
            status,
            error: error.map(str::to_string),
            failed_devices: Vec::new(),
            duration_ms: Some(1500),
        }
    };
    let dev =
        |serial: &str, status: DeviceStatus, error: Option<&str>, change: &str| DeviceReport {
            serial: serial.into(),
            row: None,
            device_id: None,
            status,
            error: error.map(str::to_string),
            changes: vec![change.into()],
        };
    let mut r = ApplyReport {
        run_id: 7,
        kind: RunKind::Apply,
        undo_of: None,
        dry_run: false,
        status: RunStatus::Succeeded,
        started_at: now(),
        finished_at: now() + chrono::Duration::seconds(9),
        duration_secs: 9.2,
        counts: Counts::default(),
        operations: vec![
            op(0, Phase::Add, &["NEWAP00001"], OpStatus::Succeeded, None),
            op(
                1,
                Phase::Application,
                &["NEWAP00001", "VNT8KWC10R", "AP515OLD01"],
                OpStatus::Succeeded,
                None,
            ),
            op(
                2,
                Phase::Subscription,
                &["NEWAP00001", "VNT8KWC10R", "AP515OLD01"],
                OpStatus::Failed,
                Some(
                    "HPE_GL_DEVICE_SUBSCRIPTION_QUANTITY: not enough seats left on PAT4DYYJAEEEJA",
                ),
            ),
            op(3, Phase::Tags, &["VNT8KWC10R"], OpStatus::Succeeded, None),
        ],
        devices: vec![
            dev(
                "NEWAP00001",
                DeviceStatus::Failed,
                Some("subscription: not enough seats left on PAT4DYYJAEEEJA"),
                "add as NETWORK",
            ),
            dev(
                "AP515OLD01",
                DeviceStatus::Failed,
                Some("subscription: not enough seats left on PAT4DYYJAEEEJA"),
                "subscription —",
            ),
            dev(
                "VNT8KWC10R",
                DeviceStatus::Succeeded,
                None,
                "tag +site=Branch-12",
            ),
        ],
        notes: Vec::new(),
        resync: Some(ResyncReport {
            requested: 3,
            fetched: 3,
            inserted: 1,
            updated: 2,
            unchanged: 0,
            error: None,
        }),
    };
    r.finalize(false);
    r
}

#[tokio::test]
async fn assign_wizard_screens() {
    use glp_console::assign::apply::ApplyEvent;
    use glp_console::assign::plan::Phase;
    use glp_console::assign::report::{Counts, OpStatus};
    let db = TestDb::new().await;
    seed(&db).await;
    let mut app = app(&db, false).await;
    app.set_reports_dir("/var/lib/glp-console/reports".into());
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('n'));
    settle_wizard(&mut app, &db).await;
    // File: Tab completes to the common prefix and lists the candidates.
    app.type_str("tests/fixtures/wizard/ro");
    press(&mut app, KeyCode::Tab);
    settle_wizard(&mut app, &db).await;
    assert_eq!(
        app.wizard().unwrap().path(),
        "tests/fixtures/wizard/rollout-"
    );
    insta::assert_snapshot!(
        "wizard_file_completion_80x24",
        screen(&mut app, 80, 24).backend()
    );
    extremes(&mut app);
    app.type_str("b");
    press(&mut app, KeyCode::Tab);
    settle_wizard(&mut app, &db).await;
    press(&mut app, KeyCode::Enter);
    settle_wizard(&mut app, &db).await;
    // Validate: every issue with sheet, row, column and message.
    insta::assert_snapshot!("wizard_validate_80x24", screen(&mut app, 80, 24).backend());
    extremes(&mut app);
    insta::assert_snapshot!(
        "wizard_validate_160x48",
        screen(&mut app, 160, 48).backend()
    );
    // Review: what the inventory says about each row, with counts.
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("wizard_review_80x24", screen(&mut app, 80, 24).backend());
    extremes(&mut app);
    insta::assert_snapshot!("wizard_review_160x48", screen(&mut app, 160, 48).backend());
    // Subscription chooser: compatible, started, enough seats.
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(
        "wizard_subscription_80x24",
        screen(&mut app, 80, 24).backend()
    );
    extremes(&mut app);
    press(&mut app, KeyCode::Enter);
    // Application and region.
    insta::assert_snapshot!("wizard_region_80x24", screen(&mut app, 80, 24).backend());
    extremes(&mut app);
    press(&mut app, KeyCode::Enter);
    // Tags: one set, one removal.
    app.type_str("site=Branch-12");
    press(&mut app, KeyCode::Enter);
    app.type_str("-floor");
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("wizard_tags_80x24", screen(&mut app, 80, 24).backend());
    extremes(&mut app);
    insta::assert_snapshot!("wizard_tags_160x48", screen(&mut app, 160, 48).backend());
    // Plan: counts per operation, then per device (rows left out first).
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("wizard_plan_80x24", screen(&mut app, 80, 24).backend());
    extremes(&mut app);
    insta::assert_snapshot!("wizard_plan_160x48", screen(&mut app, 160, 48).backend());
    press(&mut app, KeyCode::Char('a'));
    insta::assert_snapshot!(
        "wizard_confirm_apply_80x24",
        screen(&mut app, 80, 24).backend()
    );
    extremes(&mut app);
    press(&mut app, KeyCode::Char('y'));
    assert!(app.take_effects().iter().any(|e| matches!(
        e,
        Effect::Wizard(WizardEffect::Apply { dry_run: false, .. })
    )));
    // Apply in progress, from the events the apply task sends.
    let events = vec![
        ApplyEvent::Started {
            run_id: 7,
            calls: 7,
            devices: 5,
        },
        ApplyEvent::PhaseStarted {
            phase: Phase::Add,
            calls: 1,
        },
        ApplyEvent::Sent {
            seq: 0,
            phase: Phase::Add,
            devices: 1,
            accepted: true,
        },
        ApplyEvent::OperationDone {
            seq: 0,
            phase: Phase::Add,
            status: OpStatus::Succeeded,
            failed_devices: 0,
            error: None,
            done: 1,
            total: 7,
            counts: Counts::default(),
        },
        ApplyEvent::PhaseStarted {
            phase: Phase::Application,
            calls: 1,
        },
        ApplyEvent::Sent {
            seq: 1,
            phase: Phase::Application,
            devices: 3,
            accepted: true,
        },
        ApplyEvent::OperationDone {
            seq: 1,
            phase: Phase::Application,
            status: OpStatus::Succeeded,
            failed_devices: 0,
            error: None,
            done: 2,
            total: 7,
            counts: Counts::default(),
        },
        ApplyEvent::PhaseStarted {
            phase: Phase::Subscription,
            calls: 1,
        },
        ApplyEvent::Sent {
            seq: 2,
            phase: Phase::Subscription,
            devices: 3,
            accepted: true,
        },
    ];
    for ev in events {
        app.on_loaded(Loaded::Wizard(WizardMsg::Event(ev)));
    }
    // 30 s in: the elapsed time and the estimate for the calls left.
    app.on_tick(now() + chrono::Duration::seconds(30));
    insta::assert_snapshot!("wizard_applying_80x24", screen(&mut app, 80, 24).backend());
    extremes(&mut app);
    insta::assert_snapshot!(
        "wizard_applying_160x48",
        screen(&mut app, 160, 48).backend()
    );
    // Report: failures first.
    app.on_loaded(Loaded::Wizard(WizardMsg::Done(Ok(std::sync::Arc::new(
        sample_report(),
    )))));
    app.clear_toasts();
    insta::assert_snapshot!("wizard_report_80x24", screen(&mut app, 80, 24).backend());
    extremes(&mut app);
    insta::assert_snapshot!("wizard_report_160x48", screen(&mut app, 160, 48).backend());
    press(&mut app, KeyCode::Char('e'));
    let e = app.take_effects();
    assert!(
        e.iter().any(
            |e| matches!(e, Effect::Wizard(WizardEffect::Export { path, .. })
            if path.to_str() == Some("/var/lib/glp-console/reports/assignment-run-7.xlsx"))
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn assign_wizard_sheet_chooser() {
    let db = TestDb::new().await;
    seed(&db).await;
    let mut app = app(&db, false).await;
    let dir = tempfile::Builder::new()
        .prefix("glpc-snap-wb-")
        .tempdir()
        .unwrap();
    let path = dir.path().join("branch-rollout.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let notes = wb.add_worksheet().set_name("Instructions").unwrap();
    notes
        .write_string(0, 0, "Fill in the Devices sheet")
        .unwrap();
    for name in ["Devices", "Spares"] {
        let ws = wb.add_worksheet().set_name(name).unwrap();
        ws.write_string(0, 0, "Serial Number").unwrap();
        ws.write_string(1, 0, "VNT8KWC09Q").unwrap();
    }
    wb.save(&path).unwrap();
    // As `glp-console assign FILE` opens it.
    app.wizard_open(&path.display().to_string(), None);
    settle_wizard(&mut app, &db).await;
    insta::assert_snapshot!(
        "wizard_sheet_chooser_80x24",
        screen(&mut app, 80, 24).backend()
    );
    extremes(&mut app);
}

/// The text of one screen row.
fn row_text(t: &Terminal<TestBackend>, y: u16) -> String {
    let buf = t.backend().buffer();
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The first screenful is drawn before the devices are counted, and until the count
/// arrives no figure stands where the count belongs (not the head's own length); then the
/// title, the row count and the breakdown line say what the database holds.
#[tokio::test]
async fn first_screenful_before_its_count() {
    let db = TestDb::new().await;
    seed(&db).await;
    let msgs = Mutex::new(Vec::new());
    load_all(&db.store, now(), &|l| msgs.lock().unwrap().push(l))
        .await
        .unwrap();
    let msgs = msgs.into_inner().unwrap();
    let head_at = msgs
        .iter()
        .position(|l| matches!(l, Loaded::DevicesHead { .. }))
        .expect("a head is sent");
    let counts_at = msgs
        .iter()
        .position(|l| matches!(l, Loaded::DeviceCounts { .. }))
        .expect("the count is sent");
    assert!(
        head_at < counts_at,
        "the screenful does not wait for the count"
    );
    let mut app = App::new(&UiConfig::default(), false, false, now());
    let mut msgs = msgs.into_iter();
    for l in msgs.by_ref().take(head_at + 1) {
        app.on_loaded(l);
    }
    let t = screen(&mut app, 160, 48);
    let whole = format!("{:?}", t.backend());
    let tabs = row_text(&t, 0);
    assert!(tabs.contains("Devices …"), "no count yet: {tabs}");
    assert!(whole.contains("counting rows · loading"), "{whole}");
    let first: String = sqlx::query_scalar(
        "SELECT serial_number FROM devices ORDER BY serial_number COLLATE \"C\" LIMIT 1",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert!(
        whole.contains(&first),
        "the first device on screen: {whole}"
    );
    for l in msgs.by_ref().take(counts_at - head_at) {
        app.on_loaded(l);
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    let per_type: Vec<(String, i64)> = sqlx::query_as(
        "SELECT coalesce(device_type, ''), count(*) FROM devices GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    let t = screen(&mut app, 160, 48);
    let whole = format!("{:?}", t.backend());
    let tabs = row_text(&t, 0);
    assert!(tabs.contains(&format!("Devices {stored}")), "{tabs}");
    assert!(
        whole.contains(&format!("{stored} rows · loading")),
        "{whole}"
    );
    let (top, n) = &per_type[0];
    assert!(
        whole.contains(&format!("{top} {n}")),
        "breakdown {per_type:?}: {whole}"
    );
}
