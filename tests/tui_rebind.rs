//! Rebinding in `[ui.keys]` changes what every text says, not only what the keys do: with
//! `sync`, `filter` and two wizard keys moved, the real app (drawn on a TestBackend) shows the
//! new keys in the footer, the help, a toast, the empty-table hint and the wizard's heading
//! and empty list — never the old ones — and the old keys no longer act.
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
use glp_console::assign::load::{LoadOptions, load_path};
use glp_console::assign::matching::match_rows;
use glp_console::assign::options::{ApplicationRegion, Catalog};
use glp_console::assign::session::Prepared;
use glp_console::config::UiConfig;
use glp_console::tui::app::{App, Effect, InputMode, Loaded};
use glp_console::tui::model::rows;
use glp_console::tui::wizard::{WizardEffect, WizardMsg, WizardStep, wizard_data};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SHEET: &str = "tests/fixtures/wizard/rollout-branch.csv";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn k(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    k(KeyCode::Char(c))
}

/// `sync` on F5, `filter` on Ctrl-f, the wizard's reload on F6 and "leave as is" on F7.
fn rebound() -> UiConfig {
    let keys: BTreeMap<String, String> = [
        ("sync", "F5"),
        ("filter", "ctrl-f"),
        ("wizard_reload", "F6"),
        ("wizard_skip", "F7"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    UiConfig {
        keys,
        ..UiConfig::default()
    }
}

fn screen(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| glp_console::tui::view::draw(f, app)).unwrap();
    t
}

fn text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn footer(t: &Terminal<TestBackend>) -> String {
    text(t).lines().last().unwrap_or_default().to_string()
}

/// Nothing on screen names an old key (`s`, `/`, `r`, `-`) where a text names a key.
fn no_old_keys(s: &str) {
    for old in [
        "press s ",
        " s sync",
        "/ filter",
        "  s              sync now",
        "  /              fuzzy",
        "press r ",
        "r reload",
        "  r              read the file",
        "press - ",
        "- leave as is",
        "  -              leave as is",
    ] {
        assert!(!s.contains(old), "{old:?} still on screen:\n{s}");
    }
}

/// The sheet's catalog with no subscription at all, so the chooser is empty.
fn catalog() -> Catalog {
    Catalog {
        subscriptions: Vec::new(),
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
    let valid = sheet.valid_rows();
    let (matches, match_issues) = match_rows(&sheet, &valid, &[]);
    Prepared {
        path: SHEET.into(),
        sheet,
        matches,
        match_issues,
    }
}

/// Answer the wizard's load (if it asked for one) the way the run loop does.
fn answer_load(app: &mut App) -> bool {
    let e = app.take_effects();
    let Some(generation) = e.iter().find_map(|e| match e {
        Effect::Wizard(WizardEffect::Load { generation, .. }) => Some(*generation),
        _ => None,
    }) else {
        return false;
    };
    let data = wizard_data(prepared(), Some(&catalog()), now(), now());
    app.on_loaded(Loaded::Wizard(WizardMsg::Loaded {
        generation,
        result: Ok(Box::new(data)),
    }));
    true
}

fn step(app: &App) -> WizardStep {
    app.wizard().unwrap().step()
}

#[test]
fn rebinding_changes_every_text_that_names_a_key() {
    let mut app = App::new(&rebound(), false, false, now());
    assert!(app.toasts().is_empty(), "{:?}", app.toasts());
    app.on_loaded(Loaded::Devices(rows::device_rows(&[], now())));
    app.take_effects();

    // The empty table and the footer.
    let t = screen(&mut app, 160, 30);
    let s = text(&t);
    assert!(s.contains("no rows yet — press F5 to sync"), "{s}");
    let f = footer(&t);
    assert!(f.contains("F5 sync") && f.contains("Ctrl-f filter"), "{f}");
    no_old_keys(&s);
    insta::assert_snapshot!("rebound_devices_empty_160x30", t.backend());

    // The help lists the new keys, the wizard's too.
    app.handle_key(ch('?'));
    let s = text(&screen(&mut app, 100, 140));
    for line in [
        "  F5             sync now (incremental)",
        "  Ctrl-f         filter (fuzzy; ^ $ ' ! per cell; col:value; tag:k=v)",
        "  F6             read the file again",
        "  F7             leave as is: change nothing for this choice",
    ] {
        assert!(s.contains(line), "{line:?} missing in the help:\n{s}");
    }
    no_old_keys(&s);
    app.handle_key(k(KeyCode::Esc));
    assert_eq!(app.mode(), InputMode::Normal);

    // The new keys act, the old ones do not.
    app.handle_key(ch('s'));
    assert!(app.take_effects().is_empty(), "s no longer syncs");
    app.handle_key(k(KeyCode::F(5)));
    assert!(matches!(&app.take_effects()[..], [Effect::Sync(_)]));
    app.handle_key(ch('/'));
    assert_eq!(app.mode(), InputMode::Normal, "/ no longer filters");
    app.handle_key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL));
    assert_eq!(app.mode(), InputMode::Filter);
    app.handle_key(k(KeyCode::Esc));

    // The wizard: its heading and footer on the validate step name F6.
    app.handle_key(ch('4'));
    app.handle_key(ch('n'));
    app.take_effects();
    app.on_loaded(Loaded::Wizard(WizardMsg::Catalog(Ok((
        Arc::new(catalog()),
        None,
    )))));
    app.type_str(SHEET);
    app.handle_key(k(KeyCode::Enter));
    assert!(answer_load(&mut app));
    assert_eq!(step(&app), WizardStep::Validate);
    let t = screen(&mut app, 120, 30);
    let s = text(&t);
    assert!(
        s.contains("Fix the file and press F6 to read it again, or Enter to continue"),
        "{s}"
    );
    assert!(footer(&t).contains("F6 reload"), "{}", footer(&t));
    no_old_keys(&s);
    insta::assert_snapshot!("rebound_wizard_validate_120x30", t.backend());
    app.handle_key(ch('r'));
    assert!(!answer_load(&mut app), "r no longer reads the file again");
    app.handle_key(k(KeyCode::F(6)));
    assert!(answer_load(&mut app), "F6 reads it again");
    assert_eq!(step(&app), WizardStep::Validate);

    // The empty subscription chooser, and the toast Enter gives there, name F7.
    app.handle_key(k(KeyCode::Enter));
    app.handle_key(k(KeyCode::Enter));
    assert_eq!(step(&app), WizardStep::Subscription);
    app.handle_key(k(KeyCode::Enter));
    assert!(
        app.toasts().iter().any(|t| t.text
            == "no subscription selected; press F7 to leave the subscriptions as they are"),
        "{:?}",
        app.toasts()
    );
    let t = screen(&mut app, 160, 30);
    let s = text(&t);
    assert!(s.contains("enough seats) — press F7 to leave as is"), "{s}");
    assert!(
        s.contains("press F7 to leave the subscriptions"),
        "the toast:\n{s}"
    );
    assert!(footer(&t).contains("F7 leave as is"), "{}", footer(&t));
    no_old_keys(&s);
    app.handle_key(ch('-'));
    assert_eq!(step(&app), WizardStep::Subscription, "- no longer skips");
    app.handle_key(k(KeyCode::F(7)));
    assert_eq!(step(&app), WizardStep::Region, "F7 leaves it as is");
}

#[test]
fn an_unbound_action_says_where_to_bind_it() {
    let mut ui = UiConfig::default();
    ui.keys.insert("sync".into(), String::new());
    let mut app = App::new(&ui, false, false, now());
    app.on_loaded(Loaded::Devices(rows::device_rows(&[], now())));
    let s = text(&screen(&mut app, 120, 20));
    assert!(
        s.contains("no rows yet — bind `sync` in [ui.keys] to sync"),
        "{s}"
    );
    let mut app = App::new(&UiConfig::default(), true, false, now());
    app.on_loaded(Loaded::Devices(rows::device_rows(&[], now())));
    let s = text(&screen(&mut app, 120, 20));
    assert!(
        s.contains("no rows yet — leave read-only mode to sync"),
        "{s}"
    );
}

/// The README's keys table as a user reads it: the key column of each row, with `a`–`b`
/// ranges of digits spelled out, split into the keys it names.
fn readme_keys() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("\n## Keys\n")
        .nth(1)
        .expect("README has a ## Keys section")
        .split("\n#")
        .next()
        .unwrap();
    let mut keys = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| ")) {
        let column = row.trim_start_matches("| ").split(" | ").next().unwrap();
        // Odd pieces are inside backticks (a key as typed, `/` too); even ones are prose
        // around them: other key names, separators and the `a`–`b` of a range.
        let pieces: Vec<&str> = column.split('`').collect();
        for (i, piece) in pieces.iter().enumerate() {
            if i % 2 == 1 {
                keys.push((*piece).to_string());
            } else if piece.trim() == "–" && i > 0 && i + 1 < pieces.len() {
                let (a, b) = (pieces[i - 1].parse::<u32>(), pieces[i + 1].parse::<u32>());
                if let (Ok(a), Ok(b)) = (a, b) {
                    keys.extend((a + 1..b).map(|d| d.to_string()));
                }
            } else {
                let words = piece.split([',', '/', ' ']).filter(|w| !w.is_empty());
                keys.extend(words.map(str::to_string));
            }
        }
    }
    keys
}

/// Every key the live default keymap binds in the tables is in the README's keys table, so
/// the README, the help and the footer (both built from the keymap) agree.
#[test]
fn readme_keys_table_names_every_default_table_key() {
    let (keymap, warnings) = glp_console::tui::keys::Keymap::new(&BTreeMap::new(), false);
    assert!(warnings.is_empty(), "{warnings:?}");
    let readme = readme_keys();
    let mut missing = Vec::new();
    for info in glp_console::tui::keys::ACTIONS {
        for key in keymap.keys(info.action) {
            let name = key.to_string();
            if !readme.contains(&name) {
                missing.push(format!("{name} ({})", info.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys bound by default but missing from README's keys table: {missing:?}\nREADME has {readme:?}"
    );
}

/// Every `:` command the command line dispatches on is in the README's keys table too.
#[test]
fn readme_keys_table_names_every_command() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let keys = readme.split("\n## Keys\n").nth(1).unwrap();
    let keys = keys.split("\n#").next().unwrap();
    let missing: Vec<&str> = glp_console::tui::app::commands::COMMANDS
        .iter()
        .filter(|c| {
            let spelled = [c.name]
                .into_iter()
                .chain(c.aliases.iter().copied())
                .any(|n| keys.contains(&format!("`:{n}")));
            !spelled
        })
        .map(|c| c.name)
        .collect();
    assert!(
        missing.is_empty(),
        "commands missing from README: {missing:?}"
    );
}
