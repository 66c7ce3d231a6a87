//! Bytes the console writes to its terminal (issue 14, item 13): per one-line scroll of the
//! Devices table at 80×24 and 200×50, and per idle minute — before (ratatui's crossterm
//! backend inside a synchronized update, as the run loop drew until then) and after
//! (`tui::output::LinkBackend`: scroll regions, nothing for an unchanged frame).
//!
//! It counts bytes, not time, so the profile does not matter: `cargo test --bench tui_bytes`
//! runs it in the dev profile without the release build `cargo bench` would start. No
//! database: the tables are filled in memory as the loader would fill them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::io::Write;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::store::views::{DeviceRecord, SubscriptionRecord};
use glp_console::sync::events::EngineStatus;
use glp_console::tui::app::{App, Loaded};
use glp_console::tui::model::rows;
use glp_console::tui::output::LinkBackend;
use glp_console::tui::theme::Glyphs;
use glp_console::tui::view;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// A terminal that only counts.
#[derive(Default)]
struct Count(u64);

impl Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn app() -> App {
    let types = ["AP", "SWITCH", "GATEWAY", "COMPUTE"];
    let devs: Vec<DeviceRecord> = (0..10_000usize)
        .map(|i| DeviceRecord {
            id: format!("dev-{i:05}"),
            serial_number: format!("VNT{i:07}"),
            mac_address: Some(format!("00:11:22:33:{:02X}:{:02X}", i / 256 % 256, i % 256)),
            device_type: Some(types[i % 4].into()),
            model: Some(format!("AP-63{}-US-{}", i % 7, ["RW", "JP", "IL"][i % 3])),
            region: Some("us-west".into()),
            application_id: Some(format!(
                "d91aa0b9-{:04x}-4c1e-9a6f-0c2d5e8b7a1{}",
                i % 3,
                i % 10
            )),
            application_name: None,
            assigned_state: Some("ASSIGNED_TO_SERVICE".into()),
            archived: false,
            removed_at: None,
            last_seen_at: Some(now() - Duration::minutes(i as i64 % 500)),
            device_name: Some(format!("branch-{}-ap-{i}", i % 40)),
            subscription_key: Some(format!("KEY{:010}", i % 50)),
            subscription_end: Some(now() + Duration::days(i as i64 % 400)),
            subscription_count: 1,
            tags: Some(format!(
                "env=prod,site=branch-{},owner=netops-{}",
                i % 40,
                i % 9
            )),
        })
        .collect();
    let subs: Vec<SubscriptionRecord> = (0..50usize)
        .map(|i| SubscriptionRecord {
            id: format!("sub-{i}"),
            key: Some(format!("KEY{i:010}")),
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
            devices: 200,
        })
        .collect();
    let mut app = App::new(&UiConfig::default(), false, false, now());
    app.on_loaded(Loaded::Devices(rows::device_rows(&devs, now())));
    let table = rows::subscription_rows(&subs, now());
    app.on_loaded(Loaded::Subscriptions {
        records: Arc::new(subs),
        table,
    });
    app.on_status(EngineStatus {
        last_success: Some(now() - Duration::minutes(5)),
        ..EngineStatus::default()
    });
    app.take_effects();
    app
}

/// One way of getting a frame to the terminal, and the bytes written so far.
trait Wire {
    fn frame(&mut self, app: &mut App);
    fn bytes(&self) -> u64;
}

thread_local! {
    /// What the `Before` backend has written (`CrosstermBackend` keeps its writer to itself).
    static COUNT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// After: the backend that sends only what changed.
struct After(Terminal<LinkBackend<Count>>);

impl Wire for After {
    fn frame(&mut self, app: &mut App) {
        self.0.draw(|f| view::draw(f, app)).unwrap();
        app.mark_drawn();
    }
    fn bytes(&self) -> u64 {
        self.0.backend().written()
    }
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

struct Costs {
    first: u64,
    scroll: u64,
    move_only: u64,
    idle_minute: u64,
}

fn measure(wire: &mut dyn Wire) -> Costs {
    let mut app = app();
    let b0 = wire.bytes();
    wire.frame(&mut app);
    let first = wire.bytes() - b0;
    // A move inside the window, then down to its last row, then the one that scrolls.
    let b = wire.bytes();
    app.handle_key(key('j'));
    wire.frame(&mut app);
    let move_only = wire.bytes() - b;
    while app.table().selected_index() + 1 < app.page_height() {
        app.handle_key(key('j'));
        wire.frame(&mut app);
    }
    let b = wire.bytes();
    app.handle_key(key('j'));
    wire.frame(&mut app);
    let scroll = wire.bytes() - b;
    // An idle minute: the loop's 250 ms ticks, a frame whenever the app says so.
    let b = wire.bytes();
    for i in 1..=240 {
        app.on_tick(now() + Duration::milliseconds(250 * i));
        if app.is_dirty() {
            wire.frame(&mut app);
        }
    }
    let idle_minute = wire.bytes() - b;
    Costs {
        first,
        scroll,
        move_only,
        idle_minute,
    }
}

/// Counts into [`COUNT`] (the `Before` backend's writer).
struct Shared;

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        COUNT.with(|c| c.set(c.get() + b.len() as u64));
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    println!("bytes written to the terminal (Devices tab, 10,000 rows)");
    println!(
        "{:<8} {:<7} {:>12} {:>16} {:>14} {:>12}",
        "size", "backend", "first frame", "one-line scroll", "move, no scroll", "idle minute"
    );
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        let before = {
            let backend = CrosstermBackend::new(Shared);
            let t = Terminal::with_options(
                backend,
                ratatui::TerminalOptions {
                    viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, w, h)),
                },
            )
            .unwrap();
            COUNT.with(|c| c.set(0));
            measure(&mut Before(t))
        };
        let after = measure(&mut After(
            Terminal::new(LinkBackend::fixed(Count::default(), w, h, Glyphs::Unicode)).unwrap(),
        ));
        for (name, c) in [("before", &before), ("after", &after)] {
            println!(
                "{:<8} {:<7} {:>12} {:>16} {:>14} {:>12}",
                format!("{w}x{h}"),
                name,
                c.first,
                c.scroll,
                c.move_only,
                c.idle_minute
            );
        }
    }
}

/// Before: ratatui's backend inside a synchronized update (the run loop's `draw` until
/// now), on a fixed-size viewport (a `CrosstermBackend` asks the real terminal for its size
/// otherwise).
struct Before(Terminal<CrosstermBackend<Shared>>);

impl Wire for Before {
    fn frame(&mut self, app: &mut App) {
        crossterm::queue!(
            self.0.backend_mut(),
            crossterm::terminal::BeginSynchronizedUpdate
        )
        .unwrap();
        self.0.draw(|f| view::draw(f, app)).unwrap();
        crossterm::execute!(
            self.0.backend_mut(),
            crossterm::terminal::EndSynchronizedUpdate
        )
        .unwrap();
        app.mark_drawn();
    }
    fn bytes(&self) -> u64 {
        COUNT.with(|c| c.get())
    }
}
