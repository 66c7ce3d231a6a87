//! Saved views (issue 16, item 6) through the app as a user drives it: `:save NAME` keeps a
//! tab's filter, sort and columns; `:view NAME` brings them back — in this app and in a new
//! one reading the same state directory (a restart) — with the rows the database says the
//! filter gives; a corrupt views file is a warning, kept as `.bak` once the user saves;
//! Tab completes saved names; help lists them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::glp::model::{Device, RawPage, Subscription, parse_items};
use glp_console::sim::{self, SimConfig};
use glp_console::tui::app::{App, Effect, Tab, TableId, ToastLevel};
use glp_console::tui::filter::{FilterResult, FilterWorker, MatcherKind};
use glp_console::tui::run::load_all;
use glp_console::tui::saved_views::VIEWS_FILE_NAME;
use serde_json::{Value, json};

struct Filter {
    worker: FilterWorker,
    rx: mpsc::Receiver<FilterResult>,
}

impl Filter {
    fn new() -> Filter {
        let (tx, rx) = mpsc::channel();
        let worker = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
            let _ = tx.send(r);
        });
        Filter { worker, rx }
    }

    /// Carry out the app's filter requests and wait for the one the active table awaits.
    fn settle(&self, app: &mut App) {
        let mut asked = false;
        for e in app.take_effects() {
            if let Effect::Filter(job) = e {
                self.worker.submit(job);
                asked = true;
            }
        }
        if !asked {
            return;
        }
        let awaited = app.table().awaited;
        while let Ok(r) = self.rx.recv_timeout(Duration::from_secs(30)) {
            let mine = r.generation == awaited;
            app.on_filter(r);
            if mine {
                break;
            }
        }
    }
}

fn page(values: Vec<Value>) -> RawPage {
    serde_json::from_value(json!({ "items": values })).unwrap()
}

/// The simulator's inventory, stored as a sync stores it.
async fn seed(db: &common::TestDb) {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 2_000,
        subscriptions: 200,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (subs, _) = parse_items::<Subscription>(page(sim.subscriptions()).items);
    db.store.upsert_subscriptions(&subs, None).await.unwrap();
    let (devs, _) = parse_items::<Device>(page(sim.devices()).items);
    db.store.upsert_devices(&devs, None).await.unwrap();
    sim.shutdown().await;
}

async fn scalar_i64(db: &common::TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

/// A console as the run loop starts it: the views of `state`, the database's tables.
async fn console(db: &common::TestDb, state: &Path) -> App {
    let now = Utc::now();
    let mut app = App::new(&UiConfig::default(), false, false, now);
    app.load_views(state);
    let (tx, rx) = mpsc::channel();
    load_all(&db.store, now, &|l| {
        let _ = tx.send(l);
    })
    .await
    .unwrap();
    while let Ok(l) = rx.try_recv() {
        app.on_loaded(l);
    }
    app.take_effects();
    app
}

fn command(app: &mut App, f: &Filter, line: &str) {
    app.run_command(line);
    f.settle(app);
}

fn visible_names(app: &App) -> Vec<&'static str> {
    let t = app.table();
    t.visible_columns()
        .iter()
        .map(|c| t.columns[*c].name)
        .collect()
}

fn last_toast(app: &App) -> (ToastLevel, String) {
    let t = app.toasts().last().expect("a toast");
    (t.level, t.text.clone())
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// What `:view mine` must show: Devices, the switches (as many as the database holds),
/// newest serial first, in the serial, type and model columns.
async fn assert_mine(app: &App, db: &common::TestDb) {
    assert_eq!(app.tab(), Tab::Devices);
    assert_eq!(app.active_table(), TableId::Devices);
    let t = app.table();
    assert_eq!(t.filter, "type:switch");
    let switches = scalar_i64(
        db,
        "SELECT count(*) FROM devices WHERE device_type = 'SWITCH'",
    )
    .await;
    assert!(switches > 50, "the seed has switches: {switches}");
    assert_eq!(
        t.len() as i64,
        switches,
        "rows shown under the view's filter"
    );
    assert_eq!(visible_names(app), ["Serial", "Type", "Model"]);
    let serial = t.column_by_name("serial").unwrap();
    assert_eq!(t.sort, Some((serial, true)));
    let first: String = sqlx::query_scalar(
        "SELECT serial_number FROM devices WHERE device_type = 'SWITCH' \
         ORDER BY lower(serial_number) COLLATE \"C\" DESC LIMIT 1",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        t.row_at(0).unwrap().cell(serial),
        first,
        "sorted by serial, descending"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_view_comes_back_and_survives_a_restart() {
    let db = common::TestDb::new().await;
    seed(&db).await;
    let state = common::TestDir::new("views");
    let f = Filter::new();
    let mut app = console(&db, &state).await;
    let total = scalar_i64(&db, "SELECT count(*) FROM devices").await;
    assert_eq!(app.table().len() as i64, total);

    command(&mut app, &f, "filter type:switch");
    command(&mut app, &f, "sort serial desc");
    command(&mut app, &f, "cols serial type model");
    command(&mut app, &f, "save mine");
    let (level, text) = last_toast(&app);
    assert_eq!(level, ToastLevel::Info, "{text}");
    let file = state.join(VIEWS_FILE_NAME);
    assert!(text.contains(&file.display().to_string()), "{text}");
    let body = std::fs::read_to_string(&file).unwrap();
    assert!(body.contains("type:switch"), "{body}");

    // Change everything the view keeps, on another tab too.
    command(&mut app, &f, "filter ^VNT");
    command(&mut app, &f, "sort model");
    command(&mut app, &f, "cols serial mac");
    command(&mut app, &f, "subs");
    assert_eq!(app.tab(), Tab::Subscriptions);

    command(&mut app, &f, "view mine");
    assert_mine(&app, &db).await;

    // A view without a filter or sort clears them.
    command(&mut app, &f, "filter");
    command(&mut app, &f, "save plain");
    command(&mut app, &f, "view mine");
    command(&mut app, &f, "view plain");
    assert_eq!(app.table().len() as i64, total);
    assert!(app.table().filter.is_empty());

    // A restart: a new console over the same state directory.
    drop(app);
    let mut again = console(&db, &state).await;
    assert!(again.toasts().is_empty(), "{:?}", again.toasts());
    command(&mut again, &f, "subs");
    command(&mut again, &f, "view mine");
    assert_mine(&again, &db).await;

    // Help lists the saved views and the commands.
    let help: Vec<String> = again.help_lines().iter().map(|l| l.plain()).collect();
    let at = help
        .iter()
        .position(|l| l.contains("Saved views"))
        .expect("a Saved views section");
    assert!(
        help[at..]
            .iter()
            .any(|l| l.contains("mine") && l.contains("type:switch")),
        "{help:?}"
    );
    assert!(help.iter().any(|l| l.contains(":view [NAME]")), "{help:?}");
    assert!(help.iter().any(|l| l.contains(":delview NAME")), "{help:?}");

    // `:view` alone lists them; an unknown name lists the saved ones.
    command(&mut again, &f, "view");
    let (_, text) = last_toast(&again);
    assert!(text.contains("mine") && text.contains("plain"), "{text}");
    command(&mut again, &f, "view nope");
    let (level, text) = last_toast(&again);
    assert_eq!(level, ToastLevel::Warn);
    assert!(
        text.contains("nope") && text.contains("mine, plain"),
        "{text}"
    );

    // `:delview` forgets one, in the file too.
    command(&mut again, &f, "delview plain");
    let body = std::fs::read_to_string(&file).unwrap();
    assert!(!body.contains("plain") && body.contains("mine"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_asks_bad_names_are_refused_missing_columns_are_skipped() {
    let db = common::TestDb::new().await;
    seed(&db).await;
    let state = common::TestDir::new("views-ask");
    let f = Filter::new();
    let mut app = console(&db, &state).await;
    let file = state.join(VIEWS_FILE_NAME);

    command(&mut app, &f, "save a/b");
    let (level, text) = last_toast(&app);
    assert_eq!(level, ToastLevel::Warn);
    assert!(
        text.contains("a/b") && text.contains("not allowed"),
        "{text}"
    );
    assert!(!file.exists());

    command(&mut app, &f, "filter type:switch");
    command(&mut app, &f, "save mine");
    command(&mut app, &f, "filter ^VNT");
    command(&mut app, &f, "save mine");
    assert!(
        app.question().unwrap().contains("mine exists"),
        "{:?}",
        app.question()
    );
    app.handle_key(key(KeyCode::Char('n')));
    assert!(app.question().is_none());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("type:switch")
    );
    command(&mut app, &f, "save mine");
    app.handle_key(key(KeyCode::Char('y')));
    let body = std::fs::read_to_string(&file).unwrap();
    assert!(
        body.contains("^VNT") && !body.contains("type:switch"),
        "{body}"
    );

    // A column the table no longer has (a hand edit, an older version) is skipped.
    let body = body.replace("\"Model\"", "\"Colour\"");
    std::fs::write(&file, body).unwrap();
    let mut app = console(&db, &state).await;
    command(&mut app, &f, "view mine");
    let (level, text) = last_toast(&app);
    assert_eq!(level, ToastLevel::Warn, "{text}");
    assert!(text.contains("Colour"), "{text}");
    assert!(!visible_names(&app).contains(&"Model"));
    assert!(visible_names(&app).contains(&"Serial"));
    let vnt = scalar_i64(
        &db,
        "SELECT count(*) FROM devices WHERE serial_number LIKE 'VNT%'",
    )
    .await;
    assert_eq!(app.table().len() as i64, vnt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_views_file_warns_and_is_kept_as_bak() {
    let db = common::TestDb::new().await;
    let state = common::TestDir::new("views-bad");
    let file = state.join(VIEWS_FILE_NAME);
    let junk = "[views.mine\ntab = \"devices\"\n";
    std::fs::write(&file, junk).unwrap();
    let f = Filter::new();
    let mut app = console(&db, &state).await;
    let (level, text) = last_toast(&app);
    assert_eq!(level, ToastLevel::Warn);
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains(".bak") && text.contains("line 1"), "{text}");
    command(&mut app, &f, "view");
    assert!(last_toast(&app).1.contains("no saved views"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), junk, "left alone");

    command(&mut app, &f, "save fresh");
    assert_eq!(
        last_toast(&app).0,
        ToastLevel::Info,
        "{:?}",
        last_toast(&app)
    );
    assert_eq!(
        std::fs::read_to_string(state.join("views.toml.bak")).unwrap(),
        junk
    );
    let mut again = console(&db, &state).await;
    assert!(again.toasts().is_empty(), "{:?}", again.toasts());
    command(&mut again, &f, "view");
    assert!(last_toast(&again).1.contains("fresh"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_completes_saved_view_names() {
    let db = common::TestDb::new().await;
    let state = common::TestDir::new("views-tab");
    let f = Filter::new();
    let mut app = console(&db, &state).await;
    for n in ["mine", "mini", "Other"] {
        command(&mut app, &f, &format!("save {n}"));
    }
    app.type_str(":view m");
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.input(), "view min");
    assert_eq!(app.completions(), ["mine", "mini"]);
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.input(), "view mine");
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.input(), "view mini");
    app.handle_key(key(KeyCode::Esc));
    app.type_str(":delview o");
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.input(), "delview Other ");
}
