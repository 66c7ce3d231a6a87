//! Cell-level normalisation: serials, MAC addresses, device categories, tag rules.
//!
//! Pure functions so that header detection, validation and the plan all agree on what a
//! value means, and so each rule is unit-tested once.

use serde::{Deserialize, Serialize};

/// Characters spreadsheets and copy-paste leave around values (NBSP, zero-width space, BOM);
/// `str::trim` alone does not remove them all.
fn is_junk(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{a0}' | '\u{200b}' | '\u{feff}' | '\u{2007}' | '\u{202f}'
        )
}

/// Trim whitespace, NBSP, zero-width characters and a BOM from both ends.
pub fn clean(s: &str) -> &str {
    s.trim_matches(is_junk)
}

/// A serial as GLP stores it: trimmed and upper-cased (GLP serials are case-insensitive and
/// users type them in any case).
pub fn normalize_serial(s: &str) -> String {
    clean(s).to_uppercase()
}

/// Why a serial cannot be right, if it cannot. Serials are letters, digits and a few
/// separators; anything else is a typo, a formula error (`#N/A`) or a number Excel
/// shortened to scientific notation.
pub fn serial_problem(serial: &str) -> Option<String> {
    if serial.is_empty() {
        return None;
    }
    let sci = {
        let (mantissa, exp) = serial.split_once('E').unwrap_or_default();
        !mantissa.is_empty()
            && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
            && (exp.starts_with('+') || exp.starts_with('-'))
            && exp.len() > 1
            && exp[1..].chars().all(|c| c.is_ascii_digit())
    };
    if sci {
        return Some(format!(
            "\"{serial}\" is a number in scientific notation, not a serial: format the column as Text in the spreadsheet and type the serials again"
        ));
    }
    if serial.starts_with('#') {
        return Some(format!(
            "the cell holds the spreadsheet error {serial}; put the serial number in it"
        ));
    }
    if let Some(bad) = serial
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
    {
        return Some(format!(
            "serial \"{serial}\" contains '{bad}'; a serial has only letters, digits, '-', '_', '.' and '/'"
        ));
    }
    if serial.len() > 64 {
        return Some(format!(
            "serial \"{serial}\" is {} characters long; check the cell holds one serial",
            serial.len()
        ));
    }
    None
}

/// Normalise a MAC address to `AA:BB:CC:DD:EE:FF`. Accepts 12 hex digits with or without
/// `:`, `-`, `.` or space separators (`aabbccddeeff`, `AA-BB-…`, `aabb.ccdd.eeff`).
/// Returns `None` when it is not a MAC, so the caller can say which cell is wrong.
pub fn normalize_mac(s: &str) -> Option<String> {
    let hex: String = clean(s)
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    // Separators, if any, must sit on a regular grid (pairs or groups of four): reject
    // "A:ABBCCDDEEFF"-style typos rather than guessing.
    let raw = clean(s);
    let seps: Vec<usize> = raw
        .char_indices()
        .filter(|(_, c)| matches!(c, ':' | '-' | '.' | ' '))
        .map(|(i, _)| i)
        .collect();
    let grid_ok = match seps.len() {
        0 => true,
        5 => seps == [2, 5, 8, 11, 14],
        2 => seps == [4, 9],
        _ => false,
    };
    if !grid_ok {
        return None;
    }
    let up = hex.to_ascii_uppercase();
    let parts: Vec<&str> = (0..6).map(|i| &up[i * 2..i * 2 + 2]).collect();
    Some(parts.join(":"))
}

/// The three device families GLP's add-device call knows (§2.5). Assignment rules (MAC vs
/// part number, subscription compatibility) depend on the family, not on the exact type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Category {
    Network,
    Compute,
    Storage,
}

impl Category {
    /// The API spelling (`NETWORK`, `COMPUTE`, `STORAGE`).
    pub fn as_api(self) -> &'static str {
        match self {
            Category::Network => "NETWORK",
            Category::Compute => "COMPUTE",
            Category::Storage => "STORAGE",
        }
    }

    /// Parse a family or a GLP `deviceType` (AP, SWITCH, DHCI_STORAGE, …) as users write it
    /// in a sheet; `None` when it is neither.
    pub fn parse(s: &str) -> Option<Category> {
        let t: String = clean(s)
            .to_ascii_uppercase()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect();
        Some(match t.as_str() {
            "NETWORK" | "NETWORKING" | "AP" | "IAP" | "SWITCH" | "GATEWAY" | "CONTROLLER"
            | "MC" | "SD_WAN_GW" | "BRIDGE" | "BRIDGES" | "LTE_MODEM" | "SENSOR" | "BLE"
            | "NW_THIRD_PARTY" | "ALS" | "EINAR" | "EINR" => Category::Network,
            "COMPUTE" | "SERVER" | "DHCI_COMPUTE" | "PCE" => Category::Compute,
            "STORAGE" | "DHCI_STORAGE" => Category::Storage,
            _ => return None,
        })
    }

    /// The family of a stored device: its `category` when GLP sent one, else its type.
    pub fn of_stored(category: Option<&str>, device_type: Option<&str>) -> Option<Category> {
        category
            .and_then(Category::parse)
            .or_else(|| device_type.and_then(Category::parse))
    }
}

/// Longest tag key GLP accepts (§2.4).
pub const TAG_KEY_MAX: usize = 128;
/// Longest tag value GLP accepts (§2.4).
pub const TAG_VALUE_MAX: usize = 256;
/// Most tags one device may carry (§2.4).
pub const TAGS_PER_DEVICE_MAX: usize = 50;

fn tag_char_ok(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '_' | '.' | ':' | '=' | '+' | '-' | '@')
}

/// Why a tag key breaks the GLP rules (1–128 characters; letters, digits, spaces and
/// `_ . : = + - @`), or `None` when it is fine.
pub fn tag_key_problem(key: &str) -> Option<String> {
    let n = key.chars().count();
    if n == 0 {
        return Some("the tag key is empty; write the key after \"tag:\" in the header".into());
    }
    if n > TAG_KEY_MAX {
        return Some(format!(
            "tag key \"{key}\" is {n} characters; GreenLake allows at most {TAG_KEY_MAX}"
        ));
    }
    if let Some(c) = key.chars().find(|c| !tag_char_ok(*c)) {
        return Some(format!(
            "tag key \"{key}\" contains '{c}'; only letters, digits, spaces and _ . : = + - @ are allowed"
        ));
    }
    None
}

/// Why a tag value breaks the GLP rules (0–256 characters, same characters as keys).
pub fn tag_value_problem(value: &str) -> Option<String> {
    let n = value.chars().count();
    if n > TAG_VALUE_MAX {
        return Some(format!(
            "tag value is {n} characters; GreenLake allows at most {TAG_VALUE_MAX}"
        ));
    }
    if let Some(c) = value.chars().find(|c| !tag_char_ok(*c)) {
        return Some(format!(
            "tag value \"{value}\" contains '{c}'; only letters, digits, spaces and _ . : = + - @ are allowed"
        ));
    }
    None
}

/// A region code as GLP spells it (`us-west`): trimmed, lower-case, spaces/underscores to
/// dashes, so "US West" and "us_west" both mean `us-west`.
pub fn normalize_region(s: &str) -> String {
    clean(s)
        .to_lowercase()
        .split([' ', '_', '-'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Spreadsheet column letters for a 0-based index (0 → A, 27 → AB), for messages.
pub fn column_letter(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push((b'A' + (col % 26) as u8) as char);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_forms_normalise() {
        for s in [
            "aabbccddeeff",
            "AA-BB-CC-DD-EE-FF",
            "aabb.ccdd.eeff",
            "aa:bb:cc:dd:ee:ff",
            " AA BB CC DD EE FF\u{a0}",
        ] {
            assert_eq!(
                normalize_mac(s).as_deref(),
                Some("AA:BB:CC:DD:EE:FF"),
                "{s}"
            );
        }
    }

    #[test]
    fn bad_macs_are_rejected() {
        for s in [
            "",
            "AA:BB:CC:DD:EE",
            "AA:BB:CC:DD:EE:FF:00",
            "GG:BB:CC:DD:EE:FF",
            "A:ABBCCDDEEFF",
            "AABB:CCDDEEFF",
            "not a mac",
        ] {
            assert_eq!(normalize_mac(s), None, "{s}");
        }
    }

    #[test]
    fn serials_trim_and_upper() {
        assert_eq!(normalize_serial("  vnt8kwc09q\u{a0}"), "VNT8KWC09Q");
        assert_eq!(normalize_serial("\u{feff}abc"), "ABC");
        assert!(serial_problem("VNT8KWC09Q").is_none());
        assert!(
            serial_problem("1.23457E+11")
                .unwrap()
                .contains("scientific")
        );
        assert!(serial_problem("#N/A").unwrap().contains("error"));
        assert!(serial_problem("AB C").unwrap().contains("' '"));
    }

    #[test]
    fn categories_parse() {
        assert_eq!(Category::parse("ap"), Some(Category::Network));
        assert_eq!(Category::parse("Network"), Some(Category::Network));
        assert_eq!(Category::parse("dhci storage"), Some(Category::Storage));
        assert_eq!(Category::parse("COMPUTE"), Some(Category::Compute));
        assert_eq!(Category::parse("toaster"), None);
        assert_eq!(
            Category::of_stored(None, Some("SWITCH")),
            Some(Category::Network)
        );
    }

    #[test]
    fn tag_rules() {
        assert!(tag_key_problem("site").is_none());
        assert!(tag_key_problem("a.b:c=d+e-f@g h_i").is_none());
        assert!(tag_key_problem("").is_some());
        assert!(tag_key_problem(&"k".repeat(129)).is_some());
        assert!(tag_key_problem(&"k".repeat(128)).is_none());
        assert!(tag_key_problem("bad/key").unwrap().contains("'/'"));
        assert!(tag_value_problem("").is_none());
        assert!(tag_value_problem(&"v".repeat(256)).is_none());
        assert!(tag_value_problem(&"v".repeat(257)).is_some());
        assert!(tag_value_problem("a#b").is_some());
    }

    #[test]
    fn regions_and_columns() {
        assert_eq!(normalize_region(" US West "), "us-west");
        assert_eq!(normalize_region("eu_central"), "eu-central");
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
