//! The console measured as the user meets it, for the benches that open it on a filled
//! database (`tui_bench` on one seeded workspace, `msp_sync` on the fleet a sync stored):
//! the App over a TestBackend fed by the loader as the run loop would, and filter keystrokes
//! timed to the filtered result on screen. Included with `#[path]`.
#![allow(
    dead_code,
    reason = "each bench that includes it reads the parts it reports"
)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::store::Store;
use glp_console::tui::app::{App, Effect, Loaded, TableId};
use glp_console::tui::filter::{FilterWorker, MatcherKind};
use glp_console::tui::run::load_all;
use glp_console::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A field of `/proc/self/status` (`VmRSS:`, `VmHWM:`) in MB.
pub fn rss_mb(field: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The `p` quantile (0.0–1.0) of `v`, nearest rank; 0 for no samples.
pub fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn loaded_name(l: &Loaded) -> &'static str {
    match l {
        Loaded::DevicesHead { .. } => "devices-head",
        Loaded::DeviceCounts { .. } => "device-counts",
        Loaded::Devices(_) => "devices",
        Loaded::Subscriptions { .. } => "subscriptions",
        Loaded::ScopedSubscriptions { .. } => "subscriptions",
        Loaded::Workspaces { .. } => "workspaces",
        Loaded::Covered(_) => "covered",
        Loaded::Assign(_) => "assign",
        Loaded::LastGoodSync(_) => "last-sync",
        _ => "other",
    }
}

/// Draw one frame; its time in ms.
pub fn draw(t: &mut Terminal<TestBackend>, app: &mut App) -> f64 {
    let s = Instant::now();
    t.draw(|f| view::draw(f, app)).unwrap();
    s.elapsed().as_secs_f64() * 1000.0
}

/// The screen as text, a line per row (what the user reads).
pub fn screen(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let w = buf.area.width as usize;
    let cells: Vec<&str> = buf.content().iter().map(|c| c.symbol()).collect();
    cells.chunks(w).map(|r| r.concat() + "\n").collect()
}

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

/// The console from start to every tab loaded, with the times (ms after start) a user sees.
pub struct Opened {
    pub app: App,
    pub term: Terminal<TestBackend>,
    /// The loading screen drawn.
    pub first_paint: f64,
    /// Each loader message, as "name ms".
    pub arrivals: Vec<String>,
    /// The first frame showing device rows drawn (the first screenful).
    pub devices_first: Option<f64>,
    /// The frame showing the device count in the tab title drawn, and that count.
    pub counted: Option<f64>,
    pub total_counted: usize,
    /// That first frame with devices, as text.
    pub first_screen: String,
    /// The frame after the full device list was applied drawn.
    pub devices_all: Option<f64>,
    /// Every loader message applied and drawn.
    pub all_tabs: f64,
    /// This process's RSS while loading, at most.
    pub rss_peak_load: f64,
}

/// Open the console on `store`: App created and the loading screen drawn; then the loader runs
/// as in the console (its own task, "all workspaces" when the database holds several) and
/// every message is applied and drawn as it arrives.
pub async fn open(store: &Store) -> Opened {
    let start = Instant::now();
    let now = Utc::now();
    let mut app = App::new(&UiConfig::default(), false, false, now);
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    draw(&mut term, &mut app);
    let first_paint = start.elapsed().as_secs_f64() * 1000.0;
    let (ltx, mut lrx) = tokio::sync::mpsc::unbounded_channel();
    let store = store.clone();
    let loader = tokio::spawn(async move {
        load_all(&store, now, &|l| {
            let _ = ltx.send(l);
        })
        .await
    });
    let (mut devices_first, mut devices_all, mut counted) = (None, None, None);
    let (mut total_counted, mut first_screen) = (0, String::new());
    let mut rss_peak_load: f64 = 0.0;
    let mut arrivals = Vec::new();
    while let Some(l) = lrx.recv().await {
        arrivals.push(format!(
            "{} {:.0}",
            loaded_name(&l),
            start.elapsed().as_secs_f64() * 1000.0
        ));
        let head = matches!(l, Loaded::DevicesHead { .. });
        let full = matches!(l, Loaded::Devices(_));
        app.on_loaded(l);
        draw(&mut term, &mut app);
        let at = start.elapsed().as_secs_f64() * 1000.0;
        if (head || full) && devices_first.is_none() {
            first_screen = screen(&term);
            devices_first = Some(at);
        }
        let devices = app.table_by_id(TableId::Devices);
        if devices.loaded && !devices.counting() && counted.is_none() {
            total_counted = devices.total();
            counted = Some(at);
        }
        if full {
            devices_all = Some(at);
        }
        rss_peak_load = rss_peak_load.max(rss_mb("VmRSS:"));
    }
    loader.await.unwrap().unwrap();
    let all_tabs = start.elapsed().as_secs_f64() * 1000.0;
    app.take_effects();
    draw(&mut term, &mut app);
    Opened {
        app,
        term,
        first_paint,
        arrivals,
        devices_first,
        counted,
        total_counted,
        first_screen,
        devices_all,
        all_tabs,
        rss_peak_load,
    }
}

/// Type each query a key at a time; after every key wait for its result, drawing frames
/// meanwhile (as the run loop would at ≤30 fps). Returns (latencies, frame times).
pub fn filter_run(
    app: &mut App,
    t: &mut Terminal<TestBackend>,
    kind: MatcherKind,
    queries: &[&str],
) -> (Vec<f64>, Vec<f64>) {
    let (tx, rx) = mpsc::channel();
    let worker = FilterWorker::spawn(kind, move |r| {
        let _ = tx.send(r);
    });
    let mut lat = Vec::new();
    let mut frames = Vec::new();
    for q in queries {
        app.handle_key(key('/'));
        for c in q.chars() {
            let start = Instant::now();
            app.handle_key(key(c));
            let mut submitted = false;
            for e in app.take_effects() {
                if let Effect::Filter(j) = e {
                    worker.submit(j);
                    submitted = true;
                }
            }
            frames.push(draw(t, app)); // the keystroke echo frame
            if !submitted {
                // A text that cannot run (an unknown column) is answered on the spot.
                continue;
            }
            loop {
                match rx.recv_timeout(Duration::from_millis(33)) {
                    Ok(r) => {
                        let mine = r.generation == app.table().awaited;
                        app.on_filter(r);
                        if mine {
                            frames.push(draw(t, app));
                            lat.push(start.elapsed().as_secs_f64() * 1000.0);
                            break;
                        }
                    }
                    Err(_) => frames.push(draw(t, app)),
                }
            }
        }
        app.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    }
    (lat, frames)
}

/// One filter run's line: keystroke → result on screen and the frames meanwhile.
pub fn filter_line(label: &str, keys: usize, lat: &mut [f64], frames: &mut [f64]) -> String {
    format!(
        "{label}: keystroke→result on screen p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({keys} keys); frame while filtering p95 {:.2} ms, max {:.2} ms",
        pct(lat, 0.5),
        pct(lat, 0.95),
        pct(lat, 1.0),
        pct(frames, 0.95),
        pct(frames, 1.0),
    )
}
