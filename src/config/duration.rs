//! Durations as the config file writes them (`600`, `"90s"`, `"10m"`, `"1h"`).

use std::time::Duration;

/// `"90"`, `"90s"`, `"10m"`, `"10 min"`, `"1h"` → seconds.
pub(super) fn parse_duration_secs(t: &str) -> Option<u64> {
    let t = t.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// A duration the way the config file accepts it back (`"10m"`, `"90s"`).
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
