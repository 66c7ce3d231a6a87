//! The wizard in a console over several workspaces, end to end: the real binary with an
//! `[msp]` configuration in tmux, the MSP simulator over HTTP and PostgreSQL. After
//! `:ws tenant-02` the wizard runs in that tenant: its heading names it, the tags land on
//! exactly the two devices of the sheet in the tenant's own view (the simulator serves a
//! workspace only to a token of that workspace, so the PATCH carried the tenant's token),
//! nothing is PATCHed through the MSP's token, and the run is stored with the tenant's
//! workspace id. The run list follows `:ws`, with a Workspace column when all are shown, and
//! the run's undo is applied in the tenant too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::tmux::Tmux;
use common::{TestDb, TestDir};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::domain::WorkspaceId;
use glp_console::sim::{MspSim, SimHandle};
use glp_console::tui::app::{App, Effect};
use glp_console::tui::run::{ReloadJob, load_scope};
use glp_console::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;

/// Every device of a workspace's view, by id, with its tags.
fn tags_of(sim: &SimHandle, ws: &str) -> BTreeMap<String, Value> {
    sim.devices_of(ws)
        .unwrap()
        .into_iter()
        .map(|d| (d["id"].as_str().unwrap().to_string(), d["tags"].clone()))
        .collect()
}

fn patches(sim: &SimHandle, ws: &str) -> u64 {
    sim.stats_of(ws).unwrap().endpoint("devices_patch").requests
}

fn patches_ok(sim: &SimHandle, ws: &str) -> u64 {
    sim.stats_of(ws).unwrap().endpoint("devices_patch").ok_2xx
}

/// Numbers after `label` on the report's counts line, e.g. `devices: 2 succeeded, 0 failed`.
fn count_after(screen: &str, label: &str, what: &str) -> Option<u64> {
    let line = screen.lines().find(|l| l.contains(label))?;
    let tail = &line[line.find(label)? + label.len()..];
    let at = tail.find(what)?;
    tail[..at].split_whitespace().last()?.parse().ok()
}

/// Plan → confirm → apply → the report's counts: `devices` succeeded, none failed.
fn apply_and_wait(t: &Tmux, devices: u64) {
    t.keys(&["a"]);
    t.wait_for("the confirmation", 10, |s| s.contains("to GreenLake?"));
    t.keys(&["y"]);
    t.wait_for("the report", 120, |s| s.contains("[Report]"));
    let s = t.wait_for("the report's counts", 30, |s| {
        !s.contains("ℹ run") && count_after(s, "devices:", " failed").is_some()
    });
    assert_eq!(
        count_after(&s, "devices:", " succeeded"),
        Some(devices),
        "{s}"
    );
    assert_eq!(count_after(&s, "devices:", " failed"), Some(0), "{s}");
}

/// A script starting the real console on `db` with `config` (its environment written out:
/// no quoting of values inside tmux's command), then saying how it ended; the command that
/// runs it.
fn console_script(dir: &Path, sim: &SimHandle, db: &TestDb, config: &Path) -> String {
    let script = dir.join("console.sh");
    std::fs::write(
        &script,
        format!(
            "export HOME='{home}' DATABASE_URL='{db}' GLP_MSP_SECRET='{secret}'\n\
             unset RUST_LOG GLP_CLIENT_ID GLP_CLIENT_SECRET\n\
             '{bin}' --config '{config}' --log-dir '{logs}' 2> '{err}'\n\
             echo EXIT=$?\nsleep 120\n",
            home = dir.join("home").display(),
            db = db.url,
            secret = sim.client_secret(),
            bin = env!("CARGO_BIN_EXE_glp-console"),
            config = config.display(),
            logs = dir.join("logs").display(),
            err = dir.join("stderr.txt").display(),
        ),
    )
    .unwrap();
    format!("sh {}", script.display())
}

/// An MSP simulator with three tenants, synced by the real binary; its directory (with a
/// `home`), database and configuration.
async fn synced_msp() -> (Arc<SimHandle>, TestDb, TestDir, PathBuf) {
    glp_console::tls::init();
    let sim = common::msp::start(
        20,
        5,
        MspSim {
            tenants: 3,
            devices_per_tenant: 8,
            subscriptions_per_tenant: 2,
            ..MspSim::default()
        },
    )
    .await;
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-wizard-ws-");
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let config = common::msp::config_file(&dir, &sim, 2);
    // A fleet sync first, so the console opens on a synced database.
    let mut sync = common::msp::command(&sim, &db, &dir, &config);
    sync.args(["--sync-only", "--full"]);
    let o = tokio::task::spawn_blocking(move || sync.output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (Arc::new(sim), db, dir, config)
}

/// Wait for the console's first screen over all workspaces (or say why it ended).
fn console_up(t: &Tmux, dir: &Path) {
    let s = t.wait_for("the console over all workspaces", 60, |s| {
        (s.contains("all workspaces") && s.contains("[1 Devices")) || s.contains("EXIT=")
    });
    assert!(
        !s.contains("EXIT="),
        "the console ended: {s}\n{}",
        std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_writes_to_the_workspace_shown_with_its_token() {
    let (sim, db, dir, config) = synced_msp().await;

    let msp = sim.workspace_id();
    let t2 = sim.tenants()[1].clone();
    assert_eq!(t2.name, "tenant-02");
    let picked: Vec<(String, String)> = sim
        .devices_of(&t2.id)
        .unwrap()
        .iter()
        .filter(|d| d["archived"] == false)
        .take(2)
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["serialNumber"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(picked.len(), 2, "tenant-02 has devices");
    let sheet = dir.join("tenant-sheet.csv");
    let mut csv = String::from("Serial Number\n");
    for (_, serial) in &picked {
        csv.push_str(&format!("{serial}\n"));
    }
    std::fs::write(&sheet, csv).unwrap();
    let before_t2 = tags_of(&sim, &t2.id);
    let before_msp = tags_of(&sim, &msp);
    let msp_patches = patches(&sim, &msp);

    let cmd = console_script(&dir, &sim, &db, &config);
    let sheet_path = sheet.display().to_string();
    let sim2 = Arc::clone(&sim);
    let t2_id = t2.id.clone();
    let dir_path = dir.to_path_buf();
    let picked_ids: Vec<String> = picked.iter().map(|(id, _)| id.clone()).collect();
    let ids = picked_ids.clone();
    let before = before_t2.clone();
    // The terminal's waits block: off the runtime, which serves the simulator meanwhile.
    tokio::task::spawn_blocking(move || {
        let sim = sim2;
        let t = Tmux::start_sized(&cmd, &dir_path, "wizws", (160, 40));
        console_up(&t, &dir_path);

        // The tenant's view; the wizard opens in it and says so.
        t.literal(":ws tenant-02");
        t.keys(&["Enter"]);
        t.wait_for("the view of tenant-02", 20, |s| s.contains("ws tenant-02"));
        t.keys(&["4"]);
        t.wait_for("the Assign tab", 10, |s| s.contains("[4 Assign"));
        t.keys(&["n"]);
        t.wait_for("the file step, in tenant-02", 10, |s| {
            s.contains("which spreadsheet?") && s.contains("Assign · tenant-02")
        });
        t.literal(&sheet_path);
        t.keys(&["Enter"]);
        t.wait_for("the validation step", 30, |s| {
            s.contains("[Validate]") || s.contains("[Check]")
        });
        t.keys(&["Enter"]);
        let s = t.wait_for("the review", 10, |s| s.contains("[Review]"));
        assert!(s.contains("found 2 ·"), "the tenant's rows matched: {s}");
        t.keys(&["Enter"]);
        t.wait_for("the subscription chooser", 30, |s| {
            s.contains("[Subscription]")
        });
        t.keys(&["-"]);
        t.wait_for("the application chooser", 10, |s| {
            s.contains("[Application]")
        });
        t.keys(&["-"]);
        t.wait_for("the tags step", 10, |s| s.contains("[Tags]"));
        t.literal("wsjob=tenant2");
        t.keys(&["Enter"]);
        t.wait_for("the tag change listed", 10, |s| {
            s.contains("set    wsjob = tenant2")
        });
        t.keys(&["Enter"]);
        let s = t.wait_for("the plan", 10, |s| s.contains("[Plan]"));
        assert!(s.contains("Assign · tenant-02"), "{s}");
        apply_and_wait(&t, 2);

        // The run list of tenant-02 shows the run; all workspaces show it with its workspace.
        t.keys(&["Escape"]);
        t.wait_for("the run list with the run", 20, |s| {
            s.contains("tenant-sheet.csv") && s.contains("succeeded")
        });
        t.literal(":ws tenant-01");
        t.keys(&["Enter"]);
        t.wait_for("tenant-01's run list, empty", 20, |s| {
            s.contains("ws tenant-01") && !s.contains("tenant-sheet.csv")
        });
        t.literal(":ws all");
        t.keys(&["Enter"]);
        let s = t.wait_for("every workspace's runs", 20, |s| {
            s.contains("all workspaces") && s.contains("tenant-sheet.csv")
        });
        let line = s.lines().find(|l| l.contains("tenant-sheet.csv")).unwrap();
        assert!(
            line.contains("tenant-02"),
            "the run's workspace: {line}\n{s}"
        );
        assert!(s.contains("Workspace"), "a Workspace column: {s}");

        // Tags on exactly the sheet's devices of tenant-02, sent with tenant-02's token.
        let after = tags_of(&sim, &t2_id);
        for (id, tags) in &after {
            if ids.contains(id) {
                assert_eq!(tags["wsjob"], "tenant2", "{id}: {tags}");
            } else {
                assert_eq!(Some(tags), before.get(id), "{id} untouched");
            }
        }
        assert!(
            patches_ok(&sim, &t2_id) >= 1,
            "PATCHed with tenant-02's token"
        );

        // Undo from the consolidated run list: it runs in tenant-02, where the run was made.
        t.keys(&["u"]);
        let s = t.wait_for("the undo's plan, in tenant-02", 60, |s| {
            s.contains("[Plan]")
        });
        assert!(s.contains("Assign · tenant-02"), "{s}");
        apply_and_wait(&t, 2);
        t.keys(&["Escape"]);
        t.keys(&["q"]);
        t.wait_for("the console to exit cleanly", 30, |s| s.contains("EXIT=0"));
    })
    .await
    .unwrap();

    // The undo put tenant-02's tags back as they were.
    assert_eq!(
        tags_of(&sim, &t2.id),
        before_t2,
        "the undo restored the tags"
    );
    // Nothing went through the MSP's token; its view holds no tag of the run.
    assert_eq!(
        patches(&sim, &msp),
        msp_patches,
        "no PATCH with the MSP's token"
    );
    let after_msp = tags_of(&sim, &msp);
    for (id, tags) in &after_msp {
        assert!(tags.get("wsjob").is_none(), "{id}: {tags}");
        if !picked_ids.contains(id) {
            assert_eq!(Some(tags), before_msp.get(id), "{id} untouched");
        }
    }
    // Both runs are stored with tenant-02's workspace id.
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, workspace_id FROM assignment_runs ORDER BY id")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    let t2_ws = WorkspaceId::parse(&t2.id).unwrap();
    assert_eq!(stored.len(), 2, "{stored:?}");
    for (kind, ws) in &stored {
        assert_eq!(WorkspaceId::parse(ws).as_ref(), Some(&t2_ws), "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_the_console_does_not_serve_is_refused_by_name() {
    let (sim, db, dir, config) = synced_msp().await;
    // The MSP no longer lists tenant-03: the console serves it no client, its rows stay.
    let unlisted = glp_console::sim::TenantFaults {
        unlisted: true,
        ..Default::default()
    };
    let t3 = sim.tenants()[2].clone();
    assert_eq!(t3.name, "tenant-03");
    assert!(sim.set_tenant_faults(&t3.id, unlisted));
    let sheet = dir.join("refused.csv");
    let serial = sim.devices_of(&t3.id).unwrap()[0]["serialNumber"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(&sheet, format!("Serial Number\n{serial}\n")).unwrap();
    let cmd = console_script(&dir, &sim, &db, &config);
    let dir_path = dir.to_path_buf();
    let sheet_path = sheet.display().to_string();
    tokio::task::spawn_blocking(move || {
        let t = Tmux::start_sized(&cmd, &dir_path, "wizno", (160, 40));
        console_up(&t, &dir_path);
        t.literal(":ws tenant-03");
        t.keys(&["Enter"]);
        t.wait_for("the view of tenant-03", 20, |s| s.contains("ws tenant-03"));
        t.keys(&["4"]);
        t.keys(&["n"]);
        t.wait_for("the file step, in tenant-03", 10, |s| {
            s.contains("which spreadsheet?") && s.contains("Assign · tenant-03")
        });
        t.literal(&sheet_path);
        t.keys(&["Enter"]);
        t.wait_for("the refusal naming the workspace", 20, |s| {
            s.contains("workspace tenant-03 cannot be written to")
        });
        t.keys(&["Escape"]);
        t.keys(&["q"]);
        t.wait_for("the console to exit cleanly", 30, |s| s.contains("EXIT=0"));
    })
    .await
    .unwrap();
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM assignment_runs")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(runs, 0, "nothing was run");
    let stats = sim.stats_of(&t3.id).unwrap();
    assert_eq!(stats.endpoint("devices_patch").requests, 0);
}

/// Carry out the reloads the app queued, as the run loop does (other effects are dropped:
/// the wizard's own are not what this test looks at).
async fn settle(app: &mut App, db: &TestDb) {
    if !app
        .take_effects()
        .iter()
        .any(|e| matches!(e, Effect::Reload))
    {
        return;
    }
    let job = ReloadJob {
        scope: app.reload_scope(),
        window_days: app.window_days(),
        now: app.now(),
    };
    let msgs = Mutex::new(Vec::new());
    load_scope(&db.store, &job, &|l| msgs.lock().unwrap().push(l))
        .await
        .unwrap();
    for l in msgs.into_inner().unwrap() {
        app.on_loaded(l);
    }
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(120, 20)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    t.backend().to_string()
}

/// The wizard's workspace is fixed when it opens: the primary when all workspaces are shown,
/// the one shown after `:ws NAME`, and a `:ws` while it is open does not move it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizards_workspace_is_fixed_when_it_opens() {
    let (sim, db, _dir, _config) = synced_msp().await;
    let msp = WorkspaceId::parse(&sim.workspace_id()).unwrap();
    let t1 = WorkspaceId::parse(&sim.tenants()[0].id).unwrap();
    let now = chrono::Utc::now();
    let mut app = App::new(&UiConfig::default(), false, false, now);
    app.set_primary_workspace(msp.clone());
    settle(&mut app, &db).await;
    let n = || KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE);

    // All workspaces: the primary (the MSP, named `acme` in the configuration).
    app.handle_key(KeyEvent::new(KeyCode::Char('4'), KeyModifiers::NONE));
    app.handle_key(n());
    assert_eq!(app.wizard_workspace(), Some(&msp));
    assert!(screen(&app).contains("Assign · acme"), "{}", screen(&app));
    app.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(app.wizard().is_none());
    assert_eq!(app.wizard_workspace(), None);

    // `:ws tenant-01`: the tenant; `:ws tenant-02` meanwhile leaves the open wizard there.
    app.run_command("ws tenant-01");
    settle(&mut app, &db).await;
    app.handle_key(n());
    assert_eq!(app.wizard_workspace(), Some(&t1));
    assert!(
        screen(&app).contains("Assign · tenant-01"),
        "{}",
        screen(&app)
    );
    app.run_command("ws tenant-02");
    settle(&mut app, &db).await;
    assert_eq!(app.wizard_workspace(), Some(&t1));
    assert!(
        screen(&app).contains("Assign · tenant-01"),
        "{}",
        screen(&app)
    );
}
