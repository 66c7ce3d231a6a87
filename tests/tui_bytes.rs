//! What the console costs on a slow link (issue 14, item 13), measured on the bytes the
//! terminal backend writes: a one-line scroll is a terminal-side scroll plus the rows that
//! changed (≤ 1.5 KB at 200×50, where a repaint was 8.3 KB), and the screen it leaves is the
//! one a full repaint draws (replayed in a small terminal emulator and compared with a
//! `TestBackend` render of the same state); an idle console writes nothing; a non-UTF-8
//! locale gets ASCII only.
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

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::vt::{Vt, text};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::store::views::{DeviceRecord, SubscriptionRecord};
use glp_console::sync::events::EngineStatus;
use glp_console::tui::app::{App, Loaded};
use glp_console::tui::model::rows;
use glp_console::tui::output::LinkBackend;
use glp_console::tui::theme::{Glyphs, no_color_env};
use glp_console::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn device(i: usize) -> DeviceRecord {
    let types = ["AP", "SWITCH", "GATEWAY"];
    DeviceRecord {
        id: format!("dev-{i:05}"),
        serial_number: format!("VNT{i:07}"),
        mac_address: Some(format!("00:11:22:33:{:02X}:{:02X}", i / 256 % 256, i % 256)),
        device_type: Some(types[i % 3].into()),
        model: Some(format!("MODEL-{}", i % 7)),
        region: Some("us-west".into()),
        application_id: None,
        application_name: None,
        assigned_state: Some("ASSIGNED_TO_SERVICE".into()),
        archived: false,
        removed_at: None,
        last_seen_at: Some(now() - Duration::minutes(i as i64 % 50)),
        device_name: Some(format!("branch-{}-ap-{i}", i % 40)),
        subscription_key: Some(format!("KEY{:06}", i % 50)),
        subscription_end: Some(now() + Duration::days(i as i64 % 400)),
        subscription_count: 1,
        tags: None,
    }
}

fn sub(i: usize) -> SubscriptionRecord {
    SubscriptionRecord {
        id: format!("sub-{i}"),
        key: Some(format!("KEY{i:06}")),
        subscription_type: Some("CENTRAL_AP".into()),
        tier: Some("FOUNDATION_AP".into()),
        status: Some("STARTED".into()),
        quantity: Some(100),
        available_quantity: Some(20),
        start_time: Some(now() - Duration::days(300)),
        end_time: Some(now() + Duration::days(i as i64 * 7 - 20)),
        sku: None,
        is_eval: Some(false),
        removed_at: None,
        devices: 20,
    }
}

/// A console with `n` devices and 50 subscriptions, synced 5 minutes and a second ago.
fn app(n: usize) -> App {
    // Under NO_COLOR crossterm writes no colour at all: the app then draws none either, so
    // the replay still matches the repaint.
    let mut app = App::new(&UiConfig::default(), false, no_color_env(), now());
    let devs: Vec<DeviceRecord> = (0..n).map(device).collect();
    app.on_loaded(Loaded::Devices(rows::device_rows(&devs, now())));
    let subs: Vec<SubscriptionRecord> = (0..50).map(sub).collect();
    let table = rows::subscription_rows(&subs, now());
    app.on_loaded(Loaded::Subscriptions {
        records: Arc::new(subs),
        table,
    });
    app.on_status(EngineStatus {
        last_success: Some(now() - Duration::seconds(301)),
        ..EngineStatus::default()
    });
    app.take_effects();
    app
}

type Wire = Terminal<LinkBackend<Vec<u8>>>;

fn wire(w: u16, h: u16, glyphs: Glyphs) -> Wire {
    Terminal::new(LinkBackend::fixed(Vec::new(), w, h, glyphs)).unwrap()
}

/// Draw as the run loop does; the bytes this frame wrote.
fn draw(t: &mut Wire, app: &mut App) -> u64 {
    let before = t.backend().written();
    t.draw(|f| view::draw(f, app)).unwrap();
    app.mark_drawn();
    t.backend().written() - before
}

fn press(t: &mut Wire, app: &mut App, key: KeyEvent) -> u64 {
    app.handle_key(key);
    draw(t, app)
}

fn ch(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

/// The same state drawn from scratch.
fn repaint(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    t.backend().buffer().clone()
}

/// Everything written so far, replayed in a terminal, is the full repaint of `app`.
fn assert_screen_is_repaint(t: &Wire, app: &App, what: &str) {
    let area = t.backend().shown().area;
    let mut vt = Vt::new(area.width, area.height);
    vt.feed(t.backend().writer());
    let want = repaint(app, area.width, area.height);
    assert!(
        vt.screen == want,
        "{what}: the terminal shows\n{}\nbut a repaint draws\n{}",
        text(&vt.screen),
        text(&want)
    );
}

fn first_row(t: &Wire) -> String {
    let b = t.backend().shown();
    (0..b.area.width)
        .map(|x| b[(x, 3)].symbol().to_string())
        .collect()
}

#[test]
fn a_one_line_scroll_costs_a_row_or_two_and_leaves_the_repainted_screen() {
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        let mut app = app(2_000);
        let mut t = wire(w, h, Glyphs::Unicode);
        let first = draw(&mut t, &mut app);
        let rows = app.page_height();
        assert!(rows > 10, "{rows}");
        for _ in 1..rows {
            press(&mut t, &mut app, ch('j'));
        }
        assert_eq!(app.table().selected_index(), rows - 1);
        let top = first_row(&t);
        let cost = press(&mut t, &mut app, ch('j'));
        assert_ne!(first_row(&t), top, "the window moved by a row");
        eprintln!("{w}x{h}: first frame {first} B, one-line scroll {cost} B");
        assert!(
            cost <= 1_500,
            "a one-line scroll at {w}x{h} wrote {cost} bytes (a repaint is {first})"
        );
        assert_screen_is_repaint(&t, &app, &format!("{w}x{h} after one j"));

        // Up past the top of the window, half pages, a page, the ends, a filter: each frame
        // leaves the screen a repaint would.
        let steps: Vec<(&str, KeyEvent)> = vec![
            ("j", ch('j')),
            ("k", ch('k')),
            (
                "ctrl-d",
                KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL),
            ),
            ("pgdn", KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)),
            (
                "ctrl-u",
                KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL),
            ),
            ("G", ch('G')),
            ("k", ch('k')),
            ("g", ch('g')),
        ];
        for (name, key) in steps {
            press(&mut t, &mut app, key);
            assert_screen_is_repaint(&t, &app, &format!("{w}x{h} after {name}"));
        }
        for _ in 0..rows + 3 {
            press(&mut t, &mut app, ch('j'));
        }
        for _ in 0..rows + 3 {
            let up = press(&mut t, &mut app, ch('k'));
            assert!(up <= 1_500, "k at {w}x{h}: {up} bytes");
        }
        assert_screen_is_repaint(&t, &app, &format!("{w}x{h} after k past the top"));
        for tab in ['2', '3', '1'] {
            press(&mut t, &mut app, ch(tab));
            assert_screen_is_repaint(&t, &app, &format!("{w}x{h} on tab {tab}"));
        }
        // A resize clears and repaints.
        t.backend_mut().set_size(w - 7, h - 3);
        draw(&mut t, &mut app);
        assert_screen_is_repaint(&t, &app, &format!("{w}x{h} resized"));
    }
}

#[test]
fn an_idle_console_writes_nothing() {
    let mut app = app(500);
    let mut t = wire(120, 40, Glyphs::Unicode);
    draw(&mut t, &mut app);
    // 50 s of the loop's 250 ms ticks, inside the same minute of "synced … (5m ago)": the
    // console redraws each second, and the terminal gets no byte.
    let mut idle = 0;
    for i in 1..=200 {
        app.on_tick(now() + Duration::milliseconds(250 * i));
        if app.is_dirty() {
            idle += draw(&mut t, &mut app);
        }
    }
    assert_eq!(idle, 0, "an idle console wrote {idle} bytes in 50 s");
    // The age moves to the next minute: only that text goes out.
    app.on_tick(now() + Duration::seconds(60));
    let minute = draw(&mut t, &mut app);
    assert!(minute > 0 && minute < 80, "{minute}");
    assert_screen_is_repaint(&t, &app, "after the minute changed");
}

#[test]
fn the_locale_picks_the_glyphs_as_the_c_library_does() {
    let with = |vars: &[(&str, &str)]| {
        Glyphs::from_locale(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    };
    assert_eq!(with(&[]), Glyphs::Ascii);
    assert_eq!(with(&[("LANG", "C")]), Glyphs::Ascii);
    assert_eq!(with(&[("LANG", "POSIX")]), Glyphs::Ascii);
    assert_eq!(with(&[("LANG", "en_US")]), Glyphs::Ascii);
    assert_eq!(with(&[("LANG", "de_DE.ISO-8859-15@euro")]), Glyphs::Ascii);
    assert_eq!(with(&[("LANG", "en_US.UTF-8")]), Glyphs::Unicode);
    assert_eq!(with(&[("LANG", "C.utf8")]), Glyphs::Unicode);
    assert_eq!(with(&[("LANG", "de_DE.utf-8@euro")]), Glyphs::Unicode);
    assert_eq!(
        with(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "C")]),
        Glyphs::Ascii
    );
    assert_eq!(
        with(&[("LANG", "C"), ("LC_CTYPE", "en_GB.UTF-8")]),
        Glyphs::Unicode
    );
    assert_eq!(
        with(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "")]),
        Glyphs::Unicode
    );
}

#[test]
fn ascii_glyphs_send_no_byte_above_0x7f_and_keep_the_layout() {
    let mut app = app(300);
    let (w, h) = (120, 40);
    let mut t = wire(w, h, Glyphs::Ascii);
    draw(&mut t, &mut app);
    // Sort mark, detail pane borders, help, the Expiring chart and side bar, the filter line.
    for key in [
        ch('o'),
        ch('j'),
        KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        ch('?'),
        KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        ch('3'),
        ch('j'),
        ch('2'),
        ch('/'),
        ch('K'),
    ] {
        press(&mut t, &mut app, key);
    }
    let bytes = t.backend().writer();
    let high = bytes.iter().filter(|b| **b >= 0x80).count();
    assert_eq!(high, 0, "{high} bytes above 0x7f");
    // Same cells as the Unicode screen, each glyph swapped for one ASCII character.
    let mut vt = Vt::new(w, h);
    vt.feed(bytes);
    let want = repaint(&app, w, h);
    for (got, want) in vt.screen.content.iter().zip(&want.content) {
        assert_eq!(
            got.symbol(),
            glp_console::tui::theme::ascii_symbol(want.symbol()),
            "screen:\n{}",
            text(&vt.screen)
        );
        assert_eq!(got.style(), want.style());
    }
}
