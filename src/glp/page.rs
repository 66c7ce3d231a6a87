//! Pagination as a `Stream` of pages.
//!
//! The first page tells the total; the remaining offsets are then fetched concurrently
//! (`max_concurrency` in flight, each paced by the endpoint's schedule) and delivered in
//! offset order. Memory holds at most the in-flight pages plus one 8-byte hash per item id
//! (for de-duplication).
//!
//! Offset paging over a collection that changes while it is read can skip or repeat items:
//! an insert before an already-planned offset shifts everything right (a repeat at one page
//! boundary, and a skip if a later page was answered before an earlier one), a delete shifts
//! left (a skip). Every page carries the `total` GreenLake saw when it answered, so a change
//! is visible. Repeats are removed by id. When the totals disagree, the client re-reads a
//! window of ±Δ (Δ = how much the total moved) around every page boundary whose neighbours
//! saw different totals, the first Δ items and the tail, until a round sees no further change
//! (at most [`MAX_REPAIR_ROUNDS`]). Pages of such a repair carry only items not yet delivered.

mod size;
mod windows;

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::ControlFlow;

use futures_util::stream::{FuturesOrdered, Stream, StreamExt};
use reqwest::Method;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::glp::client::{Call, Client};
use crate::glp::error::GlpError;
use crate::glp::model::{Device, HasId, Item, ItemError, RawPage, Subscription, parse_items};
use crate::glp::pace::Endpoint;

use size::{refuses_limit, smaller_limit};
use windows::{Rec, page_starts, repair_windows, window_requests};

/// Repair rounds before giving up on a collection that keeps changing.
pub const MAX_REPAIR_ROUNDS: usize = 3;

/// Page size GreenLake has always accepted for subscriptions; used when a larger one is
/// refused with 400 (the API before August 2026).
pub const SUBSCRIPTIONS_FALLBACK_PAGE_SIZE: u32 = 50;

/// One delivered page with progress figures.
#[derive(Debug)]
pub struct Page<T> {
    /// Items not delivered before in this run, in API order.
    pub items: Vec<Item<T>>,
    /// Items of this page that could not be used (no id, not an object).
    pub skipped: Vec<ItemError>,
    /// 1-based number of this delivered page.
    pub page: u64,
    /// Pages expected (from the latest total); repair pages may go past it.
    pub pages_total: Option<u64>,
    /// Distinct items delivered so far, including this page.
    pub items_so_far: u64,
    /// Latest `total` GreenLake reported.
    pub items_total: Option<u64>,
    /// Items of this page dropped because they were already delivered.
    pub duplicates: u64,
}

/// What to list.
#[derive(Debug, Clone)]
pub(crate) struct ListSpec {
    pub endpoint: Endpoint,
    pub path: &'static str,
    pub filter: Option<String>,
    pub page_size: u32,
    pub fallback_page_size: Option<u32>,
}

struct Fetched<T> {
    offset: u64,
    items: Vec<Item<T>>,
    skipped: Vec<ItemError>,
    raw_len: u64,
    total: Option<u64>,
    seq: u64,
}

async fn fetch<T>(
    client: Client,
    spec: ListSpec,
    offset: u64,
    limit: u64,
) -> Result<Fetched<T>, GlpError>
where
    T: for<'de> Deserialize<'de> + HasId,
{
    let mut q = vec![("offset", offset.to_string()), ("limit", limit.to_string())];
    if let Some(f) = &spec.filter {
        q.push(("filter", f.clone()));
    }
    let call = Call {
        method: Method::GET,
        endpoint: spec.endpoint,
        url: client.url(spec.path, &q)?,
        body: None,
    };
    let (raw_len, total, items, skipped) = client
        .execute(&call, |r| {
            let page: RawPage = serde_json::from_slice(&r.body)
                .map_err(|e| format!("not a GreenLake page ({e})"))?;
            let n = page.items.len() as u64;
            let total = page.total;
            let (ok, bad) = parse_items::<T>(page.items);
            Ok((n, total, ok, bad))
        })
        .await?;
    Ok(Fetched {
        offset,
        items,
        skipped,
        raw_len,
        total,
        seq: client.next_seq(),
    })
}

fn id_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

struct Emitter<T> {
    tx: mpsc::Sender<Result<Page<T>, GlpError>>,
    seen: HashSet<u64>,
    page: u64,
    items_so_far: u64,
    limit: u64,
    total: Option<u64>,
    total_seq: u64,
}

struct Closed;

impl<T> Emitter<T> {
    fn note_total(&mut self, total: Option<u64>, seq: u64) {
        if let Some(t) = total
            && (self.total.is_none() || seq >= self.total_seq)
        {
            self.total = Some(t);
            self.total_seq = seq;
        }
    }

    async fn emit(&mut self, f: Fetched<T>, always: bool) -> Result<(), Closed>
    where
        T: HasId,
    {
        self.note_total(f.total, f.seq);
        let before = f.items.len() as u64;
        let items: Vec<Item<T>> = f
            .items
            .into_iter()
            .filter(|i| self.seen.insert(id_hash(i.data.id())))
            .collect();
        let duplicates = before - items.len() as u64;
        if !always && items.is_empty() && f.skipped.is_empty() {
            return Ok(());
        }
        self.page += 1;
        self.items_so_far += items.len() as u64;
        let pages_total = self
            .total
            .map(|t| t.div_ceil(self.limit).max(1).max(self.page));
        let page = Page {
            items,
            skipped: f.skipped,
            page: self.page,
            pages_total,
            items_so_far: self.items_so_far,
            items_total: self.total,
            duplicates,
        };
        self.tx.send(Ok(page)).await.map_err(|_| Closed)
    }
}

/// List the whole collection into `tx`: the first page (finding a page size GreenLake
/// accepts), the rest concurrently, then the repair rounds if the collection changed.
/// Returns early, without error, when cancelled or when no one reads the pages any more.
async fn produce<T>(
    client: Client,
    spec: ListSpec,
    tx: mpsc::Sender<Result<Page<T>, GlpError>>,
    cancel: CancellationToken,
) -> Result<(), GlpError>
where
    T: for<'de> Deserialize<'de> + HasId + Send + 'static,
{
    let (first, limit) = first_page::<T>(&client, &spec).await?;
    let first_total = first.total;
    let conc = client.config().max_concurrency.max(1) as usize;
    let mut pager = Pager {
        em: Emitter {
            tx,
            seen: HashSet::new(),
            page: 0,
            items_so_far: 0,
            limit,
            total: None,
            total_seq: 0,
        },
        recs: vec![Rec {
            offset: 0,
            total: first.total,
            seq: first.seq,
        }],
        client,
        spec,
        cancel,
        limit,
        conc,
    };
    if pager.deliver_first(first).await.is_break() {
        return Ok(());
    }
    if pager.read_the_rest(first_total).await?.is_break() {
        return Ok(());
    }
    pager.repair().await
}

/// The first page and the page size that got it. A 400 that refuses the page size is
/// retried with the largest limit it names (or the endpoint's fallback, or half), down to 1;
/// the limit that works is kept for the run.
async fn first_page<T>(client: &Client, spec: &ListSpec) -> Result<(Fetched<T>, u64), GlpError>
where
    T: for<'de> Deserialize<'de> + HasId,
{
    let mut limit = u64::from(spec.page_size.max(1));
    loop {
        match fetch::<T>(client.clone(), spec.clone(), 0, limit).await {
            Err(e) if limit > 1 && refuses_limit(&e, spec.fallback_page_size, limit) => {
                let refused = limit;
                limit = smaller_limit(&e, limit, spec.fallback_page_size);
                tracing::info!(
                    path = spec.path,
                    refused,
                    limit,
                    "page size refused with 400; retrying with a smaller one"
                );
            }
            r => return Ok((r?, limit)),
        }
    }
}

/// One listing while it runs: where its pages go, the page size, and every page's offset
/// and total (what the repair rounds work from).
struct Pager<T> {
    client: Client,
    spec: ListSpec,
    cancel: CancellationToken,
    em: Emitter<T>,
    recs: Vec<Rec>,
    limit: u64,
    conc: usize,
}

impl<T> Pager<T>
where
    T: for<'de> Deserialize<'de> + HasId + Send + 'static,
{
    /// Deliver the first page; `Break` when it held the whole collection (or no one reads).
    async fn deliver_first(&mut self, first: Fetched<T>) -> ControlFlow<()> {
        let first_len = first.raw_len;
        let first_total = first.total;
        if self.em.emit(first, true).await.is_err() {
            return ControlFlow::Break(());
        }
        let done_after_first = first_len == 0
            || match first_total {
                Some(t) => first_len >= t,
                None => first_len < self.limit,
            };
        if done_after_first {
            return ControlFlow::Break(());
        }
        if first_len < self.limit {
            // More items than this page, yet a short page: the server caps the page size below
            // what we asked. Step by what it gives, or offsets would jump over items.
            self.limit = first_len;
            self.em.limit = first_len;
        }
        ControlFlow::Continue(())
    }

    /// The offsets after the first page, `conc` in flight, delivered in offset order. Without
    /// a total, one page at a time until a short or empty one.
    async fn read_the_rest(
        &mut self,
        first_total: Option<u64>,
    ) -> Result<ControlFlow<()>, GlpError> {
        let limit = self.limit;
        let mut max_total = first_total;
        let mut next = limit;
        let mut ended = false;
        let mut inflight = FuturesOrdered::new();
        loop {
            while inflight.len() < self.conc {
                let go = match max_total {
                    Some(t) => next < t,
                    None => inflight.is_empty() && !ended,
                };
                if !go {
                    break;
                }
                inflight.push_back(fetch::<T>(
                    self.client.clone(),
                    self.spec.clone(),
                    next,
                    limit,
                ));
                next += limit;
            }
            let res = tokio::select! {
                () = self.cancel.cancelled() => return Ok(ControlFlow::Break(())),
                r = inflight.next() => r,
            };
            let Some(res) = res else { break };
            let f = res?;
            self.recs.push(Rec {
                offset: f.offset,
                total: f.total,
                seq: f.seq,
            });
            if let Some(t) = f.total {
                max_total = Some(max_total.map_or(t, |m| m.max(t)));
            } else if max_total.is_none() && f.raw_len < limit {
                ended = true;
            }
            if max_total.is_none() && f.raw_len == 0 {
                ended = true;
            }
            if self.em.emit(f, false).await.is_err() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Re-read the windows around page boundaries whose totals disagree, until a round
    /// sees no further change (at most [`MAX_REPAIR_ROUNDS`]).
    async fn repair(&mut self) -> Result<(), GlpError> {
        let mut extra_d = 0u64;
        for round in 0..MAX_REPAIR_ROUNDS {
            let Some((final_total, d)) = self.moved_by(extra_d) else {
                return Ok(());
            };
            let starts = page_starts(&self.recs, self.limit);
            let windows = repair_windows(&starts, self.limit, final_total, d.max(1));
            tracing::info!(
                path = self.spec.path,
                round,
                delta = d,
                windows = windows.len(),
                "the collection changed while paging; re-reading the affected windows"
            );
            let reqs = window_requests(&windows, self.limit);
            match self.reread(reqs, final_total, &mut extra_d).await? {
                ControlFlow::Break(()) | ControlFlow::Continue(false) => return Ok(()),
                ControlFlow::Continue(true) => {}
            }
        }
        tracing::warn!(
            path = self.spec.path,
            "the collection kept changing while it was read; a later sync will pick up the rest"
        );
        Ok(())
    }

    /// The latest total and how far the totals moved (plus what earlier repair rounds saw);
    /// `None` when there is nothing to repair.
    fn moved_by(&self, extra_d: u64) -> Option<(u64, u64)> {
        let totals: Vec<u64> = self.recs.iter().filter_map(|r| r.total).collect();
        let (mn, mx) = (*totals.iter().min()?, *totals.iter().max()?);
        let final_total = self.em.total?;
        if mn == mx && extra_d == 0 {
            return None;
        }
        Some((
            final_total,
            (mx - mn).max(mx.abs_diff(final_total)) + extra_d,
        ))
    }

    /// Fetch `reqs` (offset, limit), `conc` in flight, delivering only items not seen yet.
    /// `Continue(true)` when a page saw a total other than `final_total` (its difference is
    /// added to `extra_d`, so the next round widens its windows).
    async fn reread(
        &mut self,
        reqs: Vec<(u64, u64)>,
        final_total: u64,
        extra_d: &mut u64,
    ) -> Result<ControlFlow<(), bool>, GlpError> {
        let mut changed = false;
        let mut q = FuturesOrdered::new();
        let mut it = reqs.into_iter();
        loop {
            while q.len() < self.conc {
                let Some((o, l)) = it.next() else { break };
                q.push_back(fetch::<T>(self.client.clone(), self.spec.clone(), o, l));
            }
            let r = tokio::select! {
                () = self.cancel.cancelled() => return Ok(ControlFlow::Break(())),
                r = q.next() => r,
            };
            let Some(r) = r else { break };
            let f = r?;
            if f.total.is_some() && f.total != Some(final_total) {
                changed = true;
                *extra_d += f.total.map_or(0, |t| t.abs_diff(final_total));
            }
            if self.em.emit(f, false).await.is_err() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(changed))
    }
}

/// Run `produce` on its own task, feeding a bounded channel; the stream ends after an error.
pub(crate) fn list<T>(
    client: &Client,
    spec: ListSpec,
) -> impl Stream<Item = Result<Page<T>, GlpError>> + Send + 'static
where
    T: for<'de> Deserialize<'de> + HasId + Send + 'static,
{
    enum St<T> {
        Init(Client, ListSpec),
        /// The guard cancels the producer when the stream is dropped.
        Run(mpsc::Receiver<Result<Page<T>, GlpError>>, DropGuard),
    }
    futures_util::stream::unfold(Some(St::Init(client.clone(), spec)), |st| async move {
        let (mut rx, guard) = match st? {
            St::Init(c, s) => {
                let (tx, rx) = mpsc::channel(1);
                let cancel = CancellationToken::new();
                let child = cancel.clone();
                tokio::spawn(async move {
                    if let Err(e) = produce::<T>(c, s, tx.clone(), child).await {
                        let _ = tx.send(Err(e)).await;
                    }
                });
                (rx, cancel.drop_guard())
            }
            St::Run(rx, guard) => (rx, guard),
        };
        let item = rx.recv().await?;
        Some((item, Some(St::Run(rx, guard))))
    })
}

impl Client {
    /// All devices (`GET /devices/v1/devices`), optionally filtered (OData, e.g.
    /// `updatedAt gt '2026-01-01T00:00:00Z'`). Page size from `[api] page_size.devices`.
    pub fn devices(
        &self,
        filter: Option<String>,
    ) -> impl Stream<Item = Result<Page<Device>, GlpError>> + Send + 'static {
        list(
            self,
            ListSpec {
                endpoint: Endpoint::DevicesGet,
                path: "/devices/v1/devices",
                filter,
                page_size: self.config().page_size.devices,
                fallback_page_size: None,
            },
        )
    }

    /// All subscriptions (`GET /subscriptions/v1/subscriptions`). Tries the configured page
    /// size (200 by default, the newer API) and falls back to 50 on a 400.
    pub fn subscriptions(
        &self,
        filter: Option<String>,
    ) -> impl Stream<Item = Result<Page<Subscription>, GlpError>> + Send + 'static {
        list(
            self,
            ListSpec {
                endpoint: Endpoint::SubscriptionsGet,
                path: "/subscriptions/v1/subscriptions",
                filter,
                page_size: self.config().page_size.subscriptions,
                fallback_page_size: Some(SUBSCRIPTIONS_FALLBACK_PAGE_SIZE),
            },
        )
    }

    /// One subscription by id.
    pub async fn subscription(&self, id: &str) -> Result<Item<Subscription>, GlpError> {
        let path = format!("/subscriptions/v1/subscriptions/{}", path_segment(id)?);
        self.get_item(Endpoint::SubscriptionGetById, &path).await
    }

    /// One device by id (`GET /devices/v1/devices/{id}`, paced at its own 40/min by default).
    pub async fn device(&self, id: &str) -> Result<Item<Device>, GlpError> {
        let path = format!("/devices/v1/devices/{}", path_segment(id)?);
        self.get_item(Endpoint::DeviceGetById, &path).await
    }

    async fn get_item<T>(&self, endpoint: Endpoint, path: &str) -> Result<Item<T>, GlpError>
    where
        T: for<'de> Deserialize<'de> + HasId,
    {
        let call = Call {
            method: Method::GET,
            endpoint,
            url: self.url(path, &[])?,
            body: None,
        };
        self.execute(&call, |r| {
            let raw: Box<serde_json::value::RawValue> =
                serde_json::from_slice(&r.body).map_err(|e| format!("not JSON ({e})"))?;
            let (mut ok, bad) = parse_items::<T>(vec![raw]);
            match ok.pop() {
                Some(item) => Ok(item),
                None => Err(bad
                    .first()
                    .map(|b| b.reason.clone())
                    .unwrap_or_else(|| "no item".into())),
            }
        })
        .await
    }
}

/// An id used as a path segment: must not smuggle `/`, `?` or `#`.
pub(crate) fn path_segment(id: &str) -> Result<&str, GlpError> {
    let id = id.trim();
    if id.is_empty() || id.contains(['/', '?', '#', '%', ' ']) {
        return Err(GlpError::Invalid(format!(
            "{id:?} is not a GreenLake id (expected a UUID)"
        )));
    }
    Ok(id)
}
