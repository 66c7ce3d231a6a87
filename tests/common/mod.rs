//! Test harness: a fresh PostgreSQL database per test (design.md §7).
//!
//! Server choice, once per test binary:
//! 1. `GLP_TEST_PG=cluster` → always start a throwaway cluster (what a machine without a
//!    server does; CI runs the schema tests this way too);
//! 2. `GLP_TEST_DATABASE_URL`, then `DATABASE_URL`, when set;
//! 3. the local server on 127.0.0.1:5432 (user `postgres`) when it answers;
//! 4. otherwise a throwaway cluster from the installed `initdb`/`pg_ctl`.
//!
//! Each test gets its own database `glpt_<pid>_<n>`, dropped when the [`TestDb`] is dropped;
//! databases left by killed runs are swept at the next start.
#![allow(dead_code)]

pub mod assign;
pub mod demo;
pub mod engine;
pub mod msp;
pub mod openapi;
pub mod recorder;
pub mod sim;
pub mod tmux;
pub mod vt;

use std::ops::Deref;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use glp_console::store::Store;
use glp_console::store::cluster::TempCluster;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

struct Server {
    admin_url: String,
    _cluster: Option<TempCluster>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

fn answers(url: &str) -> bool {
    let Ok(opts) = url.parse::<PgConnectOptions>() else {
        return false;
    };
    // Called from inside a test's runtime: probe on a thread with a runtime of its own.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime always builds");
        rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(3), opts.connect())
                .await
                .map(|r| r.is_ok())
                .unwrap_or(false)
        })
    })
    .join()
    .unwrap_or(false)
}

/// The same server URL with another database name (query string kept).
fn with_database(url: &str, db: &str) -> String {
    let (prefix, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let after_scheme = prefix.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = prefix[after_scheme..]
        .find('/')
        .map(|i| i + after_scheme)
        .unwrap_or(prefix.len());
    format!("{}/{}{}", &prefix[..path_start], db, query)
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        glp_console::tls::init();
        let forced = std::env::var("GLP_TEST_PG").ok().as_deref() == Some("cluster");
        if !forced {
            for var in ["GLP_TEST_DATABASE_URL", "DATABASE_URL"] {
                if let Ok(url) = std::env::var(var)
                    && !url.trim().is_empty()
                {
                    let admin = with_database(url.trim(), "postgres");
                    assert!(
                        answers(&admin),
                        "{var} is set but PostgreSQL does not answer at {}",
                        glp_console::config::mask_url(&admin)
                    );
                    return Server { admin_url: admin, _cluster: None };
                }
            }
            let local = "postgres://postgres@127.0.0.1:5432/postgres";
            if answers(local) {
                return Server { admin_url: local.into(), _cluster: None };
            }
        }
        let cluster = TempCluster::start().unwrap_or_else(|e| {
            panic!("no PostgreSQL for the tests: none answers on 127.0.0.1:5432 and a throwaway cluster could not start: {e}")
        });
        Server { admin_url: cluster.url.clone(), _cluster: Some(cluster) }
    })
}

/// Is the throwaway cluster in use (for tests that report it)?
pub fn using_own_cluster() -> bool {
    server()._cluster.is_some()
}

async fn admin() -> PgConnection {
    PgConnection::connect(&server().admin_url)
        .await
        .expect("the admin database answered when the harness started")
}

async fn sweep_stale(conn: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'glpt\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

/// A database of its own, migrated, with a connected [`Store`].
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub store: Store,
}

impl TestDb {
    /// A new, migrated database.
    pub async fn new() -> TestDb {
        let db = Self::empty().await;
        db.store
            .migrate()
            .await
            .expect("migrations apply to an empty database");
        db
    }

    /// A new database with no schema at all.
    pub async fn empty() -> TestDb {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("glpt_{}_{}", std::process::id(), n);
        let mut conn = admin().await;
        if n == 0 {
            sweep_stale(&mut conn).await;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        let _ = conn.close().await;
        let url = with_database(&server().admin_url, &name);
        let store = Store::connect(&url, 4)
            .await
            .expect("connect to the test database");
        TestDb { name, url, store }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin_url = server().admin_url.clone();
        // Drop runs inside the test's runtime; do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime always builds");
            rt.block_on(async {
                if let Ok(mut c) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A fresh directory under the system temp dir (`<prefix>XXXXXX`), removed with everything
/// in it when dropped, so test runs leave nothing behind in `/tmp`. Derefs to its path, so
/// `&dir` and `dir.join(…)` work as with a `PathBuf`.
pub struct TestDir(tempfile::TempDir);

impl TestDir {
    pub fn new(prefix: &str) -> TestDir {
        TestDir(
            tempfile::Builder::new()
                .prefix(prefix)
                .tempdir()
                .expect("the system temp dir is writable"),
        )
    }
}

impl Deref for TestDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}
