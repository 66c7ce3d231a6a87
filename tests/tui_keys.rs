//! Key handling, one binding at a time, against an app fed with in-memory rows (no terminal,
//! no database): the state change and the effects each key produces.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::store::views::{DeviceRecord, SubscriptionRecord};
use glp_console::sync::events::{
    Mode, Outcome, Scope, SyncCommand, SyncEvent, SyncSummary, Trigger,
};
use glp_console::tui::app::{App, Effect, InputMode, Loaded, Tab, TableId};
use glp_console::tui::clipboard::osc52;
use glp_console::tui::filter::{FilterWorker, MatcherKind};
use glp_console::tui::keys::{Action, Key, Keymap};
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
        application_name: None,
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
    app.set_page_height(10);
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
        assert_eq!(a.tab(), t);
    }
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.tab(), Tab::Subscriptions);
    a.handle_key(k(KeyCode::BackTab));
    a.handle_key(k(KeyCode::BackTab));
    assert_eq!(a.tab(), Tab::Overview, "the overview comes first");
    a.handle_key(k(KeyCode::BackTab));
    assert_eq!(a.tab(), Tab::Assign);
    a.handle_key(ch('0'));
    assert_eq!(a.tab(), Tab::Overview);
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
    assert_eq!(a.mode(), InputMode::Detail);
    let fx = a.take_effects();
    assert!(
        matches!(&fx[..], [Effect::LoadDetail { table: TableId::Devices, id }] if id == "dev-0001")
    );
    assert!(a.detail().as_ref().unwrap().loading);
    a.handle_key(ch('j'));
    assert_eq!(a.detail().as_ref().unwrap().scroll, 1);
    a.handle_key(ch('y'));
    assert!(matches!(&a.take_effects()[..], [Effect::Copy(s)] if s == "SN00001"));
    a.handle_key(k(KeyCode::Esc));
    assert_eq!(a.mode(), InputMode::Normal);
    assert!(a.detail().is_none());
}

#[test]
fn filter_sends_jobs_with_rising_generations_and_drops_stale_results() {
    let mut a = app();
    a.handle_key(ch('/'));
    assert_eq!(a.mode(), InputMode::Filter);
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
    assert_eq!(a.mode(), InputMode::Normal);
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
    assert_eq!(a.mode(), InputMode::Normal);
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
    assert_eq!(a.mode(), InputMode::Columns);
    a.handle_key(ch('j'));
    a.handle_key(ch(' '));
    assert!(!a.table().columns[1].visible);
    a.handle_key(k(KeyCode::Esc));
    assert_eq!(a.mode(), InputMode::Normal);
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
        audit_log: None,
        warnings: Vec::new(),
    }));
    assert!(
        matches!(&a.take_effects()[..], [Effect::Reload]),
        "tables refresh when a sync lands"
    );
    assert!(!a.sync().running);
}

#[test]
fn read_only_hides_every_write_path() {
    let mut a = app_with(&UiConfig::default(), true, 10);
    a.handle_key(ch('s'));
    a.handle_key(ch('S'));
    a.run_command("sync");
    assert!(a.take_effects().is_empty());
    assert!(!a.keymap().hints().iter().any(|(_, l)| *l == "sync"));
    assert!(
        !a.keymap()
            .help_entries()
            .iter()
            .any(|(g, _, _)| *g == "Sync")
    );
    // What the old `input = String::new()` set up: candidates for an empty command line.
    assert!(a.input().is_empty());
    assert!(!a.candidates().contains(&"sync".to_string()));
}

#[test]
fn expiring_window_and_expired_focus() {
    let mut a = app();
    a.handle_key(ch('3'));
    assert_eq!(a.window_days(), 90);
    assert_eq!(a.table_by_id(TableId::Expiring).total(), 3);
    a.handle_key(ch('w'));
    assert_eq!(a.window_days(), 30);
    assert_eq!(a.table_by_id(TableId::Expiring).total(), 1);
    a.handle_key(ch('w'));
    assert_eq!(a.window_days(), 60);
    a.handle_key(ch('x'));
    assert_eq!(a.active_table(), TableId::Expired);
    assert_eq!(a.table_by_id(TableId::Expired).total(), 1);
    a.run_command("window 30");
    assert_eq!(a.window_days(), 30);
    // The chart: expired first, then 12 months.
    assert_eq!(a.chart().len(), 13);
    assert_eq!(a.chart()[0].subscriptions, 1);
    assert_eq!(a.chart().iter().map(|b| b.subscriptions).sum::<u64>(), 5);
}

#[test]
fn command_line_completion_and_commands() {
    let mut a = app();
    a.handle_key(ch(':'));
    assert_eq!(a.mode(), InputMode::Command);
    a.type_str("so");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.input(), "sort ");
    a.type_str("mo");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.input(), "sort model ");
    a.type_str("desc");
    a.handle_key(k(KeyCode::Enter));
    assert_eq!(a.table().sort, Some((4, true)));
    a.handle_key(ch(':'));
    a.type_str("wi");
    a.handle_key(k(KeyCode::Tab));
    assert_eq!(a.input(), "window ");
    a.handle_key(k(KeyCode::Esc));
    a.run_command("export /tmp/x.csv");
    assert!(
        matches!(&a.take_effects()[..], [Effect::Export { path, rows, .. }] if path == "/tmp/x.csv" && rows.len() == 100)
    );
    a.run_command("bogus");
    assert!(
        a.toasts()
            .iter()
            .any(|t| t.text.contains("unknown command"))
    );
    a.run_command("q");
    assert!(a.quitting());
}

#[test]
fn quit_keys() {
    let mut a = app();
    a.handle_key(ch('q'));
    assert!(a.quitting());
    assert!(matches!(&a.take_effects()[..], [Effect::Quit]));
    let mut a = app();
    a.handle_key(ch('/'));
    a.handle_key(ctrl('c'));
    assert!(a.quitting(), "Ctrl-C quits from any mode");
}

#[test]
fn help_toggles() {
    let mut a = app();
    a.handle_key(ch('?'));
    assert_eq!(a.mode(), InputMode::Help);
    a.handle_key(ch('j'));
    assert_eq!(a.help_scroll(), 1);
    a.handle_key(ch('?'));
    assert_eq!(a.mode(), InputMode::Normal);
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
    assert!(a.toasts().len() >= 2);
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

// ---- the Assign tab's wizard ------------------------------------------------------------

mod wizard {
    use super::*;
    use glp_console::assign::load::{LoadOptions, load_path};
    use glp_console::assign::matching::match_rows;
    use glp_console::assign::options::{ApplicationRegion, Catalog};
    use glp_console::assign::session::Prepared;
    use glp_console::store::assign::{StoredDevice, StoredLink, StoredSubscription};
    use glp_console::tui::keys::WizardAction;
    use glp_console::tui::wizard::{
        Choice, Confirm, WizardEffect, WizardMsg, WizardStep, complete_path, wizard_data,
    };

    const SHEET: &str = "tests/fixtures/wizard/rollout-branch.csv";

    fn catalog() -> Catalog {
        Catalog {
            subscriptions: vec![StoredSubscription {
                id: "sub-ap".into(),
                key: Some("APKEY0001".into()),
                subscription_type: Some("CENTRAL_AP".into()),
                status: Some("STARTED".into()),
                tier: Some("FOUNDATION_AP".into()),
                quantity: Some(100),
                available_quantity: Some(50),
                end_time: Some(now() + chrono::Duration::days(365)),
                ..StoredSubscription::default()
            }],
            applications: vec![ApplicationRegion {
                application_id: "app-1".into(),
                application_name: Some("Aruba Central".into()),
                region: "us-west".into(),
                region_name: "US West".into(),
            }],
            tags: Vec::new(),
            ..Catalog::default()
        }
    }

    fn prepared() -> Prepared {
        let sheet = load_path(std::path::Path::new(SHEET), &LoadOptions::default()).unwrap();
        let stored = vec![StoredDevice {
            id: "dev-1".into(),
            serial_number: "VNT8KWC09Q".into(),
            category: Some("NETWORK".into()),
            device_type: Some("AP".into()),
            application_id: Some("app-1".into()),
            region: Some("us-west".into()),
            subscriptions: vec![StoredLink {
                id: "sub-old".into(),
                key: Some("OLD".into()),
            }],
            ..StoredDevice::default()
        }];
        let valid = sheet.valid_rows();
        let (matches, match_issues) = match_rows(&sheet, &valid, &stored);
        Prepared {
            path: SHEET.into(),
            sheet,
            matches,
            match_issues,
        }
    }

    /// The Assign tab with the wizard open and the catalog in.
    fn open(read_only: bool) -> App {
        let mut app = app_with(&UiConfig::default(), read_only, 10);
        app.handle_key(ch('4'));
        app.handle_key(ch('n'));
        let e = app.take_effects();
        assert!(
            e.iter()
                .any(|e| matches!(e, Effect::Wizard(WizardEffect::Catalog))),
            "{e:?}"
        );
        app.on_loaded(Loaded::Wizard(WizardMsg::Catalog(Ok((
            Arc::new(catalog()),
            None,
        )))));
        app
    }

    /// Tab, answered the way the run loop does (the completion runs off the UI task).
    fn tab(app: &mut App) {
        app.handle_key(k(KeyCode::Tab));
        let typed = app
            .take_effects()
            .into_iter()
            .find_map(|e| match e {
                Effect::Wizard(WizardEffect::Complete { typed }) => Some(typed),
                _ => None,
            })
            .expect("Tab asks for a completion");
        let (new, candidates) = complete_path(&typed, None);
        app.on_loaded(Loaded::Wizard(WizardMsg::Completed {
            typed,
            new,
            candidates,
            load: None,
        }));
    }

    fn step(app: &App) -> WizardStep {
        app.wizard().unwrap().step()
    }

    /// Type the sheet's path, Enter, and answer the load like the run loop would.
    fn load(app: &mut App) {
        app.type_str(SHEET);
        app.handle_key(k(KeyCode::Enter));
        let e = app.take_effects();
        let generation = e
            .iter()
            .find_map(|e| match e {
                Effect::Wizard(WizardEffect::Load { generation, .. }) => Some(*generation),
                _ => None,
            })
            .expect("Enter loads the file");
        let data = wizard_data(prepared(), Some(&catalog()), now(), now());
        app.on_loaded(Loaded::Wizard(WizardMsg::Loaded {
            generation,
            result: Ok(Box::new(data)),
        }));
        assert_eq!(step(app), WizardStep::Validate);
    }

    /// From Validate to the plan: Enter everywhere, no tags.
    fn to_plan(app: &mut App) {
        for _ in 0..5 {
            app.handle_key(k(KeyCode::Enter));
        }
        assert_eq!(step(app), WizardStep::Plan);
    }

    #[test]
    fn n_opens_only_in_the_assign_tab_and_esc_closes() {
        let mut app = app_with(&UiConfig::default(), false, 10);
        app.handle_key(ch('n'));
        assert!(
            app.wizard().is_none(),
            "n does nothing outside the Assign tab"
        );
        let mut app = open(false);
        assert_eq!(step(&app), WizardStep::File);
        // Letters are text here: q does not quit, s does not sync.
        app.type_str("qs");
        assert!(!app.quitting());
        assert!(app.take_effects().is_empty());
        assert_eq!(app.wizard().unwrap().path(), "qs");
        app.handle_key(k(KeyCode::Esc));
        assert!(app.wizard().is_none());
        assert_eq!(app.tab(), Tab::Assign);
    }

    #[test]
    fn tab_completes_paths_and_enter_on_a_directory_opens_it() {
        let mut app = open(false);
        app.type_str("tests/fixtures/wiz");
        tab(&mut app);
        assert_eq!(app.wizard().unwrap().path(), "tests/fixtures/wizard/");
        tab(&mut app);
        let w = app.wizard().unwrap();
        assert_eq!(
            *w.completions(),
            vec!["old/", "rollout-branch.csv", "rollout-hq.csv"],
            "directories and spreadsheets only"
        );
        app.type_str("rollout-b");
        tab(&mut app);
        assert_eq!(
            app.wizard().unwrap().path(),
            "tests/fixtures/wizard/rollout-branch.csv"
        );
        // Nothing fits: say so.
        app.handle_key(ctrl('u'));
        app.type_str("tests/fixtures/wizard/zzz");
        tab(&mut app);
        let w = app.wizard().unwrap();
        assert!(
            w.error()
                .as_deref()
                .unwrap_or("")
                .contains("nothing to complete"),
            "{:?}",
            w.error()
        );
        // A completion that arrives after the user typed on is dropped.
        app.handle_key(ctrl('u'));
        app.type_str("tests/fixtures/wizard/rollout-h");
        app.handle_key(k(KeyCode::Tab));
        let typed = match app.take_effects().as_slice() {
            [Effect::Wizard(WizardEffect::Complete { typed })] => typed.clone(),
            other => panic!("{other:?}"),
        };
        app.type_str("x");
        let (new, candidates) = complete_path(&typed, None);
        app.on_loaded(Loaded::Wizard(WizardMsg::Completed {
            typed,
            new,
            candidates,
            load: None,
        }));
        assert_eq!(
            app.wizard().unwrap().path(),
            "tests/fixtures/wizard/rollout-hx"
        );
        // Enter on a directory lists it instead of reading it (the loader finds out).
        app.handle_key(ctrl('u'));
        app.type_str("tests/fixtures/wizard/old");
        app.handle_key(k(KeyCode::Enter));
        let (generation, typed) = match app.take_effects().as_slice() {
            [
                Effect::Wizard(WizardEffect::Load {
                    generation, typed, ..
                }),
            ] => (*generation, typed.clone()),
            other => panic!("{other:?}"),
        };
        let (new, candidates) = complete_path(&format!("{typed}/"), None);
        app.on_loaded(Loaded::Wizard(WizardMsg::Completed {
            typed,
            new,
            candidates,
            load: Some(generation),
        }));
        assert_eq!(step(&app), WizardStep::File);
        assert_eq!(
            app.wizard().unwrap().path(),
            "tests/fixtures/wizard/old/empty.csv"
        );
    }

    #[test]
    fn esc_while_loading_drops_the_late_result() {
        let mut app = open(false);
        app.type_str(SHEET);
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(step(&app), WizardStep::Loading);
        let generation = match app.take_effects().as_slice() {
            [Effect::Wizard(WizardEffect::Load { generation, .. })] => *generation,
            other => panic!("{other:?}"),
        };
        app.handle_key(k(KeyCode::Esc));
        assert_eq!(step(&app), WizardStep::File);
        let data = wizard_data(prepared(), None, now(), now());
        app.on_loaded(Loaded::Wizard(WizardMsg::Loaded {
            generation,
            result: Ok(Box::new(data)),
        }));
        assert_eq!(step(&app), WizardStep::File, "a cancelled load is ignored");
        // A failed load comes back to the file step with the reason.
        app.handle_key(k(KeyCode::Enter));
        let generation = match app.take_effects().as_slice() {
            [Effect::Wizard(WizardEffect::Load { generation, .. })] => *generation,
            other => panic!("{other:?}"),
        };
        app.on_loaded(Loaded::Wizard(WizardMsg::Loaded {
            generation,
            result: Err("cannot read x.xlsx: No such file".into()),
        }));
        assert_eq!(step(&app), WizardStep::File);
        assert!(app.wizard().unwrap().error().is_some());
    }

    #[test]
    fn back_forward_skip_and_per_step_keys() {
        let mut app = open(false);
        load(&mut app);
        // r reloads the file.
        app.handle_key(ch('r'));
        assert!(
            app.take_effects()
                .iter()
                .any(|e| matches!(e, Effect::Wizard(WizardEffect::Load { .. })))
        );
        assert_eq!(step(&app), WizardStep::Loading);
        app.handle_key(k(KeyCode::Esc));
        load(&mut app);
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(step(&app), WizardStep::Review);
        app.handle_key(ch('q'));
        assert_eq!(step(&app), WizardStep::Validate, "q goes back, not out");
        assert!(!app.quitting());
        app.handle_key(k(KeyCode::Enter));
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(step(&app), WizardStep::Subscription);
        assert_eq!(app.table().len(), 1, "the one compatible subscription");
        // Skip the subscription: leave as is.
        app.handle_key(ch('-'));
        assert_eq!(step(&app), WizardStep::Region);
        assert_eq!(*app.wizard().unwrap().subscription(), Choice::Keep);
        app.handle_key(k(KeyCode::Esc));
        assert_eq!(step(&app), WizardStep::Subscription);
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(
            *app.wizard().unwrap().subscription(),
            Choice::Set("sub-ap".into())
        );
        app.handle_key(ch('-'));
        assert_eq!(step(&app), WizardStep::Tags);
        assert_eq!(*app.wizard().unwrap().application(), Choice::Keep);
        // Tags: a bad edit is refused with a reason; good ones are listed; Del drops one.
        app.type_str("site");
        app.handle_key(k(KeyCode::Enter));
        assert!(
            app.wizard()
                .as_ref()
                .unwrap()
                .tag_error()
                .as_deref()
                .unwrap_or("")
                .contains("KEY=VALUE")
        );
        app.handle_key(ctrl('u'));
        app.type_str("site=HQ");
        app.handle_key(k(KeyCode::Enter));
        app.type_str("-floor");
        app.handle_key(k(KeyCode::Enter));
        app.type_str("x=1");
        app.handle_key(k(KeyCode::Enter));
        app.handle_key(k(KeyCode::Delete));
        let w = app.wizard().unwrap();
        assert_eq!(
            *w.tags(),
            vec![
                ("site".to_string(), Some("HQ".to_string())),
                ("floor".to_string(), None)
            ]
        );
        // Empty line: on to the plan.
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(step(&app), WizardStep::Plan);
        let choices = app.wizard().unwrap().choices();
        assert_eq!(choices.subscription_id.as_deref(), Some("sub-ap"));
        assert!(choices.application.is_none());
        assert!(app.wizard().unwrap().planned().is_some());
        app.handle_key(k(KeyCode::Esc));
        assert_eq!(step(&app), WizardStep::Tags);
    }

    #[test]
    fn read_only_refuses_to_send() {
        // Read-only refuses the wizard at its door (`n`), saying why: no plan is ever sent.
        let mut app = app_with(&UiConfig::default(), true, 10);
        app.handle_key(ch('4'));
        app.handle_key(ch('n'));
        assert!(app.wizard().is_none());
        assert!(
            app.toasts().iter().any(|t| t.text.contains("read-only")),
            "{:?}",
            app.toasts()
        );
        assert!(app.take_effects().is_empty());
    }

    #[test]
    fn apply_asks_first_and_cancel_needs_confirmation() {
        let mut app = open(false);
        load(&mut app);
        to_plan(&mut app);
        app.handle_key(ch('a'));
        assert_eq!(
            app.wizard().unwrap().confirm(),
            Some(Confirm::Send { dry_run: false })
        );
        app.handle_key(ch('n'));
        assert_eq!(app.wizard().unwrap().confirm(), None);
        assert!(app.take_effects().is_empty(), "no means nothing is sent");
        app.handle_key(ch('d'));
        app.handle_key(ch('y'));
        let e = app.take_effects();
        assert!(
            e.iter()
                .any(|e| matches!(e, Effect::Wizard(WizardEffect::Apply { dry_run: true, .. }))),
            "{e:?}"
        );
        assert_eq!(step(&app), WizardStep::Applying);
        // q and Esc ask; no answers no.
        app.handle_key(ch('q'));
        assert!(!app.quitting());
        assert_eq!(app.wizard().unwrap().confirm(), Some(Confirm::Cancel));
        app.handle_key(k(KeyCode::Esc));
        assert_eq!(app.wizard().unwrap().confirm(), None);
        assert!(app.take_effects().is_empty());
        // Leaving the tab and quitting are refused while it runs.
        app.handle_key(ch('1'));
        app.run_command("q");
        assert!(!app.quitting());
        assert_eq!(app.tab(), Tab::Assign);
        // Ctrl-C asks, a second Ctrl-C confirms; the console stays open.
        app.handle_key(ctrl('c'));
        assert_eq!(app.wizard().unwrap().confirm(), Some(Confirm::Cancel));
        app.handle_key(ctrl('c'));
        assert!(!app.quitting());
        let e = app.take_effects();
        assert!(
            e.iter()
                .any(|e| matches!(e, Effect::Wizard(WizardEffect::Cancel))),
            "{e:?}"
        );
        assert!(app.wizard().unwrap().progress().cancelling);
        // The end: the report, then back to the run list with a reload.
        app.on_loaded(Loaded::Wizard(WizardMsg::Done(Err("database gone".into()))));
        assert_eq!(step(&app), WizardStep::Plan);
        assert!(
            app.take_effects()
                .iter()
                .any(|e| matches!(e, Effect::Reload))
        );
        // Ctrl-C quits again once nothing runs.
        app.handle_key(ctrl('c'));
        assert!(app.quitting());
    }

    #[test]
    fn choices_and_plan_wait_for_the_catalog() {
        let mut app = app_with(&UiConfig::default(), false, 10);
        app.handle_key(ch('4'));
        app.handle_key(ch('n'));
        app.take_effects();
        load(&mut app);
        app.handle_key(k(KeyCode::Enter));
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(step(&app), WizardStep::Subscription);
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(
            step(&app),
            WizardStep::Subscription,
            "nothing to choose yet"
        );
        assert!(
            app.toasts()
                .iter()
                .any(|t| t.text.contains("still reading"))
        );
        // Skipping everything reaches the plan, which waits too.
        app.handle_key(ch('-'));
        app.handle_key(ch('-'));
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(step(&app), WizardStep::Plan);
        assert!(app.wizard().unwrap().planned().is_none());
        app.handle_key(ch('a'));
        assert!(app.wizard().unwrap().confirm().is_none());
        assert!(app.toasts().iter().any(|t| t.text.contains("not ready")));
        app.on_loaded(Loaded::Wizard(WizardMsg::Catalog(Ok((
            Arc::new(catalog()),
            None,
        )))));
        assert!(
            app.wizard().unwrap().planned().is_some(),
            "the plan is made when the catalog arrives"
        );
    }

    #[test]
    fn after_a_dry_run_esc_goes_back_to_the_plan() {
        use glp_console::assign::report::{ApplyReport, Counts, RunStatus};
        let mut app = open(false);
        load(&mut app);
        to_plan(&mut app);
        app.handle_key(ch('d'));
        app.handle_key(ch('y'));
        assert!(
            app.take_effects()
                .iter()
                .any(|e| matches!(e, Effect::Wizard(WizardEffect::Apply { dry_run: true, .. })))
        );
        let mut report = ApplyReport {
            run_id: 3,
            kind: glp_console::store::audit::RunKind::DryRun,
            undo_of: None,
            dry_run: true,
            status: RunStatus::Succeeded,
            started_at: now(),
            finished_at: now(),
            duration_secs: 1.0,
            counts: Counts::default(),
            operations: Vec::new(),
            devices: Vec::new(),
            notes: Vec::new(),
            resync: None,
        };
        report.finalize(false);
        app.on_loaded(Loaded::Wizard(WizardMsg::Done(Ok(Arc::new(report)))));
        assert_eq!(step(&app), WizardStep::Report);
        app.handle_key(ch('E'));
        assert!(app.take_effects().iter().any(|e| matches!(e,
            Effect::Wizard(WizardEffect::Export { path, .. }) if path.ends_with("assignment-run-3-dry-run.json"))));
        app.handle_key(k(KeyCode::Esc));
        assert_eq!(step(&app), WizardStep::Plan, "dry run → back to the plan");
        app.handle_key(ch('a'));
        assert_eq!(
            app.wizard().unwrap().confirm(),
            Some(Confirm::Send { dry_run: false })
        );
    }

    #[test]
    fn wizard_keys_are_rebindable_and_shown_from_the_keymap() {
        let mut ui = UiConfig::default();
        ui.keys.insert("wizard_apply".into(), "A".into());
        ui.keys.insert("wizard_skip".into(), "enter".into());
        let km = Keymap::new(&ui.keys, false);
        assert!(
            km.1.iter()
                .any(|w| w.contains("wizard_next") && w.contains("wizard_skip")),
            "a clash inside one step is reported: {:?}",
            km.1
        );
        let hints = km.0.wizard.hints(WizardStep::Plan);
        assert!(hints.contains(&("A".to_string(), "apply")), "{hints:?}");
        assert_eq!(km.0.wizard.label(WizardAction::Apply), "A");
        assert!(
            !km.0.help_entries().iter().any(|(_, k, _)| k == "A"),
            "wizard actions are not in the normal table"
        );
        assert!(
            km.0.wizard
                .help_entries()
                .iter()
                .any(|(k, d)| k == "A" && d.contains("apply"))
        );
        let mut app = App::new(&ui, false, false, now());
        app.take_effects();
        app.handle_key(ch('4'));
        app.handle_key(ch('n'));
        app.on_loaded(Loaded::Wizard(WizardMsg::Catalog(Ok((
            Arc::new(catalog()),
            None,
        )))));
        app.take_effects();
        load(&mut app);
        to_plan(&mut app);
        app.handle_key(ch('a'));
        assert_eq!(app.wizard().unwrap().confirm(), None, "a is unbound now");
        app.handle_key(ch('A'));
        assert!(app.wizard().unwrap().confirm().is_some());
    }
}

mod wizard_sheets {
    use super::*;
    use glp_console::assign::load::LoadOptions;
    use glp_console::tui::wizard::{WizardEffect, WizardMsg, WizardStep, wizard_data};

    /// A workbook with a notes sheet first and the devices on the second (in a scratch
    /// directory removed with the returned guard).
    fn workbook() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::Builder::new()
            .prefix("glpc-keys-wb-")
            .tempdir()
            .unwrap();
        let path = dir.path().join("two-sheets.xlsx");
        let mut wb = rust_xlsxwriter::Workbook::new();
        let notes = wb.add_worksheet().set_name("Notes").unwrap();
        notes.write_string(0, 0, "read me").unwrap();
        let devs = wb.add_worksheet().set_name("Devices").unwrap();
        devs.write_string(0, 0, "Serial Number").unwrap();
        devs.write_string(1, 0, "SN00001").unwrap();
        let other = wb.add_worksheet().set_name("Spare").unwrap();
        other.write_string(0, 0, "Serial Number").unwrap();
        other.write_string(1, 0, "SN00002").unwrap();
        wb.save(&path).unwrap();
        (dir, path)
    }

    /// `load` as the run loop does it, but with the sheet parsed here (no database: every
    /// serial is "not found").
    fn answer(app: &mut App) -> Option<String> {
        let e = app.take_effects();
        let (generation, path, sheet) = e.iter().find_map(|e| match e {
            Effect::Wizard(WizardEffect::Load {
                generation,
                path,
                sheet,
                ..
            }) => Some((*generation, path.clone(), sheet.clone())),
            _ => None,
        })?;
        let s = glp_console::assign::load::load_path(
            &path,
            &LoadOptions {
                sheet: sheet.clone(),
            },
        )
        .unwrap();
        let prepared = glp_console::assign::session::Prepared {
            path,
            matches: glp_console::assign::matching::match_rows(&s, &s.valid_rows(), &[]).0,
            match_issues: Vec::new(),
            sheet: s,
        };
        let data = wizard_data(prepared, None, now(), now());
        app.on_loaded(Loaded::Wizard(WizardMsg::Loaded {
            generation,
            result: Ok(Box::new(data)),
        }));
        sheet
    }

    #[test]
    fn a_workbook_of_several_sheets_offers_the_chooser() {
        let (_dir, path) = workbook();
        let mut app = app_with(&UiConfig::default(), false, 10);
        app.handle_key(ch('4'));
        app.handle_key(ch('n'));
        app.type_str(&path.display().to_string());
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(answer(&mut app), None, "the first read picks the sheet");
        let w = app.wizard().unwrap();
        assert_eq!(w.step(), WizardStep::Sheet);
        assert_eq!(w.data().as_ref().unwrap().prepared.sheet.sheet, "Devices");
        assert_eq!(w.sheet_cursor(), 1, "on the sheet load picked");
        // Enter keeps it without reading again.
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(app.wizard().unwrap().step(), WizardStep::Validate);
        assert!(app.take_effects().is_empty());
        // t: choose another; j moves; Enter reads that sheet.
        app.handle_key(ch('t'));
        assert_eq!(app.wizard().unwrap().step(), WizardStep::Sheet);
        app.handle_key(ch('j'));
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(answer(&mut app).as_deref(), Some("Spare"));
        let w = app.wizard().unwrap();
        assert_eq!(
            w.step(),
            WizardStep::Validate,
            "a chosen sheet is not asked again"
        );
        assert_eq!(w.data().as_ref().unwrap().prepared.sheet.sheet, "Spare");
    }
}

mod wizard_big {
    use super::*;
    use glp_console::assign::load::{LoadOptions, load_path};
    use glp_console::assign::matching::match_rows;
    use glp_console::assign::session::Prepared;
    use glp_console::tui::wizard::{WizardMsg, WizardStep, wizard_data};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn screen_text(app: &mut App, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| glp_console::tui::view::draw(f, app)).unwrap();
        let buf = t.backend().buffer().clone();
        (0..h)
            .map(|y| {
                (0..w)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// 5 000 rows: the review scrolls like the inventory (only the window is drawn), and
    /// `/` filters it with the shared worker.
    #[test]
    fn a_5000_row_sheet_scrolls_and_filters() {
        let dir = tempfile::Builder::new()
            .prefix("glpc-keys-big-")
            .tempdir()
            .unwrap();
        let path = dir.path().join("big.csv");
        let mut text = String::from("Serial Number,MAC Address\n");
        for i in 0..5000 {
            text.push_str(&format!(
                "BIG{i:07},02:00:00:00:{:02X}:{:02X}\n",
                i / 256,
                i % 256
            ));
        }
        std::fs::write(&path, text).unwrap();
        let t0 = std::time::Instant::now();
        let sheet = load_path(&path, &LoadOptions::default()).unwrap();
        let (matches, match_issues) = match_rows(&sheet, &sheet.valid_rows(), &[]);
        let data = wizard_data(
            Prepared {
                path: path.clone(),
                sheet,
                matches,
                match_issues,
            },
            None,
            now(),
            now(),
        );
        eprintln!(
            "5 000 rows read, matched and turned into rows in {:?}",
            t0.elapsed()
        );
        assert_eq!(data.review.rows.len(), 5000);
        let mut app = app_with(&UiConfig::default(), false, 10);
        app.handle_key(ch('4'));
        app.handle_key(ch('n'));
        app.type_str("big.csv");
        app.handle_key(k(KeyCode::Enter));
        let generation = app.wizard().unwrap().generation();
        app.take_effects();
        app.on_loaded(Loaded::Wizard(WizardMsg::Loaded {
            generation,
            result: Ok(Box::new(data)),
        }));
        app.handle_key(k(KeyCode::Enter));
        assert_eq!(app.wizard().unwrap().step(), WizardStep::Review);
        let s = screen_text(&mut app, 80, 24);
        assert!(s.contains("BIG0000000") && s.contains("5,000 rows"), "{s}");
        app.handle_key(ch('G'));
        let s = screen_text(&mut app, 80, 24);
        assert!(s.contains("BIG0004999") && !s.contains("BIG0000000"), "{s}");
        app.handle_key(ctrl('u'));
        app.handle_key(k(KeyCode::PageUp));
        assert!(app.table().selected_index() < 4999);
        // Filter: the job goes to the worker with the review's rows.
        app.handle_key(ch('/'));
        app.type_str("BIG0001234");
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
            let _ = tx.send(r);
        });
        let mut last = None;
        for e in app.take_effects() {
            if let Effect::Filter(job) = e {
                assert_eq!(job.rows.len(), 5000);
                worker.submit(job);
                last = Some(rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap());
            }
        }
        app.on_filter(last.expect("typing in / filters the review"));
        app.handle_key(k(KeyCode::Enter));
        let s = screen_text(&mut app, 80, 24);
        assert!(
            s.contains("BIG0001234") && s.contains("filter ⟨BIG0001234⟩"),
            "{s}"
        );
        // Esc clears the filter first, then goes back a step.
        app.handle_key(k(KeyCode::Esc));
        assert!(!app.table().filter_active());
        assert_eq!(app.wizard().unwrap().step(), WizardStep::Review);
        assert_eq!(app.table().len(), 5000);
        app.handle_key(k(KeyCode::Esc));
        assert_eq!(app.wizard().unwrap().step(), WizardStep::Validate);
    }
}
