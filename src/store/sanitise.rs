//! Text PostgreSQL cannot hold, made storable.
//!
//! JSON allows any character in a string, NUL included (`\u0000`); PostgreSQL allows it in
//! neither `text` ("invalid byte sequence for encoding UTF8: 0x00") nor `jsonb`
//! ("unsupported Unicode escape sequence"), so one such item used to fail its whole page,
//! and every rerun the same way. An item whose JSON text holds the escape is rewritten with
//! U+FFFD (the Unicode replacement character) for every NUL in every string and object key,
//! nested or not, known field or not, and its typed fields are parsed again from that text,
//! so the columns and `raw_data` say the same thing. Everything else is kept as sent.
//!
//! A NUL can only reach us as that escape (JSON forbids raw control characters in strings),
//! so items without it — all but the hostile few — cost one substring search.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::glp::model::Item;

/// What stands in for a NUL.
pub(crate) const REPLACEMENT: char = '\u{FFFD}';

/// The escape a NUL travels as. (`\\u0000`, an escaped backslash before `u0000`, matches
/// too; parsing then finds no NUL and the item is left alone.)
const NUL_ESCAPE: &str = "\\u0000";

/// The item with every NUL replaced, or `None` when it has none (or, impossibly, no longer
/// parses: then it is written as it is and the page's fallback reports it if it fails).
pub(crate) fn without_nul<T>(item: &Item<T>) -> Option<Item<T>>
where
    T: for<'de> Deserialize<'de>,
{
    if !item.raw.get().contains(NUL_ESCAPE) {
        return None;
    }
    let mut v: Value = serde_json::from_str(item.raw.get()).ok()?;
    if !replace_nul(&mut v) {
        return None;
    }
    let text = serde_json::to_string(&v).ok()?;
    let raw = RawValue::from_string(text).ok()?;
    let data = serde_json::from_str::<T>(raw.get()).ok()?;
    Some(Item { data, raw })
}

/// Replace NUL in every string and key under `v`; whether anything was replaced.
fn replace_nul(v: &mut Value) -> bool {
    match v {
        Value::String(s) => fix(s),
        Value::Array(a) => a.iter_mut().fold(false, |any, x| replace_nul(x) | any),
        Value::Object(m) => {
            let mut any = false;
            if m.keys().any(|k| k.contains('\0')) {
                let old = std::mem::take(m);
                for (mut k, x) in old {
                    any |= fix(&mut k);
                    m.insert(k, x);
                }
            }
            m.values_mut().fold(any, |any, x| replace_nul(x) | any)
        }
        _ => false,
    }
}

fn fix(s: &mut String) -> bool {
    if s.contains('\0') {
        *s = s.replace('\0', &REPLACEMENT.to_string());
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glp::model::{Device, parse_items};

    fn item(json: &str) -> Item<Device> {
        let raw = RawValue::from_string(json.to_string()).unwrap();
        let (mut ok, bad) = parse_items::<Device>(vec![raw]);
        assert!(bad.is_empty());
        ok.pop().unwrap()
    }

    #[test]
    fn nul_in_fields_keys_and_nested_values_becomes_the_replacement_character() {
        let i = item(
            r#"{"id":"d1","deviceName":"a\u0000b","tags":{"k\u0000":"v\u0000"},
                "x":{"de\u0000ep":["\u0000",{"\u0000":1}]},"n":5}"#,
        );
        let s = without_nul(&i).expect("has NUL");
        assert_eq!(s.data.device_name.as_deref(), Some("a\u{FFFD}b"));
        let tags = s.data.tags.clone().unwrap();
        assert_eq!(tags.get("k\u{FFFD}").map(String::as_str), Some("v\u{FFFD}"));
        assert!(!s.raw.get().contains("\\u0000"));
        let v: Value = serde_json::from_str(s.raw.get()).unwrap();
        assert_eq!(v["x"]["de\u{FFFD}ep"][0], "\u{FFFD}");
        assert_eq!(v["x"]["de\u{FFFD}ep"][1]["\u{FFFD}"], 1);
        assert_eq!(v["n"], 5);
    }

    #[test]
    fn items_without_nul_are_left_alone() {
        assert!(without_nul(&item(r#"{"id":"d1","deviceName":"plain"}"#)).is_none());
        // An escaped backslash followed by "u0000" is text, not a NUL.
        assert!(without_nul(&item(r#"{"id":"d1","deviceName":"C:\\u0000"}"#)).is_none());
    }
}
