//! The choosing steps' work: the subscription list, tag edits, the plan and its diff, and
//! the questions before sending or cancelling.

use std::sync::Arc;

use super::rows::plan_rows;
use super::{ApplyProgress, Confirm, Cx, Wizard, WizardEffect, WizardStep};
use crate::assign::apply::undo_run;
use crate::assign::diff::diff;
use crate::assign::load::TAG_REMOVE;
use crate::assign::options::{subscription_choice_warning, subscription_choices, tag_choices};
use crate::assign::session::{new_run, plan_for_valid};
use crate::assign::validate_input;
use crate::tui::model::rows::{fmt_date, fmt_int};
use crate::tui::model::table::{Mark, Row, TableData};
use crate::tui::model::table_id::WizardTable;
use crate::tui::toast::ToastLevel;

impl Wizard {
    /// Fill the subscription chooser: those with enough seats (the rest are counted).
    pub(super) fn enter_subscription(&mut self, cx: &mut Cx<'_>) {
        self.step = WizardStep::Subscription;
        let (Some(data), Some(catalog)) = (self.data.clone(), self.catalog.clone()) else {
            // Filled in when the catalog arrives.
            self.want_catalog(cx);
            return;
        };
        let matches = data.prepared.valid_matches();
        if let Some(w) = subscription_choice_warning(&matches) {
            cx.toast(ToastLevel::Warn, w);
        }
        let all = subscription_choices(&catalog, &matches, cx.now);
        let (ok, short): (Vec<_>, Vec<_>) = all.into_iter().partition(|s| s.enough);
        self.subs_short = short.len();
        let rows: Vec<Row> = ok
            .iter()
            .map(|s| {
                Row::from_cells(
                    s.id.as_str(),
                    [
                        s.key.as_str(),
                        s.subscription_type.as_str(),
                        s.tier.as_deref().unwrap_or(""),
                        &fmt_date(s.end_time),
                        &s.days_left.map(|d| format!("{d}d")).unwrap_or_default(),
                        &s.available.map(fmt_int).unwrap_or_else(|| "?".into()),
                        &fmt_int(s.needed as i64),
                    ],
                    Mark::Normal,
                )
            })
            .collect();
        let chosen = self.subscription.value().cloned();
        self.set_table(
            WizardTable::Subscriptions,
            TableData {
                rows,
                breakdown: Vec::new(),
            },
            cx,
        );
        if let Some(id) = chosen {
            self.tables
                .get_mut(WizardTable::Subscriptions)
                .select_id(&id);
        }
    }

    /// Tab on the tag line: complete a key, or a value of the key typed.
    pub(super) fn complete_tag(&mut self) {
        let Some(catalog) = self.catalog.clone() else {
            return;
        };
        let (sign, rest) = match self.tag_input.as_str().strip_prefix('-') {
            Some(r) => ("-", r.to_string()),
            None => ("", self.tag_input.to_string()),
        };
        if rest.contains('=') {
            // Complete the value from those in use for this key.
            let (k, v) = rest.split_once('=').unwrap_or((&rest, ""));
            let values: Vec<String> = tag_choices(&catalog)
                .into_iter()
                .filter(|t| t.key.eq_ignore_ascii_case(k))
                .flat_map(|t| t.values.into_iter().map(|(v, _)| v))
                .filter(|x| x.starts_with(v))
                .collect();
            if let [one] = values.as_slice() {
                self.tag_input.set(format!("{k}={one}"));
            }
            return;
        }
        let keys: Vec<String> = tag_choices(&catalog)
            .into_iter()
            .map(|t| t.key)
            .filter(|k| k.to_lowercase().starts_with(&rest.to_lowercase()))
            .collect();
        if let [one] = keys.as_slice() {
            self.tag_input.set(if sign.is_empty() {
                format!("{one}=")
            } else {
                format!("-{one}")
            });
        } else if !keys.is_empty() {
            // Each Tab shows the next key in use.
            let options: Vec<String> = keys.iter().map(|k| format!("{sign}{k}")).collect();
            self.tag_input.complete(&options, false);
            self.tag_error = Some(format!("keys in use: {}", keys.join(" ")));
        }
    }

    /// Enter on the tag line: add the edit typed, or go on to the plan when it is empty.
    pub(super) fn tag_enter(&mut self, cx: &mut Cx<'_>) {
        let input = self.tag_input.as_str().trim().to_string();
        if input.is_empty() {
            self.goto(WizardStep::Plan, cx);
            return;
        }
        let parsed = if input.eq_ignore_ascii_case(TAG_REMOVE) {
            Err(format!(
                "\"{TAG_REMOVE}\" is for sheet cells; here write -KEY to remove a tag"
            ))
        } else {
            validate_input::tag_edit(&input)
        };
        match parsed {
            Ok((k, v)) => {
                self.tags.retain(|(x, _)| !x.eq_ignore_ascii_case(&k));
                self.tags.push((k, v));
                self.tag_cursor = self.tags.len() - 1;
                self.tag_input.clear();
                self.tag_error = None;
            }
            Err(e) => self.tag_error = Some(e),
        }
    }

    /// Resolve the choices and plan (cheap: no I/O), and show the diff.
    pub(super) fn plan(&mut self, cx: &mut Cx<'_>) {
        if self.undo.is_some() {
            self.show_undo_plan(cx);
            return;
        }
        // Never keep a plan made for other choices.
        self.planned = None;
        self.diff = None;
        let (Some(data), Some(catalog)) = (self.data.clone(), self.catalog.clone()) else {
            self.tables.reset(WizardTable::Plan, None);
            self.want_catalog(cx);
            return;
        };
        let planned = plan_for_valid(&data.prepared, &catalog, &self.choices(), cx.now);
        let d = diff(&planned.plan);
        let rows = plan_rows(&planned, &d, &catalog);
        self.planned = Some(Arc::new(planned));
        self.diff = Some(Arc::new(d));
        self.tables.reset(
            WizardTable::Plan,
            Some("nothing to send: every device is already as asked".into()),
        );
        self.set_table(WizardTable::Plan, rows, cx);
    }

    pub(super) fn ask_send(&mut self, dry_run: bool, cx: &mut Cx<'_>) {
        if cx.read_only {
            cx.toast(
                ToastLevel::Error,
                "read-only mode (--read-only): the plan can be reviewed but not sent; restart without --read-only to apply",
            );
            return;
        }
        let Some(planned) = self.planned.clone() else {
            cx.toast(
                ToastLevel::Info,
                "the plan is not ready: the subscriptions and the catalog are still being read",
            );
            self.want_catalog(cx);
            return;
        };
        if let Some(b) = planned.blocking() {
            cx.toast(ToastLevel::Error, format!("cannot send: {}", b.message));
            return;
        }
        if planned.plan.is_empty() {
            cx.toast(
                ToastLevel::Info,
                "nothing to send: every device is already as asked",
            );
            return;
        }
        self.confirm = Some(Confirm::Send { dry_run });
    }

    pub(super) fn ask_cancel(&mut self) {
        if self.step == WizardStep::Applying && !self.progress.cancelling {
            self.confirm = Some(Confirm::Cancel);
        }
    }

    /// Ctrl-C while an apply runs: ask to cancel (a second Ctrl-C confirms) instead of
    /// quitting and leaving the run half-recorded. The app has already brought the wizard
    /// to the front.
    pub fn on_ctrl_c(&mut self, cx: &mut Cx<'_>) {
        if self.confirm == Some(Confirm::Cancel) {
            self.confirmed(cx);
        } else if !self.progress.cancelling {
            self.ask_cancel();
        }
    }

    /// Yes to the question on screen.
    pub(super) fn confirmed(&mut self, cx: &mut Cx<'_>) {
        match self.confirm.take() {
            Some(Confirm::Send { dry_run }) => {
                if cx.read_only {
                    return;
                }
                let Some(planned) = self.planned.clone() else {
                    return;
                };
                let run = match (self.undo, self.data.as_ref()) {
                    (Some(id), _) => undo_run(id, dry_run),
                    (None, Some(data)) => new_run(&data.prepared, &self.choices(), dry_run),
                    (None, None) => return,
                };
                self.progress = ApplyProgress::for_plan(&planned.plan, dry_run);
                self.progress.started = Some(cx.now);
                self.step = WizardStep::Applying;
                cx.effect(WizardEffect::Apply {
                    plan: Box::new(planned.plan.clone()),
                    run: Box::new(run),
                    dry_run,
                });
            }
            Some(Confirm::Cancel) => {
                self.progress.cancelling = true;
                self.progress.current = "cancelling: waiting for the calls already sent".into();
                cx.effect(WizardEffect::Cancel);
                cx.toast(
                    ToastLevel::Warn,
                    "cancelling the assignment after the calls in flight",
                );
            }
            None => {}
        }
    }
}
