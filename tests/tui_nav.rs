//! Navigation and input (issue 14, items 9 and 10), as a user drives them: the editing keys of
//! every line being typed, Tab cycling, `:` jumps, drill-downs, the layout of the columns at
//! 200 and 80 columns, toasts on lines of their own, the help (every `:` command, clamped
//! scroll, top/bottom, find), `:export` paths and the overwrite question, Ctrl-Z. In-memory
//! rows (no terminal, no database) except the drill-down count, which is the database's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::store::views::{CoveredDevice, DeviceRecord, SubscriptionRecord};
use glp_console::sync::events::SyncEvent;
use glp_console::tui::app::commands::COMMANDS;
use glp_console::tui::app::{App, Effect, InputMode, Loaded, Tab};
use glp_console::tui::model::rows;
use glp_console::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn device(i: usize) -> DeviceRecord {
    let types = ["AP", "SWITCH", "GATEWAY"];
    DeviceRecord {
        id: format!("dev-{i:04}"),
        serial_number: format!("SN{i:05}"),
        mac_address: Some(format!("00:11:22:33:44:{:02X}", i % 256)),
        device_type: Some(types[i % 3].into()),
        model: Some(format!("MODEL-{}", i % 7)),
        region: Some("us-west".into()),
        application_id: Some("df5b41c4-7c35-4158-af63-302042b9911b".into()),
        application_name: Some("Aruba Central".into()),
        assigned_state: Some("ASSIGNED_TO_SERVICE".into()),
        archived: false,
        removed_at: None,
        last_seen_at: Some(now()),
        device_name: None,
        subscription_key: Some(key(i % 5)),
        subscription_end: Some(now() + chrono::Duration::days(30 * (i % 5) as i64 + 10)),
        subscription_count: 1,
        // Long tags: cut at their 24-cell cap unless the screen has room to spare.
        tags: Some(format!("site=Building-{i:03}, floor=3, owner=network-team")),
    }
}

/// Keys and tiers as long as GreenLake's: at 80 columns the end date is off screen.
fn key(i: usize) -> String {
    format!("PAT{i}DYYJAEEEJA")
}

fn sub(i: usize, days: i64) -> SubscriptionRecord {
    SubscriptionRecord {
        id: format!("sub-{i}"),
        key: Some(key(i)),
        subscription_type: Some("CENTRAL_SWITCH".into()),
        tier: Some("ADVANCED_SWITCH_6300_6400".into()),
        status: Some("STARTED".into()),
        quantity: Some(10),
        available_quantity: Some(4),
        start_time: Some(now() - chrono::Duration::days(300)),
        end_time: Some(now() + chrono::Duration::days(days)),
        sku: None,
        is_eval: Some(false),
        removed_at: None,
        devices: 3,
    }
}

/// 100 devices, five subscriptions; device `i` is covered by subscription `i % 5`.
fn app() -> App {
    let mut app = App::new(&UiConfig::default(), false, false, now());
    let devs: Vec<DeviceRecord> = (0..100).map(device).collect();
    app.on_loaded(Loaded::Devices(rows::device_rows(&devs, now())));
    let subs: Vec<SubscriptionRecord> = (0..5).map(|i| sub(i, 10 + 40 * i as i64)).collect();
    let table = rows::subscription_rows(&subs, now());
    app.on_loaded(Loaded::Subscriptions {
        records: Arc::new(subs),
        table,
    });
    let covered: Vec<CoveredDevice> = devs
        .iter()
        .enumerate()
        .map(|(i, d)| CoveredDevice {
            subscription_id: format!("sub-{}", i % 5),
            device_id: d.id.clone(),
            serial_number: d.serial_number.clone(),
            device_type: d.device_type.clone(),
            model: d.model.clone(),
        })
        .collect();
    app.on_loaded(Loaded::Covered(rows::group_covered(covered)));
    app.take_effects();
    app.set_page_height(10);
    app
}

fn k(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}
fn ch(c: char) -> KeyEvent {
    k(KeyCode::Char(c))
}
fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    t
}

fn text(t: &Terminal<TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn editing_keys_on_the_command_line() {
    let mut a = app();
    a.handle_key(ch(':'));
    a.type_str("sort serial desc");
    a.handle_key(ctrl('w'));
    assert_eq!(a.input(), "sort serial ");
    a.handle_key(ctrl('w'));
    assert_eq!(a.input(), "sort ");
    a.handle_key(ctrl('a'));
    a.type_str("x");
    assert_eq!(a.input(), "xsort ");
    a.handle_key(ctrl('e'));
    a.type_str("model");
    assert_eq!(a.input(), "xsort model");
    a.handle_key(k(KeyCode::Left));
    a.handle_key(k(KeyCode::Left));
    a.handle_key(k(KeyCode::Backspace));
    assert_eq!(a.input(), "xsort moel");
    a.handle_key(k(KeyCode::Right));
    a.handle_key(ctrl('u'));
    assert_eq!(a.input(), "l", "Ctrl-u deletes up to the cursor");
    // The cursor is drawn where it is, not at the end.
    let t = screen(&a, 80, 24);
    assert!(text(&t)[23].starts_with(":█l"), "{:?}", text(&t)[23]);
}

#[test]
fn editing_keys_on_the_filter_line() {
    let mut a = app();
    a.handle_key(ch('/'));
    a.type_str("SN0001 xyz");
    a.handle_key(ctrl('w'));
    assert_eq!(a.table().filter, "SN0001");
    a.handle_key(ctrl('a'));
    a.handle_key(k(KeyCode::Right));
    a.handle_key(k(KeyCode::Right));
    a.handle_key(ctrl('u'));
    assert_eq!(a.input(), "0001 ");
    assert_eq!(a.table().filter, "0001");
    a.handle_key(ctrl('e'));
    a.type_str("9");
    assert_eq!(a.table().filter, "0001 9");
}

#[test]
fn editing_keys_on_the_wizard_path_line() {
    let mut a = app();
    a.handle_key(ch('4'));
    a.handle_key(ch('n'));
    a.take_effects();
    let path = |a: &App| a.wizard().unwrap().path().to_string();
    a.type_str("~/sheets/q3.xlsx");
    a.handle_key(ctrl('w'));
    assert_eq!(path(&a), "~/sheets/");
    a.handle_key(ctrl('a'));
    a.type_str("/x");
    a.handle_key(ctrl('e'));
    a.type_str("a.csv");
    assert_eq!(path(&a), "/x~/sheets/a.csv");
    a.handle_key(ctrl('a'));
    a.handle_key(k(KeyCode::Right));
    a.handle_key(k(KeyCode::Right));
    a.handle_key(ctrl('u'));
    assert_eq!(path(&a), "~/sheets/a.csv");
}

#[test]
fn tab_cycles_through_the_command_candidates() {
    let mut a = app();
    a.handle_key(ch(':'));
    a.type_str("s");
    // Several commands start with "s" and share nothing more: each Tab shows the next.
    let mut seen = Vec::new();
    for _ in 0..5 {
        a.handle_key(k(KeyCode::Tab));
        seen.push(a.input().to_string());
    }
    assert_eq!(seen, ["subs", "sync", "sort", "save", "subs"], "{seen:?}");
    // A longer common prefix is completed first, then the cycle starts.
    a.handle_key(ctrl('u'));
    a.type_str("sort s");
    a.handle_key(k(KeyCode::Tab));
    let first = a.input().to_string();
    a.handle_key(k(KeyCode::Tab));
    assert_ne!(a.input(), first, "a second Tab shows another column");
    assert!(a.input().starts_with("sort s"), "{}", a.input());
    // One candidate finishes the word.
    a.handle_key(ctrl('u'));
    a.type_str("exp");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(
        a.input(),
        "expiring",
        "expiring and export share only \"exp\": it cycles"
    );
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.input(), "export");
    a.handle_key(ctrl('u'));
    a.type_str("he");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.input(), "help ", "one candidate finishes the word");
}

#[test]
fn colon_jumps_to_every_tab() {
    let mut a = app();
    for (cmd, tab) in [
        ("subs", Tab::Subscriptions),
        ("expiring", Tab::Expiring),
        ("assign", Tab::Assign),
        ("devices", Tab::Devices),
        ("subscriptions", Tab::Subscriptions),
    ] {
        a.run_command(cmd);
        assert_eq!(a.tab(), tab, ":{cmd}");
    }
    a.run_command("expiring 60");
    assert_eq!((a.tab(), a.window_days()), (Tab::Expiring, 60));
}

#[test]
fn help_lists_every_command_and_every_command_runs() {
    let a = app();
    let lines = a.help_lines();
    // The workspace commands are listed where the database holds several workspaces
    // (tests/tui_workspaces.rs); this console has one.
    for c in COMMANDS.iter().filter(|c| !c.workspaces) {
        assert!(
            lines.iter().any(|l| l.key == c.usage()),
            ":{} is missing from help",
            c.name
        );
    }
    // Every command of the table is dispatched (none answers "unknown command").
    for c in COMMANDS.iter().filter(|c| c.name != "quit") {
        let mut a = app();
        a.run_command(c.name);
        let unknown = a
            .toasts()
            .iter()
            .any(|t| t.text.contains("unknown command"));
        assert!(!unknown, ":{} is not dispatched", c.name);
    }
}

#[test]
fn help_scroll_is_clamped_and_has_top_bottom_and_find() {
    let mut a = app();
    a.handle_key(ch('?'));
    let _ = screen(&a, 80, 24);
    a.handle_key(ch('G'));
    let bottom = a.help_scroll();
    assert!(bottom > 0);
    for _ in 0..50 {
        a.handle_key(ch('j'));
    }
    assert_eq!(a.help_scroll(), bottom, "no scrolling past the end");
    let t = screen(&a, 80, 24);
    let last = a.help_lines().last().unwrap().text.clone();
    let shown = text(&t).join("\n");
    assert!(
        shown.contains(&last),
        "the last line shows at the bottom: {last}"
    );
    // One k from the bottom moves at once (it used to take as many as were pressed past it).
    a.handle_key(ch('k'));
    assert_eq!(a.help_scroll(), bottom - 1);
    a.handle_key(ch('g'));
    assert_eq!(a.help_scroll(), 0);
    a.handle_key(ch('/'));
    a.type_str("overwriting");
    a.handle_key(k(KeyCode::Enter));
    let at = a.help_scroll();
    assert!(at > 0, "found below the top");
    let lines = a.help_lines();
    let found = lines
        .iter()
        .position(|l| l.plain().contains("overwriting"))
        .unwrap();
    assert_eq!(at, found.min(bottom));
    assert_eq!(a.mode(), InputMode::Help, "still in help after finding");
    // The commands, long usages on a line of their own, texts wrapped in the pane.
    a.handle_key(ch('k'));
    a.handle_key(ch('k'));
    insta::assert_snapshot!("help_commands_found_80x24", screen(&a, 80, 24).backend());
}

#[test]
fn retry_toasts_replace_each_other() {
    let mut a = app();
    for attempt in 1..=4 {
        a.on_sync_event(SyncEvent::Retry {
            attempt,
            delay: Duration::from_secs(2),
            reason: "HTTP 503".into(),
        });
    }
    let texts: Vec<&str> = a.toasts().iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, ["retry 4 in 2s: HTTP 503"]);
}

#[test]
fn toasts_never_cover_rows_or_the_typed_line() {
    let mut a = app();
    let plain = text(&screen(&a, 80, 24));
    for n in 0..3 {
        a.toast(
            glp_console::tui::app::ToastLevel::Warn,
            format!("warning number {n}"),
        );
    }
    a.handle_key(ch('/'));
    a.type_str("SN");
    let t = screen(&a, 80, 24);
    let lines = text(&t);
    insta::assert_snapshot!("toasts_own_lines_80x24", t.backend());
    // The rows that show are the rows there were, none written over.
    let rows_shown: Vec<&String> = lines[3..20]
        .iter()
        .filter(|l| l.starts_with("SN"))
        .collect();
    assert!(rows_shown.len() >= 15, "{lines:#?}");
    for r in &rows_shown {
        assert!(plain.contains(r), "a row was changed: {r}");
    }
    assert!(lines[23].starts_with("/SN█"), "{:?}", lines[23]);
    assert!(lines.iter().any(|l| l.contains("warning number 2")));
}

#[test]
fn columns_use_the_whole_width_at_200() {
    let a = app();
    let t = screen(&a, 200, 50);
    insta::assert_snapshot!("devices_200x50", t.backend());
    let lines = text(&t);
    // The tags (cut at 24 cells before) are whole: the spare width went to them.
    assert!(
        lines[3].contains("site=Building-000, floor=3, owner=network-team"),
        "{}",
        lines[3]
    );
    assert!(!lines[3].contains('…'), "{}", lines[3]);
}

#[test]
fn columns_scroll_sideways_at_80() {
    let mut a = app();
    a.handle_key(ch('2'));
    let before = text(&screen(&a, 80, 24));
    assert!(!before[2].contains("End"), "{}", before[2]);
    assert!(before[2].trim_end().ends_with('▶'), "{}", before[2]);
    for _ in 0..10 {
        a.handle_key(ch('l'));
    }
    let t = screen(&a, 80, 24);
    insta::assert_snapshot!("subscriptions_scrolled_80x24", t.backend());
    let lines = text(&t);
    assert!(lines[2].contains("End"), "{}", lines[2]);
    assert!(
        lines[2].starts_with("Key"),
        "the key column stays: {}",
        lines[2]
    );
    let end = (now() + chrono::Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();
    assert!(lines.iter().any(|l| l.contains(&end)), "{lines:#?}");
    for _ in 0..10 {
        a.handle_key(ch('h'));
    }
    assert_eq!(text(&screen(&a, 80, 24)), before);
}

#[test]
fn the_title_never_overwrites_the_tabs() {
    let a = app();
    for w in [60, 80, 100] {
        let lines = text(&screen(&a, w, 24));
        assert!(lines[0].contains("4 Assign"), "{w}: {}", lines[0]);
    }
}

#[test]
fn row_n_of_m() {
    let mut a = app();
    a.handle_key(ch('j'));
    a.handle_key(ch('j'));
    let lines = text(&screen(&a, 80, 24));
    assert!(
        lines[1].trim_end().ends_with("row 3 of 100 rows"),
        "{}",
        lines[1]
    );
}

#[test]
fn drill_from_a_subscription_to_its_devices_and_back() {
    let mut a = app();
    a.handle_key(ch('2'));
    a.handle_key(ch('d'));
    assert_eq!(a.tab(), Tab::Devices);
    assert_eq!(a.table().len(), 20, "sub-0 covers devices 0, 5, 10, …");
    assert!(
        a.table()
            .selected_row()
            .is_some_and(|r| r.cell(7) == key(0))
    );
    let lines = text(&screen(&a, 100, 24));
    assert!(
        lines[1].contains(&format!("drill ⟨devices of {}⟩", key(0))),
        "{}",
        lines[1]
    );
    a.handle_key(k(KeyCode::Esc));
    assert_eq!(
        a.tab(),
        Tab::Subscriptions,
        "Esc goes back where the drill began"
    );
    a.handle_key(ch('1'));
    assert_eq!(a.table().len(), 100, "the Devices tab is whole again");
    // From a device to its subscriptions.
    a.handle_key(ch('j'));
    a.handle_key(ch('d'));
    assert_eq!(a.tab(), Tab::Subscriptions);
    assert_eq!(a.table().len(), 1);
    assert_eq!(a.table().selected_row().unwrap().cell(0), key(1));
}

#[test]
fn export_expands_home_and_asks_before_overwriting() {
    let mut a = app();
    a.set_home(Some("/home/ops".into()));
    a.run_command("export ~/x.xlsx");
    let fx = a.take_effects();
    let Some(Effect::Export {
        path,
        header,
        rows,
        overwrite,
    }) = fx.into_iter().next()
    else {
        panic!("no export");
    };
    assert_eq!(path, "/home/ops/x.xlsx");
    assert!(!overwrite);
    // The file is there: the run loop asks, and nothing is written until yes.
    a.on_loaded(Loaded::ExportExists {
        path: path.clone(),
        header: header.clone(),
        rows: rows.clone(),
    });
    assert_eq!(a.mode(), InputMode::Ask);
    let lines = text(&screen(&a, 80, 24));
    assert!(
        lines[23].contains("/home/ops/x.xlsx exists"),
        "{}",
        lines[23]
    );
    a.handle_key(ch('n'));
    assert!(a.take_effects().is_empty());
    assert_eq!(a.mode(), InputMode::Normal);
    a.on_loaded(Loaded::ExportExists {
        path: path.clone(),
        header,
        rows,
    });
    a.handle_key(ch('y'));
    assert!(matches!(
        &a.take_effects()[..],
        [Effect::Export { overwrite: true, path: p, .. }] if *p == path
    ));
}

#[test]
fn ctrl_z_asks_the_loop_to_suspend() {
    let mut a = app();
    a.handle_key(ctrl('z'));
    assert!(matches!(&a.take_effects()[..], [Effect::Suspend]));
    // Also while typing.
    a.handle_key(ch('/'));
    a.handle_key(ctrl('z'));
    assert!(matches!(&a.take_effects()[..], [Effect::Suspend]));
}

/// The simulator's inventory stored as a sync stores it: the drill-down's count is the
/// database's count of the subscription's devices.
#[tokio::test]
async fn drill_down_count_is_the_databases() {
    use glp_console::glp::model::{Device, RawPage, Subscription, parse_items};
    glp_console::tls::init();
    let db = common::TestDb::new().await;
    let sim = glp_console::sim::start(glp_console::sim::SimConfig {
        devices: 2_000,
        subscriptions: 100,
        ..glp_console::sim::SimConfig::default()
    })
    .await
    .unwrap();
    let page = |v: Vec<serde_json::Value>| -> RawPage {
        serde_json::from_value(serde_json::json!({ "items": v })).unwrap()
    };
    let (subs, _) = parse_items::<Subscription>(page(sim.subscriptions()).items);
    db.store.upsert_subscriptions(&subs, None).await.unwrap();
    let (devs, _) = parse_items::<Device>(page(sim.devices()).items);
    db.store.upsert_devices(&devs, None).await.unwrap();
    sim.shutdown().await;

    let (sub_id, want): (String, i64) = sqlx::query_as(
        "SELECT ds.subscription_id, count(*) FROM device_subscriptions ds
           JOIN devices d ON d.id = ds.device_id
           JOIN subscriptions s ON s.id = ds.subscription_id
          WHERE d.removed_at IS NULL AND s.removed_at IS NULL
          GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    // A subscription with no end date covers its devices all the same (the drill once read
    // the Expiring pane's data, which has only those ending within ten years).
    sqlx::query("UPDATE subscriptions SET end_time = NULL WHERE id = $1")
        .bind(&sub_id)
        .execute(db.store.pool())
        .await
        .unwrap();
    let mut app = App::new(&UiConfig::default(), false, false, Utc::now());
    let loaded = std::sync::Mutex::new(Vec::new());
    glp_console::tui::run::load_all(&db.store, Utc::now(), &|l| loaded.lock().unwrap().push(l))
        .await
        .unwrap();
    for l in loaded.into_inner().unwrap() {
        app.on_loaded(l);
    }
    app.take_effects();
    assert!(want > 1, "the simulator covers devices with subscriptions");
    app.handle_key(ch('2'));
    while app.table().selected_row().unwrap().id.as_ref() != sub_id {
        let before = app.table().selected_index();
        app.handle_key(ch('j'));
        assert_ne!(
            app.table().selected_index(),
            before,
            "{sub_id} is not listed"
        );
    }
    app.handle_key(ch('d'));
    assert_eq!(app.tab(), Tab::Devices);
    assert_eq!(app.table().len() as i64, want);
    let mut shown: Vec<String> = (0..app.table().len())
        .map(|i| app.table().row_at(i).unwrap().cell(0).to_string())
        .collect();
    shown.sort();
    let mut serials: Vec<String> = sqlx::query_scalar(
        "SELECT d.serial_number FROM device_subscriptions ds JOIN devices d ON d.id = ds.device_id
          WHERE ds.subscription_id = $1 AND d.removed_at IS NULL ORDER BY 1",
    )
    .bind(&sub_id)
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    serials.sort();
    assert_eq!(shown, serials);
}

#[test]
fn tab_cycles_through_the_wizard_path_candidates() {
    use glp_console::tui::wizard::{WizardEffect, WizardMsg};
    let mut a = app();
    a.handle_key(ch('4'));
    a.handle_key(ch('n'));
    a.take_effects();
    a.type_str("~/sheets/q");
    a.handle_key(k(KeyCode::Tab));
    assert!(
        a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::Wizard(WizardEffect::Complete { .. })))
    );
    // Two sheets fit and share nothing past "q": the completion lists them.
    a.on_loaded(Loaded::Wizard(WizardMsg::Completed {
        typed: "~/sheets/q".into(),
        new: "~/sheets/q".into(),
        candidates: vec!["q3.xlsx".into(), "q4.csv".into()],
        load: None,
    }));
    let path = |a: &App| a.wizard().unwrap().path().to_string();
    // Each Tab now shows the next one, without reading the directory again.
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(path(&a), "~/sheets/q3.xlsx");
    assert!(a.take_effects().is_empty());
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(path(&a), "~/sheets/q4.csv");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(path(&a), "~/sheets/q3.xlsx");
}

#[test]
fn tab_completes_columns_and_values_on_the_filter_line() {
    let mut a = app();
    a.handle_key(ch('/'));
    a.type_str("ty");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.input(), "type:");
    a.type_str("s");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(
        a.input(),
        "type:SWITCH ",
        "the one value that fits, finished"
    );
    a.handle_key(ctrl('u'));
    a.type_str("!type:");
    a.handle_key(k(KeyCode::Tab));
    let first = a.input().to_string();
    a.handle_key(k(KeyCode::Tab));
    let second = a.input().to_string();
    assert_eq!(
        [first.as_str(), second.as_str()],
        ["!type:AP", "!type:GATEWAY"],
        "several values: each Tab shows the next"
    );
}
