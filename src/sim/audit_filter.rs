//! The audit log's filter grammar (`audit-logs.json`), which is not the devices' OData subset:
//! conditions `key eq 'v'`, `key lt|ge 'time'`, `contains(key, 'v')` and `key in ('a', 'b')`,
//! joined by `and` only. Each key allows the operators of the spec's table; anything else —
//! `or`, `not`, another operator, an unknown key, a malformed value — is a 400 whose
//! description says what was wrong, in the spec's words where it has them.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::audit_store::PLATFORM_OFFER;
use super::errors::ApiError;

/// The keys and what each allows.
const KEYS: &[(&str, &[&str])] = &[
    ("createdAt", &["lt", "ge"]),
    ("category", &["eq", "in"]),
    ("description", &["eq", "contains"]),
    ("ipAddress", &["eq", "contains"]),
    ("username", &["eq", "contains"]),
    ("workspace/name", &["eq", "contains"]),
    ("workspace/type", &["eq"]),
    ("serviceOffer/id", &["eq", "in"]),
    ("region", &["eq"]),
    ("hasDetails", &["eq"]),
];

const SUPPORTED_KEYS: &str = "createdAt, category, description, ipAddress, username, \
     workspace/name, workspace/type, serviceOffer/id, region, hasDetails";

/// One condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Eq(String, String),
    Contains(String, String),
    In(String, Vec<String>),
    Before(DateTime<Utc>),
    AtOrAfter(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Comma,
}

fn bad(description: impl Into<String>) -> ApiError {
    ApiError::bad_param("filter", description)
}

fn tokens(s: &str) -> Result<Vec<Tok>, ApiError> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(&c) = it.peek() {
        match c {
            c if c.is_whitespace() => {
                it.next();
            }
            '(' | ')' | ',' => {
                it.next();
                out.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    _ => Tok::Comma,
                });
            }
            '\'' => {
                it.next();
                let mut v = String::new();
                loop {
                    match it.next() {
                        Some('\'') if it.peek() == Some(&'\'') => {
                            it.next();
                            v.push('\'');
                        }
                        Some('\'') => break,
                        Some(ch) => v.push(ch),
                        None => return Err(bad(format!("Unterminated string in filter: {s}"))),
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = it.peek() {
                    if ch.is_whitespace() || matches!(ch, '(' | ')' | ',' | '\'') {
                        break;
                    }
                    w.push(ch);
                    it.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

fn allowed(key: &str, op: &str) -> Result<(), ApiError> {
    let Some((_, ops)) = KEYS.iter().find(|(k, _)| *k == key) else {
        return Err(bad(format!(
            "Unsupported filter parameter '{key}' provided. Supported parameters are \
             {SUPPORTED_KEYS}."
        )));
    };
    if ops.contains(&op) {
        Ok(())
    } else {
        Err(bad(format!(
            "Invalid operator '{op}' used in filter for '{key}'. Supported operators for \
             '{key}' are {}.",
            ops.join(", ")
        )))
    }
}

fn time(v: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            bad(format!(
                "Invalid date format '{v}' for createdAt. Use an RFC 3339 timestamp such as \
                 '2024-02-16T07:54:55.0Z'."
            ))
        })
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn string(&mut self, after: &str) -> Result<String, ApiError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(s),
            _ => Err(bad(format!(
                "Expected a quoted value after '{after}' in filter"
            ))),
        }
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Result<(), ApiError> {
        if self.next().as_ref() == Some(t) {
            Ok(())
        } else {
            Err(bad(format!("Expected {what} in filter")))
        }
    }

    fn cond(&mut self) -> Result<Cond, ApiError> {
        let Some(Tok::Word(w)) = self.next() else {
            return Err(bad("Expected a condition in filter"));
        };
        if w == "contains" {
            self.expect(&Tok::Open, "'(' after contains")?;
            let Some(Tok::Word(key)) = self.next() else {
                return Err(bad("Expected a parameter name in contains()"));
            };
            allowed(&key, "contains")?;
            self.expect(&Tok::Comma, "',' in contains()")?;
            let v = self.string("contains(")?;
            self.expect(&Tok::Close, "')' closing contains()")?;
            return Ok(Cond::Contains(key, v));
        }
        if matches!(w.as_str(), "not" | "or" | "and") {
            return Err(bad(format!(
                "Unsupported logical operator '{w}' in filter: conditions can only be joined \
                 by 'and'"
            )));
        }
        let key = w;
        let Some(Tok::Word(op)) = self.next() else {
            return Err(bad(format!("Expected an operator after '{key}' in filter")));
        };
        if !matches!(op.as_str(), "eq" | "in" | "contains" | "lt" | "ge") {
            return Err(bad(format!(
                "Invalid operator '{op}' used in filter. Supported operators are eq, in, \
                 contains, lt, ge."
            )));
        }
        allowed(&key, &op)?;
        match op.as_str() {
            "eq" => Ok(Cond::Eq(key, self.string("eq")?)),
            "lt" => Ok(Cond::Before(time(&self.string("lt")?)?)),
            "ge" => Ok(Cond::AtOrAfter(time(&self.string("ge")?)?)),
            "in" => {
                self.expect(&Tok::Open, "'(' after in")?;
                let mut vals = vec![self.string("in (")?];
                loop {
                    match self.next() {
                        Some(Tok::Comma) => vals.push(self.string(",")?),
                        Some(Tok::Close) => break,
                        _ => return Err(bad("Expected ',' or ')' in an in (…) list")),
                    }
                }
                Ok(Cond::In(key, vals))
            }
            _ => Err(bad(format!(
                "Invalid operator '{op}' used in filter for '{key}'"
            ))),
        }
    }
}

/// Parse a filter into its conditions (all must hold).
pub(crate) fn parse(s: &str) -> Result<Vec<Cond>, ApiError> {
    let mut p = Parser {
        toks: tokens(s)?,
        at: 0,
    };
    let mut out = vec![p.cond()?];
    loop {
        match p.next() {
            None => break,
            Some(Tok::Word(w)) if w == "and" => out.push(p.cond()?),
            Some(Tok::Word(w)) if w == "or" || w == "not" => {
                return Err(bad(format!(
                    "Unsupported logical operator '{w}' in filter: conditions can only be \
                     joined by 'and'"
                )));
            }
            Some(_) => return Err(bad("Expected 'and' between conditions in filter")),
        }
    }
    let offers: usize = out
        .iter()
        .map(|c| match c {
            Cond::Eq(k, _) if k == "serviceOffer/id" => 1,
            Cond::In(k, v) if k == "serviceOffer/id" => v.len(),
            _ => 0,
        })
        .sum();
    if offers > 5 {
        return Err(bad(
            "Maximum five serviceOffer/id can be passed in the filter.",
        ));
    }
    Ok(out)
}

/// An entry's value of a filter key as text.
fn field(e: &Value, key: &str) -> String {
    let v = match key {
        "region" => &e["serviceOffer"]["region"],
        k => match k.split_once('/') {
            Some((a, b)) => &e[a][b],
            None => &e[k],
        },
    };
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn created(e: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(e["createdAt"].as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Does an entry satisfy every condition? Without a `serviceOffer/id` condition only the
/// platform's own entries match (as the spec says).
pub(crate) fn matches(e: &Value, conds: &[Cond]) -> bool {
    let names_offer = conds
        .iter()
        .any(|c| matches!(c, Cond::Eq(k, _) | Cond::In(k, _) if k == "serviceOffer/id"));
    if !names_offer && field(e, "serviceOffer/id") != PLATFORM_OFFER {
        return false;
    }
    conds.iter().all(|c| match c {
        Cond::Eq(k, v) => field(e, k) == *v,
        Cond::Contains(k, v) => field(e, k).contains(v.as_str()),
        Cond::In(k, vs) => vs.contains(&field(e, k)),
        Cond::Before(t) => created(e).is_some_and(|c| c < *t),
        Cond::AtOrAfter(t) => created(e).is_some_and(|c| c >= *t),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use serde_json::json;

    fn issue(e: ApiError) -> String {
        e.details[0]["issues"][0]["description"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn the_spec_examples_parse() {
        for f in [
            "category eq 'API Gateway' and createdAt ge '2025-01-16T07:54:55.0Z' and \
             createdAt lt '2025-02-16T07:54:55.0Z'",
            "username eq 'test@test.com'",
            "serviceOffer/id in ('00000000-0000-0000-0000-000000000000', \
             'd46569ae-0516-4dd2-81ce-b6d645842acc') and region eq 'us-west'",
            "contains(description, 'Logged in')",
            "hasDetails eq 'true'",
            "workspace/type eq 'TENANT'",
        ] {
            parse(f).unwrap_or_else(|e| panic!("{f}: {}", issue(e)));
        }
    }

    #[test]
    fn or_and_unknown_operators_and_keys_are_refused_with_a_reason() {
        assert!(issue(parse("username eq 'a' or username eq 'b'").unwrap_err()).contains("'or'"));
        assert!(issue(parse("username ne 'a'").unwrap_err()).contains("Invalid operator 'ne'"));
        assert!(issue(parse("createdAt gt '2025-01-01T00:00:00Z'").unwrap_err()).contains("'gt'"));
        assert!(
            issue(parse("createdAt eq '2025-01-01T00:00:00Z'").unwrap_err()).contains("lt, ge")
        );
        assert!(
            issue(parse("serial eq 'x'").unwrap_err()).contains("Unsupported filter parameter")
        );
        assert!(issue(parse("createdAt ge 'yesterday'").unwrap_err()).contains("Invalid date"));
        assert!(
            parse("username eq 'it''s'").unwrap()
                == vec![Cond::Eq("username".into(), "it's".into())]
        );
    }

    #[test]
    fn matching() {
        let e = json!({"username": "ops@example.com", "category": "Device Management",
            "createdAt": "2026-01-02T03:04:05.000Z", "description": "Device X updated",
            "serviceOffer": {"id": PLATFORM_OFFER, "region": "global"},
            "workspace": {"type": "STANDALONE"}});
        let m = |f: &str| matches(&e, &parse(f).unwrap());
        assert!(m(
            "username eq 'ops@example.com' and createdAt ge '2026-01-02T03:04:05Z'"
        ));
        assert!(!m("createdAt lt '2026-01-02T03:04:05Z'"));
        assert!(m("category in ('User Management', 'Device Management')"));
        assert!(m(
            "contains(description, 'updated') and workspace/type eq 'STANDALONE'"
        ));
        assert!(!m(
            "serviceOffer/id eq 'd46569ae-0516-4dd2-81ce-b6d645842acc'"
        ));
    }
}
