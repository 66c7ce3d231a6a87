//! Schema and set-based storage against a real PostgreSQL (its own database per test).
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
use glp_console::glp::model::{Device, Item, RawPage, Subscription, parse_items};
use glp_console::store::MIGRATOR;
use glp_console::store::inventory::Resource;
use serde_json::{Value, json};

fn device_example() -> Value {
    serde_json::from_str(include_str!("fixtures/device_example.json")).unwrap()
}

fn subscription_example() -> Value {
    serde_json::from_str(include_str!("fixtures/subscription_example.json")).unwrap()
}

fn items<T: for<'de> serde::Deserialize<'de> + glp_console::glp::model::HasId>(
    values: &[Value],
) -> Vec<Item<T>> {
    let page: RawPage = serde_json::from_value(json!({ "items": values })).unwrap();
    let (ok, bad) = parse_items::<T>(page.items);
    assert!(bad.is_empty(), "{bad:?}");
    ok
}

/// Every optional field of the example set to null, and a copy with them all missing.
fn variants(example: &Value, required: &[&str]) -> (Value, Value) {
    let mut nulls = example.clone();
    let mut missing = example.clone();
    for (k, v) in example.as_object().unwrap() {
        if !required.contains(&k.as_str()) {
            nulls[k] = Value::Null;
            missing.as_object_mut().unwrap().remove(k);
        }
        let _ = v;
    }
    (nulls, missing)
}

async fn raw_of(db: &TestDb, table: &str, id: &str) -> Value {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT raw_data FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(db.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn migrations_apply_to_empty_database_and_reapply_as_noop() {
    let db = TestDb::empty().await;
    db.store.migrate().await.unwrap();
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(db.store.pool())
            .await
            .unwrap()
    };
    let first = count().await;
    assert_eq!(
        first as usize,
        MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .count()
    );
    db.store.migrate().await.unwrap();
    assert_eq!(count().await, first, "re-applying must be a no-op");
    // The views and functions the console uses exist and run.
    for q in [
        "SELECT count(*) FROM active_devices",
        "SELECT count(*) FROM active_subscriptions",
        "SELECT count(*) FROM subscriptions_expiring(90)",
        "SELECT count(*) FROM devices_on_expiring_subscriptions(30)",
        "SELECT count(*) FROM expired_subscriptions",
        "SELECT count(*) FROM device_summary",
        "SELECT count(*) FROM subscription_summary",
    ] {
        sqlx::query(q)
            .execute(db.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    // And the down migration takes everything away again.
    MIGRATOR.undo(db.store.pool(), 0).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name <> '_sqlx_migrations'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(tables, 0);
}

#[tokio::test]
async fn device_examples_round_trip_losslessly() {
    let db = TestDb::new().await;
    let example = device_example();
    let (mut nulls, mut missing) =
        variants(&example, &["id", "type", "serialNumber", "partNumber"]);
    nulls["id"] = json!("00000000-0000-0000-0000-000000000001");
    nulls["serialNumber"] = json!("NULLS00001");
    missing["id"] = json!("00000000-0000-0000-0000-000000000002");
    missing["serialNumber"] = json!("MISSING001");
    let mut extra = example.clone();
    extra["id"] = json!("00000000-0000-0000-0000-000000000003");
    extra["serialNumber"] = json!("ÜNÏCØDE-序列号-😀");
    extra["deviceName"] = json!("Büro 3. Stock — 会議室");
    extra["tags"] = json!({"Ort": "Zürich", "空": "", "emoji": "📡"});
    extra["someFutureField"] = json!({"nested": [1, 2, {"x": null}]});
    extra["assignedState"] = json!("ASSIGNED_TO_ACTIVATE_CONFIG");
    let mut states = Vec::new();
    for (i, st) in [
        "ASSIGNED_TO_ACTIVATE_CONFIG",
        "ASSIGNED_TO_DEDICATED_PLATFORM",
        "ASSIGNED_TO_SERVICE",
        "UNASSIGNED",
    ]
    .iter()
    .enumerate()
    {
        let mut d = example.clone();
        d["id"] = json!(format!("00000000-0000-0000-0001-00000000000{i}"));
        d["serialNumber"] = json!(format!("STATE{i}"));
        d["assignedState"] = json!(st);
        states.push(d);
    }
    let mut all = vec![
        example.clone(),
        nulls.clone(),
        missing.clone(),
        extra.clone(),
    ];
    all.extend(states);
    let parsed = items::<Device>(&all);
    let counts = db.store.upsert_devices(&parsed, None).await.unwrap();
    assert_eq!(counts.inserted, all.len() as u64);

    for v in &all {
        let id = v["id"].as_str().unwrap();
        assert_eq!(
            &raw_of(&db, "devices", id).await,
            v,
            "raw_data of {id} must be exactly what the API sent"
        );
    }
    // Normalised columns of the full example.
    type Columns = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        Option<String>,
    );
    let row: Columns =
        sqlx::query_as(
            "SELECT serial_number, mac_address, device_type, region, application_id, archived, assigned_state \
             FROM devices WHERE id = $1",
        )
        .bind(example["id"].as_str().unwrap())
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(row.0, "VNT8KWC09Q");
    assert_eq!(row.1.as_deref(), Some("3C:E8:6E:C1:8A:B0"));
    assert_eq!(row.2.as_deref(), Some("AP"));
    assert_eq!(row.3.as_deref(), Some("us-west"));
    assert_eq!(
        row.4.as_deref(),
        Some("df5b41c4-7c35-4158-af63-302042b9911b")
    );
    assert!(!row.5);
    assert_eq!(row.6.as_deref(), Some("ASSIGNED_TO_SERVICE"));
    // Tags and links of the unicode variant and the example.
    let tags: Vec<(String, String)> = sqlx::query_as(
        "SELECT tag_key, tag_value FROM device_tags WHERE device_id = $1 ORDER BY tag_key",
    )
    .bind(extra["id"].as_str().unwrap())
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        tags,
        vec![
            ("Ort".into(), "Zürich".into()),
            ("emoji".into(), "📡".into()),
            ("空".into(), "".into())
        ]
    );
    let link: (
        String,
        Option<String>,
        Option<chrono::DateTime<chrono::Utc>>,
    ) = sqlx::query_as(
        "SELECT subscription_id, key, end_time FROM device_subscriptions WHERE device_id = $1",
    )
    .bind(example["id"].as_str().unwrap())
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(link.0, "3292c36d-30ef-4f26-823b-76b5d213b670");
    assert_eq!(link.1.as_deref(), Some("PAT4DYYJAEEEJA"));
    assert_eq!(link.2.unwrap().to_rfc3339(), "2028-01-01T00:00:00+00:00");
    // The null/missing variants have no tags or links and do not break the summary views.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM device_tags WHERE device_id = ANY($1)")
        .bind(vec![
            nulls["id"].as_str().unwrap(),
            missing["id"].as_str().unwrap(),
        ])
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn subscription_examples_round_trip_losslessly() {
    let db = TestDb::new().await;
    let example = subscription_example();
    let (mut nulls, mut missing) = variants(&example, &["id", "type"]);
    nulls["id"] = json!("s-nulls");
    missing["id"] = json!("s-missing");
    let mut as_string = example.clone();
    as_string["id"] = json!("s-string-qty");
    as_string["quantity"] = json!("20");
    as_string["availableQuantity"] = json!("0");
    as_string["subscriptionStatus"] = json!("LOCKED");
    as_string["tags"] = json!({"owner": "Ingeniería ✓"});
    let mut none = example.clone();
    none["id"] = json!("s-none");
    none["subscriptionStatus"] = json!("NONE");
    none["quantity"] = json!(0);
    none["unknownNewField"] = json!(true);
    let all = vec![
        example.clone(),
        nulls,
        missing,
        as_string.clone(),
        none.clone(),
    ];
    let parsed = items::<Subscription>(&all);
    db.store.upsert_subscriptions(&parsed, None).await.unwrap();
    for v in &all {
        let id = v["id"].as_str().unwrap();
        assert_eq!(&raw_of(&db, "subscriptions", id).await, v);
    }
    let q = |id: &'static str| {
        let pool = db.store.pool().clone();
        async move {
            sqlx::query_as::<_, (Option<i64>, Option<i64>, Option<String>)>(
                "SELECT quantity, available_quantity, subscription_status FROM subscriptions WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(
        q("11111111-2222-3333-4444-555555555555").await,
        (Some(100), Some(37), Some("STARTED".into()))
    );
    assert_eq!(
        q("s-string-qty").await,
        (Some(20), Some(0), Some("LOCKED".into()))
    );
    assert_eq!(
        q("s-none").await,
        (Some(0), Some(37), Some("NONE".into())),
        "a numeric 0 stays 0, not NULL"
    );
    assert_eq!(q("s-nulls").await, (None, None, None));
    let tag: String = sqlx::query_scalar(
        "SELECT tag_value FROM subscription_tags WHERE subscription_id = 's-string-qty'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(tag, "Ingeniería ✓");
}

#[tokio::test]
async fn reused_serial_and_unknown_subscription_link_do_not_abort() {
    let db = TestDb::new().await;
    let mut a = device_example();
    a["subscription"][0]["id"] = json!("not-stored-subscription");
    let mut b = device_example();
    b["id"] = json!("another-id-same-serial");
    let counts = db
        .store
        .upsert_devices(&items::<Device>(&[a, b]), None)
        .await
        .unwrap();
    assert_eq!(counts.inserted, 2);
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM devices WHERE serial_number = 'VNT8KWC09Q'")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn unchanged_rows_are_not_rewritten_and_removals_are_marked() {
    let db = TestDb::new().await;
    let mk = |i: usize, tag: &str| {
        let mut d = device_example();
        d["id"] = json!(format!("dev-{i}"));
        d["serialNumber"] = json!(format!("SER{i:05}"));
        d["tags"] = json!({ "site": tag });
        d
    };
    let first: Vec<Value> = (0..10).map(|i| mk(i, "HQ")).collect();
    let c = db
        .store
        .upsert_devices(&items::<Device>(&first), None)
        .await
        .unwrap();
    assert_eq!((c.inserted, c.updated, c.unchanged), (10, 0, 0));
    let c = db
        .store
        .upsert_devices(&items::<Device>(&first), None)
        .await
        .unwrap();
    assert_eq!(
        (c.inserted, c.updated, c.unchanged),
        (0, 0, 10),
        "nothing changed → no row written"
    );

    // A "full sync" that sees 0..8 with device 3 changed: 9 is marked removed.
    let mut seen: Vec<Value> = (0..9).map(|i| mk(i, "HQ")).collect();
    seen[3] = mk(3, "Branch");
    let c = db
        .store
        .upsert_devices(&items::<Device>(&seen), Some(42))
        .await
        .unwrap();
    assert_eq!((c.inserted, c.updated, c.unchanged), (0, 1, 8));
    let removed = db
        .store
        .reconcile_removed(42, Resource::Devices)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let tag: String =
        sqlx::query_scalar("SELECT tag_value FROM device_tags WHERE device_id = 'dev-3'")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(tag, "Branch");
    let gone: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT removed_at FROM devices WHERE id = 'dev-9'")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert!(gone.is_some());
    let leftover: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_seen")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(leftover, 0);

    // It comes back: restored, not duplicated.
    let c = db
        .store
        .upsert_devices(&items::<Device>(&[mk(9, "HQ")]), None)
        .await
        .unwrap();
    assert_eq!((c.updated, c.restored), (1, 1));
    let gone: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT removed_at FROM devices WHERE id = 'dev-9'")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert!(gone.is_none());
}

#[tokio::test]
async fn a_page_repeating_an_item_is_stored_once() {
    let db = TestDb::new().await;
    let d = device_example();
    let c = db
        .store
        .upsert_devices(&items::<Device>(&[d.clone(), d]), None)
        .await
        .unwrap();
    assert_eq!(c.inserted, 1);
}

/// New rows go in by COPY; when another transaction stores one of them between the page's
/// pre-read and its COPY (a unique violation), the page is written again as upserts and
/// nothing is lost: the page's values win, the other rows are stored too.
#[tokio::test]
async fn a_new_row_stored_meanwhile_by_another_transaction_does_not_fail_the_page() {
    let db = TestDb::new().await;
    let mut raced = device_example();
    raced["id"] = json!("00000000-0000-0000-0000-0000000000aa");
    raced["serialNumber"] = json!("RACED00001");
    let mut other = device_example();
    other["id"] = json!("00000000-0000-0000-0000-0000000000bb");
    other["serialNumber"] = json!("OTHER00001");
    let page = items::<Device>(&[raced.clone(), other.clone()]);

    // Another writer inserts the same id and keeps its transaction open: the page's
    // pre-read cannot see the row, and its COPY waits on the other transaction.
    let mut rival = db.store.pool().begin().await.unwrap();
    sqlx::query(
        "INSERT INTO devices (workspace_id, id, serial_number, raw_data) \
         VALUES ('default', $1, 'RIVAL', '{}')",
    )
    .bind(raced["id"].as_str().unwrap())
    .execute(&mut *rival)
    .await
    .unwrap();
    let store = db.store.clone();
    let write = tokio::spawn(async move { store.upsert_devices(&page, None).await });
    let mut blocked = false;
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock' \
               AND query LIKE 'COPY devices%'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        if waiting > 0 {
            blocked = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        blocked,
        "the page's COPY should wait on the rival's uncommitted row"
    );
    rival.commit().await.unwrap();

    let counts = write
        .await
        .unwrap()
        .expect("the page is written despite the race");
    assert_eq!((counts.inserted, counts.updated), (1, 1), "{counts:?}");
    assert_eq!(
        raw_of(&db, "devices", raced["id"].as_str().unwrap()).await,
        raced
    );
    assert_eq!(
        raw_of(&db, "devices", other["id"].as_str().unwrap()).await,
        other
    );
    let serial: String = sqlx::query_scalar("SELECT serial_number FROM devices WHERE id = $1")
        .bind(raced["id"].as_str().unwrap())
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(serial, "RACED00001");
}
