//! The Changes view and the detail pane's History over a real database: a sync, devices and a
//! subscription changed in the simulator (one removed), a second sync — then `:changes` shows
//! the database's count for its window (and for a filter), Enter on a change opens that
//! device with its history as `item_history` has it, Esc goes back, and a bad window is
//! refused with the forms `:changes` takes. Snapshots at 160×40 and 80×24.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::TestDb;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::{SyncConfig, UiConfig};
use glp_console::domain::{Resource, WorkspaceId};
use glp_console::sim::{self, SimConfig};
use glp_console::sync::engine::EngineHandle;
use glp_console::sync::{Mode, SyncCommand};
use glp_console::tui::app::{App, Effect, Tab, TableId};
use glp_console::tui::filter::{FilterWorker, MatcherKind};
use glp_console::tui::run::{ChangesJob, load_all, load_changes, load_detail};
use glp_console::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

/// The console's "now"; the recorded changes are moved to fixed times before it, so the
/// screens are the same on every run.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
}

async fn sync(h: &mut EngineHandle, mode: Mode) {
    common::engine::sync_now(h, mode).await;
}

/// A database synced twice around changes in the simulator: four devices change (region,
/// subscription, tags), one is removed, a subscription's quantity moves. The changes of the
/// tags device are moved three days back; the rest to an hour before [`now`].
async fn seeded() -> (TestDb, String, String) {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 120,
        subscriptions: 30,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let mut h = common::engine::engine_for(
        &sim,
        &common::engine::api_config(&sim),
        &db,
        SyncConfig::default(),
    );
    sync(&mut h, Mode::Full).await;
    let devices = sim.devices();
    let id = |i: usize| devices[i]["id"].as_str().unwrap().to_string();
    let with_link = devices
        .iter()
        .position(|d| d["subscription"].as_array().is_some_and(|a| !a.is_empty()))
        .unwrap();
    let region = (0..devices.len())
        .find(|i| *i != with_link && devices[*i]["region"].is_string())
        .unwrap();
    let (linked, regioned) = (id(with_link), id(region));
    let others: Vec<String> = (0..devices.len())
        .filter(|i| *i != with_link && *i != region)
        .take(2)
        .map(id)
        .collect();
    sim.modify_device(&linked, |d| {
        d["subscription"] = json!([]);
        d["tags"] = json!({"site": "lab-2"});
    });
    sim.modify_device(&regioned, |d| d["region"] = json!("mars-north-1"));
    sim.modify_device(&others[0], |d| d["tags"] = json!({"floor": "3"}));
    assert!(sim.remove_device(&others[1]));
    let sub = sim.subscriptions()[0]["id"].as_str().unwrap().to_string();
    sim.modify_subscription(&sub, |s| s["quantity"] = json!(4321));
    sync(&mut h, Mode::Full).await;
    h.commands.send(SyncCommand::Shutdown).await.unwrap();
    let pool = db.store.pool();
    sqlx::query("UPDATE inventory_changes SET changed_at = $1 - interval '1 hour'")
        .bind(now())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE inventory_changes SET changed_at = $1 - interval '3 days' WHERE item_id = $2",
    )
    .bind(now())
    .bind(&others[0])
    .execute(pool)
    .await
    .unwrap();
    // The runs too: the status bar's "synced … ago" counts from the console's now.
    sqlx::query(
        "UPDATE sync_history SET started_at = $1 - interval '61 minutes', \
                                 finished_at = $1 - interval '1 hour'",
    )
    .bind(now())
    .execute(pool)
    .await
    .unwrap();
    sim.shutdown().await;
    (db, linked, others[0].clone())
}

async fn db_count(db: &TestDb, sql: &str) -> usize {
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(now())
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    usize::try_from(n).unwrap()
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
    app.take_effects();
    app
}

/// Carry out what the app asked for as the run loop would: the Changes view's read, a
/// detail's read, a filter on a real worker.
async fn settle(app: &mut App, db: &TestDb) {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
        let _ = tx.send(r);
    });
    for e in app.take_effects() {
        match e {
            Effect::LoadChanges { window } => {
                let job = ChangesJob {
                    window,
                    scope: app.reload_scope(),
                    now: now(),
                };
                let l = load_changes(&db.store, &job).await.unwrap();
                app.on_loaded(l);
            }
            Effect::LoadDetail { table, id } => {
                let l = load_detail(&db.store, table, id).await.unwrap();
                app.on_loaded(l);
            }
            Effect::Filter(job) => {
                worker.submit(job);
                let r = rx.recv_timeout(Duration::from_secs(10)).unwrap();
                app.on_filter(r);
            }
            _ => {}
        }
    }
}

fn screen(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    t
}

fn text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// The number after "changes in the last 24h · " on the info line.
fn shown_count(screen: &str, window: &str) -> usize {
    let label = format!("changes {window} · ");
    let line = screen
        .lines()
        .find(|l| l.contains(&label))
        .unwrap_or_else(|| panic!("no `{label}` on the screen:\n{screen}"));
    let tail = &line[line.find(&label).unwrap() + label.len()..];
    tail.split_whitespace()
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn changes_view_counts_what_the_database_holds_and_opens_a_devices_history() {
    let (db, linked, older) = seeded().await;
    let mut app = app(&db).await;

    // A bad window is refused with the accepted forms; nothing moves.
    app.run_command("changes week");
    assert_eq!(app.tab(), Tab::Devices);
    let toast = app.toasts().last().unwrap().text.clone();
    assert!(
        toast.contains("24h, 48h, 7d, 30d or since YYYY-MM-DD"),
        "{toast}"
    );
    app.clear_toasts();

    // `:changes`: the last 24 hours, counted as the database counts them.
    app.run_command("changes");
    assert_eq!(app.tab(), Tab::Changes);
    settle(&mut app, &db).await;
    let day = db_count(
        &db,
        "SELECT count(*) FROM inventory_changes WHERE changed_at >= $1 - interval '24 hours'",
    )
    .await;
    assert!(day >= 5, "the seeded changes are there: {day}");
    let t = screen(&mut app, 160, 40);
    let s = text(&t);
    assert_eq!(shown_count(&s, "in the last 24h"), day, "{s}");
    assert_eq!(app.table_by_id(TableId::Changes).total(), day);
    assert!(!s.contains(&older), "three days old: not in 24h\n{s}");
    insta::assert_snapshot!("changes_24h_160x40", t.backend());
    insta::assert_snapshot!("changes_24h_80x24", screen(&mut app, 80, 24).backend());

    // A wider window holds the older change too.
    app.run_command("changes 7d");
    settle(&mut app, &db).await;
    let week = db_count(
        &db,
        "SELECT count(*) FROM inventory_changes WHERE changed_at >= $1 - interval '7 days'",
    )
    .await;
    assert!(week > day);
    let s = text(&screen(&mut app, 160, 40));
    assert_eq!(shown_count(&s, "in the last 7d"), week, "{s}");

    // Filtered like any table: the rows left are the database's rows of that field.
    app.run_command("filter field:region");
    settle(&mut app, &db).await;
    let regions = db_count(
        &db,
        "SELECT count(*) FROM inventory_changes \
          WHERE changed_at >= $1 - interval '7 days' AND field = 'region'",
    )
    .await;
    assert!(regions >= 1);
    assert_eq!(app.table_by_id(TableId::Changes).len(), regions);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.table_by_id(TableId::Changes).len(), week);

    // Enter on a change of the linked device: its detail, with its history as the store has it.
    press(&mut app, KeyCode::Home);
    let mut found = false;
    for _ in 0..week {
        let row = app.table_by_id(TableId::Changes).selected_row().unwrap();
        if row.id.contains(&linked) {
            found = true;
            break;
        }
        press(&mut app, KeyCode::Down);
    }
    assert!(
        found,
        "a change of {linked} is listed: {:?}",
        app.table_by_id(TableId::Changes)
            .view_rows()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>()
    );
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        app.take_effects().as_slice(),
        [Effect::LoadDetail { table: TableId::Devices, id }] if *id == linked
    ));
    app.push_effect(Effect::LoadDetail {
        table: TableId::Devices,
        id: linked.clone(),
    });
    settle(&mut app, &db).await;
    let want = db
        .store
        .for_workspace(WorkspaceId::default_id())
        .item_history(Resource::Devices, &linked)
        .await
        .unwrap();
    assert!(want.len() >= 2, "subscriptions and tags changed: {want:?}");
    let pane = app.detail().unwrap();
    assert!(pane.title.starts_with("Device "), "{}", pane.title);
    let lines: Vec<&str> = pane.lines.iter().map(|(_, l)| l.as_str()).collect();
    let at = lines
        .iter()
        .position(|l| *l == format!("History ({})", want.len()))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    for (i, c) in want.iter().enumerate() {
        let line = lines[at + 1 + i];
        let old = c.old_value.as_deref().unwrap_or("—");
        let new = c.new_value.as_deref().unwrap_or("—");
        assert!(line.contains(&c.field), "{line} / {c:?}");
        assert!(line.contains(&format!("{old} → {new}")), "{line} / {c:?}");
        assert!(
            line.contains(&format!("(sync {})", c.sync_id.unwrap())),
            "{line} / {c:?}"
        );
    }
    // The pane closes back to the Changes view; Esc there goes back to Devices.
    press(&mut app, KeyCode::Esc);
    assert!(app.detail().is_none());
    assert_eq!(app.tab(), Tab::Changes);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.tab(), Tab::Devices);

    // A device nothing changed in says so.
    let quiet: String = sqlx::query_scalar(
        "SELECT d.id FROM devices d WHERE NOT EXISTS \
           (SELECT 1 FROM inventory_changes c WHERE c.item_id = d.id) ORDER BY d.serial_number LIMIT 1",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    press(&mut app, KeyCode::Home);
    let rows = app.table_by_id(TableId::Devices).total();
    for _ in 0..rows {
        if *app.table().selected_row().unwrap().id == *quiet {
            break;
        }
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(*app.table().selected_row().unwrap().id, *quiet);
    press(&mut app, KeyCode::Enter);
    settle(&mut app, &db).await;
    let lines: Vec<String> = app
        .detail()
        .unwrap()
        .lines
        .iter()
        .map(|(_, l)| l.clone())
        .collect();
    let at = lines.iter().position(|l| l == "History (0)").unwrap();
    assert_eq!(lines[at + 1], "  no recorded changes");
}
