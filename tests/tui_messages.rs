//! `:messages` keeps every toast (issue 14, readable errors): a toast goes after seconds, and
//! one that newer ones pushed off the screen was never read at all; the log shows each in
//! full, long reasons wrapped, not cut after a URL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share)"
)]

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::tui::app::{App, InputMode, ToastLevel};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
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

#[test]
fn messages_lists_every_toast_in_full_even_those_pushed_off_the_screen() {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    let mut app = App::new(&UiConfig::default(), false, false, now);
    let long = "tags: HTTP 400 errorCode HPE_GL_ERROR_BAD_REQUEST tag key 'bad tag!' must match \
                [A-Za-z0-9_.:/=+@-]+. GreenLake rejected the request as invalid — PATCH \
                http://127.0.0.1:44161/devices/v1/devices?id=0a1b2c3d-end-of-the-url";
    app.toast(ToastLevel::Error, long);
    for i in 1..=6 {
        app.toast(ToastLevel::Info, format!("message number {i}"));
    }
    // Only the newest few are on screen; the long error was pushed off.
    let on_screen: Vec<String> = app.toasts().iter().map(|t| t.text.clone()).collect();
    assert!(
        !on_screen.iter().any(|t| t.starts_with("tags:")),
        "{on_screen:?}"
    );

    for c in ":messages".chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.mode(), InputMode::Detail);
    app.clear_toasts();
    let s = screen(&mut app, 100, 30);
    assert!(s.contains("Messages (7)"), "{s}");
    for i in 1..=6 {
        assert!(s.contains(&format!("message number {i}")), "{s}");
    }
    // The long one in full: its start, its reason and the very end of its URL.
    assert!(s.contains("tags: HTTP 400"), "{s}");
    assert!(s.contains("must match"), "{s}");
    assert!(s.contains("end-of-the-url"), "{s}");
    // Esc closes it, as any pane.
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.mode(), InputMode::Normal);
}
