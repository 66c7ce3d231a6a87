//! An MSP simulator and the real binary configured for it: the `[msp]` configuration,
//! credentials from the environment, limits lifted so tests wait on the work, not on pacing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use glp_console::sim::{self, MspSim, SimConfig, SimHandle, TenantFaults};

use super::TestDb;

/// A simulator in MSP mode: `devices`/`subscriptions` in the MSP's own workspace, `msp` for the
/// tenants.
pub async fn start(devices: usize, subscriptions: usize, msp: MspSim) -> SimHandle {
    glp_console::tls::init();
    sim::start(SimConfig {
        devices,
        subscriptions,
        msp: Some(msp),
        ..SimConfig::default()
    })
    .await
    .expect("the MSP simulator starts")
}

/// Faults for the tenants at these (1-based) positions.
pub fn faults(at: &[(usize, TenantFaults)]) -> BTreeMap<usize, TenantFaults> {
    at.iter().cloned().collect()
}

/// A tenant whose token exchange is answered with `status`.
pub fn refused(status: u16) -> TenantFaults {
    TenantFaults {
        exchange_refused: Some(status),
        ..TenantFaults::default()
    }
}

/// A tenant in an outage.
pub fn outage() -> TenantFaults {
    TenantFaults {
        outage: true,
        ..TenantFaults::default()
    }
}

/// A config file in `dir` for the MSP of `sim`, with `workspace_concurrency` workspaces synced
/// at once; the secret comes from `GLP_MSP_SECRET` (see [`command`]).
pub fn config_file(dir: &Path, sim: &SimHandle, workspace_concurrency: usize) -> PathBuf {
    let path = dir.join("config.toml");
    let body = format!(
        "[api]\nbase_url = \"{base}\"\nmax_concurrency = 2\n\
         [api.page_size]\ndevices = 100\nsubscriptions = 50\n\
         [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\ndevices_patch = 100000\n\
         devices_post = 100000\nasync_operations_get = 100000\nservice_catalog_get = 100000\n\
         [api.retry]\nmax_attempts = 2\nbase_delay_ms = 10\nmax_delay_secs = 1\nmax_total_secs = 3\n\
         [api.breaker]\ncooldown_secs = 1\n\
         [sync]\npatience = 0\nworkspace_concurrency = {workspace_concurrency}\n\
         [msp]\nname = \"acme\"\nid = \"{id}\"\nclient_id = \"{client}\"\nclient_secret_env = \"GLP_MSP_SECRET\"\n",
        base = sim.base_url(),
        id = sim.workspace_id(),
        client = sim.client_id(),
    );
    std::fs::write(&path, body).expect("the config file is written");
    path
}

/// The real binary with `config`, logging into `dir`, on `db`, with the MSP's secret in the
/// environment and no single-workspace credentials.
pub fn command(sim: &SimHandle, db: &TestDb, dir: &Path, config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(config)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env("DATABASE_URL", &db.url)
        .env("GLP_MSP_SECRET", sim.client_secret())
        .env_remove("RUST_LOG")
        .env_remove("GLP_CLIENT_ID")
        .env_remove("GLP_CLIENT_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}
