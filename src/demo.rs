//! `--demo`: the console on built-in data, on a fresh machine, with one command.
//!
//! Starts the simulator in-process (10 000 devices, 2 000 subscriptions, occasional 5xx so
//! retries show, and a short outage a minute in so the breaker can be seen opening and
//! closing), points a private configuration at it, and uses a `glp_console_demo` database on
//! the local PostgreSQL — or a throwaway cluster from the installed binaries when none answers.
//! The user's own configuration and database are never touched.

use std::time::Duration;

use crate::cli::exit;
use crate::config::{Config, SecretSource};
use crate::headless::Failure;
use crate::sim::{self, Faults, Outage, SimConfig, SimHandle};
use crate::store::cluster::TempCluster;
use crate::store::parse_url;

/// The demo's simulator and database; dropping it stops the throwaway cluster if one was
/// started.
pub struct Demo {
    pub sim: SimHandle,
    pub config: Config,
    _cluster: Option<TempCluster>,
}

/// Database name used on the local server (dropped and recreated on every `--demo`).
pub const DEMO_DATABASE: &str = "glp_console_demo";
const LOCAL_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

fn demo_faults() -> Faults {
    Faults {
        // Now and then a 503: the status bar shows the retry.
        error_rate: 0.04,
        // About a minute of use in, GreenLake "goes down" for 20 s: the breaker opens,
        // counts down, probes and closes, while the tables keep working.
        outage: Some(Outage {
            after_requests: 120,
            duration: Duration::from_secs(20),
        }),
        latency: Duration::from_millis(40),
        ..Faults::default()
    }
}

async fn local_server_answers() -> bool {
    let Ok(opts) = parse_url(&format!("{LOCAL_SERVER}/postgres")) else {
        return false;
    };
    use sqlx::ConnectOptions;
    matches!(
        tokio::time::timeout(Duration::from_secs(3), opts.connect()).await,
        Ok(Ok(_))
    )
}

async fn recreate(admin_url: &str, name: &str) -> Result<(), Failure> {
    use sqlx::{ConnectOptions, Connection};
    let opts = parse_url(admin_url)?;
    let mut conn = opts.connect().await.map_err(|e| {
        Failure::new(
            exit::DATABASE,
            format!("demo database: cannot connect: {e}"),
        )
    })?;
    for stmt in [
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{name}\""),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(stmt))
            .execute(&mut conn)
            .await
            .map_err(|e| Failure::new(exit::DATABASE, format!("demo database: {e}")))?;
    }
    let _ = conn.close().await;
    Ok(())
}

/// Start the simulator and find a database; returns the configuration the console should use.
pub async fn prepare(base: &Config) -> Result<Demo, Failure> {
    let sim = sim::start(SimConfig {
        devices: 10_000,
        subscriptions: 2_000,
        subscription_page_max: 200,
        faults: demo_faults(),
        op_delay: Duration::from_millis(1500),
        ..SimConfig::default()
    })
    .await
    .map_err(|e| Failure::new(exit::CONFIG, format!("demo simulator: {e}")))?;

    let (db_url, cluster) = if local_server_answers().await {
        recreate(&format!("{LOCAL_SERVER}/postgres"), DEMO_DATABASE).await?;
        (format!("{LOCAL_SERVER}/{DEMO_DATABASE}"), None)
    } else {
        let cluster = tokio::task::spawn_blocking(TempCluster::start)
            .await
            .map_err(|e| Failure::new(exit::DATABASE, e.to_string()))?
            .map_err(|e| {
                Failure::new(
                    exit::DATABASE,
                    format!("no PostgreSQL on 127.0.0.1:5432 and no throwaway cluster: {e}"),
                )
            })?;
        let admin = cluster.url.clone();
        recreate(&admin, DEMO_DATABASE).await?;
        // The cluster URL ends in its admin database name; swap that for ours.
        let base = admin
            .strip_suffix("/postgres")
            .unwrap_or(&admin)
            .to_string();
        (format!("{base}/{DEMO_DATABASE}"), Some(cluster))
    };

    let mut config = base.clone();
    config.api.base_url = sim.base_url();
    config.api.token_url = sim.token_url();
    config.api.client_id = sim.client_id().to_string();
    config.api.client_secret =
        SecretSource::Inline(crate::config::Secret::new(sim.client_secret()));
    // Four times the real limits: progress stays visible for a few seconds, not a minute.
    let r = &mut config.api.rate_limits;
    r.devices_get *= 4;
    r.subscriptions_get *= 4;
    config.api.retry.max_total = Duration::from_secs(20);
    config.api.breaker.cooldown = Duration::from_secs(10);
    config.database.url = db_url;
    config.warnings.clear();
    Ok(Demo {
        sim,
        config,
        _cluster: cluster,
    })
}

impl Demo {
    pub async fn shutdown(self) {
        self.sim.shutdown().await;
    }
}
