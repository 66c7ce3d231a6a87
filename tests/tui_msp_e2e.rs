//! End to end in a real terminal: `glp-console --demo --msp` in tmux — an MSP with 25 tenants
//! synced by one console. The consolidated view's count is the database's (each device once),
//! the Workspaces tab lists every workspace with the counts the database holds, and `:ws NAME`
//! switches to one tenant whose count is that tenant's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use common::demo::{DropDemoDb, demo_count, demo_env};
use common::tmux::Tmux;

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn demo_msp_in_tmux_consolidated_view_workspaces_tab_and_switcher() {
    let _one = common::demo::one_at_a_time();
    let _db = DropDemoDb;
    let tmp = tempfile::Builder::new()
        .prefix("glpc-msp-e2e-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let cmd = format!(
        "{env} {bin} --demo --msp --log-dir {logs}; echo EXIT=$?; sleep 120",
        env = demo_env(),
        bin = env!("CARGO_BIN_EXE_glp-console"),
        logs = dir.join("logs").display(),
    );
    let t = Tmux::start_sized(&format!("sh -c '{cmd}'"), dir, "msp", (160, 40));

    // Every workspace synced: the status bar says so, in the consolidated view.
    t.wait_for("the fleet's first sync of 26 workspaces", 180, |s| {
        s.contains("26/26 workspaces synced") && s.contains("all workspaces")
    });
    let all = demo_count("SELECT count(*) FROM devices_consolidated");
    let rows = demo_count("SELECT count(*) FROM devices");
    assert!(
        rows > all,
        "placed devices are stored by the MSP's view and the tenant's"
    );
    // The last workspace's rows reach the table a moment after the status bar says it synced
    // (the reload follows the engine's event): wait for the count, which must come to the
    // database's — each device once.
    let s = t.wait_for(
        &format!("the tab to count each device once ({all})"),
        30,
        |s| s.contains(&format!("Devices {}", thousands(all))),
    );
    assert!(s.contains("Workspace"), "a workspace column: {s}");

    // The Workspaces tab: one row per workspace, with the database's figures.
    t.keys(&["5"]);
    let s = t.wait_for("the Workspaces tab", 20, |s| {
        s.contains("[5 Workspaces 26]") && s.contains("demo-msp") && s.contains("tenant-03")
    });
    let t03 = demo_count(
        "SELECT count(*) FROM devices_consolidated d JOIN workspaces w ON w.id = d.workspace_id \
         WHERE w.name = 'tenant-03' AND d.removed_at IS NULL",
    );
    let line = s
        .lines()
        .find(|l| l.starts_with("tenant-03"))
        .unwrap_or_else(|| panic!("tenant-03's row: {s}"));
    assert!(
        line.contains(&thousands(t03)),
        "tenant-03 holds {t03} devices: {line}"
    );

    // The switcher: one tenant, its own count.
    t.literal(":ws tenant-03");
    t.keys(&["Enter"]);
    let s = t.wait_for("the view of tenant-03", 20, |s| s.contains("ws tenant-03"));
    t.keys(&["1"]);
    let s2 = t.wait_for("tenant-03's devices", 20, |s| {
        s.contains(&format!("[1 Devices {}]", thousands(t03)))
    });
    assert!(
        !s2.contains("demo-msp "),
        "only tenant-03's rows: {s2}\n{s}"
    );

    // Back to all workspaces, then quit.
    t.literal(":ws all");
    t.keys(&["Enter"]);
    t.wait_for("the consolidated view again", 20, |s| {
        s.contains("all workspaces") && s.contains(&format!("Devices {}", thousands(all)))
    });
    t.keys(&["q"]);
    t.wait_for("the console to exit cleanly", 30, |s| s.contains("EXIT=0"));
}
