//! PostgreSQL persistence. Knows nothing about HTTP: it takes parsed GLP items and stores
//! them set-based, and answers the queries the views need.

pub mod assign;
pub mod attribution;
pub mod audit;
pub mod audit_log;
pub mod change_views;
pub mod changes;
pub mod cluster;
mod columns;
pub mod compliance;
mod copy;
mod counts;
pub mod fence;
pub mod history;
pub mod inventory;
mod isolate;
pub mod lock;
mod nodelay;
pub mod overview;
pub mod reports;
pub mod rerun;
mod sanitise;
mod statistics;
mod view_scope;
pub mod views;
pub mod workspaces;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use crate::config::mask_url;
use crate::domain::WorkspaceId;

/// Embedded migrations (`migrations/`), applied on start and by `glp-console db migrate`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot connect to PostgreSQL at {url}: {reason}. Check that the server runs and the URL \
         is right (DATABASE_URL or [database] url in config.toml)"
    )]
    Connect { url: String, reason: String },
    #[error("database URL {url} is not valid: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("applying database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("{0}")]
    Other(String),
    /// The run no longer holds its lock (its connection ended, or another run took over and
    /// marked it abandoned): it must stop writing. See `store::fence`.
    #[error("lost lock: {0}")]
    LostLock(String),
}

/// A handle on the database: a small pool plus the statements the rest of the app needs.
///
/// A handle speaks for one workspace: every write and every per-workspace read uses
/// [`Store::workspace`], so no statement can mix two workspaces' rows by forgetting a filter
/// argument. [`Store::for_workspace`] makes a handle for another one over the same pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
    workspace: WorkspaceId,
}

impl Store {
    /// Connect (with a short timeout so an unreachable server is reported quickly).
    pub async fn connect(url: &str, pool_size: u32) -> Result<Store, StoreError> {
        let opts = parse_url(url)?;
        // One direct attempt first: the pool would retry a refused connection until its
        // timeout and then only say "timed out"; this gives the real cause at once.
        let probe = tokio::time::timeout(Duration::from_secs(10), opts.connect()).await;
        match probe {
            Ok(Ok(conn)) => {
                let _ = sqlx::Connection::close(conn).await;
            }
            Ok(Err(e)) => {
                return Err(StoreError::Connect {
                    url: mask_url(url),
                    reason: describe(&e),
                });
            }
            Err(_) => {
                return Err(StoreError::Connect {
                    url: mask_url(url),
                    reason: "no answer within 10 s".into(),
                });
            }
        }
        let port = opts.get_port();
        let pool = PgPoolOptions::new()
            .max_connections(pool_size.max(1))
            // See store::nodelay: sqlx 0.9.0 leaves Nagle on, which stalls every COPY.
            .after_connect(move |_conn, _meta| {
                Box::pin(async move {
                    nodelay::set_on_sockets_to(port);
                    Ok(())
                })
            })
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Connect {
                url: mask_url(url),
                reason: describe(&e),
            })?;
        Ok(Store {
            pool,
            workspace: WorkspaceId::default_id(),
        })
    }

    /// Connect and bring the schema up to date. A database that does not exist yet is
    /// created first (the server and role must exist; the database need not).
    pub async fn open(url: &str, pool_size: u32) -> Result<Store, StoreError> {
        let store = match Self::connect(url, pool_size).await {
            Err(StoreError::Connect { reason, .. })
                if reason.contains("3D000") || reason.contains("does not exist") =>
            {
                ensure_database(url).await?;
                Self::connect(url, pool_size).await?
            }
            other => other?,
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn from_pool(pool: PgPool) -> Store {
        Store {
            pool,
            workspace: WorkspaceId::default_id(),
        }
    }

    /// The same pool, speaking for workspace `id`.
    pub fn for_workspace(&self, id: WorkspaceId) -> Store {
        Store {
            pool: self.pool.clone(),
            workspace: id,
        }
    }

    /// The workspace this handle writes and reads.
    pub fn workspace(&self) -> &WorkspaceId {
        &self.workspace
    }

    /// [`Store::workspace`] as a statement parameter.
    pub(crate) fn ws(&self) -> &str {
        self.workspace.as_str()
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Apply pending migrations; a no-op when the schema is current.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Parse a PostgreSQL URL, quiet about every statement (logs would drown otherwise).
pub fn parse_url(url: &str) -> Result<PgConnectOptions, StoreError> {
    let opts: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| StoreError::BadUrl {
        url: mask_url(url),
        reason: e.to_string(),
    })?;
    Ok(opts
        .log_statements(log::LevelFilter::Trace)
        .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(5))
        .application_name("glp-console"))
}

/// 64-bit FNV-1a: tiny, and stable across Rust versions and platforms (unlike the std
/// hasher), so values stored in the database stay comparable.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// This host's name, recorded with each run so a person can tell which machine ran it.
pub(crate) fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .or_else(|| std::env::var("HOSTNAME").ok())
}

/// A connection error as a person wants to read it (with the SQLSTATE for database errors).
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => format!(
            "{} (SQLSTATE {})",
            d.message(),
            d.code().as_deref().unwrap_or("?")
        ),
        other => other.to_string(),
    }
}

/// Create the database named in `url` if it does not exist (used by `--demo`).
pub async fn ensure_database(url: &str) -> Result<(), StoreError> {
    let opts = parse_url(url)?;
    let name = opts.get_database().unwrap_or("postgres").to_string();
    let admin = opts.clone().database("postgres");
    let mut conn = admin.connect().await.map_err(|e| StoreError::Connect {
        url: mask_url(url),
        reason: e.to_string(),
    })?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let stmt = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        sqlx::query(sqlx::AssertSqlSafe(stmt))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}
