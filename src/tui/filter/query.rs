//! The filter's syntax, parsed once per keystroke on the UI thread (it is a few terms), so a
//! mistake such as an unknown column is shown at once and the worker gets terms with their
//! columns resolved.
//!
//! Terms are separated by spaces and all must match (AND); `\ ` is a space inside a term.
//!
//! * `word` — fuzzy: the letters in order, anywhere in the row's visible cells joined;
//! * `'word` — a visible cell contains it; `^word` — a visible cell starts with it;
//!   `word$` — a visible cell ends with it; `^word$` — a visible cell is it;
//! * `!term` — no visible cell matches it (`!word` is `!'word`);
//! * `col:value` — that column (hidden or not) contains the value; `col:^v`, `col:v$`,
//!   `col:^v$` anchor in that one cell; `!col:value` negates; a column is named by its
//!   header, case-insensitive, spaces and `/` left out, or by a prefix only it has;
//! * `tag:key` / `tag:key=value` — the Tags column has that key (with that value).
//!
//! Smart case: a term whose text (the part after `col:`) has an upper-case letter matches
//! case-sensitively, any other ignores case. A lone operator (`^`, `'`, `!`, `type:`) is no
//! constraint yet. A `\` before a leading `!`, `^`, `'` or a trailing `$` makes it literal,
//! and a term that looks like a MAC address piece (`aa:bb`) is text, not a column.

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};

use super::cells::{Kind, Needle};
use crate::tui::model::table::Column;

/// Which cells a cell term looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The visible cells: a row matches when at least one does.
    Visible,
    /// One column, whether shown or not.
    Column(usize),
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// No constraint (an operator with nothing after it yet).
    All,
    /// Fuzzy over the visible cells joined with the separator (nucleo's match).
    Fuzzy { raw: Box<str>, atom: Atom },
    /// `'` `^` `$` or a scoped value: at least one cell of `scope` matches (none, negated).
    Cells {
        kind: Kind,
        needle: Needle,
        scope: Scope,
        negated: bool,
    },
    /// `tag:key[=value]` over the tags cell in column `col`.
    Tag {
        col: usize,
        key: Needle,
        value: Option<Needle>,
        negated: bool,
    },
}

/// A parsed query: its text (the Skim comparison matcher reads it) and its terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    text: String,
    pub terms: Vec<Term>,
}

/// A query the filter cannot run; shown where the filter is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("unknown column \"{0}\"")]
    UnknownColumn(String),
    #[error("column \"{0}\" could be {1}")]
    AmbiguousColumn(String, String),
    #[error("write !{0}:{1} to negate a column term")]
    NegatedValue(String, String),
}

impl Query {
    /// Parse `text` for a table with these columns.
    pub fn parse(text: &str, columns: &[Column]) -> Result<Query, QueryError> {
        let terms = split_terms(text)
            .iter()
            .map(|t| parse_term(t, columns))
            .collect::<Result<Vec<Term>, QueryError>>()?;
        Ok(Query {
            text: text.to_string(),
            terms,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Does any term need the joined line (fuzzy)?
    pub fn has_fuzzy(&self) -> bool {
        self.terms.iter().any(|t| matches!(t, Term::Fuzzy { .. }))
    }

    /// Are this query's matches a subset of `old`'s on the same rows and columns, so that
    /// only `old`'s matches need checking? True when every term of `old` is implied by the
    /// term at the same place here (typing extends the last term or adds one).
    pub fn narrows(&self, old: &Query) -> bool {
        old.terms.len() <= self.terms.len()
            && old
                .terms
                .iter()
                .zip(&self.terms)
                .all(|(o, n)| implies(n, o))
    }
}

/// Does every row matching `n` match `o`? Conservative: false when unsure.
fn implies(n: &Term, o: &Term) -> bool {
    if n == o || *o == Term::All {
        return true;
    }
    match (n, o) {
        // A line holding `abc` in order holds `ab`; the case rule can only get stricter,
        // as a longer text keeps the shorter one's capitals.
        (Term::Fuzzy { raw: nr, .. }, Term::Fuzzy { raw: or, .. }) => nr.starts_with(&**or),
        (
            Term::Cells {
                kind: nk,
                needle: nn,
                scope: ns,
                negated: false,
            },
            Term::Cells {
                kind: ok,
                needle: on,
                scope: os,
                negated: false,
            },
        ) => {
            let (n, o) = (&*nn.raw, &*on.raw);
            ns == os
                && match ok {
                    Kind::Substring => n.contains(o),
                    Kind::Prefix => matches!(nk, Kind::Prefix | Kind::Exact) && n.starts_with(o),
                    Kind::Suffix => matches!(nk, Kind::Suffix | Kind::Exact) && n.ends_with(o),
                    Kind::Exact => false,
                }
        }
        // `tag:site` → `tag:site=…`: a value only narrows the same key.
        (
            Term::Tag {
                col: nc,
                key: nk,
                negated: false,
                ..
            },
            Term::Tag {
                col: oc,
                key: ok,
                value: None,
                negated: false,
            },
        ) => nc == oc && nk.raw == ok.raw,
        _ => false,
    }
}

/// Split at unescaped white space; `\ ` becomes a space inside the term.
fn split_terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&' ') {
            cur.push(' ');
            chars.next();
        } else if c.is_whitespace() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn parse_term(raw: &str, columns: &[Column]) -> Result<Term, QueryError> {
    let (negated, rest) = match raw.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, raw),
    };
    if let Some((name, value)) = rest.split_once(':')
        && is_column_name(name)
    {
        match resolve_column(name, columns) {
            Ok(col) => return scoped(name, value, col, columns, negated),
            // `aa:bb` on a table without such a column is a piece of a MAC address.
            Err(_) if looks_like_mac(rest) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(unscoped(rest, negated))
}

/// What may name a column: a letter, then letters, digits, `_`, `-` or `/`.
fn is_column_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/".contains(c))
}

/// `aa:bb`, `3c:e8:6e`: every part one or two hex digits.
fn looks_like_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| (1..=2).contains(&p.len()) && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A header as it is typed: lower case, without spaces, `/`, `_` and `-`.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !" /_-".contains(*c))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The column a scoped term names: its whole header, else a prefix only one header has.
pub fn resolve_column(name: &str, columns: &[Column]) -> Result<usize, QueryError> {
    let want = normalize(name);
    let norms: Vec<String> = columns.iter().map(|c| normalize(c.name)).collect();
    if let Some(i) = norms.iter().position(|n| *n == want) {
        return Ok(i);
    }
    let hits: Vec<usize> = (0..norms.len())
        .filter(|i| !want.is_empty() && norms[*i].starts_with(&want))
        .collect();
    match hits[..] {
        [one] => Ok(one),
        [] => Err(QueryError::UnknownColumn(name.to_string())),
        _ => Err(QueryError::AmbiguousColumn(
            name.to_string(),
            hits.iter()
                .map(|i| columns[*i].name)
                .collect::<Vec<_>>()
                .join(" or "),
        )),
    }
}

/// Leading `^`/`'` and trailing `$` of a term's text, with their `\` escapes.
struct Ops<'a> {
    text: std::borrow::Cow<'a, str>,
    quote: bool,
    prefix: bool,
    suffix: bool,
}

fn ops(s: &str) -> Ops<'_> {
    let (mut quote, mut prefix) = (false, false);
    let mut body = s;
    let mut lead = "";
    if let Some(r) = body.strip_prefix('^') {
        (prefix, body) = (true, r);
    } else if let Some(r) = body.strip_prefix('\'') {
        (quote, body) = (true, r);
    } else if let Some(r) = body.strip_prefix('\\')
        && r.starts_with(['^', '\'', '!'])
    {
        (lead, body) = (&r[..1], &r[1..]);
    }
    let (mut suffix, mut tail) = (false, "");
    if let Some(r) = body.strip_suffix("\\$") {
        (tail, body) = ("$", r);
    } else if let Some(r) = body.strip_suffix('$') {
        (suffix, body) = (true, r);
    }
    let text = if lead.is_empty() && tail.is_empty() {
        std::borrow::Cow::Borrowed(body)
    } else {
        std::borrow::Cow::Owned(format!("{lead}{body}{tail}"))
    };
    Ops {
        text,
        quote,
        prefix,
        suffix,
    }
}

fn cell_kind(o: &Ops<'_>) -> Kind {
    match (o.prefix, o.suffix) {
        (true, true) => Kind::Exact,
        (true, false) => Kind::Prefix,
        (false, true) => Kind::Suffix,
        (false, false) => Kind::Substring,
    }
}

fn unscoped(s: &str, negated: bool) -> Term {
    let o = ops(s);
    if o.text.is_empty() {
        return Term::All;
    }
    if !negated && !o.quote && !o.prefix && !o.suffix {
        let atom = Atom::new(
            &o.text,
            CaseMatching::Smart,
            Normalization::Smart,
            AtomKind::Fuzzy,
            false,
        );
        return Term::Fuzzy {
            raw: o.text.into(),
            atom,
        };
    }
    Term::Cells {
        kind: cell_kind(&o),
        needle: Needle::new(&o.text),
        scope: Scope::Visible,
        negated,
    }
}

fn scoped(
    name: &str,
    value: &str,
    col: usize,
    columns: &[Column],
    negated: bool,
) -> Result<Term, QueryError> {
    if let Some(v) = value.strip_prefix('!') {
        return Err(QueryError::NegatedValue(name.to_string(), v.to_string()));
    }
    if normalize(columns[col].name) == "tags" {
        let (key, val) = match value.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (value, None),
        };
        if key.is_empty() && val.is_none() {
            return Ok(Term::All);
        }
        let ignore_case = !super::cells::has_upper(value);
        return Ok(Term::Tag {
            col,
            key: Needle::with_case(key, ignore_case),
            value: val.map(|v| Needle::with_case(v, ignore_case)),
            negated,
        });
    }
    let o = ops(value);
    if o.text.is_empty() {
        return Ok(Term::All);
    }
    Ok(Term::Cells {
        kind: cell_kind(&o),
        needle: Needle::new(&o.text),
        scope: Scope::Column(col),
        negated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::model::rows::device_columns;

    fn q(s: &str) -> Query {
        Query::parse(s, &device_columns()).unwrap()
    }

    fn kinds(s: &str) -> Vec<String> {
        q(s).terms
            .iter()
            .map(|t| match t {
                Term::All => "all".to_string(),
                Term::Fuzzy { raw, .. } => format!("fuzzy {raw}"),
                Term::Cells {
                    kind,
                    needle,
                    scope,
                    negated,
                } => format!(
                    "{}{kind:?} {} {scope:?}{}",
                    if *negated { "!" } else { "" },
                    needle.raw,
                    if needle.ignore_case { "" } else { " case" }
                ),
                Term::Tag {
                    col,
                    key,
                    value,
                    negated,
                } => format!(
                    "{}tag {col} {}={:?}",
                    if *negated { "!" } else { "" },
                    key.raw,
                    value.as_ref().map(|v| &*v.raw)
                ),
            })
            .collect()
    }

    #[test]
    fn the_syntax() {
        assert_eq!(kinds("^VNT"), ["Prefix VNT Visible case"]);
        assert_eq!(
            kinds("gqcsq$  'ab ^x$"),
            [
                "Suffix gqcsq Visible",
                "Substring ab Visible",
                "Exact x Visible"
            ]
        );
        assert_eq!(
            kinds("!ap !^cn"),
            ["!Substring ap Visible", "!Prefix cn Visible"]
        );
        assert_eq!(kinds("sw 6300"), ["fuzzy sw", "fuzzy 6300"]);
        assert_eq!(kinds("type:switch"), ["Substring switch Column(3)"]);
        assert_eq!(
            kinds("Serial:^VNT !TYPE:ap$"),
            ["Prefix VNT Column(0) case", "!Suffix ap Column(3)"]
        );
        assert_eq!(
            kinds("region:us-w regionapp:x"),
            ["Substring us-w Column(5)", "Substring x Column(5)"]
        );
        assert_eq!(
            kinds("sub_end:2025 name:lobby"),
            ["Substring 2025 Column(8)", "Substring lobby Column(11)"]
        );
        assert_eq!(
            kinds("tag:site=HQ tags:env !tag:rack="),
            [
                "tag 9 site=Some(\"HQ\")",
                "tag 9 env=None",
                "!tag 9 rack=Some(\"\")"
            ]
        );
        assert_eq!(kinds("^ ' ! type: $ tag:"), ["all"; 6]);
        assert_eq!(
            kinds(r"\^x a\$ \!b São\ Paulo"),
            ["fuzzy ^x", "fuzzy a$", "fuzzy !b", "fuzzy São Paulo"]
        );
        // MAC pieces and times are text; an operator first means text too.
        assert_eq!(
            kinds("3c:e8 aa:bb 12:30 'type:x"),
            [
                "fuzzy 3c:e8",
                "fuzzy aa:bb",
                "fuzzy 12:30",
                "Substring type:x Visible"
            ]
        );
    }

    #[test]
    fn mistakes_are_named() {
        let cols = device_columns();
        let err = |s: &str| Query::parse(s, &cols).unwrap_err().to_string();
        assert_eq!(err("colour:red"), "unknown column \"colour\"");
        assert_eq!(
            err("s:x"),
            "column \"s\" could be Serial or State or Subscription or Sub end"
        );
        assert_eq!(
            err("type:!switch"),
            "write !type:switch to negate a column term"
        );
        assert_eq!(resolve_column("sub", &cols).ok(), None);
        assert_eq!(resolve_column("subs", &cols), Ok(7));
        assert_eq!(resolve_column("MAC", &cols), Ok(2));
    }

    #[test]
    fn narrowing_only_where_the_matches_can_only_shrink() {
        let n = |old: &str, new: &str| q(new).narrows(&q(old));
        assert!(n("ap", "ap-"));
        assert!(n("6300m", "6300m eu"));
        assert!(n("'ab", "'abc"));
        assert!(n("^ab", "^abc"));
        assert!(n("^ab", "^abc$"));
        assert!(n("'", "'a"));
        assert!(n("x ^", "x ^a"));
        assert!(n("!", "!a"));
        assert!(n("type:", "type:s"));
        assert!(n("type:sw", "type:swi"));
        assert!(n("ty:sw", "type:swi"));
        assert!(n("tag:site", "tag:site=HQ"));
        assert!(n("ab", "abC"));
        assert!(!n("aB", "abc"));
        assert!(!n("abc", "ab"));
        assert!(!n("!ab", "!abc"));
        assert!(!n("ab$", "abc$"));
        assert!(!n("ab$", "ab$c"));
        assert!(!n("^ab$", "^ab$c"));
        assert!(n("'ab", "'ab:"));
        assert!(n("type:sw", "type:sw$"));
        assert!(!n("serial:sw", "type:swi"));
        assert!(!n("tag:site=H", "tag:site=HQ"));
        assert!(!n("tag:s", "tag:si"));
        assert!(!n("a b", "a"));
    }
}
