//! Which offsets to re-read when the collection changed while it was paged: from the
//! total each page saw to windows around the page boundaries, and from windows to requests.

/// One fetched page as the repair sees it: where it starts, the total GreenLake reported
/// with it, and when it was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rec {
    pub(super) offset: u64,
    pub(super) total: Option<u64>,
    pub(super) seq: u64,
}

/// Windows `[start, end)` to re-read after the totals moved by up to `d` during the pass.
pub(super) fn repair_windows(
    recs: &[Rec],
    limit: u64,
    final_total: u64,
    d: u64,
) -> Vec<(u64, u64)> {
    let mut w = Vec::new();
    let Some(first) = recs.first() else {
        return w;
    };
    if first.total != Some(final_total) {
        w.push((0, d));
    }
    for pair in recs.windows(2) {
        if pair[0].total != pair[1].total || pair[0].total.is_none() {
            let b = pair[1].offset;
            w.push((b.saturating_sub(d), b + d));
        }
    }
    if let Some(last) = recs.last() {
        let end = last.offset + limit;
        if last.total != Some(final_total) || final_total > end {
            w.push((end.saturating_sub(d), end.max(final_total) + d));
        }
    }
    w.sort();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (s, e) in w {
        let e = e.min(final_total + d);
        if s >= e {
            continue;
        }
        match merged.last_mut() {
            Some(m) if s <= m.1 => m.1 = m.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The pages of the main pass (offsets on the page grid), one per offset, in offset order.
pub(super) fn page_starts(recs: &[Rec], limit: u64) -> Vec<Rec> {
    let mut v: Vec<Rec> = recs
        .iter()
        .copied()
        .filter(|r| r.offset % limit == 0)
        .collect();
    v.sort_by_key(|r| r.offset);
    v.dedup_by_key(|r| r.offset);
    v
}

/// The requests (offset, limit) that cover `windows`, none larger than `limit`.
pub(super) fn window_requests(windows: &[(u64, u64)], limit: u64) -> Vec<(u64, u64)> {
    let mut reqs = Vec::new();
    for &(s, e) in windows {
        let mut o = s;
        while o < e {
            let l = (e - o).min(limit);
            reqs.push((o, l));
            o += l;
        }
    }
    reqs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(offset: u64, total: u64) -> Rec {
        Rec {
            offset,
            total: Some(total),
            seq: 0,
        }
    }

    #[test]
    fn no_change_no_windows_needed_beyond_tail() {
        let r = [rec(0, 10), rec(5, 10)];
        assert!(repair_windows(&r, 5, 10, 0).is_empty());
    }

    #[test]
    fn insert_mid_run() {
        // Pages of 10; page at offset 20 answered after one insert.
        let r = [rec(0, 40), rec(10, 40), rec(20, 41), rec(30, 40)];
        let w = repair_windows(&r, 10, 41, 1);
        assert_eq!(w, vec![(0, 1), (19, 21), (29, 31), (39, 42)]);
    }
}
