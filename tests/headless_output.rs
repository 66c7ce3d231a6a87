//! What cron and pipelines see of the headless commands: the real binary, a simulator and a
//! real database. A reader that goes away (`| head -1`) ends the output quietly with the
//! command's own exit code and no panic; stderr redirected to a file carries no colour
//! escapes; library log lines (sqlx's) stay off stderr unless `-v`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{TestDb, TestDir};
use glp_console::sim::{self, Faults, SimConfig, SimHandle};

fn config_file(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[api]\nmax_concurrency = 2\n[api.page_size]\ndevices = 200\nsubscriptions = 50\n\
         [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n\
         [api.retry]\nmax_attempts = 2\nbase_delay_ms = 10\nmax_delay_secs = 1\nmax_total_secs = 3\n\
         [api.breaker]\ncooldown_secs = 1\n[sync]\npatience = 3\n",
    )
    .unwrap();
    path
}

fn command(sim: &SimHandle, db: &TestDb, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(config_file(dir))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("GLP_BASE_URL", sim.base_url())
        .env("GLP_TOKEN_URL", sim.token_url())
        .env("GLP_CLIENT_ID", sim.client_id())
        .env("GLP_CLIENT_SECRET", sim.client_secret())
        .env("RUST_BACKTRACE", "1")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE, however
/// short the output (a pipe buffer would otherwise swallow a small one whole).
#[allow(
    unsafe_code,
    reason = "std has no pipe constructor; each block states its SAFETY"
)]
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills both descriptors on success; each is owned exactly once below.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2");
    // SAFETY: fds[0] was just opened by pipe2 and is used nowhere else.
    drop(unsafe { OwnedFd::from_raw_fd(fds[0]) });
    // SAFETY: fds[1] likewise; Stdio takes ownership.
    Stdio::from(unsafe { OwnedFd::from_raw_fd(fds[1]) })
}

/// Run with stdout a pipe closed before the command writes.
fn run_closed(mut cmd: Command) -> Output {
    cmd.stdout(closed_pipe()).output().unwrap()
}

/// Run, read the first line of stdout, then close it (`| head -1`).
fn run_head_1(mut cmd: Command) -> (String, Output) {
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    {
        let stdout = child.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut first).unwrap();
    }
    (first, child.wait_with_output().unwrap())
}

fn assert_quiet(o: &Output, code: Option<i32>, what: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), code, "{what}: {}", text(o));
    for bad in [
        "panicked",
        "stack backtrace",
        "Broken pipe",
        "failed printing",
        "writing to standard output",
    ] {
        assert!(!stderr.contains(bad), "{what}: {bad:?} on stderr: {stderr}");
    }
}

async fn start_sim(faults: Faults) -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices: 600,
        subscriptions: 40,
        faults,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

async fn sync(sim: &SimHandle, db: &TestDb, dir: &Path) {
    let cmd = command(sim, db, dir, &["--sync-only"]);
    let o = blocking(move || { cmd }.output().unwrap()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[tokio::test]
async fn a_closed_stdout_ends_every_printing_command_quietly_with_its_own_exit_code() {
    let sim = start_sim(Faults::default()).await;
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-out-");
    sync(&sim, &db, &dir).await;
    let serials: Vec<String> =
        sqlx::query_scalar("SELECT serial_number FROM devices ORDER BY serial_number LIMIT 3")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    let sheet = dir.join("sheet.csv");
    std::fs::write(&sheet, format!("Serial Number\n{}\n", serials.join("\n"))).unwrap();
    let sheet = sheet.display().to_string();

    let commands: Vec<Vec<&str>> = vec![
        vec!["--expiring-days", "90"],
        vec!["--expiring-days", "90", "--csv"],
        vec!["--expiring-days", "90", "--json"],
        vec!["--expiring-days", "90", "--live", "--csv"],
        vec!["export", "devices"],
        vec!["export", "devices", "--format", "json"],
        vec!["export", "subscriptions", "--format", "csv"],
        vec!["status"],
        vec!["status", "--json"],
        vec!["config", "check"],
        vec!["config", "path"],
        vec!["db", "migrate"],
        vec!["assign", sheet.as_str()],
        vec!["assign", sheet.as_str(), "--json"],
        vec!["--sync-only", "--json"],
        vec!["--sync-only", "-v"],
    ];
    for args in commands {
        let what = args.join(" ");
        // The exit code with a reader that stays: the closed pipe must not change it.
        let open = command(&sim, &db, &dir, &args);
        let open = blocking(move || { open }.output().unwrap()).await;
        assert!(
            !open.stdout.is_empty(),
            "{what} prints something: {}",
            text(&open)
        );
        assert_quiet(&open, open.status.code(), &what);
        let closed = command(&sim, &db, &dir, &args);
        let closed = blocking(move || run_closed(closed)).await;
        assert_quiet(&closed, open.status.code(), &format!("{what} | (closed)"));
    }

    // `status` keeps its verdict (7: the last good sync is older than the default two
    // hours) when nobody reads it.
    sqlx::query(
        "UPDATE sync_history SET started_at = started_at - interval '3 hours', \
           finished_at = finished_at - interval '3 hours'",
    )
    .execute(db.store.pool())
    .await
    .unwrap();
    for args in [vec!["status"], vec!["status", "--json"]] {
        let what = args.join(" ");
        let cmd = command(&sim, &db, &dir, &args);
        let o = blocking(move || run_closed(cmd)).await;
        assert_quiet(&o, Some(7), &format!("{what} (stale) | (closed)"));
    }

    // `| head -1` on outputs far larger than a pipe buffer: the first line arrives, then
    // the command ends at once, quietly, with 0.
    for (args, first) in [
        (vec!["export", "devices"], "id,serial_number,"),
        (vec!["export", "devices", "--format", "json"], "["),
        (
            vec!["--expiring-days", "3650", "--csv"],
            "subscription_key,",
        ),
        (vec!["--expiring-days", "3650", "--json"], "{"),
    ] {
        let what = args.join(" ");
        let cmd = command(&sim, &db, &dir, &args);
        let (line, o) = blocking(move || run_head_1(cmd)).await;
        assert!(line.starts_with(first), "{what}: first line {line:?}");
        assert_quiet(&o, Some(0), &format!("{what} | head -1"));
    }
    sim.shutdown().await;
}

/// stderr as cron has it: a file.
fn stderr_file(dir: &Path, name: &str) -> (PathBuf, Stdio) {
    let path = dir.join(name);
    let f = std::fs::File::create(&path).unwrap();
    (path, Stdio::from(f))
}

#[tokio::test]
async fn warnings_on_a_redirected_stderr_are_plain_text() {
    // Every API call fails: the client retries, gives up and says so at WARN.
    let sim = start_sim(Faults {
        error_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-out-");
    for (name, extra) in [("plain.err", None), ("verbose.err", Some("-v"))] {
        let mut args = vec!["--sync-only"];
        args.extend(extra);
        let mut cmd = command(&sim, &db, &dir, &args);
        let (path, err) = stderr_file(&dir, name);
        cmd.stderr(err);
        let o = blocking(move || { cmd }.output().unwrap()).await;
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        let stderr = std::fs::read_to_string(&path).unwrap();
        assert!(stderr.contains("WARN"), "a warning was printed: {stderr}");
        assert!(
            !stderr.contains('\u{1b}'),
            "escape codes in redirected stderr: {stderr:?}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn library_log_lines_reach_stderr_only_with_verbose() {
    let sim = start_sim(Faults::default()).await;
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-out-");
    // The server warns on every sync run recorded: a real PostgreSQL WARNING notice, which
    // sqlx logs at WARN under its own target.
    sqlx::raw_sql(
        "CREATE FUNCTION warn_on_run() RETURNS trigger LANGUAGE plpgsql AS $$ \
           BEGIN RAISE WARNING 'notice-from-the-server-7f3a'; RETURN NEW; END $$; \
         CREATE TRIGGER warn_on_run BEFORE INSERT ON sync_history \
           FOR EACH ROW EXECUTE FUNCTION warn_on_run();",
    )
    .execute(db.store.pool())
    .await
    .unwrap();
    let quiet = command(&sim, &db, &dir, &["--sync-only"]);
    let o = blocking(move || { quiet }.output().unwrap()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stderr.contains("notice-from-the-server-7f3a") && !stderr.contains("sqlx"),
        "a library line on stderr without -v: {stderr}"
    );
    assert!(
        stderr.is_empty(),
        "cron mail stays empty on success: {stderr}"
    );
    // The file log keeps it.
    let logged = std::fs::read_dir(dir.join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect::<String>();
    assert!(logged.contains("notice-from-the-server-7f3a"), "{logged}");

    let verbose = command(&sim, &db, &dir, &["--sync-only", "-v"]);
    let o = blocking(move || { verbose }.output().unwrap()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("notice-from-the-server-7f3a"),
        "-v shows the library's warnings: {stderr}"
    );
    sim.shutdown().await;
}

/// `--demo` empties its database, so `--database-url` given beside it is checked like
/// `DATABASE_URL`: a database whose name does not say demo is refused by name, exit 2, and
/// what it holds stays (the flag used to be ignored for a per-user demo database).
#[tokio::test(flavor = "multi_thread")]
async fn demo_refuses_a_database_url_flag_that_is_not_a_demo_database() {
    let db = TestDb::new().await;
    let rows = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from sync_history")
            .fetch_one(db.store.pool())
            .await
            .unwrap()
    };
    sqlx::query("insert into sync_history (workspace_id, trigger, mode, scope) values ('default', 'cli', 'full', 'both')")
        .execute(db.store.pool())
        .await
        .unwrap();
    let url = db.url.clone();
    let out = blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_glp-console"))
            .args(["--demo", "--database-url", &url])
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("names `{}`", db.name)), "{err}");
    assert!(err.contains("--database-url"), "{err}");
    assert_eq!(rows().await, 1, "the database was left as it was");
}
