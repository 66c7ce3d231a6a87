//! Matching sheet rows against a real PostgreSQL inventory, the wizard's options, and the
//! whole path sheet → match → resolve → plan.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use common::TestDb;
use glp_console::assign::load::{LoadOptions, load_bytes};
use glp_console::assign::matching::{MatchState, count, match_rows};
use glp_console::assign::options::{
    Catalog, WizardChoices, resolve, subscription_choices, tag_choices,
};
use glp_console::assign::plan::{AppTarget, Phase, plan};
use glp_console::assign::validate::IssueKind;
use glp_console::glp::model::{Device, Item, RawPage, Subscription, parse_items};
use serde_json::{Value, json};

fn items<T: for<'de> serde::Deserialize<'de> + glp_console::glp::model::HasId>(
    values: Vec<Value>,
) -> Vec<Item<T>> {
    let page: RawPage = serde_json::from_value(json!({ "items": values })).unwrap();
    let (ok, bad) = parse_items::<T>(page.items);
    assert!(bad.is_empty(), "{bad:?}");
    ok
}

fn device(id: &str, serial: &str, mac: &str, extra: Value) -> Value {
    let mut d = json!({
        "id": id, "type": "devices/device", "serialNumber": serial, "partNumber": "R7J28A",
        "macAddress": mac, "deviceType": "AP", "category": "NETWORK", "archived": false,
        "application": null, "region": null, "tags": {}, "subscription": []
    });
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    d
}

async fn seeded() -> TestDb {
    let db = TestDb::new().await;
    let devices = vec![
        device(
            "d1",
            "PHT5KSL377",
            "F0:1A:A0:98:44:4D",
            json!({
                "application": {"id": "app-1", "resourceUri": "/service-catalog/v1beta1/service-managers/app-1"},
                "region": "us-west", "tags": {"Site": "HQ"},
                "subscription": [{"id": "sub-1", "resourceUri": "/subscriptions/v1beta1/subscriptions/sub-1", "key": "KEY1"}]
            }),
        ),
        device("d2", "VNT8KWC09Q", "3C:E8:6E:C1:8A:B0", json!({})),
        device(
            "d3",
            "VNSQLHJ11N",
            "F0:1A:A0:47:DA:44",
            json!({"archived": true}),
        ),
        device("d4", "VNSRLHJ0KZ", "F0:1A:A0:47:EF:A7", json!({})),
        device("d5", "PHT6KPP7TS", "68:51:34:C9:ED:B0", json!({})),
    ];
    db.store
        .upsert_devices(&items::<Device>(devices), None)
        .await
        .unwrap();
    sqlx::query("UPDATE devices SET removed_at = now() WHERE id = 'd4'")
        .execute(db.store.pool())
        .await
        .unwrap();
    let subs = vec![
        json!({"id": "sub-1", "type": "subscriptions/subscription", "key": "KEY1", "subscriptionType": "CENTRAL_AP",
               "subscriptionStatus": "STARTED", "quantity": 10, "availableQuantity": 1, "tier": "FOUNDATION_AP",
               "endTime": "2099-01-01T00:00:00.000Z"}),
        json!({"id": "sub-2", "type": "subscriptions/subscription", "key": "KEY2", "subscriptionType": "CENTRAL_COMPUTE",
               "subscriptionStatus": "STARTED", "quantity": 10, "availableQuantity": 10, "endTime": "2099-01-01T00:00:00.000Z"}),
        json!({"id": "sub-3", "type": "subscriptions/subscription", "key": "KEY3", "subscriptionType": "CENTRAL_AP",
               "subscriptionStatus": "ENDED", "quantity": 10, "availableQuantity": 10, "endTime": "2020-01-01T00:00:00.000Z"}),
    ];
    db.store
        .upsert_subscriptions(&items::<Subscription>(subs), None)
        .await
        .unwrap();
    db
}

const SHEET: &str = "Serial Number,MAC Address\n\
    pht5ksl377,F0:1A:A0:98:44:4D\n\
    VNT8KWC09Q,3c:e8:6e:c1:8a:b1\n\
    VNSQLHJ11N,\n\
    VNSRLHJ0KZ,F0:1A:A0:47:EF:A7\n\
    PHT6KPP7TS,\n\
    FAKE123456,11:22:33:44:55:66\n\
    NOMAC0001,\n";

#[tokio::test]
async fn found_not_found_archived_removed_and_mac_contradicts() {
    let db = seeded().await;
    let sheet = load_bytes(
        "sample.csv",
        SHEET.as_bytes().to_vec(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert!(sheet.issues.is_empty(), "{:?}", sheet.issues);
    let serials: Vec<String> = sheet.rows.iter().map(|r| r.serial.clone()).collect();
    let stored = db.store.devices_by_serials(&serials).await.unwrap();
    assert_eq!(stored.len(), 5);
    let d1 = stored.iter().find(|d| d.id == "d1").unwrap();
    assert_eq!(d1.subscriptions[0].id, "sub-1");
    assert_eq!(d1.tags.get("Site").map(String::as_str), Some("HQ"));
    let rows: Vec<_> = sheet.rows.iter().collect();
    let (matches, issues) = match_rows(&sheet, &rows, &stored);
    let states: Vec<(&str, MatchState)> = matches
        .iter()
        .map(|m| (m.input.serial.as_str(), m.state))
        .collect();
    assert_eq!(
        states,
        vec![
            ("PHT5KSL377", MatchState::Found),
            ("VNT8KWC09Q", MatchState::Found),
            ("VNSQLHJ11N", MatchState::Archived),
            ("VNSRLHJ0KZ", MatchState::Removed),
            ("PHT6KPP7TS", MatchState::Found),
            ("FAKE123456", MatchState::NotFound),
            ("NOMAC0001", MatchState::NotFound),
        ]
    );
    let c = count(&matches);
    assert_eq!((c.found, c.not_found, c.archived, c.removed), (3, 2, 1, 1));
    let k: Vec<(IssueKind, Option<u32>)> = issues.iter().map(|i| (i.kind, i.row)).collect();
    assert_eq!(
        k,
        vec![
            (IssueKind::MacContradicts, Some(3)),
            (IssueKind::Archived, Some(4)),
            (IssueKind::Removed, Some(5)),
            (IssueKind::AddNeedsDeviceType, Some(8)),
        ]
    );
    assert!(
        issues[0].message.contains("3C:E8:6E:C1:8A:B0"),
        "{}",
        issues[0]
    );
}

#[tokio::test]
async fn options_resolve_and_plan_end_to_end() {
    let db = seeded().await;
    let csv = "Serial,MAC,Region,Subscription Key,tag:Floor\n\
        PHT5KSL377,,,,\n\
        PHT6KPP7TS,,eu-west,,2\n\
        FAKE123456,11:22:33:44:55:66,,,\n\
        VNT8KWC09Q,,,KEY3,\n\
        VNSRLHJ0KZ,,atlantis,,\n";
    let sheet = load_bytes("s.csv", csv.as_bytes().to_vec(), &LoadOptions::default()).unwrap();
    let serials: Vec<String> = sheet.rows.iter().map(|r| r.serial.clone()).collect();
    let stored = db.store.devices_by_serials(&serials).await.unwrap();
    let valid = sheet.valid_rows();
    let (matches, _) = match_rows(&sheet, &valid, &stored);
    let catalog = Catalog::new(
        db.store.assign_subscriptions().await.unwrap(),
        db.store.assign_region_pairs().await.unwrap(),
        db.store.assign_tags().await.unwrap(),
        None,
    );
    assert_eq!(catalog.applications.len(), 1);
    assert_eq!(catalog.applications[0].region_name, "US West");
    assert_eq!(tag_choices(&catalog)[0].key, "Site");
    let now = chrono::Utc::now();
    let choices = subscription_choices(&catalog, &matches, now);
    // Network devices only: KEY1 (compatible, started), not KEY2 (compute) nor KEY3 (ended).
    assert_eq!(
        choices.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
        vec!["KEY1"]
    );
    assert!(!choices[0].enough, "1 seat left for several devices");
    let wizard = WizardChoices {
        application: Some(AppTarget {
            application_id: "app-1".into(),
            region: "us-west".into(),
        }),
        subscription_id: Some("sub-1".into()),
        tags: [("Site".to_string(), Some("HQ".to_string()))].into(),
    };
    let (targets, issues) = resolve(&sheet, &matches, &catalog, &wizard, now);
    let k: Vec<(IssueKind, Option<u32>)> = issues.iter().map(|i| (i.kind, i.row)).collect();
    assert!(
        k.contains(&(IssueKind::SubscriptionNotUsable, Some(5))),
        "{k:?}"
    );
    assert!(k.contains(&(IssueKind::UnknownRegion, Some(6))), "{k:?}");
    assert!(
        k.contains(&(IssueKind::SubscriptionQuantity, None)),
        "{k:?}"
    );
    let serials: Vec<&str> = targets.iter().map(|t| t.serial.as_str()).collect();
    assert_eq!(serials, vec!["PHT5KSL377", "PHT6KPP7TS", "FAKE123456"]);
    let p = plan(&targets);
    // PHT5KSL377 already has app-1/us-west, sub-1 and Site=HQ: untouched.
    assert_eq!(p.unchanged, vec!["PHT5KSL377"]);
    let phases: Vec<(Phase, Vec<String>)> = p
        .steps
        .iter()
        .map(|s| (s.phase, s.serials.clone()))
        .collect();
    assert_eq!(
        phases,
        vec![
            (Phase::Add, vec!["FAKE123456".to_string()]),
            // The row's region wins over the wizard's.
            (Phase::Application, vec!["PHT6KPP7TS".to_string()]),
            (Phase::Application, vec!["FAKE123456".to_string()]),
            (Phase::Subscription, vec!["PHT6KPP7TS".to_string()]),
            (Phase::Subscription, vec!["FAKE123456".to_string()]),
            (Phase::Tags, vec!["PHT6KPP7TS".to_string()]),
        ]
    );
    assert_eq!(
        p.steps[1].body,
        json!({"application": {"id": "app-1"}, "region": "eu-west"})
    );
    assert_eq!(
        p.steps[5].body,
        json!({"tags": {"Floor": "2", "Site": "HQ"}})
    );
}
