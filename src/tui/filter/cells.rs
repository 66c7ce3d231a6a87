//! How one term's text is compared with one cell: anchored, exact and substring matches
//! with smart case, and `key=value` lookups in a tags cell.
//!
//! These comparisons are the filter's own rather than `nucleo-matcher`'s: its prefix,
//! suffix and exact matches are made for a whole line (they skip leading and trailing
//! spaces), and its case-sensitive ASCII path compares the whole haystack with the needle,
//! so `^VNT` matched only the rows whose text happened to be non-ASCII. A cell is short,
//! so a plain scan is as quick as anything cleverer.

/// What a term asks of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `'text` (and a scoped term's plain value): the cell contains the text.
    Substring,
    /// `^text`: the cell starts with it.
    Prefix,
    /// `text$`: the cell ends with it.
    Suffix,
    /// `^text$`: the cell is exactly the text.
    Exact,
}

/// A term's text with its smart case: case-insensitive unless the text has an upper-case
/// letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle {
    /// As typed (after escapes): what narrowing compares.
    pub raw: Box<str>,
    /// What cells are compared with: `raw`, lower-cased when case is ignored.
    folded: Box<str>,
    pub ignore_case: bool,
}

/// One character in lower case, when that is one character (the rare letters whose lower
/// case is longer are compared as they are).
fn lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Does `text` ask for case-sensitive matching (smart case)?
pub fn has_upper(text: &str) -> bool {
    text.chars().any(char::is_uppercase)
}

impl Needle {
    /// A needle with the smart case of its own text.
    pub fn new(raw: &str) -> Needle {
        Needle::with_case(raw, !has_upper(raw))
    }

    /// A needle whose case rule comes from a larger term (a tag's `key=value`).
    pub fn with_case(raw: &str, ignore_case: bool) -> Needle {
        let folded = if ignore_case {
            raw.chars().map(lower).collect()
        } else {
            raw.to_string()
        };
        Needle {
            raw: raw.into(),
            folded: folded.into_boxed_str(),
            ignore_case,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Does `cell` match? Allocates only for a non-ASCII cell when case is ignored.
    pub fn matches(&self, kind: Kind, cell: &str) -> bool {
        let n = &*self.folded;
        if !self.ignore_case {
            return test(kind, cell, n);
        }
        if cell.is_ascii() {
            return test_ascii_nocase(kind, cell.as_bytes(), n.as_bytes());
        }
        let folded: String = cell.chars().map(lower).collect();
        test(kind, &folded, n)
    }

    /// Is `cell` equal to the needle (a tag's key or value)?
    pub fn equals(&self, cell: &str) -> bool {
        self.matches(Kind::Exact, cell)
    }

    /// Where in `cell` it matches, in characters (start, length): for highlighting.
    pub fn find(&self, kind: Kind, cell: &str) -> Option<(usize, usize)> {
        let hay: Vec<char> = if self.ignore_case {
            cell.chars().map(lower).collect()
        } else {
            cell.chars().collect()
        };
        let n: Vec<char> = self.folded.chars().collect();
        if n.len() > hay.len() {
            return None;
        }
        let at = match kind {
            Kind::Prefix => (hay[..n.len()] == n[..]).then_some(0),
            Kind::Suffix => (hay[hay.len() - n.len()..] == n[..]).then_some(hay.len() - n.len()),
            Kind::Exact => (hay == n).then_some(0),
            Kind::Substring if n.is_empty() => Some(0),
            Kind::Substring => hay.windows(n.len()).position(|w| w == &n[..]),
        }?;
        Some((at, n.len()))
    }
}

fn test(kind: Kind, cell: &str, n: &str) -> bool {
    match kind {
        Kind::Substring => cell.contains(n),
        Kind::Prefix => cell.starts_with(n),
        Kind::Suffix => cell.ends_with(n),
        Kind::Exact => cell == n,
    }
}

/// [`test`] for an ASCII cell against a lower-case needle, folding the cell as it goes.
fn test_ascii_nocase(kind: Kind, cell: &[u8], n: &[u8]) -> bool {
    let eq = |a: &[u8]| a.iter().zip(n).all(|(x, y)| x.to_ascii_lowercase() == *y);
    if n.len() > cell.len() {
        return false;
    }
    match kind {
        Kind::Prefix => eq(&cell[..n.len()]),
        Kind::Suffix => eq(&cell[cell.len() - n.len()..]),
        Kind::Exact => n.len() == cell.len() && eq(cell),
        Kind::Substring => {
            let Some(first) = n.first() else {
                return true;
            };
            (0..=cell.len() - n.len())
                .any(|i| cell[i].to_ascii_lowercase() == *first && eq(&cell[i..i + n.len()]))
        }
    }
}

/// The `key=value` entries of a tags cell (`site=HQ,env=lab`, as the store joins them).
pub fn tag_entries(cell: &str) -> impl Iterator<Item = (&str, &str)> {
    cell.split(',')
        .filter(|e| !e.is_empty())
        .map(|e| e.split_once('=').unwrap_or((e, "")))
}

/// Character range of the first entry of a tags cell that `hit` accepts (highlighting).
pub fn find_tag(cell: &str, hit: impl Fn(&str, &str) -> bool) -> Option<(usize, usize)> {
    let mut at = 0;
    for entry in cell.split(',') {
        let len = entry.chars().count();
        let (k, v) = entry.split_once('=').unwrap_or((entry, ""));
        if !entry.is_empty() && hit(k, v) {
            return Some((at, len));
        }
        at += len + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_apply_to_the_cell_with_smart_case() {
        let upper = Needle::new("VNT");
        let lower = Needle::new("vnt");
        for cell in ["VNT07GQCSQ", "VNT07 — ü"] {
            assert!(upper.matches(Kind::Prefix, cell), "{cell}");
            assert!(lower.matches(Kind::Prefix, cell), "{cell}");
        }
        assert!(!upper.matches(Kind::Prefix, "vnt07"));
        assert!(lower.matches(Kind::Prefix, "Vnt07"));
        assert!(Needle::new("gqcsq").matches(Kind::Suffix, "VNT07GQCSQ"));
        assert!(!Needle::new("GQCSQ").matches(Kind::Suffix, "VNT07GQCSQ "));
        assert!(Needle::new("ap").matches(Kind::Exact, "AP"));
        assert!(!Needle::new("ap").matches(Kind::Exact, "IAP"));
        assert!(Needle::new("ωж").matches(Kind::Substring, "xΩЖy"));
        assert!(!Needle::new("ΩЖ").matches(Kind::Substring, "xωжy"));
        assert_eq!(Needle::new("ж").find(Kind::Substring, "東Жa"), Some((1, 1)));
        assert_eq!(Needle::new("sq").find(Kind::Suffix, "GQCSQ"), Some((3, 2)));
    }

    #[test]
    fn tags_are_key_value_entries() {
        let cell = "env=lab,site=HQ,x";
        let got: Vec<_> = tag_entries(cell).collect();
        assert_eq!(got, [("env", "lab"), ("site", "HQ"), ("x", "")]);
        assert_eq!(find_tag(cell, |k, _| k == "site"), Some((8, 7)));
        assert_eq!(find_tag("", |_, _| true), None);
    }
}
