//! A dry run that tells the truth, and one count everywhere: the simulator over HTTP and a
//! real PostgreSQL. A subscription for a device that only gets its application from the same
//! plan cannot be checked by a dry run (GreenLake checks it against the device as it is):
//! it is reported as not checkable, never as failed, and the real apply then succeeds. The
//! live events, the report and the run list count a run with real failures the same way,
//! and as the simulator saw it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::time::Duration;

use common::assign::{Fixture, fixture, subs_of};
use glp_console::assign::apply::{self, ApplyEvent, ApplyOptions, ApplyRequest};
use glp_console::assign::load::{LoadOptions, load_bytes};
use glp_console::assign::matching::match_rows;
use glp_console::assign::options::{Catalog, WizardChoices, resolve};
use glp_console::assign::plan::{AppTarget, Phase, Plan, plan};
use glp_console::assign::report::{ApplyReport, Counts, DeviceStatus, OpStatus};
use glp_console::assign::session::api_catalog;
use glp_console::sim::Faults;
use glp_console::store::audit::{NewRun, RunKind};
use glp_console::tui::wizard::ApplyProgress;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn opts(dry_run: bool) -> ApplyOptions {
    ApplyOptions {
        dry_run,
        first_poll: Duration::from_millis(120),
        op_timeout: Duration::from_secs(20),
        ..ApplyOptions::default()
    }
}

/// The wizard path: sheet (serial, subscription key) → match → resolve with an
/// application and region → plan.
async fn plan_sheet(f: &Fixture) -> Plan {
    let mut csv = String::from("Serial Number,Subscription Key\n");
    for serial in &f.serials {
        csv.push_str(&format!("{serial},{}\n", f.sub_key));
    }
    let sheet = load_bytes("s.csv", csv.into_bytes(), &LoadOptions::default()).unwrap();
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
        tags: Default::default(),
    };
    let (targets, issues) = resolve(&sheet, &matches, &catalog, &choices, chrono::Utc::now());
    assert!(!issues.iter().any(|i| i.is_error()), "{issues:?}");
    plan(&targets)
}

async fn go(f: &Fixture, p: Plan, o: &ApplyOptions) -> (ApplyReport, Vec<ApplyEvent>) {
    let (tx, mut rx) = mpsc::channel(10_000);
    let cancel = CancellationToken::new();
    let run = NewRun {
        kind: RunKind::Apply,
        undo_of: None,
        source_file: Some("s.csv".into()),
        sheet: None,
        requested: json!({}),
        operator: None,
    };
    let r = apply::apply(
        &f.client,
        &f.db.store,
        ApplyRequest { plan: p, run },
        o,
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

/// What the live screen shows once every event is in.
fn live(p: &Plan, evs: &[ApplyEvent], dry_run: bool) -> ApplyProgress {
    let mut prog = ApplyProgress::for_plan(p, dry_run);
    for e in evs {
        prog.on_event(e);
    }
    prog
}

/// The counts the last event before `Finished` carried (the live screen's last word
/// before the report arrives).
fn last_live_counts(evs: &[ApplyEvent]) -> Counts {
    evs.iter()
        .rev()
        .find_map(|e| match e {
            ApplyEvent::OperationDone { counts, .. } | ApplyEvent::PhaseFinished { counts, .. } => {
                Some(counts.clone())
            }
            _ => None,
        })
        .expect("the run sent progress counts")
}

#[tokio::test]
async fn dry_run_marks_a_subscription_awaiting_its_application_not_checkable() {
    let f = fixture(5).await;
    let original = f.sim.devices();
    let p = plan_sheet(&f).await;
    assert!(p.steps.iter().any(|s| s.phase == Phase::Application));
    assert!(p.steps.iter().any(|s| s.phase == Phase::Subscription));

    let (dry, evs) = go(&f, p.clone(), &opts(true)).await;
    let text = dry.render_text();
    assert_eq!(dry.counts.devices_failed, 0, "{text}");
    assert_eq!(dry.counts.operations_failed, 0, "{text}");
    assert_eq!(dry.counts.devices_not_checkable, 5, "{text}");
    for o in dry
        .operations
        .iter()
        .filter(|o| o.phase == Phase::Subscription)
    {
        assert_eq!(o.status, OpStatus::NotCheckable, "{text}");
        assert_eq!(
            o.error.as_deref(),
            Some("not checkable before the application is set")
        );
    }
    // The application phase was really checked by GreenLake.
    assert!(
        dry.operations
            .iter()
            .any(|o| o.phase == Phase::Application && o.status == OpStatus::Succeeded)
    );
    for d in &dry.devices {
        assert_eq!(d.status, DeviceStatus::NotCheckable, "{text}");
        assert!(
            d.error
                .as_deref()
                .unwrap()
                .contains("not checkable before the application is set")
        );
    }
    assert!(text.contains("not checkable"), "{text}");
    // The live screen says the same as the report.
    let prog = live(&p, &evs, true);
    assert_eq!(prog.devices_failed, 0);
    assert_eq!(prog.devices_not_checkable, 5);
    assert_eq!(last_live_counts(&evs), dry.counts);
    assert_eq!(f.sim.devices(), original, "a dry run changes nothing");

    // The real apply succeeds for all five.
    let (real, _) = go(&f, p, &opts(false)).await;
    assert_eq!(real.counts.devices_succeeded, 5, "{}", real.render_text());
    assert_eq!(real.counts.devices_failed, 0);
    let with_sub = f
        .sim
        .devices()
        .into_iter()
        .filter(|d| {
            f.serials
                .contains(&d["serialNumber"].as_str().unwrap().to_uppercase())
                && subs_of(d).contains(&f.sub_id)
                && d["application"]["id"] == f.app.0.as_str()
        })
        .count();
    assert_eq!(with_sub, 5);
    f.sim.shutdown().await;
}

#[tokio::test]
async fn live_report_and_run_list_count_a_partial_run_alike() {
    let f = fixture(5).await;
    let failing: Vec<String> = f.serials[1..3].to_vec();
    f.sim.set_faults(Faults {
        fail_ops_for: failing.clone(),
        ..Faults::default()
    });
    let p = plan_sheet(&f).await;
    let (r, evs) = go(&f, p.clone(), &opts(false)).await;
    let text = r.render_text();

    // The simulator's own record: which of the sheet's devices it changed.
    let accepted = f
        .sim
        .devices()
        .into_iter()
        .filter(|d| {
            f.serials
                .contains(&d["serialNumber"].as_str().unwrap().to_uppercase())
                && subs_of(d).contains(&f.sub_id)
        })
        .count();
    assert_eq!(accepted, 3);
    assert_eq!(r.counts.devices_succeeded, accepted, "{text}");
    assert_eq!(r.counts.devices_failed, failing.len(), "{text}");

    // Live: the last progress counts, the folded screen and the final event.
    assert_eq!(last_live_counts(&evs), r.counts, "{text}");
    let fin = evs
        .iter()
        .find_map(|e| match e {
            ApplyEvent::Finished { counts, .. } => Some(counts.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(fin, r.counts);
    let prog = live(&p, &evs, false);
    assert_eq!(
        (prog.devices_ok, prog.devices_failed, prog.calls_failed),
        (
            r.counts.devices_succeeded,
            r.counts.devices_failed,
            r.counts.operations_failed
        )
    );

    // The run list.
    let runs = f.db.store.view_assignment_runs().await.unwrap();
    let row = runs.iter().find(|x| x.id == r.run_id).unwrap();
    assert_eq!(row.succeeded, r.counts.devices_succeeded as i64);
    assert_eq!(row.failed, r.counts.devices_failed as i64);
    assert_eq!(row.devices, r.counts.devices as i64);
    assert_eq!(row.operations, r.counts.operations as i64);
    f.sim.set_faults(Faults::default());
    f.sim.shutdown().await;
}

#[tokio::test]
async fn run_list_counts_a_dry_run_as_its_report_does() {
    let f = fixture(3).await;
    // Devices that already have the application: the dry run checks their subscription.
    let p = plan_sheet(&f).await;
    let app_only = Plan {
        steps: p
            .steps
            .iter()
            .filter(|s| s.phase == Phase::Application)
            .cloned()
            .collect(),
        ..p.clone()
    };
    let (dry, _) = go(&f, app_only, &opts(true)).await;
    assert_eq!(dry.counts.devices_succeeded, 3, "{}", dry.render_text());
    let runs = f.db.store.view_assignment_runs().await.unwrap();
    let row = runs.iter().find(|x| x.id == dry.run_id).unwrap();
    assert_eq!(
        row.succeeded, 3,
        "the list shows OK 0 for a validated dry run"
    );
    f.sim.shutdown().await;
}
