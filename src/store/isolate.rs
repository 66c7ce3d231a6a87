//! No item fails a page: NUL characters are replaced before the write ([`sanitise_page`]),
//! and a page that still fails on its data is bisected down to the items that fail alone
//! ([`write_isolating`]), which are skipped and logged by id. Split from `store::inventory`,
//! whose write path calls these around every page.

use super::StoreError;
use super::copy::is_data_error;
use super::counts::UpsertCounts;
use super::sanitise::without_nul;
use crate::glp::model::Item;

/// An id as it may appear in a log line: ids of hostile items can be kilobytes long.
fn loggable(id: &str) -> String {
    const MAX: usize = 80;
    if id.chars().count() <= MAX {
        return id.to_string();
    }
    let head: String = id.chars().take(MAX).collect();
    format!("{head}… ({} characters)", id.chars().count())
}

/// The page's items with NUL replaced where needed (see `store::sanitise`), and how many
/// needed it. `fixed` holds the rewritten items the returned references point into.
pub(super) fn sanitise_page<'a, T>(
    what: &str,
    items: &[&'a Item<T>],
    fixed: &'a mut Vec<(usize, Item<T>)>,
    id: impl Fn(&T) -> &str,
) -> (Vec<&'a Item<T>>, u64)
where
    T: for<'de> serde::Deserialize<'de>,
{
    for (n, item) in items.iter().enumerate() {
        if let Some(clean) = without_nul(item) {
            tracing::warn!(
                id = %loggable(id(&item.data)),
                "{what} has NUL characters PostgreSQL cannot store; stored with U+FFFD instead"
            );
            fixed.push((n, clean));
        }
    }
    let count = fixed.len() as u64;
    let mut page: Vec<&'a Item<T>> = items.to_vec();
    for (n, clean) in fixed.iter() {
        page[*n] = clean;
    }
    (page, count)
}

/// Write a page with `write`; if it fails on its data (not on the database), bisect it into
/// parts written on their own, down to single items, and skip (and log by id) only the items
/// that fail alone. Database failures (connection lost, server shutting down, out of
/// resources) are returned as they are: the run fails, nothing is skipped.
pub(super) async fn write_isolating<'a, T, F, Fut, M, MFut>(
    what: &str,
    items: Vec<&'a Item<T>>,
    id: impl Fn(&T) -> &str,
    write: F,
    mark_skipped_seen: M,
) -> Result<UpsertCounts, StoreError>
where
    F: Fn(Vec<&'a Item<T>>) -> Fut,
    Fut: std::future::Future<Output = Result<UpsertCounts, StoreError>>,
    M: Fn(String) -> MFut,
    MFut: std::future::Future<Output = Result<(), StoreError>>,
{
    let first = match write(items.clone()).await {
        Err(e) if is_data_error(&e) => e,
        r => return r,
    };
    tracing::warn!(
        error = %first,
        items = items.len(),
        "a {what} page could not be stored as a whole; storing it in parts to find the bad item(s)"
    );
    let mut counts = UpsertCounts::default();
    // Parts known to fail on their data, with the error they failed with.
    let mut failing = vec![(items, first)];
    while let Some((part, error)) = failing.pop() {
        if let [item] = part.as_slice() {
            let key = id(&item.data).to_string();
            tracing::warn!(
                id = %loggable(&key),
                %error,
                "{what} skipped: PostgreSQL cannot store it; the rest of its page is stored"
            );
            counts.skipped += 1;
            // Seen, so a full sync does not mark a stored older copy as removed.
            if let Err(e) = mark_skipped_seen(key).await
                && !is_data_error(&e)
            {
                return Err(e);
            }
            continue;
        }
        let (a, b) = part.split_at(part.len() / 2);
        for half in [a, b] {
            match write(half.to_vec()).await {
                Err(e) if is_data_error(&e) => failing.push((half.to_vec(), e)),
                r => counts.add(r?),
            }
        }
    }
    Ok(counts)
}
