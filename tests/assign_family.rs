//! Subscriptions that fit the devices: the wizard offers only the family each device type
//! takes (a sheet of two switches is never offered an AP subscription), the latest end and
//! the most seats first with the days left; an AP subscription on a switch is an error of
//! its row; the plan warns of a subscription ending soon and of a device losing its own;
//! `assign --subscription` refuses the wrong family, naming the device types.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share)"
)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use glp_console::assign::load::{LoadOptions, load_bytes};
use glp_console::assign::matching::{RowMatch, match_rows};
use glp_console::assign::options::{
    ApplicationRegion, Catalog, WizardChoices, resolve, subscription_choice_warning,
    subscription_choices,
};
use glp_console::assign::plan::AppTarget;
use glp_console::assign::session::{Prepared, check_subscription_family};
use glp_console::assign::validate::IssueKind;
use glp_console::store::assign::{StoredDevice, StoredLink, StoredSubscription};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn sub(id: &str, t: &str, days: i64, avail: i64) -> StoredSubscription {
    StoredSubscription {
        id: id.into(),
        key: Some(id.to_uppercase()),
        subscription_type: Some(t.into()),
        status: Some("STARTED".into()),
        quantity: Some(avail),
        available_quantity: Some(avail),
        end_time: Some(now() + Duration::days(days) + Duration::hours(1)),
        ..StoredSubscription::default()
    }
}

fn device(serial: &str, t: &str, subs: &[&str]) -> StoredDevice {
    StoredDevice {
        id: format!("id-{serial}"),
        serial_number: serial.into(),
        category: Some("NETWORK".into()),
        device_type: Some(t.into()),
        application_id: Some("app-1".into()),
        region: Some("us-west".into()),
        subscriptions: subs
            .iter()
            .map(|s| StoredLink {
                id: (*s).into(),
                key: Some(s.to_uppercase()),
            })
            .collect(),
        ..StoredDevice::default()
    }
}

fn catalog() -> Catalog {
    Catalog {
        subscriptions: vec![
            // The one the issue saw first for two switches: an AP subscription ending soon.
            sub("ap-soon", "CENTRAL_AP", 2, 500),
            sub("sw-small", "CENTRAL_SWITCH", 400, 10),
            sub("sw-big", "CENTRAL_SWITCH", 400, 90),
            sub("sw-soon", "CENTRAL_SWITCH", 30, 900),
            sub("gw-1", "CENTRAL_GW", 300, 20),
            sub("ctl-1", "CENTRAL_CONTROLLER", 200, 20),
            sub("cmp-1", "CENTRAL_COMPUTE", 300, 20),
        ],
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

fn prepared(csv: &str, stored: &[StoredDevice]) -> Prepared {
    let sheet = load_bytes("s.csv", csv.as_bytes().to_vec(), &LoadOptions::default()).unwrap();
    let valid = sheet.valid_rows();
    let (matches, match_issues) = match_rows(&sheet, &valid, stored);
    Prepared {
        path: "s.csv".into(),
        sheet,
        matches,
        match_issues,
    }
}

fn two_switches() -> Prepared {
    prepared(
        "Serial Number\nSW0000001\nSW0000002\n",
        &[
            device("SW0000001", "SWITCH", &["sw-old"]),
            device("SW0000002", "SWITCH", &[]),
        ],
    )
}

fn keys(matches: &[RowMatch]) -> Vec<(String, Option<i64>)> {
    subscription_choices(&catalog(), matches, now())
        .into_iter()
        .map(|c| (c.key, c.days_left))
        .collect()
}

#[test]
fn two_switches_are_offered_switch_subscriptions_latest_end_then_most_seats() {
    let p = two_switches();
    assert_eq!(
        keys(&p.matches),
        vec![
            ("SW-BIG".to_string(), Some(400)),
            ("SW-SMALL".to_string(), Some(400)),
            ("SW-SOON".to_string(), Some(30)),
        ]
    );
    assert!(subscription_choice_warning(&p.matches).is_none());
}

#[test]
fn gateways_take_gateway_or_controller_subscriptions_and_odd_types_all_with_a_warning() {
    let p = prepared(
        "Serial Number\nGW0000001\nCT0000001\n",
        &[
            device("GW0000001", "GATEWAY", &[]),
            device("CT0000001", "CONTROLLER", &[]),
        ],
    );
    let k: Vec<String> = keys(&p.matches).into_iter().map(|x| x.0).collect();
    assert_eq!(k, vec!["GW-1", "CTL-1"]);
    let p = prepared(
        "Serial Number\nSN0000001\n",
        &[device("SN0000001", "SENSOR", &[])],
    );
    // A type with no known family: every network subscription, and a warning naming it.
    assert_eq!(keys(&p.matches).len(), 6);
    let w = subscription_choice_warning(&p.matches).unwrap();
    assert!(w.contains("SENSOR"), "{w}");
}

#[test]
fn an_ap_subscription_on_a_switch_is_an_error_of_its_row() {
    let p = two_switches();
    let choices = WizardChoices {
        subscription_id: Some("ap-soon".into()),
        ..WizardChoices::default()
    };
    let (targets, issues) = resolve(&p.sheet, &p.matches, &catalog(), &choices, now());
    assert!(targets.is_empty(), "{targets:?}");
    let bad: Vec<&str> = issues
        .iter()
        .filter(|i| i.kind == IssueKind::SubscriptionIncompatible)
        .map(|i| i.message.as_str())
        .collect();
    assert_eq!(bad.len(), 2, "{issues:?}");
    assert!(bad[0].contains("SWITCH"), "{}", bad[0]);
}

#[test]
fn the_plan_warns_of_an_expiring_subscription_and_of_one_a_device_loses() {
    let p = two_switches();
    let choices = WizardChoices {
        application: Some(AppTarget {
            application_id: "app-1".into(),
            region: "us-west".into(),
        }),
        subscription_id: Some("sw-soon".into()),
        ..WizardChoices::default()
    };
    let (targets, issues) = resolve(&p.sheet, &p.matches, &catalog(), &choices, now());
    assert_eq!(targets.len(), 2);
    assert!(!issues.iter().any(|i| i.is_error()), "{issues:?}");
    let exp = issues
        .iter()
        .find(|i| i.kind == IssueKind::SubscriptionExpiring)
        .expect("a warning for a subscription ending in 30 days");
    assert!(exp.message.contains("SW-SOON") && exp.message.contains("30 days"));
    let lost = issues
        .iter()
        .find(|i| i.kind == IssueKind::SubscriptionReplaced)
        .expect("a warning for the subscription SW0000001 loses");
    assert!(
        lost.message.contains("sw-old") && lost.message.contains("SW0000001"),
        "{}",
        lost.message
    );
    // A subscription with a year left warns of nothing.
    let choices = WizardChoices {
        subscription_id: Some("sw-big".into()),
        ..choices
    };
    let (_, issues) = resolve(&p.sheet, &p.matches, &catalog(), &choices, now());
    assert!(
        !issues
            .iter()
            .any(|i| i.kind == IssueKind::SubscriptionExpiring)
    );
}

#[test]
fn the_command_line_refuses_a_subscription_of_the_wrong_family() {
    let p = prepared(
        "Serial Number\nSW0000001\nGW0000001\nAP0000001\n",
        &[
            device("SW0000001", "SWITCH", &[]),
            device("GW0000001", "GATEWAY", &[]),
            device("AP0000001", "AP", &[]),
        ],
    );
    let choices = WizardChoices {
        subscription_id: Some("ap-soon".into()),
        ..WizardChoices::default()
    };
    let e = check_subscription_family(&p, &catalog(), &choices).unwrap_err();
    assert!(e.contains("--subscription AP-SOON"), "{e}");
    assert!(e.contains("GATEWAY (1)") && e.contains("SWITCH (1)"), "{e}");
    assert!(!e.contains("AP (1)"), "{e}");
    let ok = WizardChoices {
        subscription_id: Some("sw-big".into()),
        ..WizardChoices::default()
    };
    let p = two_switches();
    assert!(check_subscription_family(&p, &catalog(), &ok).is_ok());
}

#[test]
fn a_device_without_a_type_lets_no_other_family_into_the_list() {
    // Seen in the console: three APs and one AP the sheet adds (no type known yet) were
    // offered a switch subscription first, because the new device "fits" every family.
    let p = prepared(
        "Serial Number\nSW0000001\nSW0000002\nNEW0000001\n",
        &[
            device("SW0000001", "SWITCH", &[]),
            device("SW0000002", "SWITCH", &[]),
        ],
    );
    let k: Vec<String> = keys(&p.matches).into_iter().map(|x| x.0).collect();
    assert_eq!(k, vec!["SW-BIG", "SW-SMALL", "SW-SOON"]);
    // With no device of a known family or category, every subscription is offered.
    let p = prepared("Serial Number\nNEW0000001\n", &[]);
    assert_eq!(keys(&p.matches).len(), 7, "{:?}", keys(&p.matches));
}
