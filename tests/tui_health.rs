//! The status bar's API light, breaker countdown and last sync error, as a user reads them:
//! the console's `App` fed by a real engine whose client talks to the simulator over HTTP,
//! drawn on a TestBackend, and compared with the requests the simulator logged. Plus the
//! countdown on its own, with the app's clock set by hand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use common::TestDb;
use glp_console::config::{ApiConfig, SyncConfig, UiConfig};
use glp_console::glp::breaker::{BreakerSnapshot, BreakerState};
use glp_console::glp::health::{HealthSnapshot, RequestOutcome, Sample};
use glp_console::sim::{self, Faults, Outage, SimConfig, SimHandle};
use glp_console::sync::engine::EngineHandle;
use glp_console::sync::events::{
    EngineStatus, Mode, Scope, SyncCommand, SyncEvent, SyncSummary, Trigger,
};
use glp_console::tui::app::{App, Effect};
use glp_console::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The status bar row of a 160×24 frame of `app`.
fn status_line(app: &App) -> String {
    status_line_at(app, 160)
}

fn status_line_at(app: &App, width: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(width, 24)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    let y = buf.area.height - 2;
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// A console: the app, the engine it talks to, and every engine event it has seen.
struct Console {
    app: App,
    engine: EngineHandle,
    events: Vec<SyncEvent>,
}

impl Console {
    fn new(engine: EngineHandle) -> Console {
        // NO_COLOR: the light must say it in glyph and words.
        let mut app = App::new(&UiConfig::default(), false, true, Utc::now());
        app.on_status(engine.status.borrow().clone());
        Console {
            app,
            engine,
            events: Vec::new(),
        }
    }

    /// What the run loop does between two frames: engine events and status into the app,
    /// the clock ticked, the app's sync commands sent; then the status bar as drawn.
    fn pump(&mut self) -> String {
        while let Ok(ev) = self.engine.events.try_recv() {
            self.events.push(ev.clone());
            self.app.on_sync_event(ev);
        }
        if self.engine.status.has_changed().unwrap_or(false) {
            let s = self.engine.status.borrow_and_update().clone();
            self.app.on_status(s);
        }
        self.app.on_tick(Utc::now());
        for e in self.app.take_effects() {
            if let Effect::Sync(cmd) = e {
                self.engine.commands.try_send(cmd).unwrap();
            }
        }
        status_line(&self.app)
    }

    /// Pump until the status bar satisfies `ok` (every bar drawn meanwhile goes to `seen`).
    async fn wait_bar(
        &mut self,
        what: &str,
        limit: Duration,
        seen: &mut Vec<String>,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        // `limit` is what a user would wait; a loaded machine gets the e2e tests' patience.
        let deadline = Instant::now() + limit * u32::try_from(common::tmux::PATIENCE).unwrap();
        loop {
            let bar = self.pump();
            if seen.last() != Some(&bar) {
                seen.push(bar.clone());
            }
            if ok(&bar) {
                return bar;
            }
            assert!(
                Instant::now() < deadline,
                "the status bar never showed {what}; it showed:\n{}",
                seen.join("\n")
            );
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// Start a sync (as the sync key would) and pump until it ends; its final event.
    async fn sync(&mut self, seen: &mut Vec<String>) -> SyncEvent {
        let from = self.events.len();
        self.engine
            .commands
            .send(SyncCommand::SyncNow {
                scope: Scope::Both,
                mode: Mode::Full,
                trigger: Trigger::Tui,
            })
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let bar = self.pump();
            if seen.last() != Some(&bar) {
                seen.push(bar);
            }
            if let Some(end) = self.events[from..]
                .iter()
                .find(|e| matches!(e, SyncEvent::Finished(_) | SyncEvent::Failed { .. }))
            {
                return end.clone();
            }
            assert!(Instant::now() < deadline, "the sync did not end");
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }
}

/// Small pages (so a sync is tens of requests) and one request at a time (so the client's
/// requests end in the order the simulator logged them).
fn api(sim: &SimHandle) -> ApiConfig {
    let mut api = common::engine::api_config(sim);
    api.page_size.devices = 20;
    api.page_size.subscriptions = 20;
    api.max_concurrency = 1;
    api
}

async fn start_sim() -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig::default())
        .await
        .expect("the simulator starts")
}

/// Statuses of the API requests the simulator served (token requests left out), in order.
fn api_statuses(sim: &SimHandle) -> Vec<u16> {
    sim.stats()
        .log
        .iter()
        .filter(|e| e.endpoint != "token")
        .map(|e| e.status)
        .collect()
}

fn outage(secs: u64) -> Faults {
    Faults {
        outage: Some(Outage {
            after_requests: 0,
            duration: Duration::from_secs(secs),
        }),
        ..Faults::default()
    }
}

#[tokio::test]
async fn the_light_follows_the_requests_the_simulator_failed() {
    let db = TestDb::new().await;
    let sim = start_sim().await;
    let mut api = api(&sim);
    // A breaker that never opens: the light must turn on the requests alone (it stayed
    // "API ok" through ~45 s of 503s while the breaker counted whole calls).
    api.breaker.failure_threshold = 1000;
    let client = common::engine::client(&sim, &api);
    let sync_cfg = SyncConfig {
        patience: Duration::from_secs(2),
        ..SyncConfig::default()
    };
    let mut c = Console::new(common::engine::spawn_engine(client, &api, &db, sync_cfg));
    let mut seen = Vec::new();

    let bar = c.pump();
    assert!(bar.contains("○ API: no requests yet"), "{bar}");

    assert!(matches!(c.sync(&mut seen).await, SyncEvent::Finished(_)));
    c.wait_bar("API ok", Duration::from_secs(5), &mut seen, |b| {
        b.contains("● API ok")
    })
    .await;
    assert!(api_statuses(&sim).iter().all(|s| *s == 200));

    // 100 % 503: the run gives up after its patience, the light says down.
    let before = api_statuses(&sim).len();
    sim.set_faults(outage(60));
    let began = Instant::now();
    let ev = c.sync(&mut seen).await;
    assert!(matches!(ev, SyncEvent::Failed { .. }), "{ev:?}");
    let bar = c
        .wait_bar("API down", Duration::from_secs(10), &mut seen, |b| {
            b.contains("✖ API down · failing for")
        })
        .await;
    // Well before the ~45 s of 503s the old light stayed green through (the run's own
    // patience is 2 s; the light needs 3 s of failures).
    assert!(began.elapsed() < Duration::from_secs(20), "{bar}");
    let failed = &api_statuses(&sim)[before..];
    assert!(
        !failed.is_empty() && failed.iter().all(|s| *s == 503),
        "{failed:?}"
    );
    assert!(bar.contains("✖ last sync failed: "), "{bar}");
    assert!(!bar.contains("API ok"), "{bar}");

    // Half the requests fail: they get through on retries, the light says degraded, and
    // says how many of the last ten failed, as the simulator counted them.
    sim.set_faults(Faults {
        error_rate: 0.5,
        error_statuses: vec![503],
        retry_after_seconds: 0,
        // Slow enough that the bar is drawn while the run goes.
        latency: Duration::from_millis(20),
        ..Faults::default()
    });
    let before = api_statuses(&sim).len();
    let from = c.events.len();
    let ev = c.sync(&mut seen).await;
    assert!(matches!(ev, SyncEvent::Finished(_)), "{ev:?}");
    // The error of the failed run stayed on while this one ran.
    assert!(
        c.events[from..]
            .iter()
            .any(|e| matches!(e, SyncEvent::Started { .. }))
    );
    assert!(
        seen.iter()
            .any(|b| b.starts_with("⟳") && b.contains("✖ last sync failed: ")),
        "{seen:#?}"
    );
    let served = &api_statuses(&sim)[before..];
    assert!(served.contains(&503), "{served:?}");
    let last10 = &served[served.len() - 10..];
    let k = last10.iter().filter(|s| **s == 503).count();
    assert!(
        k > 0,
        "the seeded faults failed none of the last ten: {served:?}"
    );
    let want = format!("◑ API degraded · {k}/10 failed");
    let bar = c
        .wait_bar(&want, Duration::from_secs(5), &mut seen, |b| {
            b.contains(&want)
        })
        .await;
    // The run succeeded: the error is gone.
    assert!(!bar.contains("last sync failed"), "{bar}");

    // GreenLake is well again: ten good requests and the light is green.
    sim.set_faults(Faults::default());
    assert!(matches!(c.sync(&mut seen).await, SyncEvent::Finished(_)));
    c.wait_bar("API ok", Duration::from_secs(5), &mut seen, |b| {
        b.contains("● API ok")
    })
    .await;
    let _ = c.engine.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn the_breaker_counts_down_and_probes_by_itself_and_the_error_stays_until_a_sync_succeeds() {
    let db = TestDb::new().await;
    let sim = start_sim().await;
    let mut api = api(&sim);
    api.breaker.failure_threshold = 1;
    api.breaker.cooldown = Duration::from_secs(2);
    api.breaker.success_threshold = 2;
    let client = common::engine::client(&sim, &api);
    // No patience: the run gives up at the first failure, and nothing but the engine's
    // own probe calls GreenLake afterwards.
    let sync_cfg = SyncConfig {
        patience: Duration::ZERO,
        ..SyncConfig::default()
    };
    let mut c = Console::new(common::engine::spawn_engine(client, &api, &db, sync_cfg));
    let mut seen = Vec::new();
    assert!(matches!(c.sync(&mut seen).await, SyncEvent::Finished(_)));

    // An outage of 7 s; answers slow enough (300 ms) afterwards that the probes show.
    sim.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..outage(7)
    });
    let before = api_statuses(&sim).len();
    let ev = c.sync(&mut seen).await;
    let SyncEvent::Failed { error, .. } = ev else {
        panic!("expected a failed run, got {ev:?}")
    };
    let syncs_before = c
        .events
        .iter()
        .filter(|e| matches!(e, SyncEvent::Started { .. }))
        .count();
    let mut after = Vec::new();
    c.wait_bar("API ok again", Duration::from_secs(40), &mut after, |b| {
        b.contains("● API ok")
    })
    .await;
    let text = after.join("\n");
    assert!(
        text.contains("✖ API down · breaker OPEN · probe in 2s"),
        "{text}"
    );
    assert!(
        text.contains("✖ API down · breaker OPEN · probe in 1s"),
        "{text}"
    );
    assert!(
        text.contains("◐ API probing… (breaker half-open)"),
        "{text}"
    );
    assert!(!text.contains("in 0s"), "{text}");
    // No key, no sync: the engine probed by itself, through the outage (503s, the
    // breaker opening again) until two probes got through.
    assert_eq!(
        c.events
            .iter()
            .filter(|e| matches!(e, SyncEvent::Started { .. }))
            .count(),
        syncs_before
    );
    let probes = &api_statuses(&sim)[before..];
    assert!(probes.len() >= 3, "{probes:?}");
    assert_eq!(&probes[probes.len() - 2..], &[200, 200], "{probes:?}");
    assert!(
        probes[..probes.len() - 2].iter().all(|s| *s == 503),
        "{probes:?}"
    );
    let trips = c.app.breaker().trips;
    assert!(
        trips >= 2,
        "the failed probes opened the breaker again: {trips}"
    );

    // The failure's toast goes; the reason stays on the bar.
    let deadline = Instant::now() + Duration::from_secs(30);
    while c
        .app
        .toasts()
        .iter()
        .any(|t| t.text.starts_with("sync failed"))
    {
        assert!(Instant::now() < deadline, "the toast never went");
        c.pump();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bar = c.pump();
    let reason: String = error.chars().take(20).collect();
    assert!(
        bar.contains(&format!("✖ last sync failed: {reason}")),
        "{bar}\n{error}"
    );

    // The next run: the error stays while it runs, and goes when it succeeds.
    sim.set_faults(Faults {
        latency: Duration::from_millis(30),
        ..Faults::default()
    });
    let mut during = Vec::new();
    assert!(matches!(c.sync(&mut during).await, SyncEvent::Finished(_)));
    assert!(
        during
            .iter()
            .any(|b| b.starts_with("⟳") && b.contains("✖ last sync failed: ")),
        "{during:#?}"
    );
    let bar = c.pump();
    assert!(!bar.contains("last sync failed"), "{bar}");
    assert!(bar.contains("● API ok"), "{bar}");
    let _ = c.engine.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

fn at(ms: i64) -> DateTime<Utc> {
    t0() + chrono::TimeDelta::milliseconds(ms)
}

#[test]
fn the_countdown_moves_and_never_sits_at_zero() {
    let mut app = App::new(&UiConfig::default(), false, true, t0());
    app.on_sync_event(SyncEvent::Breaker(BreakerSnapshot {
        state: BreakerState::Open,
        failures: 5,
        retry_in: Some(Duration::from_secs(75)),
        trips: 1,
    }));
    app.clear_toasts();
    let mut shown = Vec::new();
    for ms in [0, 1_000, 15_500, 73_000, 74_200, 75_000, 90_000] {
        app.on_tick(at(ms));
        let bar = status_line(&app);
        let right = bar.rsplit("  ").next().unwrap_or_default().to_string();
        shown.push(right);
    }
    assert_eq!(
        shown,
        [
            "✖ API down · breaker OPEN · probe in 1m15s",
            "✖ API down · breaker OPEN · probe in 1m14s",
            "✖ API down · breaker OPEN · probe in 1m00s",
            "✖ API down · breaker OPEN · probe in 2s",
            "✖ API down · breaker OPEN · probe in 1s",
            // The cool-down is over: the probe is on its way, not "probe in 0s".
            "✖ API down · breaker OPEN · probing…",
            "✖ API down · breaker OPEN · probing…",
        ]
    );
    app.on_sync_event(SyncEvent::Breaker(BreakerSnapshot {
        state: BreakerState::HalfOpen,
        failures: 5,
        retry_in: None,
        trips: 1,
    }));
    assert!(status_line(&app).ends_with("◐ API probing… (breaker half-open)"));
    assert!(status_line_at(&app, 80).ends_with("◐ API probing…"));
    // 80 columns: the same countdown without the breaker's name, the sync line kept.
    app.on_sync_event(SyncEvent::Breaker(BreakerSnapshot {
        state: BreakerState::Open,
        failures: 6,
        retry_in: Some(Duration::from_secs(30)),
        trips: 2,
    }));
    app.on_tick(at(100_000));
    let bar = status_line_at(&app, 80);
    assert!(bar.ends_with("✖ API down · probe in 20s"), "{bar}");
    assert!(bar.starts_with("· never synced"), "{bar}");
}

fn window(samples: &[(i64, RequestOutcome)], failing_since: Option<i64>) -> EngineStatus {
    EngineStatus {
        health: HealthSnapshot {
            samples: samples
                .iter()
                .map(|(ms, outcome)| Sample {
                    at: at(*ms),
                    outcome: *outcome,
                })
                .collect::<VecDeque<_>>(),
            failing_since: failing_since.map(at),
        },
        ..EngineStatus::default()
    }
}

#[test]
fn the_light_has_a_glyph_and_words_for_each_state() {
    use RequestOutcome::*;
    let mut app = App::new(&UiConfig::default(), false, true, t0());
    app.clear_toasts();
    assert!(status_line(&app).ends_with("○ API: no requests yet"));
    app.on_status(window(&[(0, Ok)], None));
    assert!(status_line(&app).ends_with("● API ok"));
    app.on_status(window(&[(0, Ok), (100, Retried), (200, Ok)], None));
    assert!(status_line(&app).ends_with("◑ API degraded · 1/3 failed"));
    app.on_status(window(&[(0, Ok), (100, Throttled), (200, Ok)], None));
    assert!(status_line(&app).ends_with("◑ API degraded · 1/3 rate-limited"));
    // Failing without an answer: degraded at first, down once it lasts, and the time
    // since moves with the clock.
    app.on_status(window(&[(0, Ok), (100, Retried), (200, Failed)], Some(100)));
    app.on_tick(at(1_000));
    assert!(status_line(&app).ends_with("◑ API degraded · 2/3 failed"));
    app.on_tick(at(4_100));
    assert!(status_line(&app).ends_with("✖ API down · failing for 4s"));
    app.on_tick(at(9_100));
    assert!(status_line(&app).ends_with("✖ API down · failing for 9s"));
    // After the first minute in minutes: an idle console redraws once a minute.
    app.on_status(window(
        &[(0, Ok), (100, Retried), (200, Failed), (50_000, Failed)],
        Some(100),
    ));
    app.on_tick(at(100_100));
    assert!(status_line(&app).ends_with("✖ API down · failing for 1m"));
    // No request for a minute after the failures: nothing is known of now, and the bar
    // says how long it has been quiet instead of counting an outage forever.
    app.on_tick(at(3 * 3600 * 1000));
    let bar = status_line(&app);
    assert!(
        bar.ends_with("○ API: no requests for 2h · the last failed"),
        "{bar}"
    );
    // Old trouble is forgotten once answers came again.
    app.on_status(window(&[(100, Retried), (200, Ok)], None));
    app.on_tick(at(70_000));
    assert!(status_line(&app).ends_with("● API ok"));
}

fn summary(mode: Mode, outcome: glp_console::sync::events::Outcome) -> SyncSummary {
    SyncSummary {
        run_id: 3,
        scope: Scope::Both,
        mode,
        outcome,
        started_at: t0(),
        duration: Duration::from_secs(2),
        resources: Vec::new(),
        requests: 10,
        retries: 0,
        throttled: 0,
        breaker_trips: 0,
        error: None,
        audit_log: None,
        warnings: Vec::new(),
    }
}

#[test]
fn the_last_sync_error_stays_until_a_sync_succeeds() {
    use glp_console::sync::events::{FailureKind, Outcome};
    let mut app = App::new(&UiConfig::default(), false, true, t0());
    let error = "devices: GreenLake did not come back within the patience (10m): HTTP 503 \
                 service unavailable — GET http://127.0.0.1:1/devices/v1/devices";
    app.on_sync_event(SyncEvent::Failed {
        kind: FailureKind::Api,
        error: error.into(),
        summary: None,
        refresh: false,
    });
    for w in [80, 160] {
        let bar = status_line_at(&app, w);
        assert!(
            bar.starts_with("✖ last sync failed: devices: GreenLake did not"),
            "{bar}"
        );
    }
    // The toast goes; the reason stays.
    app.on_tick(at(60_000));
    assert!(app.toasts().is_empty());
    assert!(status_line(&app).starts_with("✖ last sync failed: devices:"));
    // A cancelled run, the next run starting, a refresh that succeeds: still there.
    let start = SyncEvent::Started {
        run_id: 4,
        scope: Scope::Both,
        mode: Mode::Full,
        trigger: Trigger::Tui,
    };
    app.on_sync_event(start.clone());
    let bar = status_line(&app);
    assert!(bar.starts_with("⟳ devices …"), "{bar}");
    assert!(bar.contains("✖ last sync failed: devices:"), "{bar}");
    app.on_sync_event(SyncEvent::Failed {
        kind: FailureKind::Cancelled,
        error: "cancelled".into(),
        summary: None,
        refresh: false,
    });
    assert!(status_line(&app).starts_with("✖ last sync failed: devices:"));
    app.on_sync_event(SyncEvent::Finished(summary(
        Mode::Refresh,
        Outcome::Succeeded,
    )));
    assert!(status_line(&app).starts_with("✖ last sync failed: devices:"));
    // A sync that succeeds ends it.
    app.on_sync_event(start);
    app.on_sync_event(SyncEvent::Finished(summary(Mode::Full, Outcome::Succeeded)));
    let bar = status_line(&app);
    assert!(!bar.contains("last sync failed"), "{bar}");
    assert!(bar.starts_with("✓ synced"), "{bar}");
}

#[test]
fn a_refresh_that_fails_before_its_run_neither_sets_nor_clears_the_sync_error() {
    use glp_console::sync::events::FailureKind;
    let mut app = App::new(&UiConfig::default(), false, true, t0());
    // The refresh after an assign timed out waiting for the workspace lock: it has no run,
    // so no summary to say it was a refresh.
    let lock_wait = SyncEvent::Failed {
        kind: FailureKind::Locked,
        error: "another sync of this workspace held the lock for 10 min; the touched devices \
                were not fetched again — the next sync brings them in"
            .into(),
        summary: None,
        refresh: true,
    };
    app.on_sync_event(lock_wait.clone());
    let bar = status_line(&app);
    assert!(!bar.contains("last sync failed"), "{bar}");
    // The toast tells it; the bar's sticky error stays the sync's.
    assert!(
        app.toasts()
            .iter()
            .any(|t| t.text.contains("held the lock for 10 min")),
        "{:?}",
        app.toasts()
    );
    app.on_sync_event(SyncEvent::Failed {
        kind: FailureKind::Api,
        error: "devices: HTTP 503 service unavailable".into(),
        summary: None,
        refresh: false,
    });
    app.on_sync_event(lock_wait);
    let bar = status_line(&app);
    assert!(
        bar.starts_with("✖ last sync failed: devices: HTTP 503"),
        "{bar}"
    );
}
