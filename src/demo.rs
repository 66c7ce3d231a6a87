//! `--demo`: the console on built-in data, on a fresh machine, with one command.
//!
//! Starts the simulator in-process (10 000 devices, 2 000 subscriptions, occasional 5xx so
//! retries show, and a short outage a minute in so the breaker can be seen opening and
//! closing), points a private configuration at it, and uses a database of the user's own
//! (`glp_demo_<user>`, so two people on one jump host never wipe each other's demo) on the
//! local PostgreSQL — or a throwaway cluster from the installed binaries when none answers.
//! `--database-url`, then `DATABASE_URL`, when given, wins; as the demo wipes its database, it
//! must name one whose name says "demo". The user's own configuration and inventory are never touched.

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::cli::exit;
use crate::config::{Config, MspConfig, SecretSource, WorkspaceConfig, workspace_token_url};
use crate::domain::{WorkspaceId, WorkspaceKind};
use crate::headless::Failure;
use crate::launch::AfterFirstSync;
use crate::sim::{self, Faults, Outage, SimConfig, SimHandle};
use crate::store::cluster::TempCluster;
use crate::store::parse_url;
use crate::sync::{EngineStatus, Mode, Scope, SyncCommand, Trigger};

/// The demo's simulator and database; dropping it stops the throwaway cluster if one was
/// started.
pub struct Demo {
    /// Shared with the task that changes some devices after the first sync (it holds a
    /// weak reference, so shutting down never waits on it).
    pub sim: Arc<SimHandle>,
    pub config: Config,
    _cluster: Option<TempCluster>,
}

/// Database name on the local server when no user name is known (dropped and recreated on
/// every `--demo`, as every demo database is).
pub const DEMO_DATABASE: &str = "glp_console_demo";

/// Where the demo keeps its inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoDatabase {
    /// A database of this name on the local server (or the throwaway cluster).
    Named(String),
    /// The database `--database-url` or `DATABASE_URL` names.
    Url(String),
}

/// The demo's database: the URL given (`--database-url`, else `DATABASE_URL`), else `glp_demo_<user>` from `USER` (or
/// `LOGNAME`), cut to what PostgreSQL takes in a name.
pub fn demo_database(user: Option<&str>, database_url: Option<&str>) -> DemoDatabase {
    if let Some(url) = database_url.map(str::trim).filter(|u| !u.is_empty()) {
        return DemoDatabase::Url(url.to_string());
    }
    let safe: String = user
        .unwrap_or_default()
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect();
    if safe.trim_matches('_').is_empty() {
        DemoDatabase::Named(DEMO_DATABASE.to_string())
    } else {
        DemoDatabase::Named(format!("glp_demo_{safe}"))
    }
}

/// The demo's database for this process's environment; `--database-url` wins over
/// `DATABASE_URL`, as it does everywhere else.
fn demo_database_from_env(flag: Option<&str>) -> DemoDatabase {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let user = var("USER").or_else(|| var("LOGNAME"));
    demo_database(
        user.as_deref(),
        flag.map(str::to_string)
            .or_else(|| var("DATABASE_URL"))
            .as_deref(),
    )
}
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
    recreate_on(parse_url(admin_url)?, name).await
}

async fn recreate_on(opts: sqlx::postgres::PgConnectOptions, name: &str) -> Result<(), Failure> {
    use sqlx::{ConnectOptions, Connection};
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
/// `database_url` is the `--database-url` given with `--demo`.
/// `msp`: the simulator plays an MSP with its tenants (`--demo --msp`).
pub async fn prepare(
    base: &Config,
    database_url: Option<&str>,
    msp: bool,
) -> Result<Demo, Failure> {
    let data = if msp {
        SimConfig::msp_demo()
    } else {
        SimConfig {
            devices: 10_000,
            subscriptions: 2_000,
            ..SimConfig::default()
        }
    };
    let sim = sim::start(SimConfig {
        subscription_page_max: 200,
        faults: demo_faults(),
        op_delay: Duration::from_millis(1500),
        ..data
    })
    .await
    .map_err(|e| Failure::new(exit::CONFIG, format!("demo simulator: {e}")))?;

    let name = match demo_database_from_env(database_url) {
        DemoDatabase::Url(url) => return with_config(base, sim, reset_url(&url).await?, None),
        DemoDatabase::Named(name) => name,
    };
    let (db_url, cluster) = if local_server_answers().await {
        recreate(&format!("{LOCAL_SERVER}/postgres"), &name).await?;
        (format!("{LOCAL_SERVER}/{name}"), None)
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
        recreate(&admin, &name).await?;
        // The cluster URL ends in its admin database name; swap that for ours.
        let base = admin
            .strip_suffix("/postgres")
            .unwrap_or(&admin)
            .to_string();
        (format!("{base}/{name}"), Some(cluster))
    };
    with_config(base, sim, db_url, cluster)
}

/// `DATABASE_URL`'s database, emptied for the demo: only one whose name says "demo", so a
/// URL left pointing at a real inventory is never wiped.
async fn reset_url(url: &str) -> Result<String, Failure> {
    let opts = parse_url(url)?;
    let name = opts.get_database().unwrap_or_default().to_string();
    if !name.to_ascii_lowercase().contains("demo") {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "--demo empties its database, and the URL given (--database-url or DATABASE_URL) names `{name}`: point it at a \
                 database whose name says demo (e.g. glp_demo_you), or unset it to use \
                 glp_demo_<user> on 127.0.0.1:5432"
            ),
        ));
    }
    recreate_on(opts.database("postgres"), &name).await?;
    Ok(url.to_string())
}

/// The private configuration that points the console at the simulator and `db_url`.
fn with_config(
    base: &Config,
    sim: SimHandle,
    db_url: String,
    cluster: Option<TempCluster>,
) -> Result<Demo, Failure> {
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
    // The demo serves the simulator's workspace, whatever the user's file declares.
    config.api.workspace_id = None;
    config.forget_declared_workspaces();
    if sim.is_msp() {
        // The MSP's own client: its tenants are discovered and reached by token exchange.
        let id = WorkspaceId::parse(&sim.workspace_id()).unwrap_or_else(WorkspaceId::default_id);
        config.workspaces.clear();
        config.msp = Some(MspConfig {
            workspace: WorkspaceConfig {
                name: "demo-msp".into(),
                token_url: workspace_token_url(&config.api.base_url, &id),
                id,
                kind: WorkspaceKind::Msp,
                client_id: config.api.client_id.clone(),
                client_secret: config.api.client_secret.clone(),
                legacy: false,
            },
            include: Vec::new(),
            exclude: Vec::new(),
            max_tenants: MspConfig::DEFAULT_MAX_TENANTS,
        });
    }
    Ok(Demo {
        sim: Arc::new(sim),
        config,
        _cluster: cluster,
    })
}

impl Demo {
    pub async fn shutdown(self) {
        // Held elsewhere only for the moment the history task changes devices; if so, the
        // server task ends with the runtime instead.
        if let Ok(sim) = Arc::try_unwrap(self.sim) {
            sim.shutdown().await;
        }
    }

    /// Give the demo a history at first look: once the first sync has succeeded, change
    /// about 1 % of the simulator's devices (region, subscription, tags; one removed) and
    /// sync again (full, so the removal is seen). The first screen comes as fast as before;
    /// the second sync reads the same pages and records only what moved. The MSP demo's
    /// tenants are left as they are.
    pub fn history_after_first_sync(&self) -> Option<AfterFirstSync> {
        if self.sim.is_msp() {
            return None;
        }
        let sim = Arc::downgrade(&self.sim);
        Some(Box::new(move |status, commands| {
            tokio::spawn(change_after_first_sync(sim, status, commands));
        }))
    }
}

async fn change_after_first_sync(
    sim: Weak<SimHandle>,
    mut status: watch::Receiver<EngineStatus>,
    commands: mpsc::Sender<SyncCommand>,
) {
    loop {
        {
            let s = status.borrow_and_update();
            if s.last_success.is_some() && s.running.is_none() {
                break;
            }
        }
        if status.changed().await.is_err() {
            return;
        }
    }
    let Some(sim) = sim.upgrade() else {
        return;
    };
    let changed = change_some_devices(&sim);
    drop(sim);
    tracing::info!(
        "demo: changed {changed} devices in the simulator; syncing again to record them"
    );
    let _ = commands
        .send(SyncCommand::SyncNow {
            scope: Scope::Both,
            mode: Mode::Full,
            trigger: Trigger::Demo,
        })
        .await;
}

/// One device in this many is changed.
const CHANGE_EVERY: usize = 100;

/// Change every [`CHANGE_EVERY`]th device in turn in its region, its subscription or its
/// tags, and remove one more; how many were touched.
pub fn change_some_devices(sim: &SimHandle) -> usize {
    let devices = sim.devices();
    let mut regions: Vec<&str> = devices
        .iter()
        .filter_map(|d| d["region"].as_str())
        .collect();
    regions.sort_unstable();
    regions.dedup();
    let some_link = devices
        .iter()
        .map(|d| &d["subscription"])
        .find(|s| s.as_array().is_some_and(|a| !a.is_empty()))
        .cloned();
    let mut n = 0;
    for (i, d) in devices.iter().enumerate().skip(CHANGE_EVERY / 2) {
        if i % CHANGE_EVERY != CHANGE_EVERY / 2 {
            continue;
        }
        let Some(id) = d["id"].as_str() else { continue };
        let change: Box<dyn FnOnce(&mut Value)> = match (i / CHANGE_EVERY) % 3 {
            0 if d["region"].is_string() => {
                let at = regions.iter().position(|r| d["region"] == *r).unwrap_or(0);
                let next = regions.get((at + 1) % regions.len().max(1)).copied();
                Box::new(move |d| d["region"] = json!(next))
            }
            1 => {
                let linked = d["subscription"].as_array().is_some_and(|a| !a.is_empty());
                let new = if linked {
                    json!([])
                } else {
                    some_link.clone().unwrap_or(json!([]))
                };
                Box::new(move |d| d["subscription"] = new)
            }
            _ => Box::new(|d| {
                if !d["tags"].is_object() {
                    d["tags"] = json!({});
                }
                d["tags"]["site"] = json!("lab-2");
            }),
        };
        if sim.modify_device(id, change) {
            n += 1;
        }
    }
    let gone = devices
        .get(CHANGE_EVERY / 4)
        .and_then(|d| d["id"].as_str())
        .is_some_and(|id| sim.remove_device(id));
    n + usize::from(gone)
}

#[cfg(test)]
mod tests {
    use super::{DEMO_DATABASE, DemoDatabase, demo_database};

    #[test]
    fn each_user_has_a_demo_database_and_database_url_wins() {
        let alice = demo_database(Some("alice"), None);
        let bob = demo_database(Some("bob"), None);
        assert_eq!(alice, DemoDatabase::Named("glp_demo_alice".into()));
        assert_ne!(alice, bob);
        assert_eq!(
            demo_database(Some("J.Doe-2"), None),
            DemoDatabase::Named("glp_demo_j_doe_2".into())
        );
        assert_eq!(
            demo_database(None, None),
            DemoDatabase::Named(DEMO_DATABASE.into())
        );
        assert_eq!(
            demo_database(Some("alice"), Some("postgres://db/glp_demo_x")),
            DemoDatabase::Url("postgres://db/glp_demo_x".into())
        );
        assert_eq!(demo_database(Some("alice"), Some(" ")), alice);
    }
}
