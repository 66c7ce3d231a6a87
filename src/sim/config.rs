//! The simulator's settings: what data it generates, the credentials it accepts, its limits
//! and faults. A leaf module, so the command line (`cli`) and the shared state can both build
//! on it without going through the module that starts the server.

use std::time::Duration;

use super::faults::Faults;
use super::limits::Limits;
use super::msp::MspSim;

/// Simulator settings. `Default` is small data, no limits, no faults: handy for tests.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Devices to generate.
    pub devices: usize,
    /// Subscriptions to generate.
    pub subscriptions: usize,
    /// Seed: the same seed gives the same data.
    pub seed: u64,
    pub client_id: String,
    pub client_secret: String,
    /// `expires_in` of issued tokens (GLP: 15 minutes).
    pub token_ttl: Duration,
    /// Largest subscription page (`limit`): 200 as in the 2026-08-03 spec; 50 plays the
    /// API before it (the client then falls back to 50).
    pub subscription_page_max: u32,
    /// Rate limits; `None` turns them off.
    pub limits: Option<Limits>,
    /// Faults active from the start.
    pub faults: Faults,
    /// How long an async operation takes: INITIALIZED, RUNNING after half of it, then done.
    pub op_delay: Duration,
    /// How long a finished operation stays readable (GLP: 24 h).
    pub op_retention: Duration,
    /// Send `Retry-After` on 429 and random 5xx (GLP does not document it). Outage 503s
    /// always carry it.
    pub retry_after_header: bool,
    /// Report async operations in GLP-Sync-2's vocabulary (PENDING/IN_PROGRESS/COMPLETED).
    pub legacy_status_vocab: bool,
    /// The workspace the data belongs to (token claims, `inUseWorkspace`).
    pub workspace_id: String,
    /// Devices and subscriptions (each) generated hostile: NUL characters, 64 KiB names,
    /// 5 000-character tags, over-long indexed values and unstorable ids (`sim::hostile`).
    pub hostile_items: usize,
    /// MSP mode: `workspace_id` is the MSP's workspace (its `devices` the MSP's pool, its
    /// `subscriptions` its own) and this adds the tenant workspaces. `None`: one ordinary
    /// workspace, as before.
    pub msp: Option<MspSim>,
    /// Who the audit log says made the changes of the test controls (`modify_device`, …);
    /// changes through the API are the API client's (`client_id`).
    pub audit_user: String,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            port: 0,
            devices: 300,
            subscriptions: 80,
            seed: 42,
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            token_ttl: Duration::from_secs(900),
            subscription_page_max: 200,
            limits: None,
            faults: Faults::default(),
            op_delay: Duration::from_millis(50),
            op_retention: Duration::from_secs(24 * 3600),
            retry_after_header: false,
            legacy_status_vocab: false,
            workspace_id: "3292c36d30ef4f26823b76b5d213b670".into(),
            hostile_items: 0,
            msp: None,
            audit_user: "ops@example.com".into(),
        }
    }
}

impl SimConfig {
    /// MSP mode with `tenants` tenants and otherwise [`MspSim::default`] (every 4th tenant
    /// customer-owned); the rest of `self` unchanged.
    pub fn with_msp(self, tenants: usize) -> SimConfig {
        SimConfig {
            msp: Some(MspSim {
                tenants,
                ..MspSim::default()
            }),
            ..self
        }
    }

    /// What `--demo --msp` serves: an MSP with a pool of 2 000 devices and 25 tenants of 400
    /// devices and 60 subscriptions each.
    pub fn msp_demo() -> SimConfig {
        SimConfig {
            devices: 2_000,
            subscriptions: 400,
            msp: Some(MspSim {
                tenants: 25,
                devices_per_tenant: 400,
                subscriptions_per_tenant: 60,
                ..MspSim::default()
            }),
            ..SimConfig::default()
        }
    }
}
