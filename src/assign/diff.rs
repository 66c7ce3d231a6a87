//! The plan as a reviewable diff: counts per operation and one line per device. Data,
//! not drawing — the Assign tab and the headless report both render it.

use serde::Serialize;

use super::names::Names;
use super::plan::{Change, Phase, Plan};

/// Calls and devices of one phase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhaseCount {
    pub phase: Phase,
    pub calls: usize,
    pub devices: usize,
}

/// One device and what changes on it, as short texts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceLine {
    pub serial: String,
    pub row: Option<u32>,
    pub changes: Vec<String>,
}

/// The whole diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub phases: Vec<PhaseCount>,
    pub total_calls: usize,
    pub devices: Vec<DeviceLine>,
    pub unchanged: usize,
    pub notes: Vec<String>,
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "—".into())
}

/// One change as text, e.g. `application — → 0892…/us-west`, `tag site: HQ → Lab`.
pub fn describe(c: &Change) -> String {
    match c {
        Change::Add { category } => format!("add as {}", category.as_api()),
        Change::Application { from, to } => {
            let f = |a: &Option<super::plan::AppTarget>| {
                a.as_ref()
                    .map(|a| format!("{} in {}", a.application_id, a.region))
                    .unwrap_or_else(|| "—".into())
            };
            format!("application {} → {}", f(from), f(to))
        }
        Change::Subscription { from, to } => {
            let f = |v: &Vec<String>| {
                if v.is_empty() {
                    "—".to_string()
                } else {
                    v.join(", ")
                }
            };
            format!("subscription {} → {}", f(from), f(to))
        }
        Change::Tag { key, from, to } => match (from, to) {
            (None, Some(v)) => format!("tag +{key}={v}"),
            (Some(v), None) => format!("tag -{key} (was {v})"),
            _ => format!("tag {key}: {} → {}", opt(from), opt(to)),
        },
        Change::Tenant { from, to, to_name } => {
            let pool = || "MSP pool".to_string();
            let target = match (to, to_name.is_empty()) {
                (None, _) => pool(),
                (Some(id), true) => id.clone(),
                (Some(id), false) => format!("{to_name} ({id})"),
            };
            format!("tenant {} → {target}", from.clone().unwrap_or_else(pool))
        }
    }
}

/// Summarise `plan`.
pub fn diff(plan: &Plan) -> Diff {
    let mut phases: Vec<PhaseCount> = Vec::new();
    for s in &plan.steps {
        match phases.iter_mut().find(|p| p.phase == s.phase) {
            Some(p) => {
                p.calls += 1;
                p.devices += s.serials.len();
            }
            None => phases.push(PhaseCount {
                phase: s.phase,
                calls: 1,
                devices: s.serials.len(),
            }),
        }
    }
    Diff {
        total_calls: plan.steps.len(),
        phases,
        devices: plan
            .devices
            .iter()
            .map(|d| DeviceLine {
                serial: d.serial.clone(),
                row: d.row,
                changes: d.changes.iter().map(describe).collect(),
            })
            .collect(),
        unchanged: plan.unchanged.len(),
        notes: plan.notes.clone(),
    }
}

impl Diff {
    /// The same diff with the ids in its change texts named, for people to read (JSON
    /// output keeps the ids, which scripts match on).
    pub fn named(&self, names: &Names) -> Diff {
        let mut d = self.clone();
        for l in &mut d.devices {
            l.changes = l
                .changes
                .iter()
                .map(|c| names.changes(std::slice::from_ref(c)))
                .collect();
        }
        d
    }

    /// Plain-text lines: the counts, then one line per device.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.total_calls == 0 {
            out.push(format!(
                "Nothing to do: all {} devices are already as asked.",
                self.unchanged
            ));
        } else {
            out.push(format!(
                "{} API calls for {} devices ({} unchanged):",
                self.total_calls,
                self.devices.len(),
                self.unchanged
            ));
            for p in &self.phases {
                out.push(format!(
                    "  {:<22} {:>4} devices in {:>3} calls",
                    p.phase.as_str(),
                    p.devices,
                    p.calls
                ));
            }
        }
        for d in &self.devices {
            let row = d.row.map(|r| format!("row {r}: ")).unwrap_or_default();
            out.push(format!("{row}{}: {}", d.serial, d.changes.join("; ")));
        }
        out.extend(self.notes.iter().map(|n| format!("note: {n}")));
        out
    }
}
