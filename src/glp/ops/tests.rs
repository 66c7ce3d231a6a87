//! Unit tests of the typed write operations (`glp::ops`).

use super::*;

#[test]
fn terminal_states() {
    use OperationState::*;
    assert_eq!(terminal_state("SUCCEEDED"), Some(Succeeded));
    assert_eq!(terminal_state("completed"), Some(Succeeded));
    for s in ["FAILED", "TIMEDOUT", "TIMEOUT"] {
        assert_eq!(terminal_state(s), Some(Failed));
    }
    for s in ["INITIALIZED", "RUNNING", "PAUSED", "PENDING", "IN_PROGRESS"] {
        assert_eq!(terminal_state(s), None);
    }
}

#[test]
fn outcome_shapes() {
    let st = OperationStatus::parse(json!({"id":"op","status":"SUCCEEDED",
        "result":{"succeededDevices":[{"id":"d1"},"d2"]},"suggestedPollingIntervalSeconds":2}));
    let o = st.outcome().unwrap();
    assert_eq!(o.succeeded.len(), 2);
    assert_eq!(o.succeeded[1].id.as_deref(), Some("d2"));
    assert_eq!(st.suggested_poll, Some(Duration::from_secs(2)));

    let st =
        OperationStatus::parse(json!({"status":"FAILED","result":{"failedDevicesSerial":["SN1"]}}));
    let o = st.outcome().unwrap();
    assert_eq!(o.state, OperationState::Failed);
    assert_eq!(o.failed[0].serial_number.as_deref(), Some("SN1"));
    assert!(o.message.is_some());

    let st = OperationStatus::parse(json!({"status":"SUCCEEDED","result":"SUCCEEDED"}));
    assert_eq!(st.outcome().unwrap().state, OperationState::Succeeded);
    let st = OperationStatus::parse(json!({"status":"FAILED","error":{"message":"boom"}}));
    assert_eq!(st.outcome().unwrap().message.as_deref(), Some("boom"));
    assert!(
        OperationStatus::parse(json!({"status":"RUNNING"}))
            .outcome()
            .is_none()
    );
}

#[test]
fn patch_rules() {
    assert!(check_patch_body(&json!({"archived":true,"tags":{}})).is_err());
    assert!(check_patch_body(&json!({"subscription":[],"tags":{}})).is_err());
    assert!(
        check_patch_body(&json!({"application":{"id":"a"},"region":"us-west","tags":{"a":null}}))
            .is_ok()
    );
    assert!(check_patch_body(&json!({})).is_err());
}

#[test]
fn locations() {
    assert_eq!(
        operation_path("https://h.example/devices/v1/async-operations/x?a=1").unwrap(),
        "/devices/v1/async-operations/x?a=1"
    );
    assert_eq!(
        operation_path("devices/v1/async-operations/x").unwrap(),
        "/devices/v1/async-operations/x"
    );
    assert!(operation_path("").is_err());
}

#[test]
fn subscription_polls_are_paced_apart_from_device_polls() {
    assert_eq!(
        operation_endpoint("/subscriptions/v1/async-operations/x"),
        Endpoint::SubscriptionAsyncOperationsGet
    );
    assert_eq!(
        operation_endpoint("/devices/v1/async-operations/x"),
        Endpoint::AsyncOperationsGet
    );
}

#[test]
fn new_device_validation() {
    let mut d = NewDevice {
        serial_number: "SN1".into(),
        kind: DeviceKind::Network,
        mac_address: None,
        part_number: None,
        tags: BTreeMap::new(),
        location_id: None,
    };
    assert!(d.validate().is_err());
    d.mac_address = Some("AA:BB:CC:DD:EE:FF".into());
    assert!(d.validate().is_ok());
    assert_eq!(d.v2_body()["deviceType"], "NETWORK");
}
