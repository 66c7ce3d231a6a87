//! `glp-console changes --since 24h|7d|DATE [--workspace NAME]… [--json|--csv] [-o FILE]`:
//! the recorded changes of a window, newest first, each with who made it where an audit-log
//! entry or one of our assignment runs matches (`store::attribution`). Reads the database
//! only, as `status` does.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::Failure;
use crate::cli::exit;
use crate::store::Store;
use crate::store::attribution::AttributedChange;
use crate::store::compliance::Across;

/// The forms `--since` accepts, for its error message.
const SINCE_FORMS: &str = "a duration back from now (30m, 24h, 7d, 2w), a date (2026-01-31, \
     midnight UTC) or an RFC 3339 time (2026-01-31T08:00:00Z)";

/// How the changes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

impl Format {
    /// `--json` or `--csv` (not both), else the table.
    pub fn from_flags(json: bool, csv: bool) -> Result<Format, Failure> {
        match (json, csv) {
            (true, true) => Err(Failure::new(
                exit::CONFIG,
                "changes: --json and --csv cannot go together; choose one",
            )),
            (true, false) => Ok(Format::Json),
            (false, true) => Ok(Format::Csv),
            (false, false) => Ok(Format::Table),
        }
    }
}

/// `--since` as a time: `now` less a duration, a date's midnight UTC, or an RFC 3339 time.
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let v = s.trim();
    let bad = || format!("--since {s:?} is not a time: use {SINCE_FORMS}");
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).ok_or_else(bad);
    }
    let split = v.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = v.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    let back = n
        .checked_mul(secs)
        .and_then(chrono::Duration::try_seconds)
        .ok_or_else(bad)?;
    now.checked_sub_signed(back).ok_or_else(bad)
}

/// The changes since `since` of the workspaces named (all when none), newest first.
pub async fn read(
    store: &Store,
    since: DateTime<Utc>,
    names: &[String],
) -> Result<Vec<(AttributedChange, String)>, Failure> {
    let stored = store.workspaces().await?;
    let chosen = super::workspaces::select(&stored, names)?;
    let mut rows = match &chosen {
        None => {
            store
                .changes_attributed(since, i64::MAX, Across::AllWorkspaces)
                .await?
        }
        Some(list) => {
            let mut all = Vec::new();
            for w in list {
                all.extend(
                    store
                        .for_workspace(w.id.clone())
                        .changes_attributed(since, i64::MAX, Across::ThisWorkspace)
                        .await?,
                );
            }
            all.sort_by_key(|c| std::cmp::Reverse(c.change.changed_at));
            all
        }
    };
    let name_of = |id: &str| {
        stored
            .iter()
            .find(|w| w.id.as_str() == id)
            .map_or_else(|| id.to_string(), |w| w.name.clone())
    };
    Ok(rows
        .drain(..)
        .map(|c| {
            let name = name_of(&c.change.workspace_id);
            (c, name)
        })
        .collect())
}

fn value(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("—")
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Render the changes.
pub fn render(rows: &[(AttributedChange, String)], format: Format) -> Result<String, Failure> {
    match format {
        Format::Json => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|(c, ws)| {
                    let ch = &c.change;
                    json!({
                        "changed_at": ch.changed_at, "workspace": ws,
                        "workspace_id": ch.workspace_id, "resource": ch.resource,
                        "item_id": ch.item_id, "serial_or_key": c.label, "sync_id": ch.sync_id,
                        "field": ch.field, "old_value": ch.old_value, "new_value": ch.new_value,
                        "who": c.who,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&items)
                .map(|s| s + "\n")
                .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let fail = |e: csv::Error| Failure::new(exit::CONFIG, e.to_string());
            w.write_record([
                "changed_at",
                "workspace",
                "workspace_id",
                "resource",
                "item_id",
                "serial_or_key",
                "field",
                "old_value",
                "new_value",
                "who",
                "who_source",
                "who_action",
                "who_at",
            ])
            .map_err(fail)?;
            for (c, ws) in rows {
                let ch = &c.change;
                let who = c.who.as_ref();
                w.write_record([
                    time(ch.changed_at),
                    ws.clone(),
                    ch.workspace_id.clone(),
                    ch.resource.clone(),
                    ch.item_id.clone(),
                    c.label.clone().unwrap_or_default(),
                    ch.field.clone(),
                    ch.old_value.clone().unwrap_or_default(),
                    ch.new_value.clone().unwrap_or_default(),
                    who.map(|w| w.user.clone()).unwrap_or_default(),
                    who.map(|w| w.source.as_str().to_string())
                        .unwrap_or_default(),
                    who.map(|w| w.action.clone()).unwrap_or_default(),
                    who.map(|w| time(w.at)).unwrap_or_default(),
                ])
                .map_err(fail)?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        Format::Table => Ok(table(rows)),
    }
}

fn table(rows: &[(AttributedChange, String)]) -> String {
    if rows.is_empty() {
        return "no changes recorded in that window\n".into();
    }
    let lines: Vec<[String; 6]> = rows
        .iter()
        .map(|(c, ws)| {
            let ch = &c.change;
            [
                time(ch.changed_at),
                ws.clone(),
                format!(
                    "{} {}",
                    ch.resource,
                    c.label.as_deref().unwrap_or(&ch.item_id)
                ),
                ch.field.clone(),
                format!("{} → {}", value(&ch.old_value), value(&ch.new_value)),
                c.who.as_ref().map_or_else(|| "—".into(), |w| w.label()),
            ]
        })
        .collect();
    let head = ["TIME", "WORKSPACE", "ITEM", "FIELD", "OLD → NEW", "WHO"];
    let width = |i: usize| {
        lines
            .iter()
            .map(|l| l[i].chars().count())
            .chain([head[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..5).map(width).collect();
    let mut out = String::new();
    for l in std::iter::once(head.map(str::to_string)).chain(lines) {
        for (i, cell) in l.iter().enumerate().take(5) {
            out.push_str(cell);
            out.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
        }
        out.push_str(&l[5]);
        out.push('\n');
    }
    out
}

/// `glp-console changes`: `--since` is checked before the database is opened.
pub async fn command(
    cfg: &crate::config::Config,
    since: &str,
    names: &[String],
    format: Format,
    output: Option<&Path>,
) -> Result<(), Failure> {
    let since = parse_since(since, Utc::now()).map_err(|m| Failure::new(exit::CONFIG, m))?;
    let store = crate::sync::roster::open_store_read(cfg, 2).await?;
    let rows = read(&store, since, names).await?;
    let text = render(&rows, format)?;
    match output {
        Some(path) => {
            write_file(path, &text)?;
            eprintln!("wrote {} ({} changes)", path.display(), rows.len());
        }
        None => crate::out!("{text}"),
    }
    Ok(())
}

/// Write `text` to `path` as `path.part`, renamed when complete.
pub fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = std::path::PathBuf::from(part);
    let fail = |e: std::io::Error| {
        let _ = std::fs::remove_file(&part);
        Failure::new(
            exit::CONFIG,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    let mut f = std::fs::File::create(&part).map_err(fail)?;
    f.write_all(text.as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    std::fs::rename(&part, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn since_forms() {
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
        assert_eq!(
            parse_since("24h", now).unwrap(),
            now - chrono::Duration::hours(24)
        );
        assert_eq!(
            parse_since("7d", now).unwrap(),
            now - chrono::Duration::days(7)
        );
        assert_eq!(
            parse_since("30m", now).unwrap(),
            now - chrono::Duration::minutes(30)
        );
        assert_eq!(
            parse_since("2026-03-01", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            parse_since("2026-03-01T08:00:00+01:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 7, 0, 0).unwrap()
        );
        for bad in ["yesterday", "24", "h", "7y", "", "99999999999999999999d"] {
            let e = parse_since(bad, now).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")) && e.contains("24h"), "{e}");
        }
    }
}
