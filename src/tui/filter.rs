//! Fuzzy filtering off the render path.
//!
//! A dedicated thread matches the query against each row's visible cells joined into one
//! line. Every request carries a generation; a request superseded by a newer one for the same
//! table is abandoned mid-scan, and the table drops any result whose generation it no longer
//! awaits. The UI thread never waits for a match.
//!
//! The shipped matcher is `nucleo-matcher` (fzf's algorithm, smart case, `'exact`, `^prefix`,
//! `suffix$`, `!not` and space-separated AND terms). `fuzzy-matcher`'s Skim V2 is kept
//! selectable so the benchmark measures both on the same code path.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::model::table::{Row, breakdown};

/// Separator between cells in the matched line (also used to map highlights to cells).
pub const SEP: &str = "  ";

/// Which matcher runs the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatcherKind {
    #[default]
    Nucleo,
    /// `fuzzy-matcher` SkimMatcherV2 — the crate the user's stack names; benchmark only.
    Skim,
}

/// How many tables can filter independently.
pub const TABLES: usize = 8;

/// A request to filter one table.
#[derive(Debug, Clone)]
pub struct FilterJob {
    pub table: usize,
    pub generation: u64,
    pub query: String,
    pub rows: Arc<Vec<Row>>,
    pub visible: Vec<usize>,
    pub breakdown_col: Option<usize>,
}

/// The matches of one request: `mask[row]` is true when the row matched.
#[derive(Debug, Clone)]
pub struct FilterResult {
    pub table: usize,
    pub generation: u64,
    pub mask: Arc<Vec<bool>>,
    pub breakdown: Vec<(String, usize)>,
    pub matched: usize,
}

/// Handle on the filter thread. Dropping it stops the thread.
pub struct FilterWorker {
    tx: Option<mpsc::Sender<FilterJob>>,
    latest: Arc<[AtomicU64; TABLES]>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl FilterWorker {
    /// Start the thread; `deliver` is called with each finished result.
    pub fn spawn(
        kind: MatcherKind,
        deliver: impl Fn(FilterResult) + Send + 'static,
    ) -> FilterWorker {
        let (tx, rx) = mpsc::channel::<FilterJob>();
        let latest: Arc<[AtomicU64; TABLES]> = Arc::new(std::array::from_fn(|_| AtomicU64::new(0)));
        let l2 = latest.clone();
        let handle = std::thread::Builder::new()
            .name("glp-filter".into())
            .spawn(move || worker(kind, rx, l2, deliver))
            .ok();
        FilterWorker {
            tx: Some(tx),
            latest,
            handle,
        }
    }

    /// Queue a request; any older request for the same table is abandoned.
    pub fn submit(&self, job: FilterJob) {
        if let Some(slot) = self.latest.get(job.table) {
            slot.store(job.generation, Ordering::SeqCst);
        }
        if let Some(tx) = &self.tx {
            let _ = tx.send(job);
        }
    }
}

impl Drop for FilterWorker {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Cache of joined lines, so typing more characters does not re-join 100 000 rows.
struct Haystacks {
    rows: Option<Arc<Vec<Row>>>,
    visible: Vec<usize>,
    lines: Vec<String>,
}

fn worker(
    kind: MatcherKind,
    rx: mpsc::Receiver<FilterJob>,
    latest: Arc<[AtomicU64; TABLES]>,
    deliver: impl Fn(FilterResult),
) {
    let mut matcher = Matcher::new(Config::DEFAULT);
    let skim = fuzzy_matcher::skim::SkimMatcherV2::default();
    let mut caches: HashMap<usize, Haystacks> = HashMap::new();
    while let Ok(first) = rx.recv() {
        // Coalesce: keep only the newest queued job per table.
        let mut pending: HashMap<usize, FilterJob> = HashMap::new();
        pending.insert(first.table, first);
        while let Ok(j) = rx.try_recv() {
            pending.insert(j.table, j);
        }
        for (_, job) in pending {
            let is_current = || {
                latest
                    .get(job.table)
                    .is_none_or(|l| l.load(Ordering::Relaxed) == job.generation)
            };
            if !is_current() {
                continue;
            }
            let cache = caches.entry(job.table).or_insert(Haystacks {
                rows: None,
                visible: Vec::new(),
                lines: Vec::new(),
            });
            let same = cache
                .rows
                .as_ref()
                .is_some_and(|r| Arc::ptr_eq(r, &job.rows))
                && cache.visible == job.visible;
            if !same {
                cache.lines = job
                    .rows
                    .iter()
                    .map(|r| join_cells(r, &job.visible))
                    .collect();
                cache.rows = Some(job.rows.clone());
                cache.visible = job.visible.clone();
            }
            let Some(mask) = run_match(
                kind,
                &job.query,
                &cache.lines,
                &mut matcher,
                &skim,
                &is_current,
            ) else {
                continue;
            };
            let matched = mask.iter().filter(|m| **m).count();
            let counts = match job.breakdown_col {
                Some(c) => breakdown(
                    job.rows
                        .iter()
                        .zip(mask.iter())
                        .filter(|(_, m)| **m)
                        .map(|(r, _)| r.cell(c)),
                ),
                None => Vec::new(),
            };
            deliver(FilterResult {
                table: job.table,
                generation: job.generation,
                mask: Arc::new(mask),
                breakdown: counts,
                matched,
            });
        }
    }
}

/// The line a row is matched against: its visible cells joined with [`SEP`].
pub fn join_cells(row: &Row, visible: &[usize]) -> String {
    let mut s = String::with_capacity(96);
    for (n, c) in visible.iter().enumerate() {
        if n > 0 {
            s.push_str(SEP);
        }
        s.push_str(row.cell(*c));
    }
    s
}

/// Match every line; `None` when abandoned for a newer request.
fn run_match(
    kind: MatcherKind,
    query: &str,
    lines: &[String],
    matcher: &mut Matcher,
    skim: &fuzzy_matcher::skim::SkimMatcherV2,
    is_current: &dyn Fn() -> bool,
) -> Option<Vec<bool>> {
    let mut mask = vec![false; lines.len()];
    match kind {
        MatcherKind::Nucleo => {
            let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
            let mut buf = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                if i % 4096 == 0 && !is_current() {
                    return None;
                }
                mask[i] = pattern
                    .score(Utf32Str::new(line, &mut buf), matcher)
                    .is_some();
            }
        }
        MatcherKind::Skim => {
            use fuzzy_matcher::FuzzyMatcher;
            for (i, line) in lines.iter().enumerate() {
                if i % 4096 == 0 && !is_current() {
                    return None;
                }
                mask[i] = skim.fuzzy_match(line, query).is_some();
            }
        }
    }
    Some(mask)
}

/// Character positions (in the joined line) that matched, for highlighting the few rows on
/// screen. Empty when the row does not match.
pub fn highlight_indices(query: &str, line: &str, matcher: &mut Matcher) -> Vec<u32> {
    let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
    let mut buf = Vec::new();
    let mut idx = Vec::new();
    let _ = pattern.indices(Utf32Str::new(line, &mut buf), matcher, &mut idx);
    idx.sort_unstable();
    idx.dedup();
    idx
}
