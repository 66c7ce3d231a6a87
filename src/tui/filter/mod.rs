//! Filtering off the render path.
//!
//! The query is parsed on the UI thread ([`query`]: a mistake such as an unknown column is
//! shown at once) and matched on a dedicated thread: fuzzy terms against each row's visible
//! cells joined into one line (borrowed from the row itself: its cells are stored joined, so
//! no second copy of the table is kept), anchored, exact and negated terms against each
//! cell ([`cells`]), column-scoped terms against their one cell, shown or hidden. Every
//! request carries a generation; a request superseded by a newer one for the same table is
//! abandoned mid-scan, and the table drops any result whose generation it no longer awaits.
//! The UI thread never waits for a match.
//!
//! Typing usually extends the query, and a row that fails `abc` cannot match `abcd`, so a
//! query whose terms each imply the last completed query's re-checks only that one's
//! matches ("narrowing", [`Query::narrows`]: never for `!`, `$`, exact or tag values, where a
//! longer text can match more). Scans of many rows are split across two threads.
//!
//! Fuzzy terms use `nucleo-matcher`'s fuzzy match (fzf's algorithm, smart case, accents
//! folded: `zurich` finds `Zürich`). They stay on the joined line because a fuzzy term is a
//! loose "these letters in this order" search, the way fzf users type, and one match per row
//! is the cheap case. `fuzzy-matcher`'s Skim V2 is kept selectable so the benchmark measures
//! both on the same code path.

mod cells;
pub mod query;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use nucleo_matcher::{Config, Matcher, Utf32Str};

pub use super::model::table::SEP;
use super::model::table::{Column, Row, TableModel, breakdown};
use super::model::table_id::TableId;
use cells::{find_tag, tag_entries};
pub use query::{Query, QueryError};
use query::{Scope, Term};

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
    pub query: Arc<Query>,
    pub rows: Arc<Vec<Row>>,
    pub visible: Vec<usize>,
    pub breakdown_col: Option<usize>,
}

impl FilterJob {
    /// The request for a table's current filter, or why its text cannot be run.
    pub fn for_table(
        table: TableId,
        generation: u64,
        model: &TableModel,
    ) -> Result<FilterJob, QueryError> {
        Ok(FilterJob {
            table,
            generation,
            query: Arc::new(Query::parse(&model.filter, &model.columns)?),
            rows: model.rows().clone(),
            visible: model.visible_columns(),
            breakdown_col: model.breakdown_col,
        })
    }
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
    query: Arc<Query>,
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
                    && job.query.narrows(&l.query)
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

/// The rows of `candidates` that match; `None` when abandoned for a newer request.
fn run_match(
    kind: MatcherKind,
    job: &FilterJob,
    candidates: &[u32],
    matchers: &mut [Matcher; 2],
    current: &(dyn Fn() -> bool + Sync),
) -> Option<Vec<u32>> {
    let [m0, m1] = matchers;
    if candidates.len() < SPLIT_MIN {
        return scan(kind, job, candidates, m0, current);
    }
    let (a, b) = candidates.split_at(candidates.len() / 2);
    let (ra, rb) = std::thread::scope(|s| {
        let other = s.spawn(|| scan(kind, job, b, m1, current));
        let ra = scan(kind, job, a, m0, current);
        // A panic in the helper is a bug in the matcher: drop this result rather than
        // take the console down.
        (ra, other.join().ok().flatten())
    });
    let mut out = ra?;
    out.extend(rb?);
    Some(out)
}

/// Per term, the case and normalization settings a fuzzy term's atom puts into the
/// matcher (what `Atom::score` would set; scoring an empty line sets them without matching).
fn fuzzy_settings(query: &Query, matcher: &mut Matcher) -> Vec<(bool, bool)> {
    query
        .terms
        .iter()
        .map(|t| match t {
            Term::Fuzzy { atom, .. } => {
                let _ = atom.score(Utf32Str::Ascii(b""), matcher);
                (matcher.config.ignore_case, matcher.config.normalize)
            }
            _ => (false, false),
        })
        .collect()
}

/// Does `row` match every term? `line` is its visible cells joined, which only fuzzy terms
/// read.
fn row_matches(
    query: &Query,
    settings: &[(bool, bool)],
    row: &Row,
    visible: &[usize],
    line: Option<Utf32Str<'_>>,
    m: &mut Matcher,
) -> bool {
    query
        .terms
        .iter()
        .zip(settings)
        .all(|(t, (ic, norm))| match t {
            Term::All => true,
            // The filter needs yes/no, not fzf's optimal score: a fuzzy term matches exactly
            // when its characters occur in order, which the greedy O(n) pass decides as well
            // as the optimal O(n·m) one (the costly part when most rows match).
            Term::Fuzzy { atom, .. } => line.is_some_and(|hay| {
                m.config.ignore_case = *ic;
                m.config.normalize = *norm;
                m.fuzzy_match_greedy(hay, atom.needle_text()).is_some()
            }),
            Term::Cells {
                kind,
                needle,
                scope,
                negated,
            } => {
                let hit = match scope {
                    Scope::Visible => visible.iter().any(|c| needle.matches(*kind, row.cell(*c))),
                    Scope::Column(c) => needle.matches(*kind, row.cell(*c)),
                };
                hit != *negated
            }
            Term::Tag {
                col,
                key,
                value,
                negated,
            } => {
                let hit = tag_entries(row.cell(*col))
                    .any(|(k, v)| key.equals(k) && value.as_ref().is_none_or(|w| w.equals(v)));
                hit != *negated
            }
        })
}

/// `s` as the matcher reads it, one character a position. Not `Utf32Str::new`: that
/// segments a non-ASCII line into graphemes, which cost two thirds of every scan over rows
/// with an accent or a CJK tag anywhere in them (a filter keystroke over 90 000 such rows took
/// ~160 ms instead of ~30). Characters are also the positions the highlighter marks (it counts
/// cells by `chars()`), so a combining mark no longer shifts the highlight.
fn utf32<'a>(s: &'a str, buf: &'a mut Vec<char>) -> Utf32Str<'a> {
    if s.is_ascii() {
        return Utf32Str::Ascii(s.as_bytes());
    }
    buf.clear();
    buf.extend(s.chars());
    Utf32Str::Unicode(buf)
}

/// Match `rows` (ascending indices), checking for a newer request every 2 048 rows.
fn scan(
    kind: MatcherKind,
    job: &FilterJob,
    rows: &[u32],
    matcher: &mut Matcher,
    current: &(dyn Fn() -> bool + Sync),
) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let skim = (kind == MatcherKind::Skim).then(fuzzy_matcher::skim::SkimMatcherV2::default);
    let settings = fuzzy_settings(&job.query, matcher);
    // Only fuzzy terms need the joined line; anchored and scoped ones read the cells.
    let joined = job.query.has_fuzzy() || skim.is_some();
    for (n, i) in rows.iter().enumerate() {
        if n % 2048 == 0 && !current() {
            return None;
        }
        let Some(row) = job.rows.get(*i as usize) else {
            continue;
        };
        let line = joined.then(|| row.joined(&job.visible));
        let hit = match &skim {
            None => {
                let hay = line.as_deref().map(|l| utf32(l, &mut buf));
                row_matches(&job.query, &settings, row, &job.visible, hay, matcher)
            }
            Some(skim) => {
                use fuzzy_matcher::FuzzyMatcher;
                skim.fuzzy_match(line.as_deref().unwrap_or(""), job.query.text())
                    .is_some()
            }
        };
        if hit {
            out.push(*i);
        }
    }
    Some(out)
}

/// The matched characters of the few rows on screen, for highlighting: positions in the
/// row's visible cells joined with [`SEP`]. Parsed once per frame.
pub struct Highlighter {
    query: Option<Query>,
}

impl Highlighter {
    /// For a table's filter text; highlights nothing when it is empty or does not parse.
    pub fn new(text: &str, columns: &[Column]) -> Highlighter {
        Highlighter {
            query: (!text.is_empty())
                .then(|| Query::parse(text, columns).ok())
                .flatten(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.query.is_none()
    }

    /// Character positions in the joined line, ascending (fuzzy terms as fzf scores them,
    /// cell terms where they match; negated terms mark nothing).
    pub fn indices(&self, row: &Row, visible: &[usize], matcher: &mut Matcher) -> Vec<u32> {
        let Some(q) = &self.query else {
            return Vec::new();
        };
        let sep = SEP.chars().count() as u32;
        let mut starts = Vec::with_capacity(visible.len());
        let mut at = 0u32;
        for c in visible {
            starts.push(at);
            at += row.cell(*c).chars().count() as u32 + sep;
        }
        let mut idx = Vec::new();
        let mut mark = |n: usize, (s, len): (usize, usize)| {
            let start = starts.get(n).copied().unwrap_or(0) + s as u32;
            idx.extend(start..start + len as u32);
        };
        let mut fuzzy = Vec::new();
        for t in &q.terms {
            match t {
                Term::Fuzzy { atom, .. } => fuzzy.push(atom),
                Term::Cells {
                    kind,
                    needle,
                    scope,
                    negated: false,
                } => {
                    for (n, c) in visible.iter().enumerate() {
                        if (*scope == Scope::Visible || *scope == Scope::Column(*c))
                            && let Some(r) = needle.find(*kind, row.cell(*c))
                        {
                            mark(n, r);
                        }
                    }
                }
                Term::Tag {
                    col,
                    key,
                    value,
                    negated: false,
                } => {
                    let hit = |k: &str, v: &str| {
                        key.equals(k) && value.as_ref().is_none_or(|w| w.equals(v))
                    };
                    if let Some(n) = visible.iter().position(|c| c == col)
                        && let Some(r) = find_tag(row.cell(*col), hit)
                    {
                        mark(n, r);
                    }
                }
                _ => {}
            }
        }
        if !fuzzy.is_empty() {
            let line = row.joined(visible);
            let mut buf = Vec::new();
            for atom in fuzzy {
                let _ = atom.indices(utf32(&line, &mut buf), matcher, &mut idx);
            }
        }
        idx.sort_unstable();
        idx.dedup();
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::model::table::Mark;

    fn filter(rows: &Arc<Vec<Row>>, queries: &[&str]) -> Vec<Vec<bool>> {
        let (tx, rx) = mpsc::channel();
        let w = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
            let _ = tx.send(r);
        });
        let mut out = Vec::new();
        let columns = [Column::text("Serial", 20), Column::text("Type", 12)];
        for (g, q) in queries.iter().enumerate() {
            w.submit(FilterJob {
                table: TableId::Devices,
                generation: g as u64 + 1,
                query: Arc::new(Query::parse(q, &columns).expect("parses")),
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
        // Anchored, exact, negated and scoped terms typed a key at a time.
        let typed = [
            "^", "^S", "^SN", "^SN1", "^SN1$", "t", "ty", "ty:", "ty:s", "ty:sw$",
        ];
        let got = filter(&rows, &typed);
        for (q, got) in typed.iter().zip(&got) {
            assert_eq!(&filter(&rows, &[q])[0], got, "query {q}");
        }
        let neg = filter(&rows, &["!", "!t", "!ty", "!ty:", "!ty:a", "!ty:ap"]);
        assert_eq!(neg[4].iter().filter(|m| **m).count(), 13_333, "!ty:a");
        assert_eq!(neg[5].iter().filter(|m| **m).count(), 13_333, "!ty:ap");
        // Smart case: an upper-case letter makes the term case-sensitive.
        let gw = filter(&rows, &["gw", "GW"]);
        assert_eq!(gw[0].iter().filter(|m| **m).count(), 6_666);
        assert_eq!(gw[1].iter().filter(|m| **m).count(), 0);
        let anchored = filter(&rows, &["^SN0001", "^sn0001", "^Sn0001", "type:^ap$"]);
        let n: Vec<usize> = anchored
            .iter()
            .map(|m| m.iter().filter(|x| **x).count())
            .collect();
        assert_eq!(n, [16, 16, 0, 6_667]);
    }

    #[test]
    fn highlights_follow_the_terms() {
        let columns = [
            Column::text("Serial", 20),
            Column::text("Type", 12),
            Column::text("Tags", 20),
        ];
        let row = Row::new(
            "x",
            vec!["VNT07GQCSQ".into(), "AP".into(), "env=lab,site=HQ".into()],
            Mark::Normal,
        );
        let mut m = Matcher::new(Config::DEFAULT);
        let hl = |q: &str, vis: &[usize], m: &mut Matcher| {
            Highlighter::new(q, &columns).indices(&row, vis, m)
        };
        // "VNT07GQCSQ  AP  env=lab,site=HQ": cells start at 0, 12 and 16.
        assert_eq!(hl("^VNT", &[0, 1, 2], &mut m), [0, 1, 2]);
        assert_eq!(hl("csq$ type:a", &[0, 1, 2], &mut m), [7, 8, 9, 12]);
        assert_eq!(
            hl("tag:site=HQ", &[0, 1, 2], &mut m),
            (24..31).collect::<Vec<u32>>()
        );
        assert_eq!(hl("!ap type:p", &[1], &mut m), [1]);
        assert_eq!(hl("serial:vnt", &[1, 2], &mut m), Vec::<u32>::new());
        assert_eq!(hl("ap", &[1], &mut m), [0, 1]);
        assert!(Highlighter::new("colour:red", &columns).is_empty());
    }

    /// Rows with accents, CJK and a combining mark anywhere match a fuzzy term exactly when
    /// its letters occur in order (case and accents folded), whatever else the line holds.
    #[test]
    fn fuzzy_terms_over_non_ascii_rows() {
        let cells = [
            ("Zürich", "AP"),
            ("東京オフィス", "SWITCH"),
            ("Cafe\u{301} HQ", "AP"),
            ("plain", "AP"),
            ("zurich", "東京"),
        ];
        let rows: Arc<Vec<Row>> = Arc::new(
            cells
                .iter()
                .enumerate()
                .map(|(i, (a, b))| {
                    Row::new(i.to_string(), vec![(*a).into(), (*b).into()], Mark::Normal)
                })
                .collect(),
        );
        let got = filter(&rows, &["zurich", "東京", "cafeh", "ap", "xyz", "Zu"]);
        assert_eq!(
            got,
            [
                vec![true, false, false, false, true],
                vec![false, true, false, false, true],
                vec![false, false, true, false, false],
                vec![true, false, true, true, false],
                vec![false; 5],
                // Smart case: an upper-case letter is matched as typed.
                vec![true, false, false, false, false],
            ]
        );
    }

    /// A combining mark is a character of its own on screen and in the highlight: the
    /// letters after it are marked where they are drawn.
    #[test]
    fn highlight_after_a_combining_mark() {
        let columns = [Column::text("Name", 20), Column::text("Type", 12)];
        let row = Row::new(
            "x",
            vec!["Cafe\u{301} HQ".into(), "AP".into()],
            Mark::Normal,
        );
        let mut m = Matcher::new(Config::DEFAULT);
        // "Cafe\u{301} HQ  AP": H is character 6, Q 7.
        assert_eq!(
            Highlighter::new("hq", &columns).indices(&row, &[0, 1], &mut m),
            [6, 7]
        );
    }
}
