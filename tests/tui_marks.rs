//! Marks on the Devices tab, driven by keys against an app fed with in-memory rows: they are
//! kept by device id through a filter, a sort and a reload; "assign marked" opens the wizard
//! on exactly the marked devices; "export marked" writes exactly their rows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::store::views::DeviceRecord;
use glp_console::tui::app::{App, Effect, Loaded, Tab};
use glp_console::tui::filter::{FilterWorker, MatcherKind};
use glp_console::tui::model::rows;
use glp_console::tui::wizard::WizardEffect;

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
        subscription_key: None,
        subscription_end: None,
        subscription_count: 0,
        tags: None,
    }
}

fn devices(n: usize) -> Loaded {
    let devs: Vec<DeviceRecord> = (0..n).map(device).collect();
    Loaded::Devices(rows::device_rows(&devs, now()))
}

fn app(read_only: bool) -> App {
    let mut app = App::new(&UiConfig::default(), read_only, false, now());
    app.on_loaded(devices(30));
    app.take_effects();
    app.set_page_height(10);
    app
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

/// Type `/query`, run the filter job on a real worker, apply its result.
fn filter(app: &mut App, query: &str) {
    app.handle_key(ch('/'));
    app.type_str(query);
    app.handle_key(key(KeyCode::Enter));
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
        let _ = tx.send(r);
    });
    let mut last = None;
    for e in app.take_effects() {
        if let Effect::Filter(job) = e {
            worker.submit(job);
            last = Some(rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap());
        }
    }
    app.on_filter(last.expect("typing in / asks for a filter"));
}

fn marked_ids(app: &App) -> BTreeSet<String> {
    app.table()
        .rows()
        .iter()
        .filter(|r| app.marks().contains(&r.id))
        .map(|r| r.id.to_string())
        .collect()
}

fn ids(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn three_marks_survive_a_filter_a_sort_and_a_reload() {
    let mut a = app(false);
    // Space marks and moves down: three presses mark the first three rows.
    for _ in 0..3 {
        a.handle_key(ch(' '));
    }
    let want = ids(&["dev-0000", "dev-0001", "dev-0002"]);
    assert_eq!(marked_ids(&a), want);
    assert_eq!(a.table().selected_index(), 3, "space moves down");

    // A filter that hides two of them: the marks stay, all three.
    filter(&mut a, "'SN00001");
    assert!(a.table().len() < 30, "the filter narrowed the table");
    assert_eq!(a.marks().len(), 3);
    assert_eq!(marked_ids(&a), want);
    // Clearing the filter shows them marked again.
    a.handle_key(key(KeyCode::Esc));
    assert_eq!(a.table().len(), 30);
    assert_eq!(marked_ids(&a), want);

    // Sorting and a reload (new rows, same ids) keep them too.
    a.handle_key(ch('o'));
    a.handle_key(ch('r'));
    a.on_loaded(devices(30));
    assert_eq!(marked_ids(&a), want);

    // Space on a marked row unmarks it (back in ascending order first).
    a.handle_key(ch('r'));
    a.handle_key(ch('g'));
    let first = a.table().selected_row().unwrap().id.to_string();
    assert!(want.contains(&first), "{first}");
    a.handle_key(ch(' '));
    assert_eq!(a.marks().len(), 2);

    // Clear drops every mark.
    a.handle_key(ch('M'));
    assert!(a.marks().is_empty());
}

#[test]
fn mark_all_marks_what_the_filter_shows_and_range_fills_the_gap() {
    let mut a = app(false);
    filter(&mut a, "'SN0001");
    let shown: BTreeSet<String> = a.table().view_rows().map(|r| r.id.to_string()).collect();
    assert!(!shown.is_empty() && shown.len() < 30, "{shown:?}");
    a.handle_key(ch('*'));
    assert_eq!(
        marked_ids(&a),
        shown,
        "mark all = the filter's matches only"
    );

    let mut b = app(false);
    b.handle_key(ch(' ')); // marks row 0, cursor on 1
    for _ in 0..3 {
        b.handle_key(ch('j'));
    }
    b.handle_key(ch('V')); // rows 0..=4
    assert_eq!(
        marked_ids(&b),
        ids(&["dev-0000", "dev-0001", "dev-0002", "dev-0003", "dev-0004"])
    );
}

#[test]
fn assign_marked_opens_the_wizard_on_exactly_the_marked_devices() {
    let mut a = app(false);
    a.handle_key(ch(' '));
    a.handle_key(ch('j'));
    a.handle_key(ch(' '));
    a.handle_key(ch('G'));
    a.handle_key(ch(' '));
    let marked = marked_ids(&a);
    assert_eq!(marked.len(), 3);
    // The serials of the marked ids, from the table's own rows.
    let want: BTreeSet<String> = a
        .table()
        .rows()
        .iter()
        .filter(|r| marked.contains(&*r.id))
        .map(|r| r.cell(0).to_string())
        .collect();
    a.take_effects();
    a.handle_key(ch('a'));
    assert_eq!(a.tab(), Tab::Assign);
    assert!(a.wizard().is_some(), "the wizard is open");
    let fx = a.take_effects();
    let serials = fx
        .iter()
        .find_map(|e| match e {
            Effect::Wizard(WizardEffect::LoadSerials { serials, .. }) => Some(serials.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no LoadSerials among {fx:?}"));
    let got: BTreeSet<String> = serials.into_iter().collect();
    assert_eq!(got, want);
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Wizard(WizardEffect::Load { .. }))),
        "no spreadsheet is read"
    );
}

#[test]
fn read_only_refuses_assign_marked_with_the_reason() {
    let mut a = app(true);
    a.handle_key(ch(' '));
    a.handle_key(ch('a'));
    assert!(a.wizard().is_none());
    assert_eq!(a.tab(), Tab::Devices);
    let last = a
        .toasts()
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(last.contains("read-only"), "{last}");
}

#[test]
fn export_marked_writes_exactly_the_marked_rows() {
    let mut a = app(false);
    for i in [2usize, 5, 9] {
        a.handle_key(ch('g'));
        for _ in 0..i {
            a.handle_key(ch('j'));
        }
        a.handle_key(ch(' '));
    }
    // Filtered down to one of them: the export still has all three.
    filter(&mut a, "'SN00005");
    a.take_effects();
    a.handle_key(ch('E'));
    let fx = a.take_effects();
    let Some(Effect::Export { header, rows, .. }) =
        fx.into_iter().find(|e| matches!(e, Effect::Export { .. }))
    else {
        panic!("no export effect");
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("marked.csv");
    let path = path.display().to_string();
    glp_console::tui::run::export_table(&path, &header, &rows).unwrap();
    let mut r = csv::Reader::from_path(&path).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(head.first().map(String::as_str), Some("Serial"), "{head:?}");
    let serials: BTreeSet<String> = r
        .records()
        .map(|rec| rec.unwrap().get(0).unwrap().to_string())
        .collect();
    assert_eq!(serials, ids(&["SN00002", "SN00005", "SN00009"]));
}

/// The screen's lines as text.
fn lines(app: &App, w: u16, h: u16) -> Vec<String> {
    use ratatui::{Terminal, backend::TestBackend};
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| glp_console::tui::view::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect()
}

#[test]
fn marked_rows_show_a_glyph_and_the_info_line_counts_them() {
    let mut a = app(false);
    let before = lines(&a, 100, 20);
    assert!(
        !before[3].starts_with('*') && !before[1].contains("marked"),
        "no gutter without marks: {before:#?}"
    );
    a.handle_key(ch('j'));
    a.handle_key(ch(' '));
    a.handle_key(ch(' '));
    let s = lines(&a, 100, 20);
    assert!(s[1].contains("30 rows · 2 marked"), "{s:#?}");
    // Row 0 is the table's header; rows 1 and 2 of the data are marked, row 0 is not.
    assert!(s[3].starts_with("  SN00000"), "{s:#?}");
    assert!(s[4].starts_with("* SN00001"), "{s:#?}");
    assert!(s[5].starts_with("* SN00002"), "{s:#?}");
    assert!(s[6].starts_with("  SN00003"), "{s:#?}");
}

/// A reload (the sync landing, application names arriving) while a filter shows one device:
/// until the filter has run on the new rows the view stays what matched, so a mark pressed
/// meanwhile lands on the device the user sees, never on the first row of the whole table
/// (which the view used to show for that moment).
#[test]
fn a_reload_under_a_filter_never_puts_a_mark_on_a_hidden_row() {
    let mut a = app(false);
    filter(&mut a, "'SN00017");
    assert_eq!(a.table().len(), 1);
    a.on_loaded(devices(30));
    assert_eq!(
        a.table().len(),
        1,
        "the view still shows what the filter matched"
    );
    a.handle_key(ch(' '));
    assert_eq!(marked_ids(&a), ids(&["dev-0017"]));
}

/// The path a wizard effect asks to read, if it reads a spreadsheet.
fn file_load(fx: &[Effect]) -> Option<String> {
    fx.iter().find_map(|e| match e {
        Effect::Wizard(WizardEffect::Load { typed, .. }) => Some(typed.clone()),
        _ => None,
    })
}

/// Back on the file step, a wizard started from marks reads the file the user types, not
/// the marks again: Esc while the marks load, and a failed marks load, both let go of them.
#[test]
fn a_marks_wizard_back_on_the_file_step_reads_the_typed_file() {
    use glp_console::tui::wizard::{WizardMsg, WizardStep};
    let mut a = app(false);
    a.handle_key(ch(' '));
    a.handle_key(ch('a'));
    assert_eq!(a.wizard().unwrap().step(), WizardStep::Loading);
    a.take_effects();
    // Esc while the marks load: the file step, with an empty path line to type in.
    a.handle_key(key(KeyCode::Esc));
    let w = a.wizard().expect("still open");
    assert_eq!(w.step(), WizardStep::File);
    assert_eq!(w.path(), "", "no \"N marked devices\" to edit");
    a.type_str("/tmp/sheet.csv");
    a.handle_key(key(KeyCode::Enter));
    let fx = a.take_effects();
    assert_eq!(file_load(&fx).as_deref(), Some("/tmp/sheet.csv"), "{fx:?}");
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Wizard(WizardEffect::LoadSerials { .. }))),
        "{fx:?}"
    );

    // A marks load that fails lands on the file step too, and a typed file loads from there.
    let mut a = app(false);
    a.handle_key(ch(' '));
    a.handle_key(ch('a'));
    let generation = a.wizard().unwrap().generation();
    a.on_loaded(Loaded::Wizard(WizardMsg::Loaded {
        generation,
        result: Err("the database is unreachable".into()),
    }));
    let w = a.wizard().unwrap();
    assert_eq!(w.step(), WizardStep::File);
    assert_eq!(w.path(), "");
    assert!(
        w.error()
            .as_deref()
            .is_some_and(|e| e.contains("unreachable"))
    );
    a.take_effects();
    a.type_str("/tmp/other.csv");
    a.handle_key(key(KeyCode::Enter));
    let fx = a.take_effects();
    assert_eq!(file_load(&fx).as_deref(), Some("/tmp/other.csv"), "{fx:?}");
}

/// "assign marked" with a wizard open shows that wizard and says how to close it, instead
/// of throwing its choices away.
#[test]
fn assign_marked_keeps_an_open_wizard() {
    let mut a = app(false);
    a.handle_key(ch(' '));
    a.handle_key(ch('a'));
    let generation = a.wizard().unwrap().generation();
    a.take_effects();
    a.handle_key(ch('1'));
    assert_eq!(a.tab(), Tab::Devices);
    a.handle_key(ch(' '));
    a.handle_key(ch('a'));
    assert_eq!(a.tab(), Tab::Assign, "the open wizard is shown");
    assert_eq!(
        a.wizard().unwrap().generation(),
        generation,
        "the same wizard"
    );
    let fx = a.take_effects();
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Wizard(WizardEffect::LoadSerials { .. }))),
        "{fx:?}"
    );
    let last = a
        .toasts()
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(
        last.contains("already open") || last.contains("is open"),
        "{last}"
    );
    assert!(last.contains("Esc"), "names the key that closes it: {last}");
}

/// The info line counts the marked devices assign and export act on: a mark on a device a
/// reload no longer has is not counted.
#[test]
fn the_marked_count_leaves_out_devices_a_reload_dropped() {
    let mut a = app(false);
    a.handle_key(ch(' '));
    a.handle_key(ch('G'));
    a.handle_key(ch(' '));
    assert!(lines(&a, 100, 20)[1].contains("30 rows · 2 marked"));
    // The last device is gone from the next load.
    a.on_loaded(devices(29));
    assert_eq!(a.marked_serials(), vec!["SN00000".to_string()]);
    let s = lines(&a, 100, 20);
    assert!(s[1].contains("29 rows · 1 marked"), "{s:#?}");
}
