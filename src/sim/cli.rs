//! `glp-console simulate`: turn the command line into a [`SimConfig`], start the simulator,
//! print the `GLP_*` settings a client needs, and serve until Ctrl-C.

use std::time::{Duration, Instant};

use crate::cli::SimulateArgs;

use super::config::SimConfig;
use super::faults::{Faults, Outage};
use super::handle::{self, SimError};
use super::limits::Limits;
use super::msp::{LimitScope, MspSim};

fn rate(name: &str, p: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("--{name} must be between 0 and 1, not {p}"))
    }
}

impl SimulateArgs {
    /// The simulator settings these flags describe.
    pub fn to_sim_config(&self, client_id: Option<String>) -> Result<SimConfig, String> {
        let mut limits = match self.limits.as_str() {
            "glp-sync-2" | "default" => Some(Limits::default()),
            "spec-2026" => Some(Limits::glp_2026_spec()),
            "off" | "none" => None,
            o => {
                return Err(format!(
                    "--limits must be glp-sync-2, spec-2026 or off, not '{o}'"
                ));
            }
        };
        for o in &self.limit_overrides {
            let (k, v) = o
                .split_once('=')
                .ok_or_else(|| format!("--limit expects ENDPOINT=N, not '{o}'"))?;
            let n: u32 = v
                .trim()
                .parse()
                .map_err(|_| format!("--limit {o}: '{v}' is not a number"))?;
            let l = limits.get_or_insert_with(|| Limits::uniform(u32::MAX));
            let slot = match k.trim() {
                "devices_get" => &mut l.devices_get,
                "device_get" => &mut l.device_get,
                "devices_v2_get" => &mut l.devices_v2_get,
                "devices_patch" => &mut l.devices_patch,
                "devices_post" => &mut l.devices_post,
                "devices_v1_post" => &mut l.devices_v1_post,
                "devices_v1_patch" => &mut l.devices_v1_patch,
                "async_get" => &mut l.async_get,
                "subscriptions_get" => &mut l.subscriptions_get,
                "subscription_get" => &mut l.subscription_get,
                "subscriptions_patch" => &mut l.subscriptions_patch,
                "subscription_async_get" => &mut l.subscription_async_get,
                "service_catalog" => &mut l.service_catalog,
                "audit_logs_get" => &mut l.audit_logs_get,
                other => return Err(format!("--limit: unknown endpoint '{other}'")),
            };
            *slot = Some(n);
        }
        if !(1..=2000).contains(&self.subscription_page_max) {
            return Err(format!(
                "--subscription-page-max must be 1..=2000, not {}",
                self.subscription_page_max
            ));
        }
        let faults = Faults {
            error_rate: rate("error-rate", self.error_rate)?,
            error_statuses: self.error_statuses.clone(),
            retry_after_seconds: self.retry_after_seconds,
            latency: Duration::from_millis(self.latency_ms),
            drop_rate: rate("drop-rate", self.drop_rate)?,
            malformed_rate: rate("malformed-rate", self.malformed_rate)?,
            truncated_rate: rate("truncated-rate", self.truncated_rate)?,
            missing_total_rate: rate("missing-total-rate", self.missing_total_rate)?,
            outage: match (self.outage_after, self.outage_secs) {
                (Some(after_requests), Some(s)) => Some(Outage {
                    after_requests,
                    duration: Duration::from_secs(s),
                }),
                _ => None,
            },
            token_early_expiry: self.token_expiry_secs.map(Duration::from_secs),
            insert_between_pages: self.insert_between_pages,
            fail_ops_for: self.fail_ops_for.clone(),
            token_error_rate: rate("token-error-rate", self.token_error_rate)?,
            token_error_statuses: self.token_error_statuses.clone(),
            ops_paused: self.ops_paused_ms.map(Duration::from_millis),
            time_out_ops_for: self.time_out_ops_for.clone(),
            ..Faults::default()
        };
        let msp = if self.msp.msp_tenants == 0 {
            None
        } else {
            Some(MspSim {
                tenants: self.msp.msp_tenants,
                devices_per_tenant: self.msp.msp_devices_per_tenant,
                subscriptions_per_tenant: self.msp.msp_subscriptions_per_tenant,
                customer_owned_every: self.msp.msp_customer_owned_every,
                limit_scope: match self.msp.msp_limit_scope.as_str() {
                    "workspace" => LimitScope::Workspace,
                    "client" => LimitScope::Client,
                    o => {
                        return Err(format!(
                            "--msp-limit-scope must be workspace or client, not '{o}'"
                        ));
                    }
                },
                ..MspSim::default()
            })
        };
        Ok(SimConfig {
            msp,
            port: self.port,
            devices: self.sim_devices,
            subscriptions: self.sim_subscriptions,
            seed: self.seed,
            client_id: client_id.unwrap_or_else(|| "sim-client".into()),
            client_secret: self.client_secret.clone(),
            token_ttl: Duration::from_secs(self.token_ttl),
            subscription_page_max: self.subscription_page_max,
            limits,
            faults,
            op_delay: Duration::from_millis(self.op_delay_ms),
            retry_after_header: self.retry_after,
            legacy_status_vocab: self.legacy_status_vocab,
            ..SimConfig::default()
        })
    }
}

/// Run the simulator in the foreground until Ctrl-C / SIGTERM.
pub async fn run_cli(cfg: SimConfig) -> Result<(), SimError> {
    let t0 = Instant::now();
    let (nd, ns) = (cfg.devices, cfg.subscriptions);
    let limits = cfg.limits.is_some();
    let tenants = cfg.msp.as_ref().map(|m| m.tenants);
    let sim = handle::start(cfg).await?;
    crate::outln!(
        "GreenLake simulator: {nd} devices, {ns} subscriptions, ready in {:.2} s at {}",
        t0.elapsed().as_secs_f64(),
        sim.base_url()
    );
    crate::outln!(
        "rate limits {}; control endpoints under {}/_sim/ (stats, faults, limits, expire-tokens)",
        if limits { "on" } else { "off" },
        sim.base_url()
    );
    if let Some(n) = tenants {
        crate::outln!(
            "MSP workspace {} with {n} tenants (GET /workspaces/v1/msp-tenants); tenant tokens \
             by token exchange at {}",
            sim.workspace_id(),
            format!(
                "{}/authorization/v2/oauth2/<tenant-id>/token",
                sim.base_url()
            )
        );
    }
    crate::outln!("# point glp-console at it:");
    for (k, v) in sim.env_vars() {
        crate::outln!("export {k}={v}");
    }
    wait_for_stop().await;
    crate::outln!("stopping the simulator");
    sim.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
