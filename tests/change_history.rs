//! Change history: change a few devices and subscriptions in the simulator, sync, and the
//! history holds exactly those changes (old and new value, the run) and nothing for untouched
//! devices; a rewrite that moves no tracked field records nothing; removal and restoration
//! are recorded; retention prunes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::BTreeSet;

use common::TestDb;
use glp_console::config::SyncConfig;
use glp_console::sim::{self, SimConfig, SimHandle};
use glp_console::store::changes::ChangeRecord;
use glp_console::sync::engine::EngineHandle;
use glp_console::sync::{Mode, SyncCommand, SyncSummary};
use serde_json::json;

async fn sync(h: &mut EngineHandle, mode: Mode) -> SyncSummary {
    common::engine::sync_now(h, mode).await
}

async fn history(db: &TestDb) -> Vec<ChangeRecord> {
    sqlx::query_as(
        "SELECT workspace_id, resource, item_id, sync_id, changed_at, field, old_value, new_value \
           FROM inventory_changes ORDER BY item_id, field",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap()
}

fn engine(sim: &SimHandle, db: &TestDb) -> EngineHandle {
    common::engine::engine_for(
        sim,
        &common::engine::api_config(sim),
        db,
        SyncConfig::default(),
    )
}

/// (item, field, old, new) of every recorded change.
fn facts(h: &[ChangeRecord]) -> BTreeSet<(String, String, Option<String>, Option<String>)> {
    h.iter()
        .map(|c| {
            (
                c.item_id.clone(),
                c.field.clone(),
                c.old_value.clone(),
                c.new_value.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_sync_records_exactly_the_fields_that_changed_and_nothing_else() {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 250,
        subscriptions: 60,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let mut h = engine(&sim, &db);
    sync(&mut h, Mode::Full).await;
    assert!(history(&db).await.is_empty(), "a first sync has no history");

    // Touch every device in a field that is not tracked: every row is rewritten, and the
    // stored and fetched spellings of every tracked field must agree — nothing recorded.
    for d in sim.devices() {
        sim.modify_device(d["id"].as_str().unwrap(), |d| {
            d["secondaryName"] = json!("rewritten");
        });
    }
    let s = sync(&mut h, Mode::Incremental).await;
    let rewritten: u64 = s.resources.iter().map(|r| r.updated).sum();
    assert!(rewritten >= 250, "every device was rewritten: {s:?}");
    assert_eq!(history(&db).await, vec![], "no tracked field moved");

    // Now change three devices and a subscription in tracked fields.
    let devices = sim.devices();
    let with_region = devices
        .iter()
        .find(|d| {
            d["region"].is_string() && d["subscription"].as_array().is_some_and(|a| !a.is_empty())
        })
        .unwrap()
        .clone();
    let a = with_region["id"].as_str().unwrap().to_string();
    let old_region = with_region["region"].as_str().unwrap().to_string();
    let b = devices
        .iter()
        .find(|d| d["id"] != with_region["id"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let old_subs: Vec<String> = with_region["subscription"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    sim.modify_device(&a, |d| {
        d["region"] = json!("mars-north-1");
        d["subscription"] = json!([]);
    });
    sim.modify_device(&b, |d| {
        d["tags"] = json!({"site": "HQ", "floor": "3"});
    });
    let sub = sim.subscriptions()[0].clone();
    let sid = sub["id"].as_str().unwrap().to_string();
    sim.modify_subscription(&sid, |s| s["quantity"] = json!(987));
    let run = sync(&mut h, Mode::Incremental).await;

    let got = history(&db).await;
    assert!(got.iter().all(|c| c.sync_id == Some(run.run_id)), "{got:?}");
    assert!(got.iter().all(|c| c.workspace_id == "default"));
    let mut sorted = old_subs.clone();
    sorted.sort();
    let old_tags = sim_tags_before(&devices, &b);
    let mut want = BTreeSet::from([
        (
            a.clone(),
            "region".to_string(),
            Some(old_region),
            Some("mars-north-1".to_string()),
        ),
        (
            a.clone(),
            "subscriptions".into(),
            Some(sorted.join(",")),
            None,
        ),
        (
            b.clone(),
            "tags".into(),
            old_tags,
            Some("floor=3; site=HQ".into()),
        ),
    ]);
    let old_qty = sub["quantity"].as_i64().map(|q| q.to_string());
    if old_qty.as_deref() != Some("987") {
        want.insert((sid.clone(), "quantity".into(), old_qty, Some("987".into())));
    }
    assert_eq!(facts(&got), want);

    // Removal and restoration.
    assert!(sim.remove_device(&b));
    sync(&mut h, Mode::Full).await;
    let removed: Vec<ChangeRecord> = history(&db)
        .await
        .into_iter()
        .filter(|c| c.field == "presence")
        .collect();
    assert_eq!(
        facts(&removed),
        BTreeSet::from([(
            b.clone(),
            "presence".into(),
            Some("present".into()),
            Some("removed".into())
        )])
    );
    // A device marked removed that GreenLake lists again is restored.
    sqlx::query("UPDATE devices SET removed_at = now() WHERE id = $1")
        .bind(&a)
        .execute(db.store.pool())
        .await
        .unwrap();
    let before = history(&db).await.len();
    sync(&mut h, Mode::Full).await;
    let after = history(&db).await;
    let new: Vec<&ChangeRecord> = after
        .iter()
        .filter(|c| c.item_id == a && c.field == "presence")
        .collect();
    assert_eq!(new.len(), 1, "{after:?}");
    assert_eq!(new[0].new_value.as_deref(), Some("present"));
    assert_eq!(after.len(), before + 1, "only the restoration is new");

    // The device's history, newest first, as the detail pane reads it.
    let store = db
        .store
        .for_workspace(glp_console::domain::WorkspaceId::default_id());
    let ha = store
        .item_history(glp_console::domain::Resource::Devices, &a)
        .await
        .unwrap();
    assert_eq!(ha.first().map(|c| c.field.as_str()), Some("presence"));

    // Retention: entries older than the window go with the next run.
    sqlx::query(
        "UPDATE inventory_changes SET changed_at = now() - interval '200 days' WHERE item_id = $1",
    )
    .bind(&b)
    .execute(db.store.pool())
    .await
    .unwrap();
    sync(&mut h, Mode::Incremental).await;
    let left = history(&db).await;
    assert!(left.iter().all(|c| c.item_id != b), "180 days by default");
    assert!(left.iter().any(|c| c.item_id == a), "newer entries stay");
    h.commands.send(SyncCommand::Shutdown).await.unwrap();
}

/// Device `id`'s tags before the change, spelled as the history spells them.
fn sim_tags_before(devices: &[serde_json::Value], id: &str) -> Option<String> {
    let d = devices.iter().find(|d| d["id"] == id)?;
    let mut tags: Vec<(String, String)> = d["tags"]
        .as_object()?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    if tags.is_empty() {
        return None;
    }
    tags.sort();
    Some(
        tags.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; "),
    )
}
