//! The `glp-console simulate` flags of MSP mode (flattened into `SimulateArgs`). A leaf, so
//! the command-line module can name it without importing the simulator's start-up code.

use clap::Args;

/// MSP mode: an MSP workspace plus tenant workspaces (glp-api.md §11).
#[derive(Debug, Args, Clone, Default)]
pub struct MspArgs {
    /// Serve an MSP workspace with this many tenants (0: one ordinary workspace). `--devices`
    /// and `--subscriptions` are then the MSP's own pool and subscriptions.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub msp_tenants: usize,
    /// Devices of each tenant.
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub msp_devices_per_tenant: usize,
    /// Subscriptions of each tenant.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub msp_subscriptions_per_tenant: usize,
    /// Every N-th tenant has customer-owned inventory (0: none).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub msp_customer_owned_every: usize,
    /// Rate-limit budgets: `workspace` (each workspace its own) or `client` (one for all).
    #[arg(long, value_name = "SCOPE", default_value = "workspace")]
    pub msp_limit_scope: String,
}
