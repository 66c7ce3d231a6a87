//! `glp-console workspaces`, and the `--workspace NAME` filter every headless report takes:
//! names are looked up among the stored workspaces (what `workspaces` lists), so a report
//! needs no credentials, and an unknown name is refused with the known ones.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Failure;
use super::reports::human_age;
use crate::cli::exit;
use crate::domain::WorkspaceId;
use crate::store::Store;
use crate::store::workspaces::{WorkspaceOverview, WorkspaceRecord};

/// The stored workspaces the `--workspace` names select, in the order of the store (by name);
/// `None` when no name is given (every workspace). A name matches a workspace's name exactly,
/// else case-blind, else its id in either spelling. Unknown names → exit 2, naming the known
/// workspaces (and all the unknown names at once, so one correction suffices).
pub fn select(
    stored: &[WorkspaceRecord],
    names: &[String],
) -> Result<Option<Vec<WorkspaceRecord>>, Failure> {
    if names.is_empty() {
        return Ok(None);
    }
    let mut chosen: Vec<WorkspaceRecord> = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
        let found = stored
            .iter()
            .find(|w| w.name == *name)
            .or_else(|| {
                let blind: Vec<_> = stored
                    .iter()
                    .filter(|w| w.name.eq_ignore_ascii_case(name))
                    .collect();
                // Two names that differ by case only: the exact spelling must say which.
                (blind.len() == 1).then(|| blind[0])
            })
            .or_else(|| WorkspaceId::parse(name).and_then(|id| stored.iter().find(|w| w.id == id)));
        match found {
            Some(w) if !chosen.iter().any(|c| c.id == w.id) => chosen.push(w.clone()),
            Some(_) => {}
            None => unknown.push(name.as_str()),
        }
    }
    if !unknown.is_empty() {
        let known: Vec<&str> = stored.iter().map(|w| w.name.as_str()).collect();
        let known = if known.is_empty() {
            "none is stored yet (run `glp-console --sync-only` first)".to_string()
        } else {
            format!("the stored ones are: {}", known.join(", "))
        };
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "--workspace {}: no such workspace; {known}",
                unknown.join(", --workspace ")
            ),
        ));
    }
    chosen.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(chosen))
}

/// The ids of [`select`]'s answer, as the store's queries take them (`None` = every workspace).
pub async fn selected_ids(store: &Store, names: &[String]) -> Result<Option<Vec<String>>, Failure> {
    if names.is_empty() {
        return Ok(None);
    }
    let stored = store.workspaces().await?;
    Ok(select(&stored, names)?.map(|ws| ws.iter().map(|w| w.id.as_str().to_string()).collect()))
}

/// The all-workspaces figures of the total line.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub workspaces: usize,
    pub devices: i64,
    pub subscriptions: i64,
    pub expiring: i64,
}

#[derive(Serialize)]
struct Line<'a> {
    name: &'a str,
    id: &'a str,
    kind: &'a str,
    parent_id: Option<&'a str>,
    inventory_ownership: Option<&'a str>,
    removed_at: Option<DateTime<Utc>>,
    devices: i64,
    subscriptions: i64,
    expiring: i64,
    last_good_sync: Option<DateTime<Utc>>,
    last_run_outcome: Option<&'a str>,
    last_run_error: Option<&'a str>,
    last_run_finished: Option<DateTime<Utc>>,
}

/// `glp-console workspaces [--json]`: one line per stored workspace, then the total line.
/// The per-workspace counts are those of [`Store::workspace_overview`] (each device attributed
/// to one workspace); the total line is read from the consolidated views on its own, so a
/// device two workspaces both list is counted once there whatever the lines say.
pub async fn list(store: &Store, expiring_days: u32, json: bool) -> Result<String, Failure> {
    let rows = store.workspace_overview(expiring_days).await?;
    let t = store.all_workspace_totals(expiring_days).await?;
    let totals = Totals {
        workspaces: rows.len(),
        devices: t.devices,
        subscriptions: t.subscriptions,
        expiring: t.expiring,
    };
    if json {
        let lines: Vec<Line<'_>> = rows.iter().map(line).collect();
        let v = serde_json::json!({
            "expiring_days": expiring_days,
            "workspaces": lines,
            "total": totals,
        });
        return serde_json::to_string_pretty(&v)
            .map(|s| s + "\n")
            .map_err(|e| Failure::new(exit::CONFIG, e.to_string()));
    }
    Ok(render_text(&rows, &totals, expiring_days, Utc::now()))
}

fn line(r: &WorkspaceOverview) -> Line<'_> {
    Line {
        name: &r.ws.name,
        id: r.ws.id.as_str(),
        kind: r.ws.kind.as_str(),
        parent_id: r.ws.parent_id.as_ref().map(|p| p.as_str()),
        inventory_ownership: r.ws.inventory_ownership.as_deref(),
        removed_at: r.ws.removed_at,
        devices: r.devices,
        subscriptions: r.subscriptions,
        expiring: r.expiring,
        last_good_sync: r.last_good_sync,
        last_run_outcome: r.last_run_outcome.as_deref(),
        last_run_error: r.last_run_error.as_deref(),
        last_run_finished: r.last_run_finished,
    }
}

fn render_text(
    rows: &[WorkspaceOverview],
    totals: &Totals,
    days: u32,
    now: DateTime<Utc>,
) -> String {
    if rows.is_empty() {
        return "No workspace is stored yet: run `glp-console --sync-only`.\n".into();
    }
    let total_label = format!("total ({} workspace(s))", totals.workspaces);
    let name_w = rows
        .iter()
        .map(|r| r.ws.name.chars().count())
        .chain([total_label.chars().count()])
        .max()
        .unwrap_or(0);
    let id_w = rows
        .iter()
        .map(|r| r.ws.id.as_str().len())
        .max()
        .unwrap_or(0)
        .max(2);
    let expiring_head = format!("EXP<={days}D");
    let mut out = format!(
        "{:<name_w$}  {:<id_w$}  {:<16} {:>8} {:>8} {:>9}  {:<30} {}\n",
        "NAME", "ID", "KIND", "DEVICES", "SUBS", expiring_head, "LAST GOOD SYNC (UTC)", "LAST RUN"
    );
    for r in rows {
        let good = r
            .last_good_sync
            .map(|t| {
                format!(
                    "{} ({} ago)",
                    t.format("%Y-%m-%d %H:%M"),
                    human_age((now - t).num_seconds())
                )
            })
            .unwrap_or_else(|| "never".into());
        let mut last = r.last_run_outcome.clone().unwrap_or_else(|| "-".into());
        if let Some(e) = &r.last_run_error {
            last.push_str(": ");
            last.push_str(e.lines().next().unwrap_or(""));
        }
        let kind = match r.ws.removed_at {
            Some(_) => format!("{} (removed)", r.ws.kind.as_str()),
            None => r.ws.kind.as_str().to_string(),
        };
        out.push_str(&format!(
            "{:<name_w$}  {:<id_w$}  {:<16} {:>8} {:>8} {:>9}  {:<30} {}\n",
            r.ws.name,
            r.ws.id.as_str(),
            kind,
            r.devices,
            r.subscriptions,
            r.expiring,
            good,
            last
        ));
    }
    out.push_str(&format!(
        "{:<name_w$}  {:<id_w$}  {:<16} {:>8} {:>8} {:>9}\n",
        total_label, "", "", totals.devices, totals.subscriptions, totals.expiring,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(id: &str, name: &str) -> WorkspaceRecord {
        WorkspaceRecord {
            id: WorkspaceId::parse(id).unwrap(),
            name: name.into(),
            kind: crate::domain::WorkspaceKind::Tenant,
            parent_id: None,
            inventory_ownership: None,
            first_seen_at: Utc::now(),
            last_seen_at: Utc::now(),
            removed_at: None,
        }
    }

    fn names(r: &Option<Vec<WorkspaceRecord>>) -> Vec<&str> {
        r.as_ref()
            .unwrap()
            .iter()
            .map(|w| w.name.as_str())
            .collect()
    }

    #[test]
    fn names_match_exactly_then_case_blind_then_by_id_in_either_spelling() {
        let stored = [
            ws("b0000000000000000000000000000002", "tenant-b"),
            ws("a0000000000000000000000000000001", "Tenant-A"),
            ws("c0000000000000000000000000000003", "emea"),
            ws("d0000000000000000000000000000004", "EMEA"),
        ];
        assert!(select(&stored, &[]).unwrap().is_none());
        let r = select(&stored, &["tenant-a".into(), "tenant-b".into()]).unwrap();
        assert_eq!(names(&r), ["Tenant-A", "tenant-b"]);
        // Two names differing by case only: the exact spelling decides, a third is refused.
        assert_eq!(names(&select(&stored, &["EMEA".into()]).unwrap()), ["EMEA"]);
        assert!(select(&stored, &["Emea".into()]).is_err());
        let by_id = select(
            &stored,
            &[
                "B0000000-0000-0000-0000-000000000002".into(),
                "tenant-b".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            names(&by_id),
            ["tenant-b"],
            "the same workspace twice is listed once"
        );
    }

    #[test]
    fn unknown_names_are_all_named_with_the_known_ones() {
        let stored = [ws("a0000000000000000000000000000001", "acme")];
        let e = select(&stored, &["x".into(), "acme".into(), "y".into()]).unwrap_err();
        assert_eq!(e.code, exit::CONFIG);
        assert_eq!(
            e.message,
            "--workspace x, --workspace y: no such workspace; the stored ones are: acme"
        );
        let e = select(&[], &["x".into()]).unwrap_err();
        assert!(e.message.contains("none is stored yet"), "{}", e.message);
    }
}
