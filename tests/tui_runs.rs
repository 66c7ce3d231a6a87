//! The Assign tab's runs and the sync history. Keys against an in-memory app: Enter on a
//! run asks for its detail, `u` for its undo plan (refused, with the reason, read-only). And
//! end to end in tmux with the real binary in `--demo`: an assignment made with the wizard,
//! its detail and re-exported report, then `u` → plan → confirm → apply, after which the
//! DATABASE holds the devices' values from before; `:history` lists as many sync runs as
//! `sync_history` has.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::config::UiConfig;
use glp_console::store::views::AssignmentRunRecord;
use glp_console::tui::app::{App, Effect, InputMode, Loaded, Tab};
use glp_console::tui::model::rows;

use common::demo::{DropDemoDb, demo_env, demo_serials, with_db};
use common::tmux::Tmux;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn run(id: i64, kind: &str) -> AssignmentRunRecord {
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    AssignmentRunRecord {
        id,
        created_at: at,
        finished_at: Some(at),
        kind: kind.into(),
        status: "succeeded".into(),
        source_file: Some("sheet.xlsx".into()),
        operator: None,
        devices: 3,
        succeeded: 3,
        failed: 0,
        operations: 2,
    }
}

fn app_with_runs(read_only: bool) -> App {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    let mut a = App::new(&UiConfig::default(), read_only, false, now);
    a.on_loaded(Loaded::Assign(rows::assign_rows(&[
        run(7, "apply"),
        run(6, "apply"),
    ])));
    a.handle_key(key(KeyCode::Char('4')));
    a.take_effects();
    a
}

#[test]
fn enter_opens_a_runs_detail_and_u_plans_its_undo() {
    let mut a = app_with_runs(false);
    assert_eq!(a.tab(), Tab::Assign);
    a.handle_key(key(KeyCode::Char('j')));
    a.handle_key(key(KeyCode::Enter));
    assert_eq!(a.mode(), InputMode::Detail);
    let fx = a.take_effects();
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::LoadRunDetail { run_id: 6 })),
        "{fx:?}"
    );
    // `e` in the detail writes its report again; `u` plans the undo of that run.
    a.handle_key(key(KeyCode::Char('e')));
    let fx = a.take_effects();
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::ExportRun { run_id: 6, path }
            if path.extension().is_some_and(|x| x == "xlsx"))),
        "{fx:?}"
    );
    a.handle_key(key(KeyCode::Char('u')));
    let fx = a.take_effects();
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::PlanUndo { run_id: 6 })),
        "{fx:?}"
    );
    // From the list itself too.
    a.handle_key(key(KeyCode::Esc));
    a.handle_key(key(KeyCode::Char('k')));
    a.handle_key(key(KeyCode::Char('u')));
    let fx = a.take_effects();
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::PlanUndo { run_id: 7 })),
        "{fx:?}"
    );
}

#[test]
fn a_runs_detail_lists_its_errors_calls_and_devices() {
    use glp_console::assign::recorded::RecordedRun;
    use glp_console::store::audit::{RunDeviceRow, RunKind, RunOperationRow, RunRow};
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    let op = |seq: i32, kind: &str, status: &str, error: Option<&str>| RunOperationRow {
        seq,
        kind: kind.into(),
        method: "PATCH".into(),
        path: "/devices/v1/devices".into(),
        payload: None,
        device_ids: vec!["d1".into(), "d2".into()],
        serials: vec!["SN1".into(), "SN2".into()],
        http_status: Some(202),
        operation_id: None,
        status: status.into(),
        error: error.map(str::to_string),
        started_at: Some(at),
        finished_at: Some(at),
    };
    let dev = |serial: &str, outcome: &str, error: Option<&str>| RunDeviceRow {
        serial: serial.into(),
        device_id: None,
        row_number: Some(2),
        before: None,
        intended: None,
        outcome: outcome.into(),
        error: error.map(str::to_string),
    };
    let rec = RecordedRun {
        run: RunRow {
            id: 6,
            created_at: at,
            finished_at: Some(at),
            kind: RunKind::Apply,
            undo_of: None,
            source_file: Some("sheet.xlsx".into()),
            status: "partial".into(),
            requested: serde_json::json!({}),
            summary: None,
        },
        operations: vec![
            op(1, "application", "succeeded", None),
            op(2, "tags", "failed", Some("tag key is reserved")),
        ],
        devices: vec![
            dev("SN1", "succeeded", None),
            dev("SN2", "failed", Some("tags: tag key is reserved")),
            dev("SN3", "unchanged", None),
        ],
    };
    let mut a = app_with_runs(false);
    a.handle_key(key(KeyCode::Char('j')));
    a.handle_key(key(KeyCode::Enter));
    a.on_loaded(Loaded::RunDetail {
        run_id: 6,
        result: Ok(Some(Box::new(rec))),
    });
    let d = a.detail().expect("the run's detail is open");
    assert!(!d.loading);
    let text: Vec<&str> = d.lines.iter().map(|(_, l)| l.as_str()).collect();
    let has = |s: &str| text.iter().any(|l| l.contains(s));
    for want in [
        "u undo this run",
        "2 calls: 1 succeeded, 1 failed",
        "Errors (2)",
        "call #2: tag key is reserved",
        "SN2: tags: tag key is reserved",
        "Calls (2)",
        "Devices (3)",
        "unchanged",
    ] {
        assert!(has(want), "{want:?} missing from {text:#?}");
    }
}

#[test]
fn an_undo_plan_goes_through_the_wizards_confirm_with_a_dry_run() {
    use glp_console::assign::apply::UndoPlan;
    use glp_console::assign::plan::{DeviceState, UndoRecord, plan_undo};
    use glp_console::store::audit::RunKind;
    use glp_console::tui::keys::WizardAction;
    use glp_console::tui::wizard::{Confirm, WizardEffect, WizardStep};
    let tagged = |v: Option<&str>| DeviceState {
        tags: v
            .map(|v| [("e2e".to_string(), v.to_string())].into())
            .unwrap_or_default(),
        ..DeviceState::default()
    };
    let plan = plan_undo(&[UndoRecord {
        serial: "SN1".into(),
        device_id: "d1".into(),
        before: Some(tagged(None)),
        after: tagged(Some("x")),
    }]);
    assert!(!plan.is_empty());
    let mut a = app_with_runs(false);
    a.on_loaded(Loaded::UndoPlanned(Ok(Box::new(UndoPlan {
        run_id: 7,
        plan,
        warning: None,
    }))));
    let w = a.wizard().expect("the undo opens the wizard");
    assert_eq!(w.step(), WizardStep::Plan);
    assert_eq!(w.undo_of(), Some(7));
    assert_eq!(a.tab(), Tab::Assign);
    a.take_effects();
    a.wizard_act(WizardAction::DryRun);
    assert_eq!(
        a.wizard().unwrap().confirm(),
        Some(Confirm::Send { dry_run: true })
    );
    a.wizard_act(WizardAction::Yes);
    let fx = a.take_effects();
    let Some((run, dry_run)) = fx.iter().find_map(|e| match e {
        Effect::Wizard(WizardEffect::Apply { run, dry_run, .. }) => Some((run.clone(), *dry_run)),
        _ => None,
    }) else {
        panic!("no apply among {fx:?}");
    };
    assert!(dry_run);
    assert_eq!(run.kind, RunKind::Undo);
    assert_eq!(run.undo_of, Some(7));
}

#[test]
fn esc_on_an_undo_plan_goes_back_to_the_run_list() {
    use glp_console::assign::apply::UndoPlan;
    use glp_console::assign::plan::{DeviceState, UndoRecord, plan_undo};
    let plan = plan_undo(&[UndoRecord {
        serial: "SN1".into(),
        device_id: "d1".into(),
        before: Some(DeviceState::default()),
        after: DeviceState {
            tags: [("k".to_string(), "v".to_string())].into(),
            ..DeviceState::default()
        },
    }]);
    let mut a = app_with_runs(false);
    a.on_loaded(Loaded::UndoPlanned(Ok(Box::new(UndoPlan {
        run_id: 7,
        plan,
        warning: None,
    }))));
    assert!(a.wizard().is_some());
    a.handle_key(key(KeyCode::Esc));
    assert!(a.wizard().is_none(), "no choices to go back to");
}

#[test]
fn read_only_refuses_undo_with_the_reason() {
    let mut a = app_with_runs(true);
    a.handle_key(key(KeyCode::Char('u')));
    let fx = a.take_effects();
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::PlanUndo { .. })),
        "{fx:?}"
    );
    let last = a
        .toasts()
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(
        last.contains("read-only") && last.contains("undo"),
        "{last}"
    );
}

#[test]
fn history_command_asks_for_the_sync_runs() {
    let mut a = app_with_runs(false);
    a.handle_key(key(KeyCode::Char(':')));
    a.type_str("history");
    a.handle_key(key(KeyCode::Enter));
    assert_eq!(a.mode(), InputMode::Detail);
    let fx = a.take_effects();
    assert!(
        fx.iter().any(|e| matches!(e, Effect::LoadHistory)),
        "{fx:?}"
    );
}

/// A recorded run of `kind` with one device, as the audit returns it.
fn recorded(
    id: i64,
    kind: glp_console::store::audit::RunKind,
    requested: serde_json::Value,
) -> glp_console::assign::recorded::RecordedRun {
    use glp_console::store::audit::{RunDeviceRow, RunRow};
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    glp_console::assign::recorded::RecordedRun {
        run: RunRow {
            id,
            created_at: at,
            finished_at: Some(at),
            kind,
            undo_of: None,
            source_file: Some("sheet.xlsx".into()),
            status: "succeeded".into(),
            requested,
            summary: None,
        },
        operations: Vec::new(),
        devices: vec![RunDeviceRow {
            serial: "SN1".into(),
            device_id: Some("d1".into()),
            row_number: Some(2),
            before: None,
            intended: None,
            outcome: "succeeded".into(),
            error: None,
        }],
    }
}

/// The detail's text lines.
fn detail_text(a: &App) -> Vec<String> {
    let d = a.detail().expect("a detail is open");
    d.lines.iter().map(|(_, l)| l.clone()).collect()
}

/// A dry run, and a dry-run undo (recorded as an undo), changed nothing: their detail
/// offers the export but no undo; a real undo still offers it.
#[test]
fn a_dry_runs_detail_offers_no_undo() {
    use glp_console::store::audit::RunKind;
    let dry = serde_json::json!({"dry_run": true});
    for (kind, requested, undoable) in [
        (RunKind::DryRun, dry.clone(), false),
        (RunKind::Undo, dry.clone(), false),
        (RunKind::Undo, serde_json::json!({"dry_run": false}), true),
    ] {
        let mut a = app_with_runs(false);
        a.handle_key(key(KeyCode::Char('j')));
        a.handle_key(key(KeyCode::Enter));
        a.on_loaded(Loaded::RunDetail {
            run_id: 6,
            result: Ok(Some(Box::new(recorded(6, kind, requested.clone())))),
        });
        let text = detail_text(&a);
        let has = |s: &str| text.iter().any(|l| l.contains(s));
        assert!(has("export its report"), "{text:#?}");
        assert_eq!(
            has("undo this run"),
            undoable,
            "{kind:?} {requested}: {text:#?}"
        );
    }
}

/// Enter, Esc, Enter on one run before its first read returns: two answers arrive, the
/// detail lists the run once.
#[test]
fn a_runs_detail_asked_twice_lists_it_once() {
    use glp_console::store::audit::RunKind;
    let mut a = app_with_runs(false);
    a.handle_key(key(KeyCode::Char('j')));
    a.handle_key(key(KeyCode::Enter));
    a.handle_key(key(KeyCode::Esc));
    a.handle_key(key(KeyCode::Enter));
    assert_eq!(a.mode(), InputMode::Detail);
    for _ in 0..2 {
        a.on_loaded(Loaded::RunDetail {
            run_id: 6,
            result: Ok(Some(Box::new(recorded(
                6,
                RunKind::Apply,
                serde_json::json!({}),
            )))),
        });
    }
    let text = detail_text(&a);
    let n = text.iter().filter(|l| l.starts_with("Devices (")).count();
    assert_eq!(n, 1, "{text:#?}");
}

fn sync_run(id: i64) -> glp_console::store::history::RunRecord {
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
    glp_console::store::history::RunRecord {
        id,
        trigger: "manual".into(),
        mode: "incremental".into(),
        scope: "all".into(),
        started_at: at,
        finished_at: Some(at),
        outcome: "succeeded".into(),
        error: None,
        requests: 1,
        retries: 0,
        throttled: 0,
        breaker_trips: 0,
        duration_ms: Some(10),
        host: None,
        workspace_id: "default".into(),
    }
}

/// `:history` reads at most 1000 runs: a full page says "latest", not a total.
#[test]
fn history_title_says_latest_when_the_cap_is_hit() {
    for (n, want) in [
        (3, "Sync history: 3 runs, newest first"),
        (1000, "Sync history: latest 1000 runs, newest first"),
    ] {
        let mut a = app_with_runs(false);
        a.handle_key(key(KeyCode::Char(':')));
        a.type_str("history");
        a.handle_key(key(KeyCode::Enter));
        a.on_loaded(Loaded::History(Ok((0..n).rev().map(sync_run).collect())));
        assert_eq!(a.detail().unwrap().title, want);
    }
}

// ---- end to end -------------------------------------------------------------------------

/// From the review, on through the wizard with three devices: keep the subscription, press
/// `application` at the application chooser, set `tag`, apply and confirm; the report's
/// screen once the resync of the three devices is on it.
fn from_review_to_report(t: &Tmux, application: &str, tag: &str) -> String {
    t.keys(&["Enter"]);
    t.wait_for("the subscription chooser", 30, |s| {
        s.contains("[Subscription]") && s.contains("enough seats")
    });
    t.keys(&["-"]);
    t.wait_for("the application chooser", 10, |s| {
        s.contains("[Application]")
    });
    t.keys(&[application]);
    t.wait_for("the tags step", 10, |s| s.contains("[Tags]"));
    t.literal(tag);
    t.keys(&["Enter"]);
    let listed = tag.replacen('=', " = ", 1);
    t.wait_for("the tag change listed", 10, |s| {
        s.contains(&format!("set    {listed}"))
    });
    t.keys(&["Enter"]);
    t.wait_for("the plan", 10, |s| {
        s.contains("[Plan]") && s.contains("calls for 3 devices")
    });
    t.keys(&["a"]);
    t.wait_for("the confirmation", 10, |s| s.contains("to GreenLake?"));
    t.keys(&["y"]);
    t.wait_for("the report", 180, |s| s.contains("[Report]"));
    t.wait_for("the resync in the report", 60, |s| {
        s.contains("resync: 3 of 3")
    })
}

/// What an assignment changes on a device, as the database holds it: tags, application
/// and region.
fn state(serials: &[String]) -> Vec<(String, String, Option<String>, Option<String>)> {
    let serials = serials.to_vec();
    with_db(move |c| {
        Box::pin(async move {
            sqlx::query_as(
                "SELECT serial_number, tags::text, application_id, region FROM devices \
                 WHERE serial_number = ANY($1) ORDER BY serial_number",
            )
            .bind(serials)
            .fetch_all(c)
            .await
            .unwrap()
        })
    })
}

fn sync_runs() -> i64 {
    with_db(|c| {
        Box::pin(async move {
            sqlx::query_scalar("SELECT count(*) FROM sync_history")
                .fetch_one(c)
                .await
                .unwrap()
        })
    })
}

fn write_sheet(path: &std::path::Path, serials: &[String]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Serial Number").unwrap();
    for (i, s) in serials.iter().enumerate() {
        ws.write_string(i as u32 + 1, 0, s).unwrap();
    }
    wb.save(path).unwrap();
}

/// The run count in the history pane's title: "Sync history: 5 runs, newest first".
fn history_count(screen: &str) -> Option<i64> {
    let at = screen.find("Sync history: ")? + "Sync history: ".len();
    screen[at..].split_whitespace().next()?.parse().ok()
}

#[test]
fn demo_wizard_run_undone_from_the_assign_tab_and_history() {
    let _one = common::demo::one_at_a_time();
    let _db = DropDemoDb;
    let tmp = tempfile::Builder::new()
        .prefix("glpc-e2e-runs-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let cmd = format!(
        "HOME={home} {env} {bin} --demo --log-dir {logs}; echo EXIT=$?; sleep 120",
        home = dir.join("home").display(),
        env = demo_env(),
        bin = env!("CARGO_BIN_EXE_glp-console"),
        logs = dir.join("logs").display(),
    );
    let t = Tmux::start_in(&format!("sh -c '{cmd}'"), &dir, "runs");
    t.wait_for("the demo to finish its first sync", 90, |s| {
        s.contains("Devices 10,000") && s.contains("✓ synced")
    });
    let serials = demo_serials();
    assert_eq!(serials.len(), 3, "{serials:?}");
    let before = state(&serials);
    write_sheet(&dir.join("runs-e2e.xlsx"), &serials);

    // An assignment with the wizard: the first application/region and one tag.
    t.keys(&["4"]);
    t.wait_for("the Assign tab", 10, |s| s.contains("[4 Assign"));
    t.keys(&["n"]);
    t.wait_for("the file step", 10, |s| s.contains("which spreadsheet?"));
    t.literal("runs-e2e.xlsx");
    t.keys(&["Enter"]);
    t.wait_for("the validation step", 30, |s| {
        s.contains("[Validate]") || s.contains("[Check]")
    });
    t.keys(&["Enter"]);
    t.wait_for("the review", 10, |s| s.contains("[Review]"));
    from_review_to_report(&t, "Enter", "e2e=runs");
    let applied = state(&serials);
    assert!(
        applied.iter().all(|d| d.1.contains("\"e2e\": \"runs\"")),
        "the assignment tagged the devices: {applied:?}"
    );

    // Back to the run list; Enter opens the run's detail with its calls and devices.
    t.keys(&["Escape"]);
    t.wait_for("the run list with the run", 20, |s| {
        s.contains("runs-e2e.xlsx") && s.contains("succeeded")
    });
    t.keys(&["Enter"]);
    t.wait_for("the run's detail", 20, |s| {
        s.contains("Devices (3)") && s.contains("Calls (")
    });
    // Its report written again.
    t.keys(&["e"]);
    t.wait_for("the export message", 20, |s| {
        s.contains("wrote assignment-run-")
    });
    let reports: Vec<_> = std::fs::read_dir(dir.join("home/.local/share/glp-console/reports"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        reports.iter().any(|n| n.ends_with("-again.xlsx")),
        "{reports:?}"
    );

    // `u` in the detail: the undo plan in the wizard, then confirm and apply.
    t.keys(&["u"]);
    let s = t.wait_for("the undo plan", 60, |s| {
        s.contains("[Plan]") && s.contains("Undo of run") && s.contains("calls for 3 devices")
    });
    assert!(!s.contains("Tag:"), "no choices are asked for an undo: {s}");
    t.keys(&["a"]);
    t.wait_for("the confirmation", 10, |s| s.contains("to GreenLake?"));
    t.keys(&["y"]);
    t.wait_for("the undo's report", 180, |s| s.contains("[Report]"));
    t.wait_for("the resync in the undo's report", 60, |s| {
        s.contains("resync: 3 of 3")
    });
    let after = state(&serials);
    assert_eq!(after, before, "the undo put the devices back");

    // The run list shows the undo.
    t.keys(&["Escape"]);
    t.wait_for("the undo in the run list, succeeded", 20, |s| {
        s.lines()
            .any(|l| l.contains(" undo ") && l.contains("succeeded"))
    });

    // `:history`: as many runs as sync_history holds.
    // A sync that starts between the screen and the count changes the count: then again.
    let mut tries = 0;
    loop {
        t.keys(&[":"]);
        t.literal("history");
        t.keys(&["Enter"]);
        let s = t.wait_for("the sync history", 20, |s| history_count(s).is_some());
        let shown = history_count(&s).unwrap();
        let counted = sync_runs();
        assert!(s.contains("succeeded"), "{s}");
        t.keys(&["Escape"]);
        t.wait_for("the history to close", 10, |s| history_count(s).is_none());
        tries += 1;
        if shown == counted || tries == 3 {
            assert_eq!(shown, counted, "{s}");
            break;
        }
    }
    t.keys(&["q"]);
    t.wait_for("the console to exit", 20, |s| s.contains("EXIT="));
}

/// Marks instead of a spreadsheet: three devices marked one filter at a time (the marks
/// outlive each filter), `a` opens the wizard on them, and the assignment reaches them.
#[test]
fn demo_marked_devices_assigned_without_a_sheet() {
    let _one = common::demo::one_at_a_time();
    let _db = DropDemoDb;
    let tmp = tempfile::Builder::new()
        .prefix("glpc-e2e-marks-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    let cmd = format!(
        "HOME={home} {env} {bin} --demo --log-dir {logs}; echo EXIT=$?; sleep 120",
        home = dir.display(),
        env = demo_env(),
        bin = env!("CARGO_BIN_EXE_glp-console"),
        logs = dir.join("logs").display(),
    );
    let t = Tmux::start_in(&format!("sh -c '{cmd}'"), &dir, "marks");
    t.wait_for("the demo to finish its first sync", 90, |s| {
        s.contains("Devices 10,000") && s.contains("✓ synced")
    });
    let serials = demo_serials();
    assert_eq!(serials.len(), 3, "{serials:?}");
    for (i, serial) in serials.iter().enumerate() {
        t.keys(&["/"]);
        t.literal(&format!("'{serial}"));
        t.wait_for("the filter to find the device", 20, |s| {
            s.lines()
                .nth(1)
                .is_some_and(|l| l.contains("· 1 of 10,000"))
        });
        t.keys(&["Enter"]);
        t.keys(&["Space"]);
        let n = i + 1;
        t.wait_for("the mark counted", 10, |s| {
            s.contains(&format!("{n} marked"))
        });
        t.keys(&["Escape"]);
        t.wait_for("the filter cleared, the marks kept", 10, |s| {
            s.contains("10,000 rows") && s.contains(&format!("{n} marked"))
        });
    }
    t.keys(&["a"]);
    t.wait_for("the wizard on the marked devices", 30, |s| {
        s.contains("3 marked devices") && (s.contains("[Validate]") || s.contains("[Check]"))
    });
    t.keys(&["Enter"]);
    t.wait_for("the review", 10, |s| {
        s.contains("[Review]") && s.contains("found 3")
    });
    let report = from_review_to_report(&t, "-", "e2e=marks");
    let after = state(&serials);
    assert!(
        after.iter().all(|d| d.1.contains("\"e2e\": \"marks\"")),
        "the marked devices were tagged: {after:?}\n{report}"
    );
    t.keys(&["Escape"]);
    t.wait_for("the run list with the marked run", 20, |s| {
        s.contains("3 marked devices") && s.contains("succeeded")
    });
    t.keys(&["q"]);
    t.wait_for("the console to exit", 20, |s| s.contains("EXIT="));
}
