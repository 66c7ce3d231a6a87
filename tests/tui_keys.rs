//! Key handling, one binding at a time, against an app fed with in-memory rows (no terminal,
//! no database): the state change and the effects each key produces.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::store::views::{DeviceRecord, SubscriptionRecord};
use glp_console::sync::events::{
    Mode, Outcome, Scope, SyncCommand, SyncEvent, SyncSummary, Trigger,
};
use glp_console::tui::app::{
    App, Effect, InputMode, Loaded, T_DEVICES, T_EXPIRED, T_EXPIRING, Tab,
};
use glp_console::tui::clipboard::osc52;
use glp_console::tui::filter::{FilterWorker, MatcherKind};
use glp_console::tui::keymap::{Action, Key, Keymap};
use glp_console::tui::model::rows;
use glp_console::tui::theme::Theme;

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
        application_id: None,
        assigned_state: Some("ASSIGNED_TO_SERVICE".into()),
        archived: false,
        removed_at: None,
        last_seen_at: Some(now()),
        device_name: None,
        subscription_key: Some(format!("KEY{}", i % 5)),
        subscription_end: None,
        subscription_count: 1,
        tags: None,
    }
}

fn sub(i: usize, days: i64, status: &str) -> SubscriptionRecord {
    SubscriptionRecord {
        id: format!("sub-{i}"),
        key: Some(format!("KEY{i}")),
        subscription_type: Some("CENTRAL_AP".into()),
        tier: Some("FOUNDATION_AP".into()),
        status: Some(status.into()),
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

fn app_with(ui: &UiConfig, read_only: bool, n: usize) -> App {
    let mut app = App::new(ui, read_only, false, now());
    let devs: Vec<DeviceRecord> = (0..n).map(device).collect();
    app.on_loaded(Loaded::Devices(rows::device_rows(&devs, now())));
    let subs = vec![
        sub(0, 10, "STARTED"),
        sub(1, 45, "STARTED"),
        sub(2, 80, "STARTED"),
        sub(3, -5, "STARTED"),
        sub(4, 300, "STARTED"),
    ];
    let table = rows::subscription_rows(&subs, now());
    app.on_loaded(Loaded::Subscriptions {
        records: Arc::new(subs),
        table,
    });
    app.take_effects();
    app.page_height = 10;
    app
}

fn app() -> App {
    app_with(&UiConfig::default(), false, 100)
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
fn sel(app: &App) -> usize {
    app.table().selected_index()
}

#[test]
fn tabs_by_number_tab_and_backtab() {
    let mut a = app();
    for (c, t) in [
        ('2', Tab::Subscriptions),
        ('3', Tab::Expiring),
        ('4', Tab::Assign),
        ('1', Tab::Devices),
    ] {
        a.handle_key(ch(c));
        assert_eq!(a.tab, t);
    }
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.tab, Tab::Subscriptions);
    a.handle_key(k(KeyCode::BackTab));
    a.handle_key(k(KeyCode::BackTab));
    assert_eq!(a.tab, Tab::Assign);
}

#[test]
fn movement_keys() {
    let mut a = app();
    a.handle_key(ch('j'));
    a.handle_key(k(KeyCode::Down));
    assert_eq!(sel(&a), 2);
    a.handle_key(ch('k'));
    a.handle_key(k(KeyCode::Up));
    a.handle_key(k(KeyCode::Up));
    assert_eq!(sel(&a), 0, "clamped at the top");
    a.handle_key(ch('G'));
    assert_eq!(sel(&a), 99);
    a.handle_key(ch('g'));
    assert_eq!(sel(&a), 0);
    a.handle_key(k(KeyCode::End));
    assert_eq!(sel(&a), 99);
    a.handle_key(k(KeyCode::Home));
    a.handle_key(k(KeyCode::PageDown));
    assert_eq!(sel(&a), 10);
    a.handle_key(ctrl('d'));
    assert_eq!(sel(&a), 15);
    a.handle_key(ctrl('u'));
    assert_eq!(sel(&a), 10);
    a.handle_key(k(KeyCode::PageUp));
    assert_eq!(sel(&a), 0);
}

#[test]
fn enter_opens_detail_and_esc_closes() {
    let mut a = app();
    a.handle_key(ch('j'));
    a.handle_key(k(KeyCode::Enter));
    assert_eq!(a.mode, InputMode::Detail);
    let fx = a.take_effects();
    assert!(matches!(&fx[..], [Effect::LoadDetail { table: T_DEVICES, id }] if id == "dev-0001"));
    assert!(a.detail.as_ref().unwrap().loading);
    a.handle_key(ch('j'));
    assert_eq!(a.detail.as_ref().unwrap().scroll, 1);
    a.handle_key(ch('y'));
    assert!(matches!(&a.take_effects()[..], [Effect::Copy(s)] if s == "SN00001"));
    a.handle_key(k(KeyCode::Esc));
    assert_eq!(a.mode, InputMode::Normal);
    assert!(a.detail.is_none());
}

#[test]
fn filter_sends_jobs_with_rising_generations_and_drops_stale_results() {
    let mut a = app();
    a.handle_key(ch('/'));
    assert_eq!(a.mode, InputMode::Filter);
    // `'` asks for an exact (substring) match; plain fuzzy would match most rows here.
    a.type_str("'sn0001");
    let jobs: Vec<_> = a
        .take_effects()
        .into_iter()
        .filter_map(|e| {
            if let Effect::Filter(j) = e {
                Some(j)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(jobs.len(), 7);
    assert!(jobs.windows(2).all(|w| w[1].generation > w[0].generation));
    // Run the first (stale) and the last job; only the last is applied.
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
        let _ = tx.send(r);
    });
    worker.submit(jobs[0].clone());
    let stale = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    let stale_gen = stale.generation;
    a.on_filter(stale);
    assert_eq!(
        a.table().len(),
        100,
        "a stale result must not change the view"
    );
    worker.submit(jobs[6].clone());
    let r = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert!(r.generation > stale_gen);
    a.on_filter(r);
    assert_eq!(a.table().len(), 10, "SN00010..SN00019");
    assert!(a.table().breakdown.iter().map(|(_, n)| n).sum::<usize>() == 10);
    // Enter keeps the filter, Esc (in normal mode) clears it.
    a.handle_key(k(KeyCode::Enter));
    assert_eq!(a.mode, InputMode::Normal);
    assert_eq!(a.table().filter, "'sn0001");
    a.handle_key(k(KeyCode::Esc));
    assert_eq!(a.table().len(), 100);
    assert!(a.table().filter.is_empty());
}

#[test]
fn esc_in_filter_mode_clears() {
    let mut a = app();
    a.handle_key(ch('/'));
    a.type_str("x");
    a.handle_key(k(KeyCode::Esc));
    assert_eq!(a.mode, InputMode::Normal);
    assert!(a.table().filter.is_empty());
}

#[test]
fn skim_matcher_path_gives_the_same_kind_of_answer() {
    let mut a = app();
    a.handle_key(ch('/'));
    a.type_str("SN0002");
    let job = a
        .take_effects()
        .into_iter()
        .rev()
        .find_map(|e| {
            if let Effect::Filter(j) = e {
                Some(j)
            } else {
                None
            }
        })
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = FilterWorker::spawn(MatcherKind::Skim, move |r| {
        let _ = tx.send(r);
    });
    worker.submit(job);
    let r = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert!(r.matched >= 10 && r.mask[20] && r.mask[29], "{}", r.matched);
}

#[test]
fn sort_keys_and_indicator_state() {
    let mut a = app();
    a.handle_key(ch('G'));
    let id = a.table().selected_row().unwrap().id.clone();
    a.handle_key(ch('o'));
    assert_eq!(a.table().sort, Some((0, false)));
    a.handle_key(ch('o'));
    assert_eq!(a.table().sort, Some((1, false)));
    a.handle_key(ch('O'));
    assert_eq!(a.table().sort, Some((0, false)));
    a.handle_key(ch('r'));
    assert_eq!(a.table().sort, Some((0, true)));
    assert_eq!(
        a.table().selected_row().unwrap().id,
        id,
        "selection follows its row"
    );
    assert_eq!(&*a.table().row_at(0).unwrap().id, "dev-0099");
}

#[test]
fn numeric_columns_sort_by_number() {
    let mut a = app();
    a.handle_key(ch('2'));
    a.run_command("sort days_left");
    let days: Vec<String> = (0..5)
        .map(|i| a.table().row_at(i).unwrap().cell(8).to_string())
        .collect();
    assert_eq!(days, ["-5d", "10d", "45d", "80d", "300d"]);
}

#[test]
fn column_picker_toggles() {
    let mut a = app();
    a.handle_key(ch('c'));
    assert_eq!(a.mode, InputMode::Columns);
    a.handle_key(ch('j'));
    a.handle_key(ch(' '));
    assert!(!a.table().columns[1].visible);
    a.handle_key(k(KeyCode::Esc));
    assert_eq!(a.mode, InputMode::Normal);
    a.run_command("cols serial type");
    assert_eq!(a.table().visible_columns(), vec![0, 3]);
}

#[test]
fn copy_keys_emit_osc52_payloads() {
    let mut a = app();
    a.handle_key(ch('y'));
    assert!(matches!(&a.take_effects()[..], [Effect::Copy(s)] if s == "SN00000"));
    a.handle_key(ch('Y'));
    let fx = a.take_effects();
    let Effect::Copy(row) = &fx[0] else {
        panic!("{fx:?}")
    };
    assert!(row.starts_with("SN00000\t\t00:11:22:33:44:00\tAP"), "{row}");
    assert_eq!(osc52("SN00000"), "\x1b]52;c;U04wMDAwMA==\x07");
}

#[test]
fn sync_keys_single_flight_and_cancel() {
    let mut a = app();
    a.handle_key(ch('s'));
    assert!(matches!(
        &a.take_effects()[..],
        [Effect::Sync(SyncCommand::SyncNow {
            scope: Scope::Both,
            mode: Mode::Auto,
            trigger: Trigger::Tui
        })]
    ));
    a.handle_key(ch('S'));
    assert!(matches!(
        &a.take_effects()[..],
        [Effect::Sync(SyncCommand::SyncNow {
            mode: Mode::Full,
            ..
        })]
    ));
    a.on_sync_event(SyncEvent::Started {
        run_id: 1,
        scope: Scope::Both,
        mode: Mode::Full,
        trigger: Trigger::Tui,
    });
    a.handle_key(ch('s'));
    assert!(
        a.take_effects().is_empty(),
        "second press shows progress, sends nothing"
    );
    a.handle_key(ctrl('x'));
    assert!(matches!(
        &a.take_effects()[..],
        [Effect::Sync(SyncCommand::Cancel)]
    ));
    a.on_sync_event(SyncEvent::Finished(SyncSummary {
        run_id: 1,
        scope: Scope::Both,
        mode: Mode::Full,
        outcome: Outcome::Succeeded,
        started_at: now(),
        duration: std::time::Duration::from_secs(3),
        resources: vec![],
        requests: 3,
        retries: 0,
        throttled: 0,
        breaker_trips: 0,
        error: None,
    }));
    assert!(
        matches!(&a.take_effects()[..], [Effect::Reload]),
        "tables refresh when a sync lands"
    );
    assert!(!a.sync.running);
}

#[test]
fn read_only_hides_every_write_path() {
    let mut a = app_with(&UiConfig::default(), true, 10);
    a.handle_key(ch('s'));
    a.handle_key(ch('S'));
    a.run_command("sync");
    assert!(a.take_effects().is_empty());
    assert!(!a.keymap.hints().iter().any(|(_, l)| *l == "sync"));
    assert!(!a.keymap.help_entries().iter().any(|(g, _, _)| *g == "Sync"));
    a.input = String::new();
    assert!(!a.candidates().contains(&"sync".to_string()));
}

#[test]
fn expiring_window_and_expired_focus() {
    let mut a = app();
    a.handle_key(ch('3'));
    assert_eq!(a.window_days, 90);
    assert_eq!(a.tables[T_EXPIRING].total(), 3);
    a.handle_key(ch('w'));
    assert_eq!(a.window_days, 30);
    assert_eq!(a.tables[T_EXPIRING].total(), 1);
    a.handle_key(ch('w'));
    assert_eq!(a.window_days, 60);
    a.handle_key(ch('x'));
    assert_eq!(a.active_table(), T_EXPIRED);
    assert_eq!(a.tables[T_EXPIRED].total(), 1);
    a.run_command("window 30");
    assert_eq!(a.window_days, 30);
    // The chart: expired first, then 12 months.
    assert_eq!(a.chart.len(), 13);
    assert_eq!(a.chart[0].subscriptions, 1);
    assert_eq!(a.chart.iter().map(|b| b.subscriptions).sum::<u64>(), 5);
}

#[test]
fn command_line_completion_and_commands() {
    let mut a = app();
    a.handle_key(ch(':'));
    assert_eq!(a.mode, InputMode::Command);
    a.type_str("so");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.input, "sort ");
    a.type_str("mo");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.input, "sort model ");
    a.type_str("desc");
    a.handle_key(k(KeyCode::Enter));
    assert_eq!(a.table().sort, Some((4, true)));
    a.handle_key(ch(':'));
    a.type_str("wi");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.input, "window ");
    a.handle_key(k(KeyCode::Esc));
    a.run_command("export /tmp/x.csv");
    assert!(
        matches!(&a.take_effects()[..], [Effect::Export { path, rows, .. }] if path == "/tmp/x.csv" && rows.len() == 100)
    );
    a.run_command("bogus");
    assert!(a.toasts.iter().any(|t| t.text.contains("unknown command")));
    a.run_command("q");
    assert!(a.quit);
}

#[test]
fn quit_keys() {
    let mut a = app();
    a.handle_key(ch('q'));
    assert!(a.quit);
    assert!(matches!(&a.take_effects()[..], [Effect::Quit]));
    let mut a = app();
    a.handle_key(ch('/'));
    a.handle_key(ctrl('c'));
    assert!(a.quit, "Ctrl-C quits from any mode");
}

#[test]
fn help_toggles() {
    let mut a = app();
    a.handle_key(ch('?'));
    assert_eq!(a.mode, InputMode::Help);
    a.handle_key(ch('j'));
    assert_eq!(a.help_scroll, 1);
    a.handle_key(ch('?'));
    assert_eq!(a.mode, InputMode::Normal);
}

#[test]
fn keymap_overrides_unbind_and_conflicts() {
    let mut keys = BTreeMap::new();
    keys.insert("sync".to_string(), "F5".to_string());
    keys.insert("copy_row".to_string(), String::new());
    keys.insert("filter".to_string(), "/ f".to_string());
    keys.insert("help".to_string(), "j".to_string());
    keys.insert("nonsense".to_string(), "z".to_string());
    let (km, warnings) = Keymap::new(&keys, false);
    assert_eq!(km.keys(Action::Sync), &[Key::parse("F5").unwrap()]);
    assert!(!km.is_bound(Action::CopyRow));
    assert_eq!(km.label(Action::Filter), "//f");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("j is bound to both help and down")),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|w| w.contains("nonsense")));
    assert_eq!(km.action(&ch('j')), Some(Action::Help));
    assert_eq!(km.label(Action::Down), "↓");
    // And the app shows these warnings as toasts, and uses the new keys.
    let ui = UiConfig {
        keys,
        ..UiConfig::default()
    };
    let mut a = app_with(&ui, false, 5);
    assert!(a.toasts.len() >= 2);
    a.handle_key(k(KeyCode::F(5)));
    assert!(matches!(&a.take_effects()[..], [Effect::Sync(_)]));
    a.handle_key(ch('s'));
    assert!(a.take_effects().is_empty());
    assert_eq!(Key::parse("ctrl-d").unwrap().to_string(), "Ctrl-d");
    assert!(Key::parse("hyper-q").is_err());
}

#[test]
fn theme_mono_and_no_color() {
    let (t, w) = Theme::from_config("default", &BTreeMap::new(), true);
    assert_eq!(t, Theme::mono());
    assert!(w.is_empty());
    let mut colors = BTreeMap::new();
    colors.insert("accent".to_string(), "bright-magenta".to_string());
    colors.insert("nope".to_string(), "red".to_string());
    colors.insert("ok".to_string(), "not-a-colour".to_string());
    let (t, w) = Theme::from_config("default", &colors, false);
    assert_ne!(t, Theme::default_theme());
    assert_eq!(w.len(), 2);
}

#[test]
fn selection_is_anchored_to_the_id_across_refreshes() {
    let mut a = app();
    for _ in 0..40 {
        a.handle_key(ch('j'));
    }
    assert_eq!(&*a.table().selected_row().unwrap().id, "dev-0040");
    // A refresh that inserts rows before it and reverses nothing else.
    let mut devs: Vec<DeviceRecord> = (0..100).map(device).collect();
    let mut extra = device(500);
    extra.serial_number = "AAAA".into();
    devs.insert(0, extra);
    a.on_loaded(Loaded::Devices(rows::device_rows(&devs, now())));
    assert_eq!(&*a.table().selected_row().unwrap().id, "dev-0040");
    assert_eq!(sel(&a), 41);
    // The row disappears: the cursor stays at the same position.
    devs.remove(41);
    a.on_loaded(Loaded::Devices(rows::device_rows(&devs, now())));
    assert_eq!(sel(&a), 41);
}
