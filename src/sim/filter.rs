//! The OData subset GreenLake's `filter` and `filter-tags` accept (glp-api.md §3.2):
//! `eq ne gt ge lt le in`, `and or not`, parentheses, quoted strings (`''` escapes a quote),
//! numbers, booleans, `null`. Values that both parse as RFC 3339 timestamps compare as times,
//! so `updatedAt gt '2026-01-01T00:00:00.000Z'` works for incremental sync.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Which parameter an expression came from: `filter` names fields, `filter-tags` names tag
/// keys (quoted or bare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Fields,
    Tags,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Cmp {
        path: Vec<String>,
        op: CmpOp,
        lit: Lit,
    },
    In {
        path: Vec<String>,
        lits: Vec<Lit>,
    },
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if c == '\'' {
            let mut v = String::new();
            i += 1;
            loop {
                match cs.get(i) {
                    None => return Err("unterminated string literal".into()),
                    Some('\'') if cs.get(i + 1) == Some(&'\'') => {
                        v.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        v.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(v));
        } else if c.is_ascii_digit()
            || (c == '-' && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
                i += 1;
            }
            let t: String = cs[start..i].iter().collect();
            out.push(Tok::Num(t.parse().map_err(|_| format!("bad number {t}"))?));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || matches!(cs[i], '_' | '.' | '/')) {
                i += 1;
            }
            out.push(Tok::Ident(cs[start..i].iter().collect()));
        } else {
            return Err(format!("unexpected character '{c}' at position {i}"));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    target: Target,
}

fn kw(t: Option<&Tok>, word: &str) -> bool {
    matches!(t, Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(word))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut l = self.and()?;
        while kw(self.peek(), "or") {
            self.pos += 1;
            let r = self.and()?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut l = self.unary()?;
        while kw(self.peek(), "and") {
            self.pos += 1;
            let r = self.unary()?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if kw(self.peek(), "not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            if self.next() != Some(Tok::RParen) {
                return Err("missing ')'".into());
            }
            return Ok(e);
        }
        self.comparison()
    }
    fn comparison(&mut self) -> Result<Expr, String> {
        let path = match (self.next(), self.target) {
            (Some(Tok::Ident(f)), Target::Fields) => {
                f.split(['.', '/']).map(str::to_string).collect()
            }
            (Some(Tok::Ident(k) | Tok::Str(k)), Target::Tags) => vec!["tags".to_string(), k],
            (Some(Tok::Str(s)), Target::Fields) => {
                return Err(format!("expected a property name, found the string '{s}'"));
            }
            (t, _) => return Err(format!("expected a property name, found {t:?}")),
        };
        let op = match self.next() {
            Some(Tok::Ident(o)) => o.to_ascii_lowercase(),
            t => {
                return Err(format!(
                    "expected an operator after {}, found {t:?}",
                    path.join(".")
                ));
            }
        };
        let cmp = match op.as_str() {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            "in" => {
                let paren = self.peek() == Some(&Tok::LParen);
                if paren {
                    self.pos += 1;
                }
                let mut lits = vec![self.literal()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    lits.push(self.literal()?);
                }
                if paren && self.next() != Some(Tok::RParen) {
                    return Err("missing ')' after the 'in' list".into());
                }
                return Ok(Expr::In { path, lits });
            }
            other => return Err(format!("unknown operator '{other}'")),
        };
        let lit = self.literal()?;
        Ok(Expr::Cmp { path, op: cmp, lit })
    }
    fn literal(&mut self) -> Result<Lit, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Num(n)) => Ok(Lit::Num(n)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("true") => Ok(Lit::Bool(true)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("false") => Ok(Lit::Bool(false)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("null") => Ok(Lit::Null),
            t => Err(format!(
                "expected a value (quoted string, number, true, false, null), found {t:?}"
            )),
        }
    }
}

/// Parse a `filter` / `filter-tags` value (already URL-decoded).
pub fn parse(s: &str, target: Target) -> Result<Expr, String> {
    let toks = lex(s)?;
    if toks.is_empty() {
        return Err("empty filter".into());
    }
    let mut p = Parser {
        toks,
        pos: 0,
        target,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(format!(
            "unexpected {:?} after the expression",
            p.toks[p.pos]
        ));
    }
    Ok(e)
}

/// Look a (possibly nested) property up; tag keys match case-insensitively.
pub fn lookup<'a>(item: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = item;
    for (i, p) in path.iter().enumerate() {
        let obj = cur.as_object()?;
        cur = match obj.get(p) {
            Some(v) => v,
            None if i > 0 && path[0] == "tags" => obj
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(p))
                .map(|(_, v)| v)?,
            None => return None,
        };
    }
    Some(cur)
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    if s.len() < 10 || !s.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    crate::glp::model::parse_time(s)
}

fn num_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Order a JSON value against a literal; `None` when they cannot be compared.
fn compare(v: &Value, lit: &Lit) -> Option<Ordering> {
    match (v, lit) {
        (Value::String(a), Lit::Str(b)) => match (time(a), time(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => Some(a.as_str().cmp(b.as_str())),
        },
        (Value::Number(_), Lit::Num(b)) | (Value::String(_), Lit::Num(b)) => {
            num_of(v)?.partial_cmp(b)
        }
        (Value::Number(_), Lit::Str(b)) => num_of(v)?.partial_cmp(&b.trim().parse::<f64>().ok()?),
        (Value::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (Value::String(a), Lit::Bool(b)) => Some(a.as_str().cmp(if *b { "true" } else { "false" })),
        _ => None,
    }
}

fn equals(v: Option<&Value>, lit: &Lit) -> bool {
    match (v, lit) {
        (None | Some(Value::Null), Lit::Null) => true,
        (None | Some(Value::Null), _) | (_, Lit::Null) => false,
        (Some(v), lit) => compare(v, lit) == Some(Ordering::Equal),
    }
}

impl Expr {
    /// Does `item` match?
    pub fn matches(&self, item: &Value) -> bool {
        match self {
            Expr::Cmp { path, op, lit } => {
                let v = lookup(item, path);
                match op {
                    CmpOp::Eq => equals(v, lit),
                    CmpOp::Ne => !equals(v, lit),
                    _ => {
                        let Some(ord) = v.and_then(|v| compare(v, lit)) else {
                            return false;
                        };
                        match op {
                            CmpOp::Gt => ord == Ordering::Greater,
                            CmpOp::Ge => ord != Ordering::Less,
                            CmpOp::Lt => ord == Ordering::Less,
                            _ => ord != Ordering::Greater,
                        }
                    }
                }
            }
            Expr::In { path, lits } => {
                let v = lookup(item, path);
                lits.iter().any(|l| equals(v, l))
            }
            Expr::Not(e) => !e.matches(item),
            Expr::And(a, b) => a.matches(item) && b.matches(item),
            Expr::Or(a, b) => a.matches(item) || b.matches(item),
        }
    }
}

/// Order two items by JSON value for `sort` (missing and null sort last).
pub fn cmp_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => match (x, y) {
            (Value::Number(_), _) | (_, Value::Number(_)) => match (num_of(x), num_of(y)) {
                (Some(p), Some(q)) => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
                _ => x.to_string().cmp(&y.to_string()),
            },
            (Value::String(p), Value::String(q)) => match (time(p), time(q)) {
                (Some(s), Some(t)) => s.cmp(&t),
                _ => p.cmp(q),
            },
            (Value::Bool(p), Value::Bool(q)) => p.cmp(q),
            _ => x.to_string().cmp(&y.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn grammar() {
        let d = json!({"serialNumber":"A","deviceType":"STORAGE","partNumber":"P","isFlex":true,
            "manufacturedDate":null,"updatedAt":"2026-02-01T00:00:00.000Z","tags":{"City":"London"},
            "quantity":"20"});
        let m = |s: &str| parse(s, Target::Fields).unwrap().matches(&d);
        assert!(m("serialNumber eq 'A'"));
        assert!(!m("not serialNumber eq 'A'"));
        assert!(m("deviceType eq 'STORAGE' and partNumber eq 'P'"));
        assert!(m("serialNumber eq 'X' or partNumber eq 'P'"));
        assert!(m("deviceType in 'COMPUTE', 'STORAGE'"));
        assert!(m("deviceType in ('COMPUTE', 'STORAGE')"));
        assert!(m("updatedAt gt '2026-01-31T23:59:59.999Z'"));
        assert!(!m("updatedAt gt '2026-02-01T00:00:00Z'"));
        assert!(m(
            "isFlex eq true and manufacturedDate eq null and missing eq null"
        ));
        assert!(m("quantity ge 20 and quantity lt 21"));
        assert!(m(
            "(serialNumber eq 'X' or serialNumber eq 'A') and not (isFlex eq false)"
        ));
        let t = |s: &str| parse(s, Target::Tags).unwrap().matches(&d);
        assert!(t("'city' eq 'London'"));
        assert!(t("not 'city' eq 'Tokyo'"));
        assert!(parse("serialNumber eq", Target::Fields).is_err());
        assert!(parse("serialNumber xx 'a'", Target::Fields).is_err());
        assert!(parse("'a' eq 'b'", Target::Fields).is_err());
        assert!(parse("a eq 'unterminated", Target::Fields).is_err());
        assert!(parse("a eq 'b' c", Target::Fields).is_err());
    }
}
