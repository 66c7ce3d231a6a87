//! Applying assignment plans for real: the simulator over HTTP and a real PostgreSQL.
//! load → choose → apply → the simulator shows exactly the intended changes; a FAILED
//! operation is reported per device and a re-run fixes only those; undo restores; cancel
//! stops after the call in flight; dry-run changes nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::assign::{Fixture, fixture, subs_of, write_client};
use common::{TestDb, TestDir};
use glp_console::assign::apply::{self, ApplyEvent, ApplyOptions, ApplyRequest, plan_undo_run};
use glp_console::assign::load::{LoadOptions, load_bytes};
use glp_console::assign::matching::match_rows;
use glp_console::assign::options::{Catalog, WizardChoices, resolve};
use glp_console::assign::plan::{AppTarget, Phase, Plan, plan};
use glp_console::assign::report::{DeviceStatus, OpStatus, RunStatus};
use glp_console::assign::session::api_catalog;
use glp_console::sim::Faults;
use glp_console::store::Store;
use glp_console::store::audit::{NewDeviceRow, NewRun, RunKind};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn fast() -> ApplyOptions {
    ApplyOptions {
        first_poll: Duration::from_millis(120),
        op_timeout: Duration::from_secs(20),
        ..ApplyOptions::default()
    }
}

/// What assignment may change on a device (and its side effects).
const CHANGEABLE: &[&str] = &[
    "application",
    "region",
    "subscription",
    "tags",
    "updatedAt",
    "assignedState",
];

fn strip(d: &Value) -> Value {
    let mut d = d.clone();
    if let Some(o) = d.as_object_mut() {
        for k in CHANGEABLE {
            o.remove(*k);
        }
    }
    d
}

fn by_id(devs: Vec<Value>) -> BTreeMap<String, Value> {
    devs.into_iter()
        .map(|d| (d["id"].as_str().unwrap().to_string(), d))
        .collect()
}

/// The wizard path: sheet → match → resolve → plan, from the stored inventory.
async fn plan_sheet(f: &Fixture, csv: &str) -> Plan {
    let sheet = load_bytes("s.csv", csv.as_bytes().to_vec(), &LoadOptions::default()).unwrap();
    assert!(sheet.issues.is_empty(), "{:?}", sheet.issues);
    let serials: Vec<String> = sheet.rows.iter().map(|r| r.serial.clone()).collect();
    let stored = f.db.store.devices_by_serials(&serials).await.unwrap();
    let valid = sheet.valid_rows();
    let (matches, _) = match_rows(&sheet, &valid, &stored);
    let catalog = Catalog::new(
        f.db.store.assign_subscriptions().await.unwrap(),
        f.db.store.assign_region_pairs().await.unwrap(),
        f.db.store.assign_tags().await.unwrap(),
        Some(api_catalog(&f.client).await.unwrap()),
    );
    let choices = WizardChoices {
        application: Some(AppTarget {
            application_id: f.app.0.clone(),
            region: f.app.1.clone(),
        }),
        subscription_id: None,
        tags: [("Project".to_string(), Some("Rollout 7".to_string()))].into(),
    };
    let (targets, issues) = resolve(&sheet, &matches, &catalog, &choices, chrono::Utc::now());
    assert!(!issues.iter().any(|i| i.is_error()), "{issues:?}");
    plan(&targets)
}

fn csv(f: &Fixture) -> String {
    let mut s = String::from("Serial Number,Subscription Key\n");
    for serial in &f.serials {
        s.push_str(&format!("{serial},{}\n", f.sub_key));
    }
    s
}

fn run(kind: RunKind, undo_of: Option<i64>) -> NewRun {
    NewRun {
        kind,
        undo_of,
        source_file: Some("s.csv".into()),
        sheet: None,
        requested: json!({}),
        operator: None,
    }
}

async fn go(
    f: &Fixture,
    p: Plan,
    kind: RunKind,
    undo_of: Option<i64>,
    opts: &ApplyOptions,
) -> (glp_console::assign::report::ApplyReport, Vec<ApplyEvent>) {
    let (tx, mut rx) = mpsc::channel(10_000);
    let cancel = CancellationToken::new();
    let r = apply::apply(
        &f.client,
        &f.db.store,
        ApplyRequest {
            plan: p,
            run: run(kind, undo_of),
        },
        opts,
        &tx,
        &cancel,
    )
    .await
    .unwrap();
    drop(tx);
    let mut evs = Vec::new();
    while let Some(e) = rx.recv().await {
        evs.push(e);
    }
    (r, evs)
}

#[tokio::test]
async fn apply_fail_rerun_and_undo_end_to_end() {
    let f = fixture(30).await;
    let original = by_id(f.sim.devices());
    let failing: Vec<String> = f.serials[3..6].to_vec();
    f.sim.set_faults(Faults {
        fail_ops_for: failing.clone(),
        ..Faults::default()
    });

    // Run 1: 30 APs get application+region, subscription and a tag; 3 fail in GreenLake.
    let p = plan_sheet(&f, &csv(&f)).await;
    let phases: Vec<Phase> = p.steps.iter().map(|s| s.phase).collect();
    assert_eq!(
        phases[..4],
        [
            Phase::Application,
            Phase::Application,
            Phase::Subscription,
            Phase::Subscription,
        ]
    );
    let calls = p.steps.len();
    // Tags are grouped by body (an existing `project` key keeps its spelling).
    assert!(phases[4..].iter().all(|p| *p == Phase::Tags));
    let (r1, evs) = go(&f, p, RunKind::Apply, None, &fast()).await;
    assert_eq!(r1.status, RunStatus::Partial, "{}", r1.render_text());
    assert_eq!(r1.counts.devices_failed, 3, "{}", r1.render_text());
    assert_eq!(r1.counts.devices_succeeded, 27);
    // Failures first, each named with the simulator's reason.
    for d in &r1.devices[..3] {
        assert_eq!(d.status, DeviceStatus::Failed);
        assert!(failing.contains(&d.serial));
        assert!(
            d.error.as_deref().unwrap().contains("simulated failure"),
            "{:?}",
            d.error
        );
    }
    // The batches holding the failing devices are FAILED and name them, in every phase.
    let failed_ops: Vec<&_> = r1
        .operations
        .iter()
        .filter(|o| o.status == OpStatus::Failed)
        .collect();
    for phase in [Phase::Application, Phase::Subscription, Phase::Tags] {
        let n: usize = failed_ops
            .iter()
            .filter(|o| o.phase == phase)
            .map(|o| o.failed_devices.len())
            .sum();
        assert_eq!(n, 3, "{phase:?}: {}", r1.render_text());
    }
    assert!(matches!(evs.first(), Some(ApplyEvent::Started { calls: c, .. }) if *c == calls));
    assert!(matches!(evs.last(), Some(ApplyEvent::Finished { .. })));
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, ApplyEvent::OperationDone { .. }))
            .count(),
        calls
    );
    let resync = r1.resync.as_ref().unwrap();
    assert_eq!((resync.fetched, resync.error.as_ref()), (30, None));

    // The simulator: exactly the intended changes on the 27, nothing on anyone else.
    let after = by_id(f.sim.devices());
    for (id, d) in &after {
        let o = &original[id];
        let serial = d["serialNumber"].as_str().unwrap().to_uppercase();
        if f.serials.contains(&serial) && !failing.contains(&serial) {
            assert_eq!(strip(d), strip(o), "only assignment fields change");
            assert_eq!(d["application"]["id"], json!(f.app.0));
            assert_eq!(d["region"], json!(f.app.1));
            assert_eq!(subs_of(d), vec![f.sub_id.clone()]);
            let project: Vec<&Value> = d["tags"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("project"))
                .map(|(_, v)| v)
                .collect();
            assert_eq!(
                project,
                vec![&json!("Rollout 7")],
                "one Project tag, keys case-insensitive"
            );
        } else {
            assert_eq!(d, o, "device {serial} was not to be touched");
        }
    }

    // The audit: run, operations and per-device before-values.
    let run1 = f.db.store.audit_run(r1.run_id).await.unwrap().unwrap();
    assert_eq!(run1.status, "partial");
    let devs = f.db.store.audit_devices(r1.run_id).await.unwrap();
    assert_eq!(devs.len(), 30);
    assert!(
        devs.iter()
            .all(|d| d.before.is_some() && d.device_id.is_some())
    );
    assert_eq!(devs.iter().filter(|d| d.outcome == "failed").count(), 3);
    let ops = f.db.store.audit_operations(r1.run_id).await.unwrap();
    assert_eq!(
        ops.iter().filter(|o| o.2 == "failed").count(),
        failed_ops.len()
    );

    // Run 2, same sheet, faults off: only the 3 failed devices are planned and sent.
    f.sim.set_faults(Faults::default());
    let p2 = plan_sheet(&f, &csv(&f)).await;
    let mut planned: Vec<String> = p2.devices.iter().map(|d| d.serial.clone()).collect();
    planned.sort();
    let mut want = failing.clone();
    want.sort();
    assert_eq!(planned, want);
    assert_eq!(p2.unchanged.len(), 27);
    assert!(
        p2.steps
            .iter()
            .all(|s| s.serials.iter().all(|x| failing.contains(x))),
        "only the failed devices are sent again"
    );
    let (r2, _) = go(&f, p2, RunKind::Apply, None, &fast()).await;
    assert_eq!(r2.status, RunStatus::Succeeded, "{}", r2.render_text());
    let after2 = by_id(f.sim.devices());
    for d in after2.values() {
        let serial = d["serialNumber"].as_str().unwrap().to_uppercase();
        if f.serials.contains(&serial) {
            assert_eq!(subs_of(d), vec![f.sub_id.clone()]);
        }
    }
    // A third run has nothing to do.
    assert!(plan_sheet(&f, &csv(&f)).await.is_empty());

    // Undo run 2, then run 1: everything is back as it was.
    for run_id in [r2.run_id, r1.run_id] {
        let u = plan_undo_run(&f.db.store, run_id).await.unwrap();
        let (ru, _) = go(&f, u, RunKind::Undo, Some(run_id), &fast()).await;
        assert_eq!(ru.status, RunStatus::Succeeded, "{}", ru.render_text());
        assert_eq!(ru.undo_of, Some(run_id));
    }
    let restored = by_id(f.sim.devices());
    for (id, d) in &restored {
        let o = &original[id];
        assert_eq!(strip(d), strip(o));
        assert_eq!(d["application"], o["application"]);
        assert_eq!(d["region"], o["region"]);
        assert_eq!(subs_of(d), subs_of(o));
        assert_eq!(
            d["tags"].as_object().cloned().unwrap_or_default(),
            o["tags"].as_object().cloned().unwrap_or_default()
        );
    }
    // Reports export.
    let dir = TestDir::new("glpc-apply-");
    r1.write(&dir.join("r.xlsx")).unwrap();
    r1.write(&dir.join("r.json")).unwrap();
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap();
    assert_eq!(v["counts"]["devices_failed"], 3);
    assert_eq!(v["devices"][0]["status"], "failed");
    assert!(std::fs::metadata(dir.join("r.xlsx")).unwrap().len() > 1000);
    assert!(r1.write(&dir.join("r.txt")).is_err());
    f.sim.shutdown().await;
}

#[tokio::test]
async fn dry_run_changes_nothing_and_cannot_be_undone() {
    let f = fixture(5).await;
    let original = f.sim.devices();
    let p = plan_sheet(&f, &csv(&f)).await;
    let opts = ApplyOptions {
        dry_run: true,
        ..fast()
    };
    let (r, _) = go(&f, p, RunKind::Apply, None, &opts).await;
    assert!(r.dry_run);
    assert_eq!(r.kind, RunKind::DryRun);
    // The subscription phase fails validation for devices that (really) have no
    // application yet — exactly what GreenLake's dry run would say.
    assert!(
        r.operations
            .iter()
            .any(|o| o.phase == Phase::Application && o.status == OpStatus::Succeeded)
    );
    assert!(r.resync.is_none());
    assert_eq!(f.sim.devices(), original);
    assert!(plan_undo_run(&f.db.store, r.run_id).await.is_err());
    f.sim.shutdown().await;
}

#[tokio::test]
async fn cancel_stops_after_the_call_in_flight() {
    let mut f = fixture(100).await;
    // 600 PATCHes a minute: one every 100 ms, so the cancel lands mid-phase.
    f.client = write_client(&f.sim, 600);
    let original = f.sim.devices();
    let p = plan_sheet(&f, &csv(&f)).await;
    assert!(p.steps.len() >= 12);
    let mut h = apply::start(
        f.client.clone(),
        f.db.store.clone(),
        ApplyRequest {
            plan: p,
            run: run(RunKind::Apply, None),
        },
        fast(),
    );
    while let Some(ev) = h.run_events.recv().await {
        if matches!(ev, ApplyEvent::Sent { seq: 1, .. }) {
            h.cancel.cancel();
        }
    }
    let r = h.join.await.unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Cancelled);
    let sent = r
        .operations
        .iter()
        .filter(|o| o.status != OpStatus::Skipped)
        .count();
    assert!((2..=3).contains(&sent), "sent {sent}: {}", r.render_text());
    assert!(
        r.operations[sent..]
            .iter()
            .all(|o| o.status == OpStatus::Skipped)
    );
    assert!(
        r.operations[..sent]
            .iter()
            .all(|o| o.status == OpStatus::Succeeded)
    );
    // Only applications of the sent batches changed.
    let changed = f
        .sim
        .devices()
        .iter()
        .zip(&original)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(changed, sent * 25);
    assert_eq!(r.counts.devices_skipped, 100 - sent * 25);
    f.sim.shutdown().await;
}

#[tokio::test]
async fn new_devices_are_added_then_fully_assigned() {
    let f = fixture(2).await;
    let mut sheet = String::from("Serial Number,MAC Address,Device Type,Subscription Key\n");
    sheet.push_str(&format!("{},,,{}\n", f.serials[0], f.sub_key));
    sheet.push_str(&format!("NEWSN00001,AA:BB:CC:00:00:01,AP,{}\n", f.sub_key));
    sheet.push_str(&format!("NEWSN00002,AA:BB:CC:00:00:02,AP,{}\n", f.sub_key));
    sheet.push_str(&format!("NEWSN00003,AA:BB:CC:00:00:03,AP,{}\n", f.sub_key));
    // The third add fails in GreenLake: it must simply be left out of the later calls.
    f.sim.set_faults(Faults {
        fail_ops_for: vec!["NEWSN00003".into()],
        ..Faults::default()
    });
    let p = plan_sheet(&f, &sheet).await;
    assert_eq!(p.steps.iter().filter(|s| s.phase == Phase::Add).count(), 3);
    let (r, _) = go(&f, p, RunKind::Apply, None, &fast()).await;
    assert_eq!(r.status, RunStatus::Partial, "{}", r.render_text());
    assert_eq!(r.devices[0].serial, "NEWSN00003");
    assert_eq!(r.devices[0].status, DeviceStatus::Failed);
    for serial in ["NEWSN00001", "NEWSN00002"] {
        let d = f
            .sim
            .devices()
            .into_iter()
            .find(|d| d["serialNumber"] == serial)
            .expect("added");
        // Bugs 1–3 of GLP-Sync-2: every new device gets application, region, subscription.
        assert_eq!(d["application"]["id"], json!(f.app.0), "{serial}");
        assert_eq!(d["region"], json!(f.app.1));
        assert_eq!(subs_of(&d), vec![f.sub_id.clone()]);
        assert_eq!(d["tags"]["Project"], "Rollout 7");
        let rep = r.devices.iter().find(|x| x.serial == serial).unwrap();
        assert_eq!(rep.status, DeviceStatus::Succeeded);
        assert_eq!(rep.device_id.as_deref(), d["id"].as_str());
    }
    assert!(
        !f.sim
            .devices()
            .iter()
            .any(|d| d["serialNumber"] == "NEWSN00003")
    );
    // The resync stored the new devices: a re-run (faults off) only adds the failed one.
    f.sim.set_faults(Faults::default());
    let p2 = plan_sheet(&f, &sheet).await;
    let serials: Vec<&str> = p2.devices.iter().map(|d| d.serial.as_str()).collect();
    assert_eq!(serials, vec!["NEWSN00003"]);
    let (r2, _) = go(&f, p2, RunKind::Apply, None, &fast()).await;
    assert_eq!(r2.status, RunStatus::Succeeded, "{}", r2.render_text());
    f.sim.shutdown().await;
}

/// Does any session hold the lock of assignment run `id` (two-key advisory lock, 2nd key =
/// the run id)?
async fn run_lock_held(db: &TestDb, id: i64) -> bool {
    sqlx::query_scalar(
        // pg_locks is cluster-wide: only this test's database counts (other tests' runs have
        // the same small ids in theirs).
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 \
                          AND granted AND objid::text = $1 \
                          AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
    )
    .bind(id.to_string())
    .fetch_one(db.store.pool())
    .await
    .unwrap()
}

async fn run_status(db: &TestDb, id: i64) -> (String, bool) {
    sqlx::query_as("SELECT status, finished_at IS NOT NULL FROM assignment_runs WHERE id = $1")
        .bind(id)
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

/// A run whose owner is gone (its connection, and with it the run's lock, closed without
/// recording an end — what SIGKILL does) is marked abandoned by the next run and by the run
/// list; a run whose owner is alive, in another process's pool, is left running.
#[tokio::test]
async fn runs_of_gone_owners_are_abandoned_live_runs_are_not() {
    let db = TestDb::new().await;
    let devices = |serial: &str| {
        vec![NewDeviceRow {
            serial: serial.into(),
            device_id: Some(format!("id-{serial}")),
            row_number: Some(2),
            before: Some(
                json!({"application_id": null, "region": null, "subscriptions": [], "tags": {}}),
            ),
            intended: Some(
                json!({"application_id": "app", "region": "us-west", "subscriptions": [], "tags": {}}),
            ),
            outcome: "pending".into(),
        }]
    };
    // "Other processes": pools of their own.
    let alive_proc = Store::connect(&db.url, 2).await.unwrap();
    let dead_proc = Store::connect(&db.url, 2).await.unwrap();
    let live = alive_proc
        .audit_start(&run(RunKind::Apply, None), &[], &devices("LIVE1"))
        .await
        .unwrap();
    let dead = dead_proc
        .audit_start(&run(RunKind::Apply, None), &[], &devices("DEAD1"))
        .await
        .unwrap();
    let (live_id, dead_id) = (live.id, dead.id);
    assert!(run_lock_held(&db, live_id).await && run_lock_held(&db, dead_id).await);
    // While both owners live, nothing is swept.
    assert_eq!(
        db.store.sweep_abandoned_assignment_runs().await.unwrap(),
        Vec::<i64>::new()
    );
    // The dead process: its connections close without a word.
    drop(dead);
    dead_proc.close().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while run_lock_held(&db, dead_id).await {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never dropped the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(run_status(&db, dead_id).await, ("running".into(), false));

    // The next run (from this process) marks it abandoned, and only it.
    let next = db
        .store
        .audit_start(&run(RunKind::DryRun, None), &[], &devices("NEXT1"))
        .await
        .unwrap();
    assert_eq!(run_status(&db, dead_id).await, ("abandoned".into(), true));
    assert_eq!(run_status(&db, live_id).await, ("running".into(), false));
    let summary = db
        .store
        .audit_run(dead_id)
        .await
        .unwrap()
        .unwrap()
        .summary
        .unwrap();
    assert!(
        summary["error"]
            .as_str()
            .unwrap()
            .contains("process ended before the run finished"),
        "{summary}"
    );
    assert_eq!(summary["pid"], std::process::id(), "which process owned it");
    // Its devices' fate is unknown (the calls may have gone out), and undo covers them.
    let devs = db.store.audit_devices(dead_id).await.unwrap();
    assert_eq!(devs[0].outcome, "unknown");
    assert!(devs[0].error.as_deref().unwrap().contains("undo"));
    let undo = plan_undo_run(&db.store, dead_id).await.unwrap();
    assert!(
        undo.notes.iter().any(|n| n.contains("DEAD1")),
        "undo looks at the abandoned run's devices: {:?}",
        undo.notes
    );

    // The live run ends normally; its end is recorded and its lock let go.
    alive_proc
        .audit_finish(live, "succeeded", &json!({}), &[])
        .await
        .unwrap();
    assert_eq!(run_status(&db, live_id).await, ("succeeded".into(), true));
    assert!(!run_lock_held(&db, live_id).await);
    alive_proc.close().await;

    // A run whose owner let go without recording an end reads as abandoned in the run list.
    let next_id = next.id;
    drop(next);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while run_lock_held(&db, next_id).await {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never dropped the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let list = db.store.view_assignment_runs().await.unwrap();
    let status = |id: i64| {
        list.iter()
            .find(|r| r.id == id)
            .map(|r| r.status.clone())
            .unwrap()
    };
    assert_eq!(status(next_id), "abandoned");
    assert_eq!(status(live_id), "succeeded");
    assert_eq!(status(dead_id), "abandoned");
}
