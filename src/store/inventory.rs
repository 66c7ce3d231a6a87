//! Set-based writes of device and subscription pages.
//!
//! One page = one transaction: the rows, their tags and links, and (for a full sync) the
//! "seen" marks commit together or not at all. A pre-read of the page's ids and content hashes
//! sorts it into unchanged rows (not sent), new rows (binary COPY straight into the table, see
//! `store::copy`) and changed rows (typed arrays expanded server-side with `unnest` into
//! `INSERT … ON CONFLICT DO UPDATE`), so a page of 2000 devices is a handful of statements,
//! never a statement per row. Values were already validated by the lenient model, so no cast
//! in SQL can fail and abort the page (`raw_data` is JSON the client already parsed).
//!
//! No item can fail a page: text PostgreSQL cannot hold (NUL) is replaced first (see
//! `store::sanitise`), and if a page still fails on its data (SQLSTATE classes 21, 22, 23,
//! 54 — e.g. an id too long for the primary-key index) rather than on the database, it is
//! split in halves written on their own until each bad item stands alone; those are
//! skipped and logged by id, everything else is stored (see [`write_isolating`]).

use sqlx::{Postgres, Transaction};

use super::changes::{self, Tracked};
use super::columns::{
    Column, Values, device_columns, raw_hash, subscription_columns, upsert_sql, workspace_column,
};
use super::copy::{BinaryCopy, is_unique_violation};
use super::fence::RunFence;
use super::isolate::{sanitise_page, write_isolating};
use super::{Store, StoreError};
pub use crate::domain::Resource;
use crate::glp::model::{Device, Item, Subscription};

pub use super::counts::UpsertCounts;

/// Keep the last occurrence of each id: a page that (wrongly) repeats an item must not make
/// `ON CONFLICT` fail with "cannot affect row a second time".
fn dedup_last<T, F: Fn(&T) -> &str>(items: &[T], id: F) -> Vec<&T> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<&T> = items.iter().rev().filter(|i| seen.insert(id(i))).collect();
    out.reverse();
    out
}

struct Returned {
    /// Ids written (new or changed).
    changed: Vec<String>,
    /// Of those, the ids that were stored before (their old links must go).
    existed: Vec<String>,
    counts: UpsertCounts,
}

/// How a page's new rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NewRows {
    /// Binary COPY straight into the table (see `store::copy`): the normal case.
    Copy,
    /// The upsert, like changed rows: the retry after another transaction stored some of
    /// the page's new ids between the pre-read and the COPY (a unique violation).
    Upsert,
}

/// Page transactions commit without waiting for the WAL flush. A crash can lose the last few
/// pages — never consistency: each page is all-or-nothing, WAL order means the run's final
/// (synchronous) commit makes every page before it durable, and an unfinished run is redone.
async fn async_commit(tx: &mut Transaction<'_, Postgres>) -> Result<(), StoreError> {
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What is stored for a page's ids: per id found, whether its content is identical (same
/// hash) and whether it is marked removed. Counting from this, before writing, lets the
/// upsert skip `RETURNING` and the look-back at prior rows (a fifth of its server CPU).
async fn stored_state(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    ws: &str,
    ids: &[&str],
    hashes: &[i64],
) -> Result<std::collections::HashMap<String, (bool, bool)>, StoreError> {
    let sql = format!(
        "SELECT t.id, t.raw_hash IS NOT DISTINCT FROM i.h, t.removed_at IS NOT NULL \
         FROM {table} t JOIN unnest($1::text[], $2::bigint[]) AS i(id, h) \
           ON t.workspace_id = $3 AND i.id = t.id"
    );
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .bind(hashes)
        .bind(ws)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, same, removed)| (id, (same, removed)))
        .collect())
}

/// Rows per upsert statement (and per column batch of a COPY). The driver keeps each
/// connection's message buffer at its largest size so far, so one 2000-device statement left
/// ~8 MB behind on every pooled connection. 250 rows keep that near 1 MB.
const STATEMENT_ROWS: usize = 250;

/// The columns of `items` in batches of [`STATEMENT_ROWS`], with each batch's row count.
/// The page's workspace leads every row (and the table's key).
fn batches<'b, T>(
    ws: &'b str,
    items: &'b [&'b Item<T>],
    hashes: &'b [i64],
    columns: &'b impl Fn(&'b [&'b Item<T>], &[i64]) -> Vec<Column<'b>>,
) -> impl Iterator<Item = (usize, Vec<Column<'b>>)> {
    items
        .chunks(STATEMENT_ROWS)
        .zip(hashes.chunks(STATEMENT_ROWS))
        .map(move |(chunk, h)| {
            let mut cols = columns(chunk, h);
            cols.insert(0, workspace_column(ws, chunk.len()));
            (chunk.len(), cols)
        })
}

/// Binary-COPY rows the table does not hold yet.
async fn copy_new<'a, T>(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    ws: &str,
    items: &[&'a Item<T>],
    hashes: &[i64],
    columns: &impl for<'b> Fn(&'b [&'b Item<T>], &[i64]) -> Vec<Column<'b>>,
) -> Result<(), StoreError> {
    let mut batches = batches(ws, items, hashes, columns).peekable();
    let Some((_, first)) = batches.peek() else {
        return Ok(());
    };
    let names: Vec<&str> = first.iter().map(|c| c.name).collect();
    let mut copy = BinaryCopy::begin(tx, table, &names).await?;
    for (len, cols) in batches {
        for row in 0..len {
            copy.row();
            for c in &cols {
                match &c.values {
                    Values::Text(v) if c.json => copy.jsonb(v[row].unwrap_or("null")),
                    Values::Owned(v) if c.json => copy.jsonb(&v[row]),
                    Values::Text(v) => copy.text(v[row]),
                    Values::Owned(v) => copy.text(Some(&v[row])),
                    Values::Float(v) => copy.float8(v[row]),
                    Values::Bool(v) => copy.boolean(v[row]),
                    Values::Int(v) => copy.int8(v[row]),
                    Values::Time(v) => copy.timestamptz(v[row]),
                }
            }
            copy.flush_if_full().await?;
        }
    }
    copy.finish().await?;
    Ok(())
}

/// Upsert rows in statements of [`STATEMENT_ROWS`].
async fn upsert_rows<'a, T>(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    ws: &str,
    items: &[&'a Item<T>],
    hashes: &[i64],
    columns: &impl for<'b> Fn(&'b [&'b Item<T>], &[i64]) -> Vec<Column<'b>>,
) -> Result<(), StoreError> {
    for (_, cols) in batches(ws, items, hashes, columns) {
        let sql = upsert_sql(table, &cols);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in cols {
            q = match c.values {
                Values::Text(v) => q.bind(v),
                Values::Owned(v) => q.bind(v),
                Values::Float(v) => q.bind(v),
                Values::Bool(v) => q.bind(v),
                Values::Int(v) => q.bind(v),
                Values::Time(v) => q.bind(v),
            };
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Skip items whose stored copy is identical (same content hash), write the rest: new rows
/// by COPY (or upsert, see [`NewRows`]), changed rows by upsert.
async fn write_changed<'a, T: Tracked>(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    ws: &str,
    run: Option<i64>,
    items: &[&'a Item<T>],
    new_rows: NewRows,
    columns: impl for<'b> Fn(&'b [&'b Item<T>], &[i64]) -> Vec<Column<'b>>,
) -> Result<Returned, StoreError> {
    let total = items.len();
    let hashes: Vec<i64> = items.iter().map(|i| raw_hash(&i.raw)).collect();
    let ids: Vec<&str> = items.iter().map(|i| i.data.id()).collect();
    let stored = stored_state(tx, table, ws, &ids, &hashes).await?;
    let mut counts = UpsertCounts::default();
    let mut changed = Vec::new();
    let mut existed = Vec::new();
    let mut restored = Vec::new();
    let (mut fresh, mut fresh_hashes) = (Vec::new(), Vec::new());
    let (mut update, mut update_hashes) = (Vec::new(), Vec::new());
    for (item, hash) in items.iter().zip(&hashes) {
        let key = item.data.id();
        match stored.get(key) {
            Some((true, false)) => continue,
            Some((_, removed)) => {
                counts.updated += 1;
                counts.restored += u64::from(*removed);
                if *removed {
                    restored.push(key.to_string());
                }
                existed.push(key.to_string());
                update.push(*item);
                update_hashes.push(*hash);
            }
            None => {
                counts.inserted += 1;
                fresh.push(*item);
                fresh_hashes.push(*hash);
            }
        }
        changed.push(key.to_string());
    }
    match new_rows {
        NewRows::Copy => copy_new(tx, table, ws, &fresh, &fresh_hashes, &columns).await?,
        NewRows::Upsert => {
            // A row the pre-read missed may be stored by now: its old links must go too.
            existed.extend(fresh.iter().map(|i| i.data.id().to_string()));
            update.append(&mut fresh);
            update_hashes.append(&mut fresh_hashes);
        }
    }
    // What the rewritten rows held, read before the upsert overwrites it (see store::changes).
    let before = changes::stored_values::<T>(tx, ws, &existed).await?;
    upsert_rows(tx, table, ws, &update, &update_hashes, &columns).await?;
    changes::record(tx, ws, run, &update, &before, &restored).await?;
    counts.unchanged = total as u64 - counts.inserted - counts.updated;
    Ok(Returned {
        changed,
        existed,
        counts,
    })
}

async fn mark_seen(
    tx: &mut Transaction<'_, Postgres>,
    ws: &str,
    sync_id: i64,
    resource: Resource,
    ids: Vec<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_seen (workspace_id, sync_id, resource, id) \
         SELECT $4, $1, $2, unnest($3::text[])",
    )
    .bind(sync_id)
    .bind(resource.as_str())
    .bind(ids)
    .bind(ws)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replace the subscription links of the devices a page wrote: delete those of devices that
/// were stored before, COPY the page's.
async fn replace_links(
    tx: &mut Transaction<'_, Postgres>,
    ws: &str,
    items: &[&Item<Device>],
    ret: &Returned,
) -> Result<(), StoreError> {
    if ret.changed.is_empty() {
        return Ok(());
    }
    if !ret.existed.is_empty() {
        sqlx::query(
            "DELETE FROM device_subscriptions WHERE workspace_id = $2 AND device_id = ANY($1)",
        )
        .bind(&ret.existed)
        .bind(ws)
        .execute(&mut **tx)
        .await?;
    }
    let changed: std::collections::HashSet<&str> = ret.changed.iter().map(String::as_str).collect();
    let mut links = Vec::new();
    for it in items
        .iter()
        .filter(|i| changed.contains(i.data.id.as_str()))
    {
        let mut seen_subs = std::collections::HashSet::new();
        for s in it.data.subscription.iter().flatten() {
            match s.id.as_deref() {
                Some(sid) if seen_subs.insert(sid) => links.push((it.data.id.as_str(), sid, s)),
                _ => {}
            }
        }
    }
    if links.is_empty() {
        return Ok(());
    }
    let mut copy = BinaryCopy::begin(
        tx,
        "device_subscriptions",
        &[
            "workspace_id",
            "device_id",
            "subscription_id",
            "resource_uri",
            "key",
            "tier",
            "start_time",
            "end_time",
        ],
    )
    .await?;
    for (device, sid, s) in links {
        copy.row();
        copy.text(Some(ws));
        copy.text(Some(device));
        copy.text(Some(sid));
        copy.text(s.resource_uri.as_deref());
        copy.text(s.key.as_deref());
        copy.text(s.tier.as_deref());
        copy.timestamptz(s.start_time);
        copy.timestamptz(s.end_time);
        copy.flush_if_full().await?;
    }
    copy.finish().await?;
    Ok(())
}

/// Write a page with its new rows by COPY; if another writer stored one of them meanwhile
/// (the COPY's unique violation rolled the page back), write it again as upserts.
async fn copy_or_redo_as_upserts<F, Fut>(what: &str, page: F) -> Result<UpsertCounts, StoreError>
where
    F: Fn(NewRows) -> Fut,
    Fut: std::future::Future<Output = Result<UpsertCounts, StoreError>>,
{
    match page(NewRows::Copy).await {
        Err(e) if is_unique_violation(&e) => {
            tracing::debug!("{what} page raced another writer; writing it again as upserts");
            page(NewRows::Upsert).await
        }
        r => r,
    }
}

/// Fenced writes (`store::fence`): first in the transaction, the run must still be running…
async fn fence_enter(
    tx: &mut Transaction<'_, Postgres>,
    fence: Option<&RunFence>,
) -> Result<(), StoreError> {
    match fence {
        Some(f) => f.enter(tx).await,
        None => Ok(()),
    }
}

/// …and last before the commit, it must still hold the workspace lock.
async fn fence_check(fence: Option<&RunFence>) -> Result<(), StoreError> {
    match fence {
        Some(f) => f.check().await,
        None => Ok(()),
    }
}

impl Store {
    /// Store one page of devices in one transaction. `seen_by` is the full sync that fetched
    /// it (so rows absent at the end can be marked removed). No item fails the page: see the
    /// module doc.
    pub async fn upsert_devices(
        &self,
        items: &[Item<Device>],
        seen_by: Option<i64>,
    ) -> Result<UpsertCounts, StoreError> {
        self.upsert_devices_fenced(items, seen_by, None).await
    }

    /// [`Store::upsert_devices`] for a sync run: the page commits only while `fence` holds
    /// (see `store::fence`).
    pub async fn upsert_devices_fenced(
        &self,
        items: &[Item<Device>],
        seen_by: Option<i64>,
        fence: Option<&RunFence>,
    ) -> Result<UpsertCounts, StoreError> {
        if items.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let items = dedup_last(items, |i| i.data.id.as_str());
        let mut fixed = Vec::new();
        let (page, sanitised) =
            sanitise_page("device", &items, &mut fixed, |d: &Device| d.id.as_str());
        let mut counts = write_isolating(
            "device",
            page,
            |d: &Device| d.id.as_str(),
            |part| async move {
                copy_or_redo_as_upserts("device", |how| {
                    self.device_page(&part, seen_by, how, fence)
                })
                .await
            },
            |id| self.mark_one_seen(seen_by, Resource::Devices, id),
        )
        .await?;
        counts.sanitised += sanitised;
        Ok(counts)
    }

    /// A skipped item's seen-mark, on its own (its page's transaction did not include it).
    async fn mark_one_seen(
        &self,
        seen_by: Option<i64>,
        resource: Resource,
        id: String,
    ) -> Result<(), StoreError> {
        let Some(sync_id) = seen_by else {
            return Ok(());
        };
        let mut tx = self.pool().begin().await?;
        mark_seen(&mut tx, self.ws(), sync_id, resource, vec![id.as_str()]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn device_page(
        &self,
        items: &[&Item<Device>],
        seen_by: Option<i64>,
        new_rows: NewRows,
        fence: Option<&RunFence>,
    ) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.pool().begin().await?;
        fence_enter(&mut tx, fence).await?;
        async_commit(&mut tx).await?;
        let ret = write_changed(
            &mut tx,
            "devices",
            self.ws(),
            fence.map(RunFence::run_id),
            items,
            new_rows,
            device_columns,
        )
        .await?;
        replace_links(&mut tx, self.ws(), items, &ret).await?;
        if let Some(sync_id) = seen_by {
            let ids = items.iter().map(|i| i.data.id.as_str()).collect();
            mark_seen(&mut tx, self.ws(), sync_id, Resource::Devices, ids).await?;
        }
        fence_check(fence).await?;
        tx.commit().await?;
        Ok(ret.counts)
    }

    /// Store one page of subscriptions in one transaction (see [`Store::upsert_devices`]).
    pub async fn upsert_subscriptions(
        &self,
        items: &[Item<Subscription>],
        seen_by: Option<i64>,
    ) -> Result<UpsertCounts, StoreError> {
        self.upsert_subscriptions_fenced(items, seen_by, None).await
    }

    /// [`Store::upsert_subscriptions`] for a sync run (see [`Store::upsert_devices_fenced`]).
    pub async fn upsert_subscriptions_fenced(
        &self,
        items: &[Item<Subscription>],
        seen_by: Option<i64>,
        fence: Option<&RunFence>,
    ) -> Result<UpsertCounts, StoreError> {
        if items.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let items = dedup_last(items, |i| i.data.id.as_str());
        let mut fixed = Vec::new();
        let (page, sanitised) =
            sanitise_page("subscription", &items, &mut fixed, |d: &Subscription| {
                d.id.as_str()
            });
        let mut counts = write_isolating(
            "subscription",
            page,
            |d: &Subscription| d.id.as_str(),
            |part| async move {
                copy_or_redo_as_upserts("subscription", |how| {
                    self.subscription_page(&part, seen_by, how, fence)
                })
                .await
            },
            |id| self.mark_one_seen(seen_by, Resource::Subscriptions, id),
        )
        .await?;
        counts.sanitised += sanitised;
        Ok(counts)
    }

    async fn subscription_page(
        &self,
        items: &[&Item<Subscription>],
        seen_by: Option<i64>,
        new_rows: NewRows,
        fence: Option<&RunFence>,
    ) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.pool().begin().await?;
        fence_enter(&mut tx, fence).await?;
        async_commit(&mut tx).await?;
        let ret = write_changed(
            &mut tx,
            "subscriptions",
            self.ws(),
            fence.map(RunFence::run_id),
            items,
            new_rows,
            subscription_columns,
        )
        .await?;
        if let Some(sync_id) = seen_by {
            let ids = items.iter().map(|i| i.data.id.as_str()).collect();
            mark_seen(&mut tx, self.ws(), sync_id, Resource::Subscriptions, ids).await?;
        }
        fence_check(fence).await?;
        tx.commit().await?;
        Ok(ret.counts)
    }

    /// After a complete full sync: mark rows the sync did not see as removed (with a
    /// timestamp, never deleted) and drop the sync's seen-marks. Returns how many were marked.
    pub async fn reconcile_removed(
        &self,
        sync_id: i64,
        resource: Resource,
    ) -> Result<u64, StoreError> {
        self.reconcile_removed_fenced(sync_id, resource, None).await
    }

    /// [`Store::reconcile_removed`] for a sync run: marks removals only while `fence` holds,
    /// so a run that lost its lock (and may have been overtaken) never reconciles.
    pub async fn reconcile_removed_fenced(
        &self,
        sync_id: i64,
        resource: Resource,
        fence: Option<&RunFence>,
    ) -> Result<u64, StoreError> {
        let table = match resource {
            Resource::Devices => "devices",
            Resource::Subscriptions => "subscriptions",
        };
        let mut tx = self.pool().begin().await?;
        fence_enter(&mut tx, fence).await?;
        // sync_seen is scratch space that autovacuum has not analysed yet: without fresh
        // statistics the planner takes it for tiny and picks a nested-loop anti-join with a
        // sequential scan inside — quadratic (minutes at 100k rows). ANALYZE first.
        sqlx::query("ANALYZE sync_seen").execute(&mut *tx).await?;
        // The inventory table too, when it grew past what the planner knows (a first full
        // sync into a server with autovacuum off): taken for one row, it was the outer side of
        // that nested loop — 30 s for 20 000 devices.
        super::statistics::analyze_stale(&mut tx, &[table]).await?;
        // Even analysed, a workspace new to the table is missing from its statistics and
        // estimated at one row, so the planner still chose that nested loop: a scan of
        // sync_seen per device, ~100 ms for each 300-device tenant and 42 s of a 57 s fleet
        // sync of 301 workspaces. The anti-join is one pass over each side whatever the
        // sizes: a hash or merge join is never the wrong plan for it.
        sqlx::query("SET LOCAL enable_nestloop = off")
            .execute(&mut *tx)
            .await?;
        // The removal is history too (`presence`), written by the same statement.
        let sql = format!(
            "WITH gone AS (UPDATE {table} t SET removed_at = now(), changed_at = now() \
             WHERE t.workspace_id = $3 AND t.removed_at IS NULL AND NOT EXISTS \
               (SELECT 1 FROM sync_seen s WHERE s.sync_id = $1 AND s.resource = $2 AND s.id = t.id) \
             RETURNING t.id) \
             INSERT INTO inventory_changes \
               (workspace_id, resource, item_id, sync_id, field, old_value, new_value) \
             SELECT $3, $2, id, $1, '{presence}', 'present', 'removed' FROM gone",
            presence = changes::PRESENCE
        );
        let marked = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(sync_id)
            .bind(resource.as_str())
            .bind(self.ws())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        self.forget_seen_tx(&mut tx, sync_id).await?;
        fence_check(fence).await?;
        tx.commit().await?;
        Ok(marked)
    }

    /// Drop a sync's seen-marks (after reconciling, or when a full sync did not complete).
    pub async fn forget_seen(&self, sync_id: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        self.forget_seen_tx(&mut tx, sync_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn forget_seen_tx(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        sync_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sync_seen WHERE sync_id = $1")
            .bind(sync_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
