//! Planner statistics after large writes. The consolidated and compliance reads join the
//! inventory with itself; on tables PostgreSQL has never analysed (a fresh database, a server
//! with autovacuum off, or autovacuum not yet round) the planner takes 158 000 rows for one
//! and runs those joins as nested loops: one Overview count over 300 tenants took minutes
//! instead of under a second. So a recorded sync analyses each inventory table that has
//! changed by more than a fifth since its last analysis — what autovacuum's rule would do,
//! done when the rows land.

use super::{Store, StoreError};

/// The tables the console's reads join; their names are spelled here only (ANALYZE takes no
/// bind parameter).
const TABLES: [&str; 3] = ["devices", "subscriptions", "device_subscriptions"];

impl Store {
    /// Analyse each of [`TABLES`] whose rows changed since its last analysis by more than
    /// 1 000 plus a fifth of its size; the tables analysed.
    pub async fn analyze_if_stale(&self) -> Result<Vec<&'static str>, StoreError> {
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT relname::text FROM pg_stat_user_tables \
              WHERE schemaname = current_schema() AND relname = ANY($1) \
                AND n_mod_since_analyze > 1000 + 0.2 * greatest(n_live_tup, 0)",
        )
        .bind(TABLES.map(String::from).to_vec())
        .fetch_all(self.pool())
        .await?;
        let mut done = Vec::new();
        for t in TABLES.into_iter().filter(|t| stale.iter().any(|s| s == t)) {
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {t}")))
                .execute(self.pool())
                .await?;
            done.push(t);
        }
        Ok(done)
    }
}
