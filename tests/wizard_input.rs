//! The wizard driven with keys as a user drives it: input is checked where it is typed (a
//! bad tag never reaches the plan), every list row opens in full, and plans name
//! applications as the database knows them.
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
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use glp_console::assign::diff::diff;
use glp_console::assign::load::{LoadOptions, load_path};
use glp_console::assign::matching::match_rows;
use glp_console::assign::names::Names;
use glp_console::assign::options::{ApplicationRegion, Catalog};
use glp_console::assign::plan::{Method, Phase};
use glp_console::assign::report::{
    ApplyReport, Counts, DeviceReport, DeviceStatus, OpStatus, OperationReport, RunStatus,
};
use glp_console::assign::session::{self, ChoiceFlags, Prepared};
use glp_console::config::UiConfig;
use glp_console::glp::model::{Device, Item, RawPage, parse_items};
use glp_console::store::assign::{StoredDevice, StoredSubscription};
use glp_console::tui::app::{App, Effect, InputMode, Loaded};
use glp_console::tui::model::table_id::{TableId, WizardTable};
use glp_console::tui::view;
use glp_console::tui::wizard::{WizardEffect, WizardMsg, WizardStep, wizard_data};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

const SHEET: &str = "tests/fixtures/wizard/rollout-branch.csv";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn k(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn enter(app: &mut App) {
    app.handle_key(k(KeyCode::Enter));
}

fn step(app: &App) -> WizardStep {
    app.wizard().unwrap().step()
}

/// Every character on screen, rows joined by newlines.
fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn catalog() -> Catalog {
    Catalog {
        subscriptions: vec![StoredSubscription {
            id: "sub-ap".into(),
            key: Some("APKEY0001".into()),
            subscription_type: Some("CENTRAL_AP".into()),
            status: Some("STARTED".into()),
            tier: Some("FOUNDATION_AP".into()),
            quantity: Some(100),
            available_quantity: Some(50),
            end_time: Some(now() + chrono::Duration::days(365)),
            ..StoredSubscription::default()
        }],
        applications: vec![ApplicationRegion {
            application_id: "app-1".into(),
            application_name: Some("Aruba Central".into()),
            region: "us-west".into(),
            region_name: "US West".into(),
        }],
        tags: Vec::new(),
        ..Catalog::default()
    }
}

fn prepared() -> Prepared {
    let sheet = load_path(std::path::Path::new(SHEET), &LoadOptions::default()).unwrap();
    let stored = vec![StoredDevice {
        id: "dev-1".into(),
        serial_number: "VNT8KWC09Q".into(),
        category: Some("NETWORK".into()),
        device_type: Some("AP".into()),
        ..StoredDevice::default()
    }];
    let valid = sheet.valid_rows();
    let (matches, match_issues) = match_rows(&sheet, &valid, &stored);
    Prepared {
        path: SHEET.into(),
        sheet,
        matches,
        match_issues,
    }
}

/// The Assign tab with the wizard open on `catalog`, and `prepared` read: on Validate.
fn wizard_on(catalog: Catalog, prepared: Prepared) -> App {
    let mut app = App::new(&UiConfig::default(), false, false, now());
    app.set_page_height(20);
    app.handle_key(k(KeyCode::Char('4')));
    app.handle_key(k(KeyCode::Char('n')));
    app.take_effects();
    let catalog = Arc::new(catalog);
    app.on_loaded(Loaded::Wizard(WizardMsg::Catalog(Ok((
        catalog.clone(),
        None,
    )))));
    app.type_str(SHEET);
    enter(&mut app);
    let generation = app
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::Wizard(WizardEffect::Load { generation, .. }) => Some(generation),
            _ => None,
        })
        .expect("Enter loads the file");
    let data = wizard_data(prepared, Some(&catalog), now(), now());
    app.on_loaded(Loaded::Wizard(WizardMsg::Loaded {
        generation,
        result: Ok(Box::new(data)),
    }));
    assert_eq!(step(&app), WizardStep::Validate);
    app
}

/// Validate → Review → the subscription chosen → the application left as is: on Tags.
fn to_tags(app: &mut App) {
    enter(app);
    enter(app);
    enter(app);
    app.handle_key(k(KeyCode::Char('-')));
    assert_eq!(step(app), WizardStep::Tags);
}

#[test]
fn a_tag_greenlake_would_refuse_is_refused_at_the_prompt() {
    let mut app = wizard_on(catalog(), prepared());
    to_tags(&mut app);

    // The key's '!' is flagged while typing, and Enter keeps the line and the step.
    app.type_str("bad tag!");
    let e = app
        .wizard()
        .unwrap()
        .tag_error()
        .clone()
        .unwrap_or_default();
    assert!(e.contains("tag key \"bad tag!\" contains '!'"), "{e}");
    app.type_str("=x");
    enter(&mut app);
    let w = app.wizard().unwrap();
    assert_eq!(step(&app), WizardStep::Tags);
    assert!(w.tags().is_empty(), "{:?}", w.tags());
    assert_eq!(
        w.tag_input().as_str(),
        "bad tag!=x",
        "the line stays to be corrected"
    );
    let s = screen(&app, 160, 40);
    assert!(
        s.contains("✖ tag key \"bad tag!\" contains '!'; only letters, digits, spaces and _ . : = + - @ are allowed"),
        "{s}"
    );

    // A second '=' is a slip, not a value.
    app.handle_key(ctrl('u'));
    app.type_str("env==lab");
    enter(&mut app);
    assert_eq!(step(&app), WizardStep::Tags);
    assert!(app.wizard().unwrap().tags().is_empty());
    let s = screen(&app, 160, 40);
    assert!(
        s.contains(
            "\"env==lab\" has more than one '='; write KEY=VALUE with a single = (e.g. env=lab)"
        ),
        "{s}"
    );

    // Corrected, it is taken; an empty line then goes on to the plan.
    app.handle_key(ctrl('u'));
    app.type_str("env=lab");
    assert_eq!(*app.wizard().unwrap().tag_error(), None);
    enter(&mut app);
    assert_eq!(
        *app.wizard().unwrap().tags(),
        vec![("env".to_string(), Some("lab".to_string()))]
    );
    enter(&mut app);
    assert_eq!(step(&app), WizardStep::Plan);
    assert_eq!(
        app.wizard().unwrap().choices().tags.get("env"),
        Some(&Some("lab".to_string()))
    );
}

#[test]
fn the_command_line_refuses_what_the_prompt_refuses() {
    let catalog = catalog();
    let flags = |f: ChoiceFlags| session::choices_from_flags(&f, &catalog);
    for (tag, why) in [
        ("bad tag!=x", "contains '!'"),
        ("env==lab", "more than one '='"),
    ] {
        let e = flags(ChoiceFlags {
            tags: vec![tag.into()],
            ..ChoiceFlags::default()
        })
        .unwrap_err();
        assert!(
            e.starts_with(&format!("--tag {tag}: ")) && e.contains(why),
            "{e}"
        );
    }
    // A region is checked (and spelled) as GreenLake knows it.
    let e = flags(ChoiceFlags {
        region: Some("mars-1".into()),
        ..ChoiceFlags::default()
    })
    .unwrap_err();
    assert!(
        e.contains("region \"mars-1\" is unknown; use one of us-west"),
        "{e}"
    );
    let c = flags(ChoiceFlags {
        region: Some("US West".into()),
        ..ChoiceFlags::default()
    })
    .unwrap();
    assert_eq!(c.application.unwrap().region, "us-west");
    let e = flags(ChoiceFlags {
        subscription: Some("NOSUCHKEY".into()),
        ..ChoiceFlags::default()
    })
    .unwrap_err();
    assert!(
        e.contains("subscription key NOSUCHKEY is not in the inventory"),
        "{e}"
    );
}

/// A reason longer than any screen, its end marked.
fn long_reason() -> String {
    format!(
        "tags: GreenLake refused the change: {} the key Location already exists as LOCATION (END-OF-REASON)",
        "because of a long explanation that goes on, ".repeat(8)
    )
}

fn report() -> ApplyReport {
    let mut r = ApplyReport {
        run_id: 7,
        kind: glp_console::store::audit::RunKind::Apply,
        undo_of: None,
        dry_run: false,
        status: RunStatus::Partial,
        started_at: now(),
        finished_at: now(),
        duration_secs: 1.0,
        counts: Counts::default(),
        operations: vec![OperationReport {
            seq: 1,
            phase: Phase::Tags,
            method: Method::Patch,
            path: "/devices/v2beta1/devices?id=dev-1".into(),
            body: json!({"tags": {"Location": "HQ"}}),
            serials: vec!["VNT8KWC09Q".into()],
            device_ids: vec!["dev-1".into()],
            http_status: Some(400),
            operation_id: None,
            status: OpStatus::Failed,
            error: Some(long_reason()),
            failed_devices: Vec::new(),
            duration_ms: Some(120),
        }],
        devices: vec![DeviceReport {
            serial: "VNT8KWC09Q".into(),
            row: Some(2),
            device_id: Some("dev-1".into()),
            status: DeviceStatus::Failed,
            error: Some(long_reason()),
            changes: vec!["tag +Location=HQ".into()],
        }],
        notes: Vec::new(),
        resync: None,
    };
    r.finalize(false);
    r
}

#[test]
fn enter_opens_the_whole_text_of_plan_and_report_rows_and_v_of_validate_rows() {
    let mut app = wizard_on(catalog(), prepared());

    // Validate: Enter goes on, so `v` opens the issue; Esc closes and the list is back.
    app.handle_key(k(KeyCode::Char('v')));
    assert_eq!(app.mode(), InputMode::Detail);
    let d = app.detail().unwrap();
    assert!(
        d.lines.iter().any(|(_, l)| l.starts_with("Severity")),
        "{:?}",
        d.lines
    );
    app.handle_key(k(KeyCode::Esc));
    assert_eq!(app.mode(), InputMode::Normal);
    assert_eq!(step(&app), WizardStep::Validate);

    // The plan: its first row (an issue the choices raised, or a device) opens on Enter.
    to_tags(&mut app);
    enter(&mut app);
    assert_eq!(step(&app), WizardStep::Plan);
    assert!(!app.table().is_empty());
    enter(&mut app);
    assert_eq!(app.mode(), InputMode::Detail, "Enter on a plan row");
    app.handle_key(k(KeyCode::Esc));
    assert_eq!(step(&app), WizardStep::Plan);

    // The report: a failed call's whole reason, wrapped, at 80 columns.
    app.on_loaded(Loaded::Wizard(WizardMsg::Done(Ok(Arc::new(report())))));
    assert_eq!(step(&app), WizardStep::Report);
    assert_eq!(app.active_table(), TableId::Wizard(WizardTable::Report));
    let list = screen(&app, 80, 24);
    assert!(!list.contains("END-OF-REASON"), "the list cuts it: {list}");
    enter(&mut app);
    assert_eq!(app.mode(), InputMode::Detail, "Enter on a report row");
    let s = screen(&app, 80, 40);
    // The pane's text as one line: frame glyphs out, wrapped lines joined.
    let flat: String = s
        .chars()
        .filter(|c| !('\u{2500}'..='\u{257f}').contains(c))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("HTTP status 400"), "{s}");
    assert!(flat.contains("(END-OF-REASON)"), "the whole reason: {s}");
    assert!(
        flat.contains("the key Location already exists as LOCATION"),
        "{s}"
    );
    app.handle_key(k(KeyCode::Esc));
    assert_eq!(app.mode(), InputMode::Normal);
    assert_eq!(step(&app), WizardStep::Report);
    // The device row too.
    app.handle_key(k(KeyCode::Down));
    enter(&mut app);
    let d = app.detail().unwrap();
    assert_eq!(d.title, "Device VNT8KWC09Q");
    assert!(d.lines.iter().any(|(_, l)| l.contains("(END-OF-REASON)")));
}

// ---- application names from the database ---------------------------------------------

const NAMED: &str = "0892c36d-40df-4f3c-9f2b-2f3c1e1b7a11";
const UNNAMED: &str = "22222222-3333-4444-5555-666666666666";

fn items(values: Vec<Value>) -> Vec<Item<Device>> {
    let page: RawPage = serde_json::from_value(json!({ "items": values })).unwrap();
    let (ok, bad) = parse_items::<Device>(page.items);
    assert!(bad.is_empty(), "{bad:?}");
    ok
}

fn device(id: &str, serial: &str, app: &str, region: &str) -> Value {
    json!({
        "id": id, "type": "devices/device", "serialNumber": serial, "partNumber": "R7J28A",
        "macAddress": "F0:1A:A0:98:44:4D", "deviceType": "AP", "category": "NETWORK",
        "archived": false, "tags": {}, "subscription": [],
        "application": {"id": app, "resourceUri": format!("/service-catalog/v1beta1/service-managers/{app}")},
        "region": region,
    })
}

#[tokio::test]
async fn plan_lines_name_applications_as_the_database_holds_them() {
    let db = common::TestDb::new().await;
    db.store
        .upsert_devices(
            &items(vec![
                device("d1", "PHT5KSL377", NAMED, "us-west"),
                device("d2", "VNT8KWC09Q", UNNAMED, "eu-central"),
            ]),
            None,
        )
        .await
        .unwrap();
    // The name the service catalog gave on an earlier read, kept in the database.
    db.store
        .save_application_names(&BTreeMap::from([(
            NAMED.to_string(),
            "Central (from the database)".to_string(),
        )]))
        .await
        .unwrap();
    let stored: String = sqlx::query_scalar("SELECT name FROM application_names WHERE id = $1")
        .bind(NAMED)
        .fetch_one(db.store.pool())
        .await
        .unwrap();

    // No API: the choices come from the devices, the names from the database.
    let (catalog, _) = session::load_catalog(&db.store, None).await.unwrap();
    let dir = common::TestDir::new("wizard-names");
    let path = dir.join("names.csv");
    std::fs::write(&path, "Serial Number\nVNT8KWC09Q\n").unwrap();
    let prepared = session::prepare(&db.store, None, None, &path, &LoadOptions::default())
        .await
        .unwrap();
    let mut app = wizard_on(catalog.clone(), prepared.clone());
    enter(&mut app);
    assert_eq!(step(&app), WizardStep::Review);
    let review = app.table().selected_row().unwrap().cell(4).to_string();
    assert_eq!(review, "id 22222222… / eu-central");
    enter(&mut app);
    // No subscription fits: leave them as they are.
    app.handle_key(k(KeyCode::Char('-')));
    assert_eq!(step(&app), WizardStep::Region);
    // The chooser lists pairs by region: eu-central (unnamed), then us-west (named).
    let names: Vec<String> = (0..app.table().len())
        .map(|i| app.table().row_at(i).unwrap().cell(0).to_string())
        .collect();
    assert!(names.contains(&stored), "{names:?}");
    while app.table().selected_row().unwrap().cell(0) != stored {
        app.handle_key(k(KeyCode::Down));
    }
    enter(&mut app);
    enter(&mut app); // no tag changes
    assert_eq!(step(&app), WizardStep::Plan);
    let line = (0..app.table().len())
        .map(|i| app.table().row_at(i).unwrap())
        .find(|r| r.cell(1) == "VNT8KWC09Q")
        .map(|r| r.cell(2).to_string())
        .expect("a plan line for the device");
    assert_eq!(
        line,
        format!("application id 22222222… in eu-central → {stored} in us-west")
    );
    let s = screen(&app, 160, 40);
    assert!(
        !s.contains(NAMED) && !s.contains(UNNAMED),
        "no raw ids on screen: {s}"
    );
    assert!(
        s.contains(&format!("application {stored} in us-west")),
        "{s}"
    );

    // The headless plan prints the same line (its JSON keeps the ids for scripts).
    let flags = ChoiceFlags {
        application: Some(NAMED.into()),
        region: Some("us-west".into()),
        ..ChoiceFlags::default()
    };
    let choices = session::choices_from_flags(&flags, &catalog).unwrap();
    let planned = session::plan_for(&prepared, &catalog, &choices, now());
    let names = Names::new(&db.store.application_names().await.unwrap(), Some(&catalog));
    let lines = diff(&planned.plan).named(&names).lines();
    assert!(
        lines.contains(&format!(
            "row 2: VNT8KWC09Q: application id 22222222… in eu-central → {stored} in us-west"
        )),
        "{lines:?}"
    );
}

#[tokio::test]
async fn the_devices_table_names_applications_as_the_service_catalog_does() {
    let sim = common::assign::start_sim(300).await;
    let db = common::TestDb::new().await;
    let client = common::assign::write_client(&sim, 100_000);
    common::assign::sync_all(&client, &db).await;
    let head = db.store.view_devices_head(300).await.unwrap();
    let assigned = head
        .iter()
        .find(|d| d.application_id.is_some())
        .expect("a device with an application")
        .clone();
    let app = assigned.application_id.clone().unwrap();
    // Before the catalog was read the id is marked as one, never shown as a name.
    let before = glp_console::tui::model::rows::device_row(&assigned, now());
    assert!(
        before.cell(5).contains(&format!("id {}…", &app[..8])),
        "{}",
        before.cell(5)
    );

    // What the console does at start: read the names once and keep them.
    assert!(session::keep_application_names(&db.store, &client).await);
    assert!(
        !session::keep_application_names(&db.store, &client).await,
        "nothing new the second time: no reload"
    );
    let names = db.store.application_names().await.unwrap();
    let name = names
        .get(&app)
        .expect("the device's application is named")
        .clone();
    assert!(!name.is_empty());
    let after = db
        .store
        .view_devices_head(300)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == assigned.id)
        .unwrap();
    assert_eq!(after.application_name.as_deref(), Some(name.as_str()));
    let row = glp_console::tui::model::rows::device_row(&after, now());
    assert_eq!(
        row.cell(5),
        format!("{} / {name}", assigned.region.as_deref().unwrap())
    );
}
