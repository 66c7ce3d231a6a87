//! The effect interpreter: what each [`Effect`] the app asks for means in the running
//! program (a command to the engine, a task, the clipboard). The loop calls
//! [`Effects::carry_out`] after every input; nothing here blocks.

use std::io::Write;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::app::{App, Effect, Loaded, ToastLevel};
use super::clipboard::osc52;
use super::filter::FilterWorker;
use super::loaders::{self, Msg, WizardLoadJob};
use super::model::changes::ChangeWindow;
use super::run_loaders;
use super::wizard::{WizardEffect, WizardMsg};
use crate::assign::apply::{self, ApplyOptions, ApplyRequest};
use crate::glp::client::Client;
use crate::store::Store;
use crate::sync::events::SyncCommand;

/// What carrying out effects needs, and the state it keeps between them.
pub(super) struct Effects {
    pub store: Store,
    pub client: Option<Client>,
    pub commands: mpsc::Sender<SyncCommand>,
    pub tx: mpsc::UnboundedSender<Msg>,
    pub worker: FilterWorker,
    /// A reload is running; another asked for meanwhile runs when it ends.
    reloading: bool,
    reload_again: bool,
    /// Cancels the running apply (set while one runs).
    apply_cancel: Option<CancellationToken>,
    /// Ctrl-Z: the loop suspends the console when this batch is done.
    pub suspend: bool,
}

impl Effects {
    pub fn new(
        store: Store,
        client: Option<Client>,
        commands: mpsc::Sender<SyncCommand>,
        tx: mpsc::UnboundedSender<Msg>,
        worker: FilterWorker,
    ) -> Effects {
        Effects {
            store,
            client,
            commands,
            tx,
            worker,
            reloading: false,
            reload_again: false,
            apply_cancel: None,
            suspend: false,
        }
    }

    /// Carry out everything the app queued.
    pub fn carry_out(&mut self, app: &mut App) {
        for effect in app.take_effects() {
            match effect {
                Effect::Quit => {}
                Effect::Sync(cmd) => {
                    if self.commands.try_send(cmd).is_err() {
                        app.toast(
                            ToastLevel::Error,
                            "the sync engine is not answering (busy or stopped); try again shortly",
                        );
                    }
                }
                Effect::Reload => {
                    // The Changes view, once open, follows every reload (a sync landed,
                    // the workspace shown changed).
                    if let Some(window) = app.changes_window() {
                        self.load_changes(app, window);
                    }
                    if self.reloading {
                        self.reload_again = true;
                    } else {
                        self.reloading = true;
                        let scope = app.reload_scope();
                        let job = loaders::ReloadJob {
                            scope,
                            window_days: app.window_days(),
                            now: app.now(),
                        };
                        loaders::spawn_reload(self.store.clone(), job, self.tx.clone());
                    }
                }
                Effect::LoadDetail { table, id } => {
                    loaders::spawn_detail(self.store.clone(), table, id, self.tx.clone())
                }
                Effect::Filter(job) => self.worker.submit(job),
                Effect::Copy(text) => {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(osc52(&text).as_bytes());
                    let _ = out.flush();
                }
                Effect::Export {
                    path,
                    header,
                    rows,
                    overwrite,
                } => loaders::spawn_export(path, header, rows, overwrite, self.tx.clone()),
                // The run loop owns the terminal: it suspends after this batch.
                Effect::Suspend => self.suspend = true,
                Effect::Wizard(e) => self.wizard(app, e),
                Effect::PlanUndo { run_id } => run_loaders::spawn_undo_plan(
                    self.store.clone(),
                    self.client.clone(),
                    self.commands.clone(),
                    run_id,
                    self.tx.clone(),
                ),
                Effect::LoadRunDetail { run_id } => {
                    run_loaders::spawn_run_detail(self.store.clone(), run_id, self.tx.clone())
                }
                Effect::ExportRun { run_id, path } => {
                    run_loaders::spawn_run_export(self.store.clone(), run_id, path, self.tx.clone())
                }
                Effect::LoadChanges { window } => self.load_changes(app, window),
                Effect::LoadHistory => {
                    run_loaders::spawn_history(self.store.clone(), self.tx.clone())
                }
                Effect::LoadJump {
                    jump,
                    scope,
                    now,
                    window_days,
                } => loaders::spawn_jump(
                    self.store.clone(),
                    jump,
                    scope,
                    now,
                    window_days,
                    self.tx.clone(),
                ),
            }
        }
    }

    fn load_changes(&self, app: &App, window: ChangeWindow) {
        let job = run_loaders::ChangesJob {
            window,
            scope: app.reload_scope(),
            now: app.now(),
        };
        run_loaders::spawn_changes(self.store.clone(), job, self.tx.clone());
    }

    /// The wizard's effects.
    fn wizard(&mut self, app: &mut App, e: WizardEffect) {
        match e {
            WizardEffect::Catalog => {
                loaders::spawn_catalog(self.store.clone(), self.client.clone(), self.tx.clone())
            }
            WizardEffect::Complete { typed } => {
                loaders::spawn_complete(typed, app.home().map(Into::into), self.tx.clone())
            }
            WizardEffect::Load {
                generation,
                path,
                typed,
                sheet,
            } => {
                let job = WizardLoadJob {
                    store: self.store.clone(),
                    known: app.wizard().and_then(|w| w.catalog().clone()),
                    path,
                    sheet,
                    client: self.client.clone(),
                    engine: Some(self.commands.clone()),
                };
                let home = app.home().map(Into::into);
                loaders::spawn_sheet_load(job, generation, typed, home, self.tx.clone());
            }
            WizardEffect::Apply { plan, run, dry_run } => match &self.client {
                None => app.on_loaded(Loaded::Wizard(WizardMsg::Done(Err(
                    "no GreenLake API client is configured; set the credentials (see `glp-console config check`)".into(),
                )))),
                Some(c) => {
                    let h = apply::start(
                        c.clone(),
                        self.store.clone(),
                        ApplyRequest {
                            plan: *plan,
                            run: *run,
                        },
                        ApplyOptions {
                            dry_run,
                            engine: Some(self.commands.clone()),
                            ..ApplyOptions::default()
                        },
                    );
                    self.apply_cancel = Some(h.cancel.clone());
                    loaders::spawn_apply_forwarder(h, self.tx.clone());
                }
            },
            WizardEffect::LoadSerials {
                generation,
                serials,
            } => run_loaders::spawn_serials_load(
                self.store.clone(),
                self.client.clone(),
                self.commands.clone(),
                generation,
                serials,
                self.tx.clone(),
            ),
            WizardEffect::Cancel => {
                if let Some(c) = &self.apply_cancel {
                    c.cancel();
                }
            }
            WizardEffect::Export { report, path } => {
                loaders::spawn_report_export(report, path, self.tx.clone())
            }
        }
    }

    /// A reload ended: run the one asked for meanwhile.
    pub fn reload_done(&mut self, app: &mut App) {
        self.reloading = false;
        if std::mem::take(&mut self.reload_again) {
            app.push_effect(Effect::Reload);
        }
    }

    /// The apply ended: nothing to cancel any more.
    pub fn apply_done(&mut self) {
        self.apply_cancel = None;
    }

    /// Cancel a running apply (on the way out); true when one was running.
    pub fn cancel_apply(&mut self) -> bool {
        match self.apply_cancel.take() {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }
}
