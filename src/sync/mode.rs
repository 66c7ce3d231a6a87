//! Full or incremental: split from the engine, which asks this before each run.

use chrono::{DateTime, Utc};

use crate::config::SyncConfig;
use crate::domain::{Mode, Scope};
use crate::store::{Store, StoreError};

/// Pick the mode for this run. Full when asked, on the first run of a resource, after
/// `full_every_runs` incrementals, or when the last full sync is older than `full_every`.
pub(super) async fn choose_mode(
    store: &Store,
    sync: &SyncConfig,
    scope: Scope,
    asked: Mode,
) -> Result<(Mode, Option<DateTime<Utc>>), StoreError> {
    if asked == Mode::Full {
        return Ok((Mode::Full, None));
    }
    let mut since: Option<DateTime<Utc>> = None;
    for &res in scope.resources() {
        let b = store.baseline(res).await?;
        let (Some(last_full), Some(last_good)) = (b.last_full_start, b.last_good_start) else {
            return Ok((Mode::Full, None));
        };
        let too_many = b.incrementals_since_full >= i64::from(sync.full_every_runs);
        let too_old = (Utc::now() - last_full).to_std().unwrap_or_default() > sync.full_every;
        if asked == Mode::Auto && (too_many || too_old) {
            return Ok((Mode::Full, None));
        }
        let skew = chrono::Duration::from_std(sync.incremental_skew).unwrap_or_default();
        let start = last_good - skew;
        since = Some(since.map_or(start, |x: DateTime<Utc>| x.min(start)));
    }
    Ok((Mode::Incremental, since))
}
