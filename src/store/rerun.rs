//! Devices left in doubt by an abandoned assignment run. A run killed mid-apply records no
//! result and does not fetch its devices again, so the stored values of its devices may be
//! older than what GreenLake now holds; the next plan that includes them reads them again
//! first (`assign::session::prepare`), and records that it did.

use super::{Store, StoreError};

/// Devices of abandoned runs whose fate is unknown and that were not read again since.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InDoubt {
    /// The abandoned runs, oldest first.
    pub runs: Vec<i64>,
    /// Their serials (upper case) among those asked for.
    pub serials: Vec<String>,
}

impl Store {
    /// Which of `serials` an abandoned run may have changed without the store knowing.
    /// Marks runs whose owner is gone as abandoned first.
    pub async fn devices_in_doubt(&self, serials: &[String]) -> Result<InDoubt, StoreError> {
        self.sweep_abandoned_assignment_runs().await?;
        let upper: Vec<String> = serials.iter().map(|s| s.to_uppercase()).collect();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT d.run_id, upper(d.serial) FROM assignment_devices d \
               JOIN assignment_runs r ON r.id = d.run_id \
              WHERE r.status = 'abandoned' AND d.outcome = 'unknown' \
                AND d.refreshed_at IS NULL AND upper(d.serial) = ANY($1) \
              ORDER BY d.run_id, d.serial",
        )
        .bind(&upper)
        .fetch_all(self.pool())
        .await?;
        let mut out = InDoubt::default();
        for (run, serial) in rows {
            if !out.runs.contains(&run) {
                out.runs.push(run);
            }
            if !out.serials.contains(&serial) {
                out.serials.push(serial);
            }
        }
        Ok(out)
    }

    /// Record that the devices of `doubt` were read again from GreenLake.
    pub async fn mark_refreshed(&self, doubt: &InDoubt) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE assignment_devices SET refreshed_at = now() \
              WHERE run_id = ANY($1) AND upper(serial) = ANY($2) AND refreshed_at IS NULL",
        )
        .bind(&doubt.runs)
        .bind(&doubt.serials)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
