//! The console's filter tells the truth (issue 14, item 1): random tables (upper and lower
//! case, non-ASCII text, hidden columns, tags) and random queries built from the filter
//! syntax; the worker's rows and count are compared with the same predicate evaluated here,
//! directly over the cells, from the query's structure (not by parsing its text). Queries
//! are typed a character at a time, so narrowing is exercised on the way. The demo's data
//! against PostgreSQL's counts is in `tui_filter_demo.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use glp_console::tui::app::TableId;
use glp_console::tui::filter::{FilterJob, FilterResult, FilterWorker, MatcherKind, Query};
use glp_console::tui::model::table::{Column, Mark, Row};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------------------------------------
// The filter under test, as the console drives it.
// ---------------------------------------------------------------------------------------------

struct Filter {
    worker: FilterWorker,
    rx: mpsc::Receiver<FilterResult>,
    generation: u64,
}

impl Filter {
    fn new() -> Filter {
        let (tx, rx) = mpsc::channel();
        let worker = FilterWorker::spawn(MatcherKind::Nucleo, move |r| {
            let _ = tx.send(r);
        });
        Filter {
            worker,
            rx,
            generation: 0,
        }
    }

    /// Type `text` a character at a time (each prefix is filtered and awaited, as typing
    /// would); the mask of the whole text.
    fn typed(
        &mut self,
        rows: &Arc<Vec<Row>>,
        columns: &[Column],
        visible: &[usize],
        text: &str,
    ) -> Vec<bool> {
        let mut last = None;
        assert!(Query::parse(text, columns).is_ok(), "{text:?} parses");
        for (i, _) in text.char_indices().skip(1).chain([(text.len(), ' ')]) {
            let prefix = text[..i].trim();
            if prefix.is_empty() {
                continue;
            }
            last = self.run(rows, columns, visible, prefix);
        }
        last.expect("the whole query parses")
    }

    fn run(
        &mut self,
        rows: &Arc<Vec<Row>>,
        columns: &[Column],
        visible: &[usize],
        q: &str,
    ) -> Option<Vec<bool>> {
        // A prefix of a scoped term may name no column yet (`s:` before `se:`): the console
        // shows why and runs nothing.
        let query = Query::parse(q, columns).ok()?;
        self.generation += 1;
        self.worker.submit(FilterJob {
            table: TableId::Devices,
            generation: self.generation,
            query: Arc::new(query),
            rows: rows.clone(),
            visible: visible.to_vec(),
            breakdown_col: None,
        });
        let r = self
            .rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a result");
        assert_eq!(r.generation, self.generation);
        assert_eq!(r.matched, r.mask.iter().filter(|m| **m).count());
        Some(r.mask.to_vec())
    }
}

// ---------------------------------------------------------------------------------------------
// The predicate, evaluated directly.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Fuzzy,
    Substring,
    Prefix,
    Suffix,
    Exact,
}

#[derive(Debug, Clone)]
enum Term {
    /// A term over the visible cells (fuzzy: over the visible cells joined).
    Any {
        kind: Kind,
        needle: String,
        negated: bool,
    },
    /// A term over one column (hidden or not).
    Col {
        col: usize,
        reference: String,
        kind: Kind,
        needle: String,
        negated: bool,
    },
    /// A term over the Tags column: `key` or `key=value`.
    Tag {
        col: usize,
        reference: String,
        key: String,
        value: Option<String>,
        negated: bool,
    },
}

impl Term {
    fn text(&self) -> String {
        fn op(kind: Kind, needle: &str) -> String {
            match kind {
                Kind::Fuzzy => needle.to_string(),
                Kind::Substring => format!("'{needle}"),
                Kind::Prefix => format!("^{needle}"),
                Kind::Suffix => format!("{needle}$"),
                Kind::Exact => format!("^{needle}$"),
            }
        }
        let bang = |n: bool| if n { "!" } else { "" };
        match self {
            Term::Any {
                kind,
                needle,
                negated,
            } => format!("{}{}", bang(*negated), op(*kind, needle)),
            Term::Col {
                reference,
                kind,
                needle,
                negated,
                ..
            } => {
                // A scoped plain value is a substring match, written without the quote too.
                format!("{}{reference}:{}", bang(*negated), op(*kind, needle))
            }
            Term::Tag {
                reference,
                key,
                value,
                negated,
                ..
            } => match value {
                Some(v) => format!("{}{reference}:{key}={v}", bang(*negated)),
                None => format!("{}{reference}:{key}", bang(*negated)),
            },
        }
    }
}

/// Smart case: a needle with an upper-case letter is matched as typed, any other ignoring case.
fn fold(needle: &str, s: &str) -> String {
    if needle.chars().any(char::is_uppercase) {
        s.to_string()
    } else {
        s.to_lowercase()
    }
}

fn cell_matches(kind: Kind, needle: &str, cell: &str) -> bool {
    let (n, c) = (fold(needle, needle), fold(needle, cell));
    match kind {
        Kind::Fuzzy => {
            let mut hay = c.chars();
            n.chars().all(|x| hay.any(|h| h == x))
        }
        Kind::Substring => c.contains(&n),
        Kind::Prefix => c.starts_with(&n),
        Kind::Suffix => c.ends_with(&n),
        Kind::Exact => c == n,
    }
}

fn term_matches(t: &Term, row: &Row, visible: &[usize]) -> bool {
    match t {
        Term::Any {
            kind: Kind::Fuzzy,
            needle,
            negated: false,
        } => {
            let line: Vec<&str> = visible.iter().map(|c| row.cell(*c)).collect();
            cell_matches(Kind::Fuzzy, needle, &line.join("  "))
        }
        Term::Any {
            kind,
            needle,
            negated,
        } => {
            // `!word` excludes rows with a cell containing the word (fzf's `!` is not fuzzy).
            let kind = if *kind == Kind::Fuzzy {
                Kind::Substring
            } else {
                *kind
            };
            visible
                .iter()
                .any(|c| cell_matches(kind, needle, row.cell(*c)))
                != *negated
        }
        Term::Col {
            col,
            kind,
            needle,
            negated,
            ..
        } => {
            // A scoped plain value is a substring of that one cell.
            let kind = if *kind == Kind::Fuzzy {
                Kind::Substring
            } else {
                *kind
            };
            cell_matches(kind, needle, row.cell(*col)) != *negated
        }
        Term::Tag {
            col,
            key,
            value,
            negated,
            ..
        } => {
            let whole = match value {
                Some(v) => format!("{key}={v}"),
                None => key.clone(),
            };
            let hit = row
                .cell(*col)
                .split(',')
                .filter(|e| !e.is_empty())
                .any(|e| {
                    let (k, v) = e.split_once('=').unwrap_or((e, ""));
                    fold(&whole, k) == fold(&whole, key)
                        && value
                            .as_ref()
                            .is_none_or(|want| fold(&whole, v) == fold(&whole, want))
                });
            hit != *negated
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random tables and queries.
// ---------------------------------------------------------------------------------------------

const NAMES: &[&str] = &[
    "Serial",
    "Type",
    "Region/App",
    "Tags",
    "Model",
    "Sub end",
    "Name",
    "Days left",
];
const CHARS: &[char] = &[
    'a', 'b', 'c', 'x', 'A', 'B', 'C', 'X', '0', '1', '9', '-', '.', '_', 'Ω', 'ω', 'Ж', 'ж', '東',
    '—',
];
const TAG_KEYS: &[&str] = &["site", "Site", "env", "rack", "cost-center"];
const TAG_VALUES: &[&str] = &["HQ", "hq", "lab", "Lab", "東京", "x"];

fn norm(name: &str) -> String {
    name.to_lowercase().replace([' ', '/'], "")
}

fn random_cell(rng: &mut StdRng) -> String {
    let n = rng.random_range(0..=8);
    let mut s: String = (0..n)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())])
        .collect();
    // Now and then a space inside a cell (as in `São Paulo`).
    if rng.random_bool(0.1) {
        s.push(' ');
        s.push(CHARS[rng.random_range(0..CHARS.len())]);
    }
    s
}

fn random_tags(rng: &mut StdRng) -> String {
    let n = rng.random_range(0..=3);
    let mut out: Vec<String> = (0..n)
        .map(|_| {
            format!(
                "{}={}",
                TAG_KEYS[rng.random_range(0..TAG_KEYS.len())],
                TAG_VALUES[rng.random_range(0..TAG_VALUES.len())]
            )
        })
        .collect();
    out.sort();
    out.join(",")
}

struct Table {
    columns: Vec<Column>,
    visible: Vec<usize>,
    rows: Arc<Vec<Row>>,
}

fn random_table(rng: &mut StdRng) -> Table {
    let mut names: Vec<&str> = NAMES.to_vec();
    let n = rng.random_range(2..=6);
    let mut picked = Vec::new();
    for _ in 0..n {
        picked.push(names.remove(rng.random_range(0..names.len())));
    }
    let mut columns: Vec<Column> = picked
        .iter()
        .map(|n| {
            let c = Column::text(n, 20);
            if rng.random_bool(0.3) { c.hidden() } else { c }
        })
        .collect();
    if columns.iter().all(|c| !c.visible) {
        columns[0].visible = true;
    }
    let visible = (0..columns.len()).filter(|c| columns[*c].visible).collect();
    let rows = (0..rng.random_range(0..=60))
        .map(|i| {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| {
                    if c.name == "Tags" {
                        random_tags(rng)
                    } else {
                        random_cell(rng)
                    }
                })
                .collect();
            Row::new(format!("r{i}"), cells, Mark::Normal)
        })
        .collect();
    Table {
        columns,
        visible,
        rows: Arc::new(rows),
    }
}

/// A needle: mostly a piece of a real cell (so terms hit), case flipped now and then, never
/// containing the syntax's own characters.
fn random_needle(rng: &mut StdRng, t: &Table, col: Option<usize>) -> String {
    let special = |c: char| c.is_whitespace() || "^'!$\\:=,".contains(c);
    if !t.rows.is_empty() && rng.random_bool(0.75) {
        let row = &t.rows[rng.random_range(0..t.rows.len())];
        let c = col.unwrap_or_else(|| rng.random_range(0..t.columns.len()));
        let chars: Vec<char> = row.cell(c).chars().collect();
        if !chars.is_empty() {
            let start = rng.random_range(0..chars.len());
            let len = rng.random_range(1..=(chars.len() - start).min(4));
            let piece: String = chars[start..start + len]
                .iter()
                .map(|ch| {
                    if rng.random_bool(0.25) {
                        if ch.is_uppercase() {
                            ch.to_lowercase().next().unwrap()
                        } else {
                            ch.to_uppercase().next().unwrap()
                        }
                    } else {
                        *ch
                    }
                })
                .collect();
            if !piece.is_empty() && !piece.chars().any(special) {
                return piece;
            }
        }
    }
    let n = rng.random_range(1..=3);
    (0..n)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())])
        .collect()
}

/// The ways to name `col` in a scoped term: its name or a prefix only it has, any case.
fn random_reference(rng: &mut StdRng, t: &Table, col: usize) -> String {
    let full = norm(t.columns[col].name);
    let norms: Vec<String> = t.columns.iter().map(|c| norm(c.name)).collect();
    let ok: Vec<String> = (1..=full.len())
        .map(|n| full[..n].to_string())
        .filter(|p| {
            *p == full
                || (!norms.iter().any(|o| o == p)
                    && norms.iter().filter(|o| o.starts_with(p.as_str())).count() == 1)
        })
        .collect();
    let p = ok[rng.random_range(0..ok.len())].clone();
    match rng.random_range(0..3) {
        0 => p.to_uppercase(),
        1 => {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
        _ => p,
    }
}

fn random_kind(rng: &mut StdRng) -> Kind {
    [
        Kind::Fuzzy,
        Kind::Substring,
        Kind::Prefix,
        Kind::Suffix,
        Kind::Exact,
    ][rng.random_range(0..5)]
}

fn random_term(rng: &mut StdRng, t: &Table) -> Term {
    let negated = rng.random_bool(0.2);
    if rng.random_bool(0.45) {
        let col = rng.random_range(0..t.columns.len());
        let reference = random_reference(rng, t, col);
        if t.columns[col].name == "Tags" {
            let key = if rng.random_bool(0.8) {
                TAG_KEYS[rng.random_range(0..TAG_KEYS.len())].to_string()
            } else {
                "SITE".to_string()
            };
            let value = rng
                .random_bool(0.6)
                .then(|| TAG_VALUES[rng.random_range(0..TAG_VALUES.len())].to_string());
            return Term::Tag {
                col,
                reference,
                key,
                value,
                negated,
            };
        }
        let kind = random_kind(rng);
        let needle = random_needle(rng, t, Some(col));
        return Term::Col {
            col,
            reference,
            kind,
            needle,
            negated,
        };
    }
    let kind = random_kind(rng);
    let needle = random_needle(rng, t, None);
    Term::Any {
        kind,
        needle,
        negated,
    }
}

#[test]
fn the_filter_agrees_with_the_predicate_evaluated_over_the_cells() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0014);
    let mut f = Filter::new();
    let mut checked = 0;
    let mut matched_some = 0;
    for case in 0..400 {
        let t = random_table(&mut rng);
        for _ in 0..4 {
            let n = [1, 1, 1, 2, 2, 3][rng.random_range(0..6)];
            let terms: Vec<Term> = (0..n).map(|_| random_term(&mut rng, &t)).collect();
            let text = terms
                .iter()
                .map(Term::text)
                .collect::<Vec<_>>()
                .join(if rng.random_bool(0.5) { " " } else { "  " });
            let want: Vec<bool> = t
                .rows
                .iter()
                .map(|r| terms.iter().all(|term| term_matches(term, r, &t.visible)))
                .collect();
            let got = f.typed(&t.rows, &t.columns, &t.visible, &text);
            let cols: Vec<String> = t
                .columns
                .iter()
                .map(|c| format!("{}{}", c.name, if c.visible { "" } else { " (hidden)" }))
                .collect();
            let cells: Vec<Vec<&str>> = t
                .rows
                .iter()
                .map(|r| (0..t.columns.len()).map(|c| r.cell(c)).collect())
                .collect();
            assert_eq!(
                got.iter().filter(|m| **m).count(),
                want.iter().filter(|m| **m).count(),
                "case {case}: query {text:?} ({terms:?})\ncolumns {cols:?}\nrows {cells:?}"
            );
            assert_eq!(
                got, want,
                "case {case}: query {text:?}\ncolumns {cols:?}\nrows {cells:?}"
            );
            checked += 1;
            matched_some += usize::from(want.iter().any(|m| *m) && !want.iter().all(|m| *m));
        }
    }
    // The generator is useful only if most queries split their table.
    assert!(
        matched_some * 3 > checked,
        "{matched_some} of {checked} queries split their table"
    );
}
