//! Hostile items: legal JSON that a naive store cannot hold (`SimConfig::hostile_items`).
//!
//! GreenLake passes through what users and devices report, so a sync must survive:
//! * NUL characters (`\u0000` on the wire) in names, tags (keys and values) and nested fields
//!   the client does not know — PostgreSQL `text` and `jsonb` refuse them;
//! * a 64 KiB device name and 5 000-character tag values, and serials, MACs and subscription
//!   keys of several thousand characters — longer than a btree index entry may be (~2.7 KB);
//! * an id of several thousand characters, which no primary-key index can hold: that item
//!   cannot be stored at all and must be skipped and reported, not fail its page.
//!
//! The variants cycle over the chosen items (NUL, long, unstorable id), so a handful of
//! hostile items covers all three for both devices and subscriptions.

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

/// Which kind of hostility an item gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hostility {
    Nul,
    Long,
    UnstorableId,
}

impl Hostility {
    pub fn nth(i: usize) -> Hostility {
        match i % 3 {
            0 => Hostility::Nul,
            1 => Hostility::Long,
            _ => Hostility::UnstorableId,
        }
    }
}

/// Indices of `k` items spread evenly over `n` (so they land on different pages).
pub(crate) fn spread(n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    if k == 0 {
        return Vec::new();
    }
    let step = n / k;
    (0..k).map(|i| i * step + step / 2).collect()
}

const CHARS: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'k', 'm', 'n', 'p', 'r', 's', 't', 'x', 'z', 'A', 'Q',
    'W', '0', '3', '7', '9', ' ', '-', '_', 'é', 'ß', 'Δ', 'ж', '日', '本', '🙂',
];

/// Random text of exactly `chars` characters, with multi-byte ones and spaces, so it neither
/// compresses well nor stays ASCII.
fn text(rng: &mut StdRng, chars: usize) -> String {
    let mut s = String::with_capacity(chars * 2);
    for _ in 0..chars {
        s.push(CHARS[rng.random_range(0..CHARS.len())]);
    }
    s
}

/// Random text (as [`text`]) of at least `bytes` UTF-8 bytes.
fn text_bytes(rng: &mut StdRng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 4);
    while s.len() < bytes {
        s.push(CHARS[rng.random_range(0..CHARS.len())]);
    }
    s
}

/// Random upper-case letters and digits: `n` of them.
fn code(rng: &mut StdRng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..n)
        .map(|_| A[rng.random_range(0..A.len())] as char)
        .collect()
}

/// Add tags to an item (made an object first if it had none).
fn add_tags(v: &mut Value, tags: Vec<(&str, String)>) {
    if !v["tags"].is_object() {
        v["tags"] = json!({});
    }
    if let Some(m) = v["tags"].as_object_mut() {
        for (k, val) in tags {
            m.insert(k.to_string(), Value::String(val));
        }
    }
}

/// NUL in keys and values of fields the client does not model, nested in objects and arrays.
fn nul_extension() -> Value {
    json!({"de\u{0}ep": ["a\u{0}b", {"\u{0}": "\u{0}\u{0}", "ok": 1}], "plain": "x\u{0}"})
}

/// Make a generated device hostile.
pub(crate) fn device(v: &mut Value, how: Hostility, rng: &mut StdRng) {
    match how {
        Hostility::Nul => {
            let name = v["deviceName"].as_str().unwrap_or("device").to_string();
            v["deviceName"] = json!(format!("{name}\u{0}(nul)"));
            v["secondaryName"] = json!("\u{0}");
            v["model"] = json!(format!("{}\u{0}", v["model"].as_str().unwrap_or("")));
            add_tags(
                v,
                vec![
                    ("nul\u{0}key", "v\u{0}alue".into()),
                    ("site", "\u{0}".into()),
                ],
            );
            if !v["location"].is_object() {
                v["location"] = json!({"id": "loc-nul"});
            }
            v["location"]["city"] = json!("Z\u{0}rich");
            if let Some(first) = v["subscription"].as_array_mut().and_then(|a| a.first_mut()) {
                first["key"] = json!("KEY\u{0}NUL");
            }
            v["extensions"] = nul_extension();
        }
        Hostility::Long => {
            v["deviceName"] = json!(text_bytes(rng, 64 * 1024));
            v["serialNumber"] = json!(code(rng, 4000));
            v["macAddress"] = json!(code(rng, 3000));
            let tags = vec![("long_a", text(rng, 5000)), ("long_b", code(rng, 5000))];
            add_tags(v, tags);
        }
        Hostility::UnstorableId => {
            v["id"] = json!(code(rng, 4000));
        }
    }
}

/// Make a generated subscription hostile.
pub(crate) fn subscription(v: &mut Value, how: Hostility, rng: &mut StdRng) {
    match how {
        Hostility::Nul => {
            v["key"] = json!(format!("{}\u{0}", v["key"].as_str().unwrap_or("KEY")));
            v["sku"] = json!("SKU\u{0}1");
            add_tags(v, vec![("nul\u{0}key", "v\u{0}alue".into())]);
            v["extensions"] = nul_extension();
        }
        Hostility::Long => {
            v["skuDescription"] = json!(text_bytes(rng, 64 * 1024));
            v["key"] = json!(code(rng, 4000));
            let tags = vec![("long_a", text(rng, 5000))];
            add_tags(v, tags);
        }
        Hostility::UnstorableId => {
            v["id"] = json!(code(rng, 4000));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_picks_distinct_indices_inside_the_range() {
        assert_eq!(spread(300, 3), vec![50, 150, 250]);
        assert_eq!(spread(2, 5), vec![0, 1]);
        assert!(spread(0, 3).is_empty());
    }
}
