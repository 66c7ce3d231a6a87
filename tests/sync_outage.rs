//! Outages and a flaky token endpoint, as cron meets them: the real binary in `--sync-only`,
//! the simulator over HTTP on 127.0.0.1 and a real PostgreSQL database. A sync rides out an
//! outage shorter than its patience and stores exactly the simulator's data; a longer one
//! ends with exit 3 after the patience, keeping what it stored; token-endpoint hiccups are
//! not bad credentials, while a bad secret still exits 2 at once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestDb, TestDir};
use glp_console::sim::{self, Faults, Outage, SimConfig, SimHandle};
use serde_json::Value;

/// Quick retries (a call gives up after 3 s, so outages are waited out between calls), a
/// breaker that opens after three failed calls and probes after 2 s, and the given patience.
/// Pacing off (the rate limits have their own tests).
fn config_file(dir: &Path, patience: &str) -> PathBuf {
    config_with(
        dir,
        &format!(
            "[api.retry]\nmax_attempts = 3\nbase_delay_ms = 50\nmax_delay_secs = 1\nmax_total_secs = 3\n\
             [api.breaker]\nfailure_threshold = 3\ncooldown_secs = 2\nsuccess_threshold = 2\n\
             [sync]\npatience = \"{patience}\"\n"
        ),
    )
}

/// Small pages, no pacing, and `rest` (TOML sections after `[api]`'s own).
fn config_with(dir: &Path, rest: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[api]\nmax_concurrency = 2\n[api.page_size]\ndevices = 100\nsubscriptions = 50\n\
             [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n{rest}"
        ),
    )
    .unwrap();
    path
}

fn command(sim: &SimHandle, db: &TestDb, dir: &Path, patience: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(config_file(dir, patience))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env("DATABASE_URL", &db.url)
        .env("GLP_BASE_URL", sim.base_url())
        .env("GLP_TOKEN_URL", sim.token_url())
        .env("GLP_CLIENT_ID", sim.client_id())
        .env("GLP_CLIENT_SECRET", sim.client_secret())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// The inventory: 4,000 devices and 1,500 subscriptions.
async fn start_sim(cfg: SimConfig) -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices: 4000,
        subscriptions: 1500,
        ..cfg
    })
    .await
    .expect("the simulator starts")
}

/// An outage of `secs` starting after `after` requests (token requests count).
fn outage(after: u64, secs: u64) -> Faults {
    Faults {
        outage: Some(Outage {
            after_requests: after,
            duration: Duration::from_secs(secs),
        }),
        ..Faults::default()
    }
}

async fn wait(child: Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

async fn run(cmd: &mut Command) -> Output {
    wait(cmd.spawn().unwrap()).await
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `(id, raw_data)` of the live rows of `table`, by id.
async fn stored(db: &TestDb, table: &str) -> Vec<(String, Value)> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, raw_data FROM {table} WHERE removed_at IS NULL ORDER BY id"
    )))
    .fetch_all(db.store.pool())
    .await
    .unwrap()
}

fn by_id(items: Vec<Value>) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = items
        .into_iter()
        .map(|i| (i["id"].as_str().unwrap().to_string(), i))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The database holds exactly the simulator's devices and subscriptions.
async fn assert_exact(db: &TestDb, sim: &SimHandle) {
    let subs = stored(db, "subscriptions").await;
    assert_eq!(subs.len(), 1500);
    assert!(subs == by_id(sim.subscriptions()), "subscriptions differ");
    let devices = stored(db, "devices").await;
    assert_eq!(devices.len(), 4000);
    assert!(devices == by_id(sim.devices()), "devices differ");
}

/// A child's stream, collected by a thread as it arrives, so a test can wait on content
/// while the child runs.
#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<u8>>>);

impl Collected {
    fn start(mut from: impl Read + Send + 'static) -> Collected {
        let c = Collected::default();
        let buf = c.0.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = from.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        c
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Wait until the collected text contains `what` (a failing run gives up after `limit`).
    async fn wait_for(&self, what: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.text().contains(what) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}

/// Wait until the simulator has answered at least one 503 (the outage began).
async fn wait_for_outage(sim: &SimHandle, limit: Duration) {
    let deadline = Instant::now() + limit;
    while sim.stats().total().server_5xx == 0 {
        assert!(Instant::now() < deadline, "the outage never began");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The run as cron's terminal shows it: `script` gives the child a pseudo-terminal, so the
/// progress line is drawn; its output (stdout and stderr of the child) is collected live.
fn spawn_on_terminal(cmd: &Command) -> (Child, Collected) {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let line: Vec<String> = std::iter::once(quote(cmd.get_program()))
        .chain(cmd.get_args().map(quote))
        .collect();
    let mut script = Command::new("script");
    script.args(["-qefc", &line.join(" "), "/dev/null"]);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    let mut child = script
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs the sync on a pseudo-terminal");
    let out = Collected::start(child.stdout.take().unwrap());
    (child, out)
}

#[tokio::test]
async fn a_20s_outage_mid_sync_is_waited_out_with_the_countdown_and_exact_data() {
    let db = TestDb::new().await;
    let sim = start_sim(SimConfig::default()).await;
    // The token and seven subscription pages, then 20 s of 503 with `Retry-After`.
    sim.set_faults(outage(8, 20));
    let dir = TestDir::new("glpc-out-");
    let cmd = {
        let mut c = command(&sim, &db, &dir, "10m");
        c.arg("--sync-only");
        c
    };
    let started = Instant::now();
    let (child, screen) = spawn_on_terminal(&cmd);
    wait_for_outage(&sim, Duration::from_secs(60)).await;
    // While the API is down the progress line says so, with a countdown.
    assert!(
        screen
            .wait_for(
                "waiting for GreenLake (outage, retry in",
                Duration::from_secs(60)
            )
            .await,
        "no waiting message on the terminal: {:?}",
        screen.text()
    );
    // Pages from before the outage are stored while it waits.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM subscriptions")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        if n > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no page stored before the outage"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = wait(child).await;
    let took = started.elapsed();
    eprintln!("a 20 s outage: the run took {:.1} s", took.as_secs_f64());
    assert_eq!(out.status.code(), Some(0), "{}", screen.text());
    assert!(
        took >= Duration::from_secs(19),
        "it waited the outage out: {took:?}"
    );
    assert_exact(&db, &sim).await;
    let runs = db.store.recent_runs(1).await.unwrap();
    assert_eq!(runs[0].outcome, "succeeded");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_90s_outage_is_waited_out_and_verbose_cron_output_says_so() {
    let db = TestDb::new().await;
    let sim = start_sim(SimConfig::default()).await;
    sim.set_faults(outage(12, 90));
    let dir = TestDir::new("glpc-out-");
    // The shipped retry, breaker and patience settings: the `Retry-After` of 90 s fits the
    // call's own budget (300 s), so the call itself waits — and says so.
    let mut cmd = command(&sim, &db, &dir, "10m");
    config_with(&dir, ""); // the same file, rewritten
    let mut child = cmd.args(["--sync-only", "-v"]).spawn().unwrap();
    let err = Collected::start(child.stderr.take().unwrap());
    let mut stdout = child.stdout.take().unwrap();
    assert!(
        err.wait_for(
            "waiting for GreenLake (outage, retry in",
            Duration::from_secs(60)
        )
        .await,
        "no waiting line on stderr: {}",
        err.text()
    );
    let out = wait(child).await;
    let mut summary = String::new();
    stdout.read_to_string(&mut summary).unwrap();
    assert_eq!(out.status.code(), Some(0), "{summary}\n{}", err.text());
    assert!(summary.contains("succeeded"), "{summary}");
    assert!(
        err.text().contains("GreenLake answers again after"),
        "{}",
        err.text()
    );
    assert_exact(&db, &sim).await;
    // It really was down that long: the simulator refused calls for the whole outage.
    assert!(sim.stats().total().server_5xx > 0);
    sim.shutdown().await;
}

/// The number in "gave up after waiting 12s" (or "1m 05s").
fn waited_secs(stderr: &str) -> Option<u64> {
    let rest = &stderr[stderr.find("gave up after waiting ")? + "gave up after waiting ".len()..];
    let word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    if let Some(m) = word.strip_suffix('m') {
        let secs: String = rest[word.len()..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        return Some(m.parse::<u64>().ok()? * 60 + secs.parse::<u64>().ok()?);
    }
    word.strip_suffix('s')?.parse().ok()
}

#[tokio::test]
async fn an_outage_longer_than_the_patience_exits_3_keeps_pages_and_the_next_run_completes() {
    let db = TestDb::new().await;
    let sim = start_sim(SimConfig::default()).await;
    sim.set_faults(outage(8, 400));
    let dir = TestDir::new("glpc-out-");
    let started = Instant::now();
    let out = run(command(&sim, &db, &dir, "12s").arg("--sync-only")).await;
    let took = started.elapsed();
    eprintln!(
        "an outage past a 12 s patience: the run took {:.1} s",
        took.as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("what cron mails:\n{stderr}");
    // Each resource waited its patience and says how long.
    let waited = waited_secs(&stderr).unwrap_or_else(|| panic!("no wait in: {stderr}"));
    assert!((12..=20).contains(&waited), "waited {waited}s: {stderr}");
    assert!(stderr.contains("[sync] patience = 12s"), "{stderr}");
    assert!(
        took >= Duration::from_secs(24) && took < Duration::from_secs(120),
        "two phases of 12 s each, not the outage: {took:?}"
    );
    // The subscription pages from before the outage are kept, exactly as the API sent them.
    let kept = stored(&db, "subscriptions").await;
    assert!(!kept.is_empty(), "pages before the outage are kept");
    let all = by_id(sim.subscriptions());
    for row in &kept {
        assert!(all.contains(row), "stored as served: {}", row.0);
    }
    let runs = db.store.recent_runs(1).await.unwrap();
    assert_eq!(runs[0].outcome, "failed");

    // The outage is over: the next run completes with exactly the API's data.
    sim.set_faults(Faults::default());
    let out = run(command(&sim, &db, &dir, "12s").arg("--sync-only")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_exact(&db, &sim).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn ten_percent_token_endpoint_errors_end_with_exit_0_and_exact_data() {
    let db = TestDb::new().await;
    let sim = start_sim(SimConfig::default()).await;
    let dir = TestDir::new("glpc-out-");
    // First the default mix (500, 502 as an HTML gateway page, 503 with `Retry-After`, 401
    // `invalid_token`), then only the 4xx answers that name no credentials (401
    // `invalid_token`, 400 `temporarily_unavailable`): the kind the issue saw reported as
    // bad credentials.
    for statuses in [vec![500, 502, 503, 401], vec![401, 400]] {
        // Tokens that stop working after 20 ms make the client sign in again for nearly
        // every page (each takes 30 ms), so the token endpoint's faults are met often.
        sim.set_faults(Faults {
            token_error_rate: 0.1,
            token_error_statuses: statuses.clone(),
            token_early_expiry: Some(Duration::from_millis(20)),
            latency: Duration::from_millis(30),
            ..Faults::default()
        });
        // Each full run must succeed with exact data; the draws are random, so runs repeat
        // (a few at most) until the endpoint has failed some sign-ins.
        let mut seen = None;
        for _ in 0..5 {
            sim.reset_stats();
            let out =
                run(command(&sim, &db, &dir, "10m").args(["--sync-only", "--full", "--json"]))
                    .await;
            assert_eq!(out.status.code(), Some(0), "{statuses:?}: {}", text(&out));
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["outcome"], "succeeded", "{v}");
            assert_exact(&db, &sim).await;
            let t = sim.stats().endpoint("token");
            assert!(t.requests >= 40, "{statuses:?}: token endpoint {t:?}");
            let failed = if statuses.contains(&500) {
                t.server_5xx + t.client_4xx
            } else {
                t.client_4xx
            };
            if failed > 0 {
                seen = Some(t);
                break;
            }
        }
        assert!(
            seen.is_some(),
            "{statuses:?}: the token endpoint never failed"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bad_client_secret_still_exits_2_at_once() {
    let db = TestDb::new().await;
    let sim = start_sim(SimConfig::default()).await;
    let dir = TestDir::new("glpc-out-");
    let started = Instant::now();
    let out = run(command(&sim, &db, &dir, "10m")
        .env("GLP_CLIENT_SECRET", "not-the-secret")
        .arg("--sync-only"))
    .await;
    let took = started.elapsed();
    eprintln!("a bad secret: the run took {:.1} s", took.as_secs_f64());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("authentication failed") && err.contains("invalid_client"),
        "{err}"
    );
    assert!(!err.contains("not-the-secret"));
    // No patience for bad credentials: one token request, no waiting.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(sim.stats().endpoint("token").requests, 1);
    sim.shutdown().await;
}

/// The console's bottom two rows (status bar and footer) as text.
fn console_status(app: &mut glp_console::tui::app::App, width: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, 24)).unwrap();
    t.draw(|f| glp_console::tui::view::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    let h = buf.area.height;
    (h - 2..h)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_console_status_bar_says_it_waits_for_greenlake_and_the_sync_completes() {
    use glp_console::config::{SyncConfig, UiConfig};
    use glp_console::sync::{Mode, Scope, SyncCommand, SyncEvent, Trigger};
    use glp_console::tui::app::App;

    let db = TestDb::new().await;
    let sim = start_sim(SimConfig::default()).await;
    sim.set_faults(outage(6, 8));
    // The console's engine and client, configured as the engine tests are, with slower
    // retries.
    let mut api = common::engine::api_config(&sim);
    api.retry.base_delay = Duration::from_millis(20);
    api.retry.max_delay = Duration::from_millis(200);
    api.retry.max_total = Duration::from_secs(2);
    // The first call that fails opens the breaker: the run must wait for its cool-down,
    // probe, and go on.
    api.breaker.failure_threshold = 1;
    api.breaker.cooldown = Duration::from_secs(2);
    let mut h = common::engine::engine_for(
        &sim,
        &api,
        &db,
        SyncConfig {
            patience: Duration::from_secs(60),
            ..SyncConfig::default()
        },
    );
    let mut app = App::new(&UiConfig::default(), false, false, chrono::Utc::now());
    h.commands
        .send(SyncCommand::SyncNow {
            scope: Scope::Both,
            mode: Mode::Full,
            trigger: Trigger::Tui,
        })
        .await
        .unwrap();
    let mut saw_waiting = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    let summary = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = tokio::time::timeout(left, h.events.recv())
            .await
            .expect("the sync ends within two minutes")
            .expect("the engine runs");
        app.on_tick(chrono::Utc::now());
        let end = match &ev {
            SyncEvent::Finished(s) => Some(Ok(s.clone())),
            SyncEvent::Failed { error, .. } => Some(Err(error.clone())),
            _ => None,
        };
        app.on_sync_event(ev);
        let status = console_status(&mut app, 120);
        if saw_waiting.is_none() && status.contains("waiting for GreenLake (outage, retry in") {
            saw_waiting = Some(status);
        }
        if let Some(end) = end {
            break end;
        }
    };
    let summary = summary.unwrap_or_else(|e| panic!("the sync failed: {e}"));
    let status = saw_waiting.expect("the status bar said it was waiting for GreenLake");
    assert!(status.contains('⏸'), "{status}");
    assert!(summary.breaker_trips >= 1, "{summary:?}");
    assert_eq!(
        stored(&db, "subscriptions").await,
        by_id(sim.subscriptions())
    );
    assert_eq!(stored(&db, "devices").await, by_id(sim.devices()));
    let _ = h.commands.send(SyncCommand::Shutdown).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn config_check_shows_the_patience_and_names_a_bad_one() {
    let dir = TestDir::new("glpc-out-");
    let check = |body: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
        if let Some(body) = body {
            let path = dir.join("config.toml");
            std::fs::write(&path, body).unwrap();
            c.arg("--config").arg(path);
        }
        c.arg("--log-dir")
            .arg(dir.join("logs"))
            .args(["config", "check"])
            .env("GLP_CLIENT_ID", "id")
            .env("GLP_CLIENT_SECRET", "secret")
            .env("HOME", &*dir)
            .env("XDG_CONFIG_HOME", dir.join("xdg"))
            .output()
            .unwrap()
    };
    let out = check(None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("patience = \"10m\""),
        "default: {}",
        text(&out)
    );
    let out = check(Some("[sync]\npatience = 90\n"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("patience = \"90s\""),
        "{}",
        text(&out)
    );
    let out = check(Some("[sync]\npatience = \"soon\"\n"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[sync] patience") && err.contains("\"soon\"") && err.contains("\"10m\""),
        "names the key, the value and the forms: {err}"
    );
}

// ---- the simulator's faults on the wire ------------------------------------------------------

#[tokio::test]
async fn the_simulator_sends_retry_after_on_outages_and_oauth2_style_token_faults() {
    let (s, c, tok) = common::sim::start(SimConfig::default()).await;
    let list = |tok: String| {
        let c = c.clone();
        let url = format!("{}/devices/v1/devices?limit=1", s.base_url());
        async move { c.get(url).bearer_auth(tok).send().await.unwrap() }
    };
    // Outage: the header tells the seconds left (rounded up); the body keeps its generic
    // advice, as a gateway in front of a service in maintenance answers.
    s.set_faults(Faults {
        retry_after_seconds: 1,
        ..outage(1, 30)
    });
    assert_eq!(list(tok.clone()).await.status(), 200);
    let r = list(tok.clone()).await;
    assert_eq!(r.status(), 503);
    let secs: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((29..=30).contains(&secs), "Retry-After: {secs}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errorDetails"][0]["retryAfterSeconds"], 1);
    // The token endpoint is in the outage too.
    let r = c
        .post(s.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", s.client_id()),
            ("client_secret", s.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));

    // Token faults with good credentials: never `invalid_client`.
    let token_answer = |status: u16| {
        s.set_faults(Faults {
            token_error_rate: 1.0,
            token_error_statuses: vec![status],
            retry_after_seconds: 4,
            ..Faults::default()
        });
        let c = c.clone();
        let form = [
            ("grant_type", "client_credentials".to_string()),
            ("client_id", s.client_id().to_string()),
            ("client_secret", s.client_secret().to_string()),
        ];
        let url = s.token_url();
        async move { c.post(url).form(&form).send().await.unwrap() }
    };
    let r = token_answer(401).await;
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_token");
    let r = token_answer(503).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "4");
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "temporarily_unavailable"
    );
    let r = token_answer(502).await;
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("<html>"));
    let r = token_answer(500).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "server_error");
    // Off again: a token is issued.
    s.set_faults(Faults::default());
    let fresh = common::sim::token(&s, &c).await;
    assert_eq!(list(fresh).await.status(), 200);
    s.shutdown().await;
}

#[tokio::test]
async fn fresh_tokens_refused_for_a_while_are_waited_out_not_called_bad_credentials() {
    let db = TestDb::new().await;
    let sim = start_sim(SimConfig::default()).await;
    // Every token stops working the moment it is issued: the API answers 401 even right
    // after a fresh one (an identity provider and the API briefly disagreeing).
    sim.set_faults(Faults {
        token_early_expiry: Some(Duration::ZERO),
        ..Faults::default()
    });
    let dir = TestDir::new("glpc-out-");
    let mut child = command(&sim, &db, &dir, "10m")
        .args(["--sync-only", "-v"])
        .spawn()
        .unwrap();
    let err = Collected::start(child.stderr.take().unwrap());
    assert!(
        err.wait_for(
            "waiting for GreenLake (sign-in failing, retry in",
            Duration::from_secs(60)
        )
        .await,
        "{}",
        err.text()
    );
    // The disagreement ends: the run goes on with new tokens and completes.
    sim.set_faults(Faults::default());
    let out = wait(child).await;
    assert_eq!(out.status.code(), Some(0), "{}", err.text());
    assert!(
        !err.text().contains("authentication failed"),
        "{}",
        err.text()
    );
    assert_exact(&db, &sim).await;
    assert!(sim.stats().endpoint("token").requests >= 3);
    sim.shutdown().await;
}
