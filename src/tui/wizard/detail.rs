//! The full text of the selected row of the wizard's lists — an issue, a plan line, a
//! report call or device — for the detail pane: a list cuts long messages at the screen's
//! edge, and GreenLake's reason is usually the end of them.

use super::Wizard;
use super::row_detail::{DetailLine, RowDetail};
use crate::assign::names::Names;
use crate::assign::validate::{Issue, Severity};
use crate::tui::model::table_id::WizardTable;

use DetailLine::{Field, Heading, Text};

fn issue_lines(is: &Issue) -> Vec<DetailLine> {
    let sev = match is.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    vec![
        Field("Severity", sev.into()),
        Field("Sheet", is.sheet.clone()),
        Field(
            "Row",
            is.row
                .map_or_else(|| "— (the whole sheet)".into(), |r| r.to_string()),
        ),
        Field("Column", is.column.clone().unwrap_or_else(|| "—".into())),
        Heading(String::new()),
        Heading("Message".into()),
        Text(is.message.clone()),
    ]
}

impl Wizard {
    /// The full text of the row under the cursor of the list on screen, if there is one.
    pub fn row_detail(&self) -> Option<RowDetail> {
        let t = self.current_table()?;
        let id = self.tables.get(t).selected_row()?.id.to_string();
        let names = Names::of_catalog(self.catalog.as_deref());
        match t {
            WizardTable::Issues => {
                let all = self.data.as_ref()?.prepared.issues();
                let is = all.get(id.parse::<usize>().ok()?)?;
                Some(RowDetail::new(issue_title(is), issue_lines(is)))
            }
            WizardTable::Review => {
                let d = self.data.as_ref()?;
                let m = d
                    .prepared
                    .matches
                    .iter()
                    .find(|m| m.input.row.to_string() == id)?;
                let mut lines = vec![
                    Field("Row", m.input.row.to_string()),
                    Field("Serial", m.input.serial.clone()),
                ];
                let row = self.tables.get(t).selected_row()?;
                for (c, col) in self.tables.get(t).columns.iter().enumerate().skip(2) {
                    lines.push(Field(col.name, row.cell(c).to_string()));
                }
                Some(RowDetail::new(format!("Row {}", m.input.row), lines))
            }
            WizardTable::Plan => self.plan_detail(&id, &names),
            WizardTable::Report => self.report_detail(&id, &names),
            WizardTable::Subscriptions | WizardTable::Applications => None,
        }
    }

    fn plan_detail(&self, id: &str, names: &Names) -> Option<RowDetail> {
        let planned = self.planned.as_ref()?;
        if let Some(i) = id.strip_prefix("issue-") {
            let is = planned.issues.get(i.parse::<usize>().ok()?)?;
            let mut lines = issue_lines(is);
            if is.is_error() {
                lines.insert(
                    0,
                    Text("This row is left out of the plan until the problem is fixed.".into()),
                );
            }
            return Some(RowDetail::new(issue_title(is), lines));
        }
        let serial = id.strip_prefix("dev-")?;
        let line = self
            .diff
            .as_ref()?
            .devices
            .iter()
            .find(|l| l.serial == serial)?;
        let mut lines = vec![
            Field("Serial", line.serial.clone()),
            Field(
                "Row",
                line.row.map_or_else(|| "—".into(), |r| r.to_string()),
            ),
            Heading(String::new()),
            Heading(format!("Changes ({})", line.changes.len())),
        ];
        lines.extend(
            line.changes
                .iter()
                .map(|c| Text(names.changes(std::slice::from_ref(c)))),
        );
        Some(RowDetail::new(format!("Plan for {serial}"), lines))
    }

    fn report_detail(&self, id: &str, names: &Names) -> Option<RowDetail> {
        let r = self.report.as_ref()?;
        if let Some(seq) = id.strip_prefix("op-") {
            let o = r.operations.iter().find(|o| o.seq.to_string() == seq)?;
            let mut lines = vec![
                Field("Call", format!("#{}", o.seq)),
                Field("Phase", o.phase.as_str().into()),
                Field("Status", o.status.as_str().into()),
                Field(
                    "HTTP status",
                    o.http_status.map_or_else(|| "—".into(), |s| s.to_string()),
                ),
                Field(
                    "Took",
                    o.duration_ms
                        .map_or_else(|| "—".into(), |ms| format!("{ms} ms")),
                ),
            ];
            if let Some(e) = &o.error {
                lines.push(Heading(String::new()));
                lines.push(Heading("Error".into()));
                lines.push(Text(e.clone()));
            }
            if !o.failed_devices.is_empty() {
                lines.push(Heading(String::new()));
                lines.push(Heading(format!(
                    "Devices GreenLake refused ({})",
                    o.failed_devices.len()
                )));
                for f in &o.failed_devices {
                    let who = f
                        .serial
                        .clone()
                        .or_else(|| f.device_id.clone())
                        .unwrap_or_else(|| "?".into());
                    lines.push(Text(format!("{who}: {}", f.reason)));
                }
            }
            lines.push(Heading(String::new()));
            lines.push(Heading(format!("Devices ({})", o.serials.len())));
            lines.push(Text(o.serials.join(" ")));
            lines.push(Heading(String::new()));
            lines.push(Heading("Request".into()));
            lines.push(Text(format!("{} {}", o.method.as_str(), o.path)));
            // As sent: the detail (and its copy) is the real request, ids and all.
            lines.push(Text(o.body.to_string()));
            if let Some(op) = &o.operation_id {
                lines.push(Field("Operation", op.clone()));
            }
            return Some(RowDetail::new(
                format!("Call #{} {}", o.seq, o.phase.as_str()),
                lines,
            ));
        }
        let serial = id.strip_prefix("dev-")?;
        let d = r.devices.iter().find(|d| d.serial == serial)?;
        let mut lines = vec![
            Field("Serial", d.serial.clone()),
            Field("Row", d.row.map_or_else(|| "—".into(), |r| r.to_string())),
            Field("Status", d.status.as_str().into()),
        ];
        if let Some(e) = &d.error {
            lines.push(Heading(String::new()));
            lines.push(Heading("Error".into()));
            lines.push(Text(e.clone()));
        }
        if !d.changes.is_empty() {
            lines.push(Heading(String::new()));
            lines.push(Heading(format!("Changes ({})", d.changes.len())));
            lines.extend(
                d.changes
                    .iter()
                    .map(|c| Text(names.changes(std::slice::from_ref(c)))),
            );
        }
        Some(RowDetail::new(format!("Device {serial}"), lines))
    }
}

fn issue_title(is: &Issue) -> String {
    match is.row {
        Some(r) => format!("Row {r} · {}", is.sheet),
        None => format!("Sheet {}", is.sheet),
    }
}
