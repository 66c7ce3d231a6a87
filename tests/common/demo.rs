//! The real binary's `--demo` in the e2e tests: its database is named after this process
//! (`glp_demo_e2e<pid>`), so a suite running in another checkout at the same time has one of
//! its own instead of wiping this one's; one demo at a time within a process, as each drops
//! and recreates that database; and queries on what the demo stored.

use std::sync::{Mutex, MutexGuard};

/// `--demo` drops and recreates its database: one demo at a time in this process.
static DEMO: Mutex<()> = Mutex::new(());

/// Hold while a demo runs (a failed test before this one does not poison the rest).
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    DEMO.lock().unwrap_or_else(|e| e.into_inner())
}

/// The user name the demos run under.
pub fn demo_user() -> String {
    format!("e2e{}", std::process::id())
}

/// The environment a demo starts with: this process's demo user, and no `DATABASE_URL`
/// (which the demo would use instead).
pub fn demo_env() -> String {
    let u = demo_user();
    format!("env -u DATABASE_URL USER={u} LOGNAME={u}")
}

/// The demo's database on the local PostgreSQL, as the binary derives it.
pub fn demo_db_name() -> String {
    match glp_console::demo::demo_database(Some(&demo_user()), None) {
        glp_console::demo::DemoDatabase::Named(n) => n,
        glp_console::demo::DemoDatabase::Url(u) => panic!("no DATABASE_URL was given: {u}"),
    }
}

/// Where `--demo` keeps its data when the local PostgreSQL answers.
pub fn demo_db_url() -> String {
    format!("postgres://postgres@127.0.0.1:5432/{}", demo_db_name())
}

/// Drops the demo's database when the test ends.
pub struct DropDemoDb;

impl Drop for DropDemoDb {
    fn drop(&mut self) {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            use sqlx::{ConnectOptions, Connection};
            let Ok(opts) = "postgres://postgres@127.0.0.1:5432/postgres"
                .parse::<sqlx::postgres::PgConnectOptions>()
            else {
                return;
            };
            if let Ok(mut c) = opts.connect().await {
                let sql = format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    demo_db_name()
                );
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
                let _ = c.close().await;
            }
        });
    }
}

/// Run one query against the demo's database.
pub fn with_db<T>(
    f: impl for<'c> FnOnce(
        &'c mut sqlx::PgConnection,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'c>>,
) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::{ConnectOptions, Connection};
        let opts: sqlx::postgres::PgConnectOptions = demo_db_url().parse().unwrap();
        let mut c = opts.connect().await.expect(
            "the demo database on the local PostgreSQL (the demo uses it when the server answers)",
        );
        let v = f(&mut c).await;
        let _ = c.close().await;
        v
    })
}

/// One count from the demo database (what the demo's sync stored).
pub fn demo_count(sql: &'static str) -> u64 {
    let n: i64 =
        with_db(|c| Box::pin(async move { sqlx::query_scalar(sql).fetch_one(c).await.unwrap() }));
    u64::try_from(n).unwrap()
}

/// Three access points the demo's first sync stored (assignable: not archived, not removed).
pub fn demo_serials() -> Vec<String> {
    with_db(|c| {
        Box::pin(async move {
            sqlx::query_scalar(
                "SELECT serial_number FROM devices WHERE device_type = 'AP' AND NOT archived \
                 AND removed_at IS NULL ORDER BY serial_number LIMIT 3",
            )
            .fetch_all(c)
            .await
            .unwrap()
        })
    })
}
