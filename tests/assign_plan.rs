//! The assignment plan: pure, deterministic, only what is missing or different.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::collections::{BTreeMap, HashMap};

use glp_console::assign::diff::diff;
use glp_console::assign::normalize::Category;
use glp_console::assign::plan::{
    AddDevice, AppTarget, Desired, DeviceState, DeviceTarget, Method, Phase, UndoRecord, plan,
    plan_undo,
};
use serde_json::json;

fn app(id: &str, region: &str) -> AppTarget {
    AppTarget {
        application_id: id.into(),
        region: region.into(),
    }
}

fn existing(i: usize, state: DeviceState) -> DeviceTarget {
    DeviceTarget {
        serial: format!("SN{i:04}"),
        row: Some(i as u32 + 2),
        device_id: Some(format!("id-{i:04}")),
        current: Some(state),
        add: None,
        application: Desired::Keep,
        subscription: Desired::Keep,
        tags: BTreeMap::new(),
        tenant: Desired::Keep,
    }
}

fn tags(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect()
}

#[test]
fn nothing_to_do_means_no_api_call() {
    let state = DeviceState {
        application_id: Some("app-1".into()),
        region: Some("us-west".into()),
        subscription_ids: vec!["sub-1".into()],
        tags: [("Site".to_string(), "HQ".to_string())].into(),
        ..DeviceState::default()
    };
    let mut t = existing(0, state);
    t.application = Desired::Set(app("app-1", "us-west"));
    t.subscription = Desired::Set(vec!["sub-1".into()]);
    t.tags = tags(&[("site", Some("HQ")), ("gone", None)]);
    let p = plan(&[t, existing(1, DeviceState::default())]);
    assert!(p.is_empty());
    assert!(p.devices.is_empty());
    assert_eq!(p.unchanged, vec!["SN0000", "SN0001"]);
    assert!(diff(&p).lines()[0].starts_with("Nothing to do"));
}

#[test]
fn sixty_devices_make_batches_of_25_25_10() {
    let targets: Vec<DeviceTarget> = (0..60)
        .map(|i| {
            let mut t = existing(i, DeviceState::default());
            t.application = Desired::Set(app("app-1", "us-west"));
            t
        })
        .collect();
    let p = plan(&targets);
    let sizes: Vec<usize> = p.steps.iter().map(|s| s.device_ids.len()).collect();
    assert_eq!(sizes, vec![25, 25, 10]);
    for s in &p.steps {
        assert_eq!(s.method, Method::Patch);
        assert_eq!(s.path, "/devices/v2beta1/devices");
        assert_eq!(s.content_type, "application/merge-patch+json");
        assert_eq!(
            s.body,
            json!({"application": {"id": "app-1"}, "region": "us-west"})
        );
        assert_eq!(s.serials.len(), s.device_ids.len());
    }
    // Every device is sent exactly once (GLP-Sync-2 sent only batch[0]).
    let mut all: Vec<&String> = p.steps.iter().flat_map(|s| &s.device_ids).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 60);
}

#[test]
fn application_before_subscription_before_tags_grouped_by_payload() {
    let mut a = existing(0, DeviceState::default());
    a.application = Desired::Set(app("app-1", "us-west"));
    a.subscription = Desired::Set(vec!["sub-1".into()]);
    a.tags = tags(&[("Site", Some("HQ"))]);
    let mut b = existing(1, DeviceState::default());
    b.application = Desired::Set(app("app-1", "eu-west"));
    b.subscription = Desired::Set(vec!["sub-1".into()]);
    b.tags = tags(&[("Site", Some("HQ"))]);
    let p = plan(&[b, a]);
    let phases: Vec<Phase> = p.steps.iter().map(|s| s.phase).collect();
    assert_eq!(
        phases,
        vec![
            Phase::Application,
            Phase::Application,
            Phase::Subscription,
            Phase::Tags
        ]
    );
    assert_eq!(p.steps[2].body, json!({"subscription": [{"id": "sub-1"}]}));
    assert_eq!(p.steps[2].device_ids, vec!["id-0001", "id-0000"]);
    assert_eq!(p.steps[3].body, json!({"tags": {"Site": "HQ"}}));
    let d = diff(&p);
    assert_eq!(d.total_calls, 4);
    assert_eq!(d.phases[0].devices, 2);
    assert_eq!(d.phases[0].calls, 2);
}

#[test]
fn devices_already_right_are_untouched_and_only_differences_are_sent() {
    let right = DeviceState {
        application_id: Some("app-1".into()),
        region: Some("us-west".into()),
        subscription_ids: vec!["sub-1".into()],
        tags: [
            ("LOCATION".to_string(), "Lab".to_string()),
            ("keep".to_string(), "x".to_string()),
        ]
        .into(),
        ..DeviceState::default()
    };
    let mut ok = existing(0, right.clone());
    ok.application = Desired::Set(app("app-1", "us-west"));
    ok.subscription = Desired::Set(vec!["sub-1".into()]);
    let mut other = existing(1, right);
    other.application = Desired::Set(app("app-1", "us-west"));
    other.subscription = Desired::Set(vec!["sub-2".into()]);
    // Case-insensitive key: sent under the existing spelling; removal explicit.
    other.tags = tags(&[("Location", Some("HQ")), ("keep", None), ("absent", None)]);
    let p = plan(&[ok, other]);
    assert_eq!(p.unchanged, vec!["SN0000"]);
    assert!(p.steps.iter().all(|s| s.serials == vec!["SN0001"]));
    let phases: Vec<Phase> = p.steps.iter().map(|s| s.phase).collect();
    assert_eq!(phases, vec![Phase::Subscription, Phase::Tags]);
    assert_eq!(
        p.steps[1].body,
        json!({"tags": {"LOCATION": "HQ", "keep": null}})
    );
    let dev = &p.devices[0];
    assert_eq!(dev.after.subscription_ids, vec!["sub-2"]);
    assert_eq!(
        dev.after.tags,
        BTreeMap::from([("LOCATION".to_string(), "HQ".to_string())])
    );
    assert_eq!(dev.before.as_ref().unwrap().subscription_ids, vec!["sub-1"]);
    let lines = diff(&p).lines();
    assert!(
        lines.iter().any(|l| l.contains(
            "row 3: SN0001: subscription sub-1 → sub-2; tag LOCATION: Lab → HQ; tag -keep (was x)"
        )),
        "{lines:#?}"
    );
}

#[test]
fn new_serials_are_added_then_assigned() {
    let mut new = DeviceTarget {
        serial: "FAKE123456".into(),
        row: Some(7),
        device_id: None,
        current: None,
        add: Some(AddDevice {
            category: Category::Network,
            mac: Some("11:22:33:44:55:66".into()),
            part_number: None,
        }),
        application: Desired::Set(app("app-1", "us-west")),
        subscription: Desired::Set(vec!["sub-1".into()]),
        tags: tags(&[("Site", Some("HQ")), ("old", None)]),
        tenant: Desired::Keep,
    };
    let mut server = new.clone();
    server.serial = "SRV1".into();
    server.add = Some(AddDevice {
        category: Category::Compute,
        mac: None,
        part_number: Some("P123".into()),
    });
    server.tags = BTreeMap::new();
    let mut known = existing(0, DeviceState::default());
    known.application = Desired::Set(app("app-1", "us-west"));
    new.row = Some(7);
    let mut p = plan(&[new, server, known]);
    let shape: Vec<(Phase, Method, bool, Vec<String>)> = p
        .steps
        .iter()
        .map(|s| (s.phase, s.method, s.awaits_add, s.serials.clone()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (Phase::Add, Method::Post, false, vec!["FAKE123456".into()]),
            (Phase::Add, Method::Post, false, vec!["SRV1".into()]),
            (
                Phase::Application,
                Method::Patch,
                false,
                vec!["SN0000".into()]
            ),
            (
                Phase::Application,
                Method::Patch,
                true,
                vec!["FAKE123456".into(), "SRV1".into()]
            ),
            (
                Phase::Subscription,
                Method::Patch,
                true,
                vec!["FAKE123456".into(), "SRV1".into()]
            ),
        ]
    );
    assert_eq!(
        p.steps[0].body,
        json!({"serialNumber": "FAKE123456", "deviceType": "NETWORK", "macAddress": "11:22:33:44:55:66", "tags": {"Site": "HQ"}})
    );
    assert_eq!(
        p.steps[1].body,
        json!({"serialNumber": "SRV1", "deviceType": "COMPUTE", "partNumber": "P123"})
    );
    assert_eq!(p.steps[0].content_type, "application/json");
    assert!(p.devices[0].before.is_none());
    // After the adds: one succeeded, one failed.
    let ids = HashMap::from([("FAKE123456".to_string(), "new-id".to_string())]);
    let dropped = p.resolve_added(&ids);
    assert_eq!(dropped, vec!["SRV1"]);
    let follow: Vec<(Phase, Vec<String>)> = p
        .steps
        .iter()
        .filter(|s| s.method == Method::Patch)
        .map(|s| (s.phase, s.device_ids.clone()))
        .collect();
    assert_eq!(
        follow,
        vec![
            (Phase::Application, vec!["id-0000".to_string()]),
            (Phase::Application, vec!["new-id".to_string()]),
            (Phase::Subscription, vec!["new-id".to_string()]),
        ]
    );
    assert!(p.steps.iter().all(|s| !s.awaits_add));
}

#[test]
fn undo_restores_before_values_in_a_safe_order() {
    let before = DeviceState {
        application_id: None,
        region: None,
        subscription_ids: vec![],
        tags: [("Site".to_string(), "Old".to_string())].into(),
        ..DeviceState::default()
    };
    let mut t = existing(0, before.clone());
    t.application = Desired::Set(app("app-1", "us-west"));
    t.subscription = Desired::Set(vec!["sub-1".into()]);
    t.tags = tags(&[("Site", Some("HQ")), ("Floor", Some("2"))]);
    let mut untouched_field = existing(
        1,
        DeviceState {
            application_id: Some("app-9".into()),
            region: Some("eu-west".into()),
            ..Default::default()
        },
    );
    untouched_field.application = Desired::Set(app("app-1", "us-west"));
    let p = plan(&[t, untouched_field]);
    let records: Vec<UndoRecord> = p
        .devices
        .iter()
        .map(|c| UndoRecord::from_change(c, c.device_id.as_deref().unwrap()))
        .collect();
    let u = plan_undo(&records);
    let shape: Vec<(Phase, serde_json::Value, Vec<String>)> = u
        .steps
        .iter()
        .map(|s| (s.phase, s.body.clone(), s.device_ids.clone()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (
                Phase::Application,
                json!({"application": {"id": "app-9"}, "region": "eu-west"}),
                vec!["id-0001".to_string()]
            ),
            (
                Phase::Subscription,
                json!({"subscription": []}),
                vec!["id-0000".to_string()]
            ),
            (
                Phase::Tags,
                json!({"tags": {"Floor": null, "Site": "Old"}}),
                vec!["id-0000".to_string()]
            ),
            (
                Phase::Unassign,
                json!({"application": {"id": null}, "region": null}),
                vec!["id-0000".to_string()]
            ),
        ]
    );
    // Undoing the undo gives the original changes back.
    assert_eq!(u.devices[0].after, before);
    // Added devices cannot be deleted: the undo says so.
    let added = UndoRecord {
        serial: "NEW1".into(),
        device_id: "n1".into(),
        before: None,
        after: DeviceState {
            tags: [("a".to_string(), "b".to_string())].into(),
            ..Default::default()
        },
    };
    let u = plan_undo(&[added]);
    assert_eq!(u.steps.len(), 1);
    assert_eq!(u.steps[0].body, json!({"tags": {"a": null}}));
    assert!(u.notes[0].contains("NEW1"));
}

#[test]
fn plan_round_trips_through_json_for_the_audit_trail() {
    let mut t = existing(0, DeviceState::default());
    t.application = Desired::Set(app("app-1", "us-west"));
    let p = plan(&[t]);
    let v = serde_json::to_value(&p).unwrap();
    let back: glp_console::assign::plan::Plan = serde_json::from_value(v).unwrap();
    assert_eq!(back, p);
}
