//! The tasks behind the run list, the marks and `:history`: an undo's plan, a recorded
//! run's detail and its report written again, the sync runs, and the marked devices read
//! like a sheet. Each answers the loop with a [`Msg`], like the other loaders.

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::app::Loaded;
use super::loaders::{Msg, effective_scope, export_report, without_figures};
use super::model::changes::{ChangeWindow, change_rows};
use super::model::workspaces;
use super::wizard::{WizardMsg, wizard_data};
use crate::assign::apply::{UndoPlan, prepare_undo};
use crate::assign::recorded::RecordedRun;
use crate::assign::session;
use crate::domain::WorkspaceId;
use crate::glp::client::Client;
use crate::store::Store;
use crate::store::views::ViewScope;
use crate::sync::events::SyncCommand;

/// How many sync runs `:history` lists, newest first.
pub const HISTORY_RUNS: i64 = 1000;

fn send(tx: &mpsc::UnboundedSender<Msg>, l: Loaded) {
    let _ = tx.send(Msg::Loaded(l));
}

/// Plan the undo of `run_id` as `assign --undo` does (the devices read again first,
/// through the console's engine).
pub(super) fn spawn_undo_plan(
    store: Store,
    client: Option<Client>,
    engine: mpsc::Sender<SyncCommand>,
    run_id: i64,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(undo_plan_in(store, client, engine, run_id, None, tx));
}

/// [`spawn_undo_plan`]'s work, with the workspace the run was made in (`workspace`, in a
/// console over several) passed back with the plan: the wizard applies the undo there.
pub(super) async fn undo_plan_in(
    store: Store,
    client: Option<Client>,
    engine: mpsc::Sender<SyncCommand>,
    run_id: i64,
    workspace: Option<WorkspaceId>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let r = prepare_undo(&store, client.as_ref(), Some(&engine), run_id)
        .await
        .map(Box::new)
        .map_err(|e| e.to_string());
    send_undo_planned(&tx, workspace, r);
}

/// An undo plan (or why there is none) to the loop, with the run's workspace when known.
pub(super) fn send_undo_planned(
    tx: &mpsc::UnboundedSender<Msg>,
    workspace: Option<WorkspaceId>,
    r: Result<Box<UndoPlan>, String>,
) {
    match workspace {
        None => send(tx, Loaded::UndoPlanned(r)),
        Some(workspace) => send(
            tx,
            Loaded::UndoPlannedIn {
                workspace,
                result: r,
            },
        ),
    }
}

pub(super) fn spawn_run_detail(store: Store, run_id: i64, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let result = RecordedRun::load(&store, run_id)
            .await
            .map(|r| r.map(Box::new))
            .map_err(|e| e.to_string());
        send(&tx, Loaded::RunDetail { run_id, result });
    });
}

/// Rebuild a recorded run's report and write it (the writer the wizard's report uses).
pub(super) fn spawn_run_export(
    store: Store,
    run_id: i64,
    path: PathBuf,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let r = match RecordedRun::load(&store, run_id).await {
            Ok(Some(run)) => {
                let report = run.report();
                tokio::task::spawn_blocking(move || export_report(&report, &path))
                    .await
                    .unwrap_or_else(|e| Err(format!("writing the report failed: {e}")))
            }
            Ok(None) => Err(format!("run {run_id} is no longer in the database")),
            Err(e) => Err(format!("reading run {run_id} failed: {e}")),
        };
        send(&tx, Loaded::Exported(r));
    });
}

/// The sync runs, with the query `glp-console status` uses.
pub(super) fn spawn_history(store: Store, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let r = store
            .recent_runs(HISTORY_RUNS)
            .await
            .map_err(|e| e.to_string());
        send(&tx, Loaded::History(r));
    });
}

/// How many changes `:changes` lists at most, newest first ("latest N" when reached).
pub const CHANGES_LIMIT: i64 = 5000;

/// What a read of the Changes view needs: the window, the workspace scope asked for and the
/// "now" the window counts back from.
#[derive(Debug, Clone)]
pub struct ChangesJob {
    pub window: ChangeWindow,
    pub scope: ViewScope,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// The Changes view's rows for `job` (also used by tests): in the scope a reload would
/// read (one workspace's rows as they are when the database holds no other), with the
/// Workspace column when it holds several.
pub async fn load_changes(store: &Store, job: &ChangesJob) -> anyhow::Result<Loaded> {
    let list: Vec<_> = store
        .workspaces()
        .await?
        .into_iter()
        .map(without_figures)
        .collect();
    let scope = effective_scope(&job.scope, &list);
    let names = (scope != ViewScope::Single).then(|| workspaces::names(&list));
    let since = job.window.since(job.now);
    let found = store.view_changes_in(&scope, since, CHANGES_LIMIT).await?;
    let window = job.window;
    let data = tokio::task::spawn_blocking(move || {
        let limit = usize::try_from(CHANGES_LIMIT).unwrap_or(usize::MAX);
        change_rows(&found, names.as_ref(), window, limit)
    })
    .await?;
    Ok(Loaded::Changes {
        scope: job.scope.clone(),
        data: Box::new(data),
    })
}

pub(super) fn spawn_changes(store: Store, job: ChangesJob, tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let l = load_changes(&store, &job)
            .await
            .unwrap_or_else(|e| Loaded::Failed(format!("the changes {}: {e}", job.window.label())));
        send(&tx, l);
    });
}

/// Match the marked serials like a sheet's rows and build the wizard's review.
pub(super) fn spawn_serials_load(
    store: Store,
    client: Option<Client>,
    engine: mpsc::Sender<SyncCommand>,
    generation: u64,
    serials: Vec<String>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let started = chrono::Utc::now();
        let result = match session::prepare_serials(
            &store,
            client.as_ref(),
            Some(&engine),
            &serials,
        )
        .await
        {
            Err(e) => Err(e.to_string()),
            Ok(prepared) => tokio::task::spawn_blocking(move || {
                Box::new(wizard_data(prepared, None, started, chrono::Utc::now()))
            })
            .await
            .map_err(|e| format!("building the review failed: {e}")),
        };
        send(
            &tx,
            Loaded::Wizard(WizardMsg::Loaded { generation, result }),
        );
    });
}
