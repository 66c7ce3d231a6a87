//! Planner statistics after large writes. The consolidated and compliance reads join the
//! inventory with itself; on tables PostgreSQL has never analysed (a fresh database, a server
//! with autovacuum off, or autovacuum not yet round) the planner takes 158 000 rows for one
//! and runs those joins as nested loops: one Overview count over 300 tenants took minutes
//! instead of under a second. So a recorded sync analyses each inventory table that has
//! changed by more than its own size since its last analysis (at least 1 000 rows): often
//! enough that no estimate is off by more than about half, and rare enough that a fleet of 300
//! workspaces, each run ending here, analyses a table a handful of times (each ANALYZE of the
//! inventory costs a few hundred milliseconds; at a fifth, as autovacuum does, it was 40 % of
//! the fleet's time).

use super::{Store, StoreError};

/// The tables the console's reads join; their names are spelled here only (ANALYZE takes no
/// bind parameter).
const TABLES: [&str; 3] = ["devices", "subscriptions", "device_subscriptions"];

impl Store {
    /// Analyse each of [`TABLES`] whose rows changed since its last analysis by more than
    /// 1 000 plus the size the planner knows (`reltuples`), or that holds rows and was never
    /// analysed (`reltuples` -1); the tables analysed.
    pub async fn analyze_if_stale(&self) -> Result<Vec<&'static str>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        analyze_stale(&mut conn, &TABLES).await
    }
}

/// [`Store::analyze_if_stale`] for some of the tables, on a connection (a transaction's,
/// before a statement that joins them).
pub(super) async fn analyze_stale(
    conn: &mut sqlx::PgConnection,
    tables: &[&'static str],
) -> Result<Vec<&'static str>, StoreError> {
    // (table, reltuples, changes since its last analysis). The changes are what the writing
    // connections have reported, which they do at most once a second: the rows of a sync's
    // last second may not be counted yet. reltuples is not lagged, so a table never
    // analysed (-1) and not empty is analysed whatever the count says: a first sync that
    // wrote 3 000 devices in under a second was otherwise left unanalysed.
    let known: Vec<(String, f32, i64)> = sqlx::query_as(
        "SELECT s.relname::text, c.reltuples, s.n_mod_since_analyze \
           FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
          WHERE s.schemaname = current_schema() AND s.relname = ANY($1)",
    )
    .bind(tables.iter().map(|t| t.to_string()).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let mut done = Vec::new();
    for t in TABLES.into_iter().filter(|t| tables.contains(t)) {
        let Some((_, planned, changed)) = known.iter().find(|(name, _, _)| name == t) else {
            continue;
        };
        let stale = if *planned < 0.0 {
            sqlx::query_scalar::<_, bool>(sqlx::AssertSqlSafe(format!(
                "SELECT EXISTS (SELECT 1 FROM {t})"
            )))
            .fetch_one(&mut *conn)
            .await?
        } else {
            *changed as f64 > 1000.0 + f64::from(*planned)
        };
        if stale {
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {t}")))
                .execute(&mut *conn)
                .await?;
            done.push(t);
        }
    }
    Ok(done)
}
