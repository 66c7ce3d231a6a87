//! An MSP with 25 tenants, synced by the real `glp-console --sync-only` binary from an
//! `[msp]` configuration, against the simulator's MSP mode over HTTP and PostgreSQL: what a
//! person checks is what each workspace holds (compared with the simulator's views), the
//! all-workspaces totals (each device once), the exit code cron gets when one tenant's token
//! is refused and another is in an outage, what `status` names, and a tenant the MSP stops
//! listing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use common::{TestDb, TestDir};
use glp_console::domain::WorkspaceId;
use glp_console::sim::{MspSim, SimHandle, TenantFaults};

fn command(sim: &SimHandle, db: &TestDb, dir: &Path) -> Command {
    common::msp::command(sim, db, dir, &common::msp::config_file(dir, sim, 4))
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ids(items: &[serde_json::Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

async fn stored(db: &TestDb, table: &str, ws: &str) -> BTreeSet<String> {
    let q = format!("SELECT id FROM {table} WHERE workspace_id = $1 AND removed_at IS NULL");
    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(q))
        .bind(ws)
        .fetch_all(db.store.pool())
        .await
        .unwrap();
    rows.into_iter().collect()
}

fn norm(id: &str) -> String {
    WorkspaceId::parse(id).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_msp_with_25_tenants_one_refused_one_down_syncs_the_other_23_and_exits_partial() {
    glp_console::tls::init();
    let faults = common::msp::faults(&[(3, common::msp::refused(403)), (7, common::msp::outage())]);
    let sim = common::msp::start(
        120,
        10,
        MspSim {
            tenants: 25,
            devices_per_tenant: 40,
            subscriptions_per_tenant: 6,
            tenant_faults: faults,
            ..MspSim::default()
        },
    )
    .await;
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-msp-");
    let tenants = sim.tenants();
    assert_eq!(tenants.len(), 25);
    let name_of: BTreeMap<String, String> = tenants
        .iter()
        .map(|t| (norm(&t.id), t.name.clone()))
        .collect();
    let refused = &tenants[2];
    let down = &tenants[6];

    let mut c = command(&sim, &db, &dir);
    c.args(["--sync-only", "--json"]);
    let out = run(c).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "one tenant failing is partial: {}",
        text(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut failing: Vec<&str> = report["failing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    failing.sort_unstable();
    assert_eq!(failing, vec![refused.name.as_str(), down.name.as_str()]);
    assert_eq!(report["synced"], 24, "the MSP and 23 tenants: {report}");

    // Each synced tenant holds exactly what its own token lists; the MSP its consolidated view.
    for t in &tenants {
        let ws = norm(&t.id);
        let want_dev = ids(&sim.devices_of(&t.id).unwrap());
        let want_sub = ids(&sim.subscriptions_of(&t.id).unwrap());
        let (got_dev, got_sub) = (
            stored(&db, "devices", &ws).await,
            stored(&db, "subscriptions", &ws).await,
        );
        if t.id == refused.id || t.id == down.id {
            assert!(
                got_dev.is_empty() && got_sub.is_empty(),
                "{} not synced",
                t.name
            );
        } else {
            assert_eq!(got_dev, want_dev, "devices of {}", t.name);
            assert_eq!(got_sub, want_sub, "subscriptions of {}", t.name);
        }
    }
    let msp = norm(&sim.workspace_id());
    let msp_view = sim.devices_of(&sim.workspace_id()).unwrap();
    assert_eq!(stored(&db, "devices", &msp).await, ids(&msp_view));

    // All workspaces: a device the MSP view and a tenant's view both return counts once.
    let mut every: BTreeSet<String> = ids(&msp_view);
    for t in &tenants {
        if t.id != refused.id && t.id != down.id {
            every.extend(ids(&sim.devices_of(&t.id).unwrap()));
        }
    }
    let consolidated: i64 =
        sqlx::query_scalar("SELECT count(*) FROM devices_consolidated WHERE removed_at IS NULL")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(consolidated, every.len() as i64);
    let raw_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(
        raw_rows > consolidated,
        "placed devices are stored by both views"
    );
    let overview = db.store.workspace_overview(90).await.unwrap();
    assert_eq!(overview.len(), 26);
    assert_eq!(
        overview.iter().map(|o| o.devices).sum::<i64>(),
        consolidated,
        "the per-workspace figures sum to the all-workspaces total"
    );
    // A placed device is attributed to its tenant.
    let placed = msp_view
        .iter()
        .find(|d| d["management"] == "MSP" && d["tenantWorkspaceId"].is_string())
        .expect("the MSP view has placed devices");
    let tenant = norm(placed["tenantWorkspaceId"].as_str().unwrap());
    let attributed: String =
        sqlx::query_scalar("SELECT workspace_id FROM devices_consolidated WHERE id = $1")
            .bind(placed["id"].as_str().unwrap())
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    if name_of.contains_key(&tenant) && tenant != norm(&refused.id) && tenant != norm(&down.id) {
        assert_eq!(attributed, tenant);
    }

    // status names the two failing tenants and exits 7.
    let mut c = command(&sim, &db, &dir);
    c.arg("status");
    let st = run(c).await;
    assert_eq!(st.status.code(), Some(7), "{}", text(&st));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains(&refused.name) && err.contains(&down.name),
        "{}",
        text(&st)
    );

    // The MSP stops listing one tenant, and the two faults are mended: the tenant is marked
    // removed with its rows kept, the other 24 tenants sync, exit 0.
    let gone = &tenants[4];
    let gone_rows = stored(&db, "devices", &norm(&gone.id)).await.len();
    assert!(gone_rows > 0);
    assert!(sim.set_tenant_faults(
        &gone.id,
        TenantFaults {
            unlisted: true,
            ..TenantFaults::default()
        }
    ));
    assert!(sim.set_tenant_faults(&refused.id, TenantFaults::default()));
    assert!(sim.set_tenant_faults(&down.id, TenantFaults::default()));
    let mut c = command(&sim, &db, &dir);
    c.args(["--sync-only", "--json"]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["synced"], 25,
        "the MSP and the 24 listed tenants: {report}"
    );
    let removed: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT removed_at FROM workspaces WHERE id = $1")
            .bind(norm(&gone.id))
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert!(
        removed.is_some(),
        "a tenant no longer listed is marked removed"
    );
    assert_eq!(
        stored(&db, "devices", &norm(&gone.id)).await.len(),
        gone_rows,
        "…and its rows are kept"
    );
    for t in [refused, down] {
        assert_eq!(
            stored(&db, "devices", &norm(&t.id)).await,
            ids(&sim.devices_of(&t.id).unwrap()),
            "{} synced once mended",
            t.name
        );
    }
}

/// A tenant the configuration stops syncing (`[msp] exclude`) keeps its rows and grows old,
/// but cron can do nothing about it: `status` lists it as "not synced" and exits 0, while the
/// same database under the configuration that still syncs it exits 7 naming it.
#[tokio::test(flavor = "multi_thread")]
async fn status_never_alerts_on_a_tenant_this_configuration_does_not_sync() {
    let sim = common::msp::start(
        10,
        3,
        MspSim {
            tenants: 4,
            devices_per_tenant: 5,
            subscriptions_per_tenant: 2,
            ..MspSim::default()
        },
    )
    .await;
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-msp-deselected-");
    let with = |config: &Path, args: &[&str]| {
        let mut c = common::msp::command(&sim, &db, &dir, config);
        c.args(args);
        run(c)
    };
    let config = common::msp::config_file(&dir, &sim, 4);
    let out = with(&config, &["--sync-only", "--full"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Two days pass for tenant-02 only (its runs are aged in the database).
    let t2 = sim.tenants()[1].clone();
    sqlx::query(
        "UPDATE sync_history SET started_at = started_at - interval '2 days', \
         finished_at = finished_at - interval '2 days' WHERE workspace_id = $1",
    )
    .bind(norm(&t2.id))
    .execute(db.store.pool())
    .await
    .unwrap();

    // Still configured: stale, exit 7, named.
    let st = with(&config, &["status"]).await;
    assert_eq!(st.status.code(), Some(7), "{}", text(&st));
    assert!(
        String::from_utf8_lossy(&st.stderr).contains(&format!("{}: ", t2.name)),
        "{}",
        text(&st)
    );

    // Excluded: listed as not synced, nothing alerts.
    let mut body = std::fs::read_to_string(&config).unwrap();
    body.push_str(&format!("exclude = [\"{}\"]\n", t2.name));
    std::fs::write(&config, body).unwrap();
    let st = with(&config, &["status"]).await;
    assert_eq!(st.status.code(), Some(0), "{}", text(&st));
    let stdout = String::from_utf8_lossy(&st.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&t2.name))
        .unwrap_or_else(|| panic!("{}'s line: {stdout}", t2.name));
    assert!(line.contains("not synced"), "{line}");
    assert!(
        stdout.contains("4 of 4 workspace(s) ok, 0 failing or stale"),
        "the MSP and the three tenants it syncs are judged: {stdout}"
    );
    let st = with(&config, &["status", "--json"]).await;
    assert_eq!(st.status.code(), Some(0), "{}", text(&st));
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    let w = v["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == t2.name.as_str())
        .unwrap();
    assert_eq!(w["synced_by_this_configuration"], false, "{w}");
    assert_eq!(w["state"], "not synced", "{w}");
    assert_eq!(v["failing_or_stale"], serde_json::json!([]), "{v}");
}
