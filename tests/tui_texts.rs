//! What the console says, where it said something untrue (issue: wrong texts): the Assign
//! tab's empty state, empty tables while the first sync runs, write actions in read-only
//! mode, ambiguous `:sort` prefixes and day counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share)"
)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::store::views::SubscriptionRecord;
use glp_console::sync::events::{Mode, Scope, SyncEvent, Trigger};
use glp_console::tui::app::{App, Effect, Loaded, Tab};
use glp_console::tui::keys::{Context, WizardAction};
use glp_console::tui::model::rows;
use glp_console::tui::wizard::WizardStep;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn ch(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| glp_console::tui::view::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An app whose tables are all loaded and empty (a fresh database).
fn empty(read_only: bool) -> App {
    let mut app = App::new(&UiConfig::default(), read_only, false, now());
    app.on_loaded(Loaded::Devices(rows::device_rows(&[], now())));
    app.on_loaded(Loaded::Subscriptions {
        records: Arc::new(Vec::new()),
        table: rows::subscription_rows(&[], now()),
    });
    app.on_loaded(Loaded::Assign(rows::assign_rows(&[])));
    app.take_effects();
    app
}

fn toasts(app: &App) -> String {
    app.toasts()
        .iter()
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn the_empty_assign_tab_says_what_it_is_for_and_how_to_start() {
    let mut app = empty(false);
    app.handle_key(ch('4'));
    assert_eq!(app.tab(), Tab::Assign);
    let s = screen(&mut app, 200, 24);
    assert!(!s.contains("to sync"), "{s}");
    assert!(s.contains("no assignment runs yet"), "{s}");
    assert!(s.contains("spreadsheet"), "{s}");
    assert!(s.contains("press n to start a new assignment"), "{s}");
}

#[test]
fn an_empty_table_says_syncing_while_the_first_sync_runs() {
    let mut app = empty(false);
    // Asked for before the console opened (the demo): nothing from the engine yet.
    app.sync_requested();
    let s = screen(&mut app, 160, 24);
    assert!(!s.contains("press s to sync"), "{s}");
    assert!(s.contains("syncing"), "{s}");
    app.on_sync_event(SyncEvent::Started {
        run_id: 1,
        scope: Scope::Both,
        mode: Mode::Full,
        trigger: Trigger::Demo,
    });
    app.on_sync_event(SyncEvent::Page {
        resource: glp_console::store::inventory::Resource::Devices,
        page: 3,
        pages_total: Some(50),
        items: 600,
        items_total: Some(10_000),
    });
    let s = screen(&mut app, 160, 24);
    assert!(!s.contains("press s to sync"), "{s}");
    assert!(s.contains("no rows yet — syncing: "), "{s}");
    assert!(s.contains("p3/50"), "progress shown: {s}");
    // A sync asked for from the console does the same until its `Started` arrives.
    let mut app = empty(false);
    app.handle_key(ch('s'));
    app.clear_toasts();
    assert!(screen(&mut app, 160, 24).contains("syncing"));
}

#[test]
fn read_only_hides_and_refuses_every_write_action_with_the_reason() {
    let mut app = empty(true);
    app.handle_key(ch('4'));
    // The new-assignment key is neither offered nor silently ignored.
    let s = screen(&mut app, 200, 24);
    let footer = s.lines().last().unwrap();
    assert!(!footer.contains("new assignment"), "{footer}");
    assert!(
        s.contains("leave read-only mode to start a new assignment"),
        "{s}"
    );
    assert!(
        s.contains("sync off: read-only"),
        "status bar says why: {s}"
    );
    app.handle_key(ch('n'));
    assert!(app.wizard().is_none(), "n must not open the wizard");
    assert!(app.take_effects().is_empty());
    assert!(toasts(&app).contains("read-only"), "{}", toasts(&app));
    assert!(toasts(&app).contains("assignment"), "{}", toasts(&app));
    app.clear_toasts();
    // Nor does `assign FILE --read-only` open it.
    app.wizard_open("/tmp/none.xlsx", None);
    assert!(app.wizard().is_none());
    app.clear_toasts();
    for key in ['s', 'S'] {
        app.handle_key(ch(key));
        assert!(app.take_effects().is_empty());
        let t = toasts(&app);
        assert!(t.starts_with("read-only"), "{key}: {t}");
        assert!(t.contains("sync"), "{key}: {t}");
        app.clear_toasts();
    }
    app.run_command("sync full");
    let t = toasts(&app);
    assert!(!t.contains("unknown command"), "{t}");
    assert!(t.starts_with("read-only"), "{t}");
    assert!(app.take_effects().is_empty());
    // The wizard's write keys and the help's write lines are hidden too.
    let km = app.keymap();
    assert!(!km.is_bound(WizardAction::DryRun));
    assert!(!km.is_bound(WizardAction::Apply));
    assert!(
        !km.wizard
            .hints(WizardStep::Plan)
            .iter()
            .any(|(_, l)| *l == "dry run" || *l == "apply"),
        "{:?}",
        km.wizard.hints(WizardStep::Plan)
    );
    assert!(
        !km.help_entries()
            .iter()
            .any(|(_, _, d)| d.contains("new assignment"))
    );
    assert!(!km.footer(Context::Help).is_empty());
    app.clear_toasts();
    app.handle_key(ch('?'));
    let help = screen(&mut app, 200, 120);
    assert!(help.contains("Read-only mode"), "{help}");
    for off in [
        ":sync",
        "dry run: GreenLake",
        "apply the plan",
        "new assignment from",
    ] {
        assert!(!help.contains(off), "help offers {off}: {help}");
    }
    // Outside read-only the same keys are there.
    let rw = empty(false);
    assert!(
        rw.keymap()
            .wizard
            .hints(WizardStep::Plan)
            .iter()
            .any(|(_, l)| *l == "apply")
    );
}

#[test]
fn an_ambiguous_sort_prefix_lists_the_columns_and_sorts_nothing() {
    let mut app = empty(false);
    let before = app.table().sort;
    app.run_command("sort m");
    assert_eq!(app.table().sort, before, "nothing sorted");
    let t = toasts(&app);
    assert!(t.contains("mac") && t.contains("model"), "{t}");
    app.clear_toasts();
    // An exact name always wins over the longer names it starts.
    app.run_command("sort mac");
    assert_eq!(app.table().sort, Some((2, false)));
    app.run_command("sort mo desc");
    assert_eq!(app.table().sort, Some((4, true)));
    assert!(app.toasts().is_empty(), "{}", toasts(&app));
}

fn sub(id: &str, end: DateTime<Utc>) -> SubscriptionRecord {
    SubscriptionRecord {
        id: id.into(),
        key: Some(id.to_uppercase()),
        subscription_type: Some("CENTRAL_AP".into()),
        tier: Some("FOUNDATION_AP".into()),
        status: Some("STARTED".into()),
        quantity: Some(10),
        available_quantity: Some(4),
        start_time: Some(now() - chrono::Duration::days(300)),
        end_time: Some(end),
        sku: None,
        is_eval: Some(false),
        removed_at: None,
        devices: 3,
    }
}

#[test]
fn days_left_are_calendar_days_tomorrow_1_today_0_yesterday_minus_1() {
    // Seen at noon UTC.
    let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
    let subs = vec![
        sub("tomorrow-morning", at(24, 10)),
        sub("today-morning", at(23, 9)),
        sub("today-evening", at(23, 23)),
        sub("yesterday-afternoon", at(22, 14)),
        sub("two-days-ago-evening", at(21, 20)),
    ];
    let table = rows::subscription_rows(&subs, now());
    let days: Vec<(String, String)> = table
        .rows
        .iter()
        .map(|r| (r.cell(0).to_string(), r.cell(8).to_string()))
        .collect();
    let want = [
        ("TOMORROW-MORNING", "1d"),
        ("TODAY-MORNING", "0d"),
        ("TODAY-EVENING", "0d"),
        ("YESTERDAY-AFTERNOON", "-1d"),
        ("TWO-DAYS-AGO-EVENING", "-2d"),
    ];
    for (key, d) in want {
        assert!(
            days.iter().any(|(k, v)| k == key && v == d),
            "{key} should show {d}: {days:?}"
        );
    }
    let _ = Effect::Reload;
}
