//! The binding type on its own: overrides, clashes per context, the modes following the
//! table's keys, and the texts built from them.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::wizard::step::WizardStep;

fn keys(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn ev(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn defaults_have_no_clash_and_every_name_is_unique() {
    let (_, warnings) = Keymap::new(&BTreeMap::new(), false);
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut names: Vec<&str> = ACTIONS.iter().map(|a| a.name).collect();
    names.extend(WIZARD_ACTIONS.iter().map(|a| a.name));
    names.extend(MODAL_ACTIONS.iter().map(|a| a.name));
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "a name used twice");
}

#[test]
fn the_modes_follow_the_tables_keys_unless_rebound_themselves() {
    let (km, w) = Keymap::new(&keys(&[("down", "ctrl-n"), ("help_close", "F1")]), false);
    assert!(w.is_empty(), "{w:?}");
    let ctrl_n = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL);
    assert_eq!(
        km.modal(Context::Pane, &ctrl_n),
        Some(ModalAction::PaneDown)
    );
    assert_eq!(
        km.modal(Context::Help, &ctrl_n),
        Some(ModalAction::HelpDown)
    );
    assert_eq!(km.modal(Context::Pane, &ev(KeyCode::Char('j'))), None);
    assert_eq!(
        km.modal(Context::Help, &ev(KeyCode::Esc)),
        None,
        "help_close is F1 only"
    );
    assert_eq!(
        km.footer(Context::Help),
        "F1 close help · Ctrl-n/k scroll · g/G top/bottom · / find"
    );
    // The wizard's cursor keeps the arrows whatever `up` and `down` are.
    assert_eq!(km.label(WizardAction::CursorDown), "Ctrl-n/↓");
}

#[test]
fn footers_of_the_modes_with_the_default_keys() {
    let (km, _) = Keymap::new(&BTreeMap::new(), false);
    assert_eq!(
        km.footer(Context::Filter),
        "Enter keep · Esc clear · ↑↓ move"
    );
    assert_eq!(
        km.footer(Context::Pane),
        "Esc close · j/k scroll · PgUp/PgDn · y copy"
    );
    assert_eq!(
        km.footer(Context::Columns),
        "Space toggle column · j/k move · Esc done"
    );
    assert_eq!(
        km.footer(Context::Help),
        "Esc/? close help · j/k scroll · g/G top/bottom · / find"
    );
    let (km, _) = Keymap::new(
        &keys(&[("filter_up", "ctrl-p"), ("filter_keep", "")]),
        false,
    );
    assert_eq!(km.footer(Context::Filter), "Esc clear · Ctrl-p/↓ move");
}

#[test]
fn a_clash_is_per_scope() {
    // `r` reverses the sort in the table and reloads in the wizard: no clash.
    let (km, w) = Keymap::new(&keys(&[("filter_clear", "F2"), ("pane_copy", "F2")]), false);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        km.modal(Context::Filter, &ev(KeyCode::F(2))),
        Some(ModalAction::FilterClear)
    );
    assert_eq!(
        km.modal(Context::Pane, &ev(KeyCode::F(2))),
        Some(ModalAction::PaneCopy)
    );
    let (_, w) = Keymap::new(&keys(&[("filter_clear", "enter")]), false);
    assert!(
        w.iter()
            .any(|w| w.contains("Enter is bound to both filter_clear and filter_keep")),
        "{w:?}"
    );
}

#[test]
fn a_character_where_text_is_typed_is_reported() {
    let (_, w) = Keymap::new(
        &keys(&[("filter_clear", "x"), ("wizard_back", "esc q")]),
        false,
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("filter_clear: x is typed as text"), "{w:?}");
}

#[test]
fn texts_name_the_live_key_or_say_how_to_get_one() {
    let (km, _) = Keymap::new(&keys(&[("sync", "F5"), ("wizard_reload", "")]), false);
    assert_eq!(km.press(Action::Sync, "sync"), "press F5 to sync");
    assert_eq!(km.say(Action::Sync), "F5");
    assert_eq!(
        km.press(WizardAction::Reload, "reload"),
        "bind `wizard_reload` in [ui.keys] to reload"
    );
    assert!(km.say(WizardAction::Reload).contains("unbound"));
    let (ro, _) = Keymap::new(&BTreeMap::new(), true);
    assert_eq!(
        ro.press(Action::Sync, "sync"),
        "leave read-only mode to sync"
    );
}

#[test]
fn unknown_names_point_at_the_live_help_key() {
    let (_, w) = Keymap::new(&keys(&[("frobnicate", "x"), ("help", "F1")]), false);
    assert!(
        w[0].contains("frobnicate: no such action (see `F1` in the console"),
        "{w:?}"
    );
}

#[test]
fn fixed_editing_keys() {
    let (km, _) = Keymap::new(&BTreeMap::new(), false);
    assert_eq!(km.edit(&ev(KeyCode::Char('q'))), Some(Edit::Type('q')));
    assert_eq!(km.edit(&ev(KeyCode::Backspace)), Some(Edit::Backspace));
    let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
    assert_eq!(km.edit(&ctrl_u), Some(Edit::ClearLine));
    assert_eq!(km.edit(&ev(KeyCode::Esc)), None);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(km.is_always_quit(&ctrl_c));
    assert_eq!(km.always_quit_label(), "Ctrl-c");
    assert_eq!(
        km.wizard.hints(WizardStep::File)[2],
        ("Esc".to_string(), "close")
    );
}
