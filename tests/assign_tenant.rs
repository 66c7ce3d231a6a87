//! An MSP places its own devices into tenants from a sheet with a Tenant column: the real
//! `glp-console assign` binary from an `[msp]` configuration, the simulator's MSP mode over
//! HTTP and PostgreSQL. What a person checks: the tenants list the moved devices afterwards
//! (the simulator's own views), an unknown tenant is a row error that sends nothing, a
//! tenant-managed device is refused with a reason, a dry run changes nothing, and undo puts
//! the devices back in the MSP's pool.
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
use std::path::Path;
use std::process::Output;

use common::{TestDb, TestDir};
use glp_console::domain::WorkspaceId;
use glp_console::sim::{MspSim, SimHandle};
use serde_json::Value;

async fn glpc(sim: &SimHandle, db: &TestDb, dir: &Path, args: &[&str]) -> Output {
    let mut c = common::msp::command(sim, db, dir, &common::msp::config_file(dir, sim, 2));
    c.args(args);
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn serials_of(sim: &SimHandle, ws: &str) -> BTreeSet<String> {
    sim.devices_of(ws)
        .unwrap()
        .iter()
        .map(|d| d["serialNumber"].as_str().unwrap().to_string())
        .collect()
}

fn serial(d: &Value) -> &str {
    d["serialNumber"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_column_moves_pool_devices_into_the_named_tenants() {
    glp_console::tls::init();
    let sim = common::msp::start(
        30,
        5,
        MspSim {
            tenants: 4,
            devices_per_tenant: 10,
            subscriptions_per_tenant: 2,
            ..MspSim::default()
        },
    )
    .await;
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-assign-tenant-");
    let o = glpc(&sim, &db, &dir, &["--sync-only", "--full"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let msp = sim.workspace_id();
    let tenants = sim.tenants();
    // tenant-04 is customer-owned (every 4th); tenant-01 and tenant-02 are MSP-owned.
    let (t1, t2) = (&tenants[0], &tenants[1]);
    let view = sim.devices_of(&msp).unwrap();
    let pool: Vec<&Value> = view
        .iter()
        .filter(|d| {
            d["management"] == "MSP" && d["tenantWorkspaceId"].is_null() && d["archived"] == false
        })
        .take(3)
        .collect();
    assert_eq!(pool.len(), 3, "the MSP has pool devices");
    let managed = view
        .iter()
        .find(|d| d["management"] == "TENANT" && d["archived"] == false)
        .expect("the MSP view lists tenant-managed devices");
    let dashed = WorkspaceId::parse(&t1.id).unwrap().dashed().to_uppercase();
    let csv = format!(
        "Serial Number,Tenant\n{},{}\n{},{dashed}\n{},{}\n{},{}\n",
        serial(pool[0]),
        t1.name,
        serial(pool[1]),
        serial(pool[2]),
        t2.name.to_uppercase(),
        serial(managed),
        t2.name,
    );
    let sheet = dir.join("tenants.csv");
    std::fs::write(&sheet, &csv).unwrap();
    let s = sheet.to_str().unwrap();
    let before_t1 = serials_of(&sim, &t1.id);
    let before_t2 = serials_of(&sim, &t2.id);

    // Review: the moves, and the tenant-managed device refused with its reason.
    let o = glpc(&sim, &db, &dir, &["assign", s]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("tenant MSP pool → {}", t1.name)),
        "{out}"
    );
    assert!(
        out.contains(serial(managed)) && out.contains("managed by TENANT"),
        "{out}"
    );

    // An unknown tenant: a row error naming the row, the value and the known tenants.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!("Serial,Customer\n{},Initech\n", serial(pool[0])),
    )
    .unwrap();
    let o = glpc(
        &sim,
        &db,
        &dir,
        &["assign", bad.to_str().unwrap(), "--apply", "--yes"],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("row 2") && out.contains("\"Initech\"") && out.contains(&t1.name),
        "{out}"
    );
    assert_eq!(serials_of(&sim, &t1.id), before_t1, "nothing was sent");

    // A dry run changes nothing.
    let o = glpc(
        &sim,
        &db,
        &dir,
        &["assign", s, "--apply", "--dry-run", "--yes"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(serials_of(&sim, &t1.id), before_t1);
    assert_eq!(serials_of(&sim, &t2.id), before_t2);

    // Apply: the tenants list the moved devices; the managed one stays where it was.
    let o = glpc(
        &sim,
        &db,
        &dir,
        &["assign", s, "--apply", "--yes", "--json"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "succeeded", "{v}");
    let run_id = v["run_id"].as_i64().unwrap();
    let after_t1 = serials_of(&sim, &t1.id);
    let after_t2 = serials_of(&sim, &t2.id);
    assert!(after_t1.contains(serial(pool[0])) && after_t1.contains(serial(pool[1])));
    assert!(after_t2.contains(serial(pool[2])));
    assert!(!after_t2.contains(serial(managed)) || before_t2.contains(serial(managed)));
    // The post-apply refresh stored the new placement.
    let placed: Option<String> = sqlx::query_scalar(
        "SELECT tenant_workspace_id FROM devices WHERE workspace_id = $1 AND id = $2",
    )
    .bind(WorkspaceId::parse(&msp).unwrap().as_str())
    .bind(pool[0]["id"].as_str().unwrap())
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        placed.as_deref().and_then(WorkspaceId::parse),
        WorkspaceId::parse(&t1.id)
    );

    // The same sheet again: nothing to do.
    let o = glpc(&sim, &db, &dir, &["assign", s, "--apply", "--yes"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Nothing to"),
        "{}",
        text(&o)
    );

    // Undo: back to the MSP's pool.
    let id = run_id.to_string();
    let o = glpc(
        &sim,
        &db,
        &dir,
        &["assign", "--undo", &id, "--apply", "--yes"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(serials_of(&sim, &t1.id), before_t1);
    assert_eq!(serials_of(&sim, &t2.id), before_t2);
    let back = sim.devices_of(&msp).unwrap();
    for p in &pool {
        let d = back.iter().find(|d| d["id"] == p["id"]).unwrap();
        assert!(d["tenantWorkspaceId"].is_null(), "{d}");
    }
}
