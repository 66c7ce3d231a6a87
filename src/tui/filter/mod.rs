//! Fuzzy filtering off the render path.
//!
//! A dedicated thread matches the query against each row's visible cells joined into one
//! line — borrowed from the row itself (its cells are stored joined), so no second copy of
//! the table is kept. Every request carries a generation; a request superseded by a newer
//! one for the same table is abandoned mid-scan, and the table drops any result whose
//! generation it no longer awaits. The UI thread never waits for a match.
//!
//! Typing usually extends the query, and a row that fails `abc` cannot match `abcd`, so a
//! query that extends the last completed one re-checks only that one's matches
//! ("narrowing"). Queries whose syntax breaks that rule (`!not`, `suffix$`, escapes) always
//! scan every row. Scans of many rows are split across two threads.
//!
//! The shipped matcher is `nucleo-matcher` (fzf's algorithm, smart case, `'exact`, `^prefix`,
//! `suffix$`, `!not` and space-separated AND terms). `fuzzy-matcher`'s Skim V2 is kept
//! selectable so the benchmark measures both on the same code path.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

pub use super::model::table::SEP;
use super::model::table::{Row, breakdown};
use super::model::table_id::TableId;

/// Which matcher runs the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatcherKind {
    #[default]
    Nucleo,
    /// `fuzzy-matcher` SkimMatcherV2 — the crate the user's stack names; benchmark only.
    Skim,
}

/// How many tables can filter independently: one slot per [`TableId`].
pub const TABLES: usize = TableId::COUNT;

/// A request to filter one table.
#[derive(Debug, Clone)]
pub struct FilterJob {
    pub table: TableId,
    pub generation: u64,
    pub query: String,
    pub rows: Arc<Vec<Row>>,
    pub visible: Vec<usize>,
    pub breakdown_col: Option<usize>,
}

/// The matches of one request: `mask[row]` is true when the row matched.
#[derive(Debug, Clone)]
pub struct FilterResult {
    pub table: TableId,
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
        if let Some(slot) = self.latest.get(job.table.index()) {
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

/// The last completed result of one table, the base for narrowing.
struct Last {
    rows: Arc<Vec<Row>>,
    visible: Vec<usize>,
    query: String,
    /// Indices of the rows that matched, ascending.
    matched: Vec<u32>,
}

/// Below this many candidates one thread is quicker than starting a second.
const SPLIT_MIN: usize = 8_192;

fn worker(
    kind: MatcherKind,
    rx: mpsc::Receiver<FilterJob>,
    latest: Arc<[AtomicU64; TABLES]>,
    deliver: impl Fn(FilterResult),
) {
    let mut matchers = [Matcher::new(Config::DEFAULT), Matcher::new(Config::DEFAULT)];
    let mut last: HashMap<TableId, Last> = HashMap::new();
    let mut all: Vec<u32> = Vec::new();
    while let Ok(first) = rx.recv() {
        // Coalesce: keep only the newest queued job per table.
        let mut pending: HashMap<TableId, FilterJob> = HashMap::new();
        pending.insert(first.table, first);
        while let Ok(j) = rx.try_recv() {
            pending.insert(j.table, j);
        }
        for (_, job) in pending {
            let current = || {
                latest
                    .get(job.table.index())
                    .is_none_or(|l| l.load(Ordering::Relaxed) == job.generation)
            };
            if !current() {
                continue;
            }
            let base = last.get(&job.table).filter(|l| {
                Arc::ptr_eq(&l.rows, &job.rows)
                    && l.visible == job.visible
                    && narrows(&l.query, &job.query)
            });
            let candidates: &[u32] = match base {
                Some(l) => &l.matched,
                None => {
                    if all.len() != job.rows.len() {
                        all = (0..job.rows.len() as u32).collect();
                    }
                    &all
                }
            };
            let Some(matched) = run_match(kind, &job, candidates, &mut matchers, &current) else {
                continue;
            };
            let mut mask = vec![false; job.rows.len()];
            for i in &matched {
                mask[*i as usize] = true;
            }
            let counts = match job.breakdown_col {
                Some(c) => breakdown(matched.iter().map(|i| job.rows[*i as usize].cell(c))),
                None => Vec::new(),
            };
            let n = matched.len();
            last.insert(
                job.table,
                Last {
                    rows: job.rows.clone(),
                    visible: job.visible.clone(),
                    query: job.query.clone(),
                    matched,
                },
            );
            deliver(FilterResult {
                table: job.table,
                generation: job.generation,
                mask: Arc::new(mask),
                breakdown: counts,
                matched: n,
            });
        }
    }
}

/// Can the matches of `new` only be a subset of those of `old`? True when `new` extends
/// `old` and `old` uses none of the syntax for which extending widens the match: `!` (a
/// longer negated term excludes fewer rows), `$` (`ab$` becomes the plain term `ab$c`),
/// `\` escapes, or a bare `'`/`^` whose meaning changes once text follows.
pub fn narrows(old: &str, new: &str) -> bool {
    !old.is_empty()
        && new.starts_with(old)
        && !old.contains(['!', '$', '\\'])
        && !old
            .split_whitespace()
            .any(|t| t == "'" || t == "^" || t == "'^")
}

/// The rows of `candidates` whose line matches; `None` when abandoned for a newer request.
fn run_match(
    kind: MatcherKind,
    job: &FilterJob,
    candidates: &[u32],
    matchers: &mut [Matcher; 2],
    current: &(dyn Fn() -> bool + Sync),
) -> Option<Vec<u32>> {
    let pattern = Pattern::parse(&job.query, CaseMatching::Smart, Normalization::Smart);
    let [m0, m1] = matchers;
    if candidates.len() < SPLIT_MIN {
        return scan(kind, job, &pattern, candidates, m0, current);
    }
    let (a, b) = candidates.split_at(candidates.len() / 2);
    let (ra, rb) = std::thread::scope(|s| {
        let other = s.spawn(|| scan(kind, job, &pattern, b, m1, current));
        let ra = scan(kind, job, &pattern, a, m0, current);
        // A panic in the helper is a bug in the matcher: drop this result rather than
        // take the console down.
        (ra, other.join().ok().flatten())
    });
    let mut out = ra?;
    out.extend(rb?);
    Some(out)
}

/// Match the lines of `rows` (ascending indices), checking for a newer request every
/// 2 048 rows.
fn scan(
    kind: MatcherKind,
    job: &FilterJob,
    pattern: &Pattern,
    rows: &[u32],
    matcher: &mut Matcher,
    current: &(dyn Fn() -> bool + Sync),
) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let skim = (kind == MatcherKind::Skim).then(fuzzy_matcher::skim::SkimMatcherV2::default);
    // The filter needs yes/no, not fzf's optimal score: a fuzzy term matches exactly when
    // its characters occur in order, which the greedy O(n) pass decides as well as the
    // optimal O(n·m) one (the costly part when most rows match, as `sn…` does on serials).
    // Each term's case and normalization settings are what `Atom::score` puts into the
    // matcher's config; scoring an empty line sets them without matching anything.
    let atoms: Vec<(bool, bool)> = pattern
        .atoms
        .iter()
        .map(|a| {
            let _ = a.score(Utf32Str::Ascii(b""), matcher);
            (matcher.config.ignore_case, matcher.config.normalize)
        })
        .collect();
    let greedy = |hay: Utf32Str<'_>, m: &mut Matcher| {
        pattern.atoms.iter().zip(&atoms).all(|(a, (ic, norm))| {
            if a.kind == AtomKind::Fuzzy && !a.negative {
                m.config.ignore_case = *ic;
                m.config.normalize = *norm;
                m.fuzzy_match_greedy(hay, a.needle_text()).is_some()
            } else {
                a.score(hay, m).is_some()
            }
        })
    };
    for (n, i) in rows.iter().enumerate() {
        if n % 2048 == 0 && !current() {
            return None;
        }
        let Some(row) = job.rows.get(*i as usize) else {
            continue;
        };
        let line = row.joined(&job.visible);
        let hit = match &skim {
            None => greedy(Utf32Str::new(&line, &mut buf), matcher),
            Some(skim) => {
                use fuzzy_matcher::FuzzyMatcher;
                skim.fuzzy_match(&line, &job.query).is_some()
            }
        };
        if hit {
            out.push(*i);
        }
    }
    Some(out)
}

/// The line a row is matched against: its visible cells joined with [`SEP`].
pub fn join_cells(row: &Row, visible: &[usize]) -> String {
    row.joined(visible).into_owned()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::model::table::Mark;

    #[test]
    fn narrowing_only_for_queries_that_can_only_shrink() {
        assert!(narrows("ap", "ap-"));
        assert!(narrows("6300m", "6300m eu"));
        assert!(narrows("'ab", "'abc"));
        assert!(!narrows("", "a"));
        assert!(!narrows("abc", "ab"));
        assert!(!narrows("!ab", "!abc"));
        assert!(!narrows("ab$", "ab$c"));
        assert!(!narrows("'", "'a"));
        assert!(!narrows("x ^", "x ^a"));
    }

    fn filter(rows: &Arc<Vec<Row>>, queries: &[&str]) -> Vec<Vec<bool>> {
        let (tx, rx) = mpsc::channel();
        let w = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
            let _ = tx.send(r);
        });
        let mut out = Vec::new();
        for (g, q) in queries.iter().enumerate() {
            w.submit(FilterJob {
                table: TableId::Devices,
                generation: g as u64 + 1,
                query: q.to_string(),
                rows: rows.clone(),
                visible: vec![0, 1],
                breakdown_col: Some(1),
            });
            let r = rx.recv().expect("a result");
            out.push(r.mask.to_vec());
        }
        out
    }

    #[test]
    fn narrowed_and_split_scans_match_a_full_scan() {
        let rows: Arc<Vec<Row>> = Arc::new(
            (0..20_000)
                .map(|i| {
                    Row::new(
                        format!("id{i}"),
                        vec![format!("SN{i:05X}"), ["AP", "SWITCH", "gw"][i % 3].into()],
                        Mark::Normal,
                    )
                })
                .collect(),
        );
        let typed = filter(&rows, &["s", "sn", "sn1", "sn1 a", "sn1 ap", "sn1 ap!"]);
        for (q, got) in ["s", "sn", "sn1", "sn1 a", "sn1 ap", "sn1 ap!"]
            .iter()
            .zip(&typed)
        {
            let fresh = filter(&rows, &[q]);
            assert_eq!(&fresh[0], got, "query {q}");
        }
        // Smart case: an upper-case letter makes the term case-sensitive.
        let gw = filter(&rows, &["gw", "GW"]);
        assert_eq!(gw[0].iter().filter(|m| **m).count(), 6_666);
        assert_eq!(gw[1].iter().filter(|m| **m).count(), 0);
    }
}
