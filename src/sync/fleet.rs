//! Many workspaces, one engine each: a fleet.
//!
//! Every workspace keeps what a single-workspace sync has — its own client (token, pacing,
//! breaker), advisory lock, incremental watermark and history row — because each member is
//! an ordinary [`engine`](super::engine) over `store.for_workspace(id)`. The fleet adds only
//! what spans workspaces: a shared gate that bounds how many run at once, one merged event
//! stream whose events say which workspace they are about, and per-workspace outcomes.
//! One workspace failing (refused token, outage, 403) is that member's final event; the
//! others go on.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, watch};

use super::engine::{self, EngineConfig, EngineHandle};
use super::events::{EngineStatus, FailureKind, SyncCommand, SyncEvent};
use crate::domain::{Mode, Outcome, Scope, SyncSummary, Trigger, WorkspaceId};
use crate::glp::client::Client;
use crate::store::Store;
use crate::store::workspaces::WorkspaceSeen;

/// An engine's event, with the workspace it is about.
#[derive(Debug, Clone)]
pub struct WorkspaceEvent {
    pub workspace: WorkspaceId,
    pub event: SyncEvent,
}

/// One workspace to serve: what it is and the client that speaks for it.
pub struct Member {
    pub ws: WorkspaceSeen,
    pub client: Client,
}

/// A workspace's engine, as the fleet keeps it.
pub struct FleetMember {
    pub ws: WorkspaceSeen,
    pub commands: mpsc::Sender<SyncCommand>,
    pub status: watch::Receiver<EngineStatus>,
    task: tokio::task::JoinHandle<()>,
    forward: tokio::task::JoinHandle<()>,
}

/// The running engines of all served workspaces.
pub struct Fleet {
    pub members: Vec<FleetMember>,
    /// Every member's events, tagged.
    pub events: mpsc::Receiver<WorkspaceEvent>,
}

/// How one workspace's sync ended.
#[derive(Debug, Clone)]
pub struct WorkspaceOutcome {
    pub ws: WorkspaceSeen,
    /// `None` when the run finished cleanly.
    pub failure: Option<(FailureKind, String)>,
    /// The run's summary when it started (a run refused before it started has none).
    pub summary: Option<SyncSummary>,
}

impl WorkspaceOutcome {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }

    /// Partial: the workspace's run stored some resources and failed others.
    pub fn partial(&self) -> bool {
        self.summary
            .as_ref()
            .is_some_and(|s| s.outcome == Outcome::Partial)
    }
}

impl Fleet {
    /// Start one engine per member over the same database; at most `concurrency` of them
    /// run a sync at once.
    pub fn spawn(
        members: Vec<Member>,
        store: &Store,
        cfg: EngineConfig,
        concurrency: u32,
    ) -> Fleet {
        let gate = Arc::new(Semaphore::new(concurrency.max(1) as usize));
        let (tx, events) = mpsc::channel(1024);
        let members = members
            .into_iter()
            .map(|m| {
                let cfg = EngineConfig {
                    gate: Some(gate.clone()),
                    ..cfg.clone()
                };
                let handle = engine::spawn(m.client, store.for_workspace(m.ws.id.clone()), cfg);
                spawn_member(m.ws, handle, tx.clone())
            })
            .collect();
        Fleet { members, events }
    }

    /// The member serving `id`.
    pub fn member(&self, id: &WorkspaceId) -> Option<&FleetMember> {
        self.members.iter().find(|m| &m.ws.id == id)
    }

    /// Ask every member for a sync; each queues for the gate.
    pub async fn sync_all(&self, scope: Scope, mode: Mode, trigger: Trigger) {
        for m in &self.members {
            let _ = m
                .commands
                .send(SyncCommand::SyncNow {
                    scope,
                    mode,
                    trigger,
                })
                .await;
        }
    }

    /// Ask every member to stop its run after the page in flight.
    pub async fn cancel_all(&self) {
        for m in &self.members {
            let _ = m.commands.send(SyncCommand::Cancel).await;
        }
    }

    /// Take the merged events out (a console reads them on its own), leaving a closed
    /// stream behind.
    pub fn take_events(&mut self) -> mpsc::Receiver<WorkspaceEvent> {
        let (_closed, empty) = mpsc::channel(1);
        std::mem::replace(&mut self.events, empty)
    }

    /// The fleet behind one engine's command channel, for a front end that speaks to one
    /// engine: a sync or a cancel goes to every workspace, a targeted refresh to `primary`
    /// (the console's own workspace; the wizard sends its refreshes straight to the engine of
    /// the workspace it wrote to, `tui::targets`), and shutdown stops them all.
    pub fn behind_commands(
        self,
        primary: WorkspaceId,
    ) -> (mpsc::Sender<SyncCommand>, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel(16);
        let task = tokio::spawn(async move {
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    SyncCommand::SyncNow {
                        scope,
                        mode,
                        trigger,
                    } => self.sync_all(scope, mode, trigger).await,
                    SyncCommand::Cancel => self.cancel_all().await,
                    refresh @ SyncCommand::Refresh { .. } => {
                        if let Some(m) = self.member(&primary) {
                            let _ = m.commands.send(refresh).await;
                        }
                    }
                    SyncCommand::Shutdown => break,
                }
            }
            self.shutdown().await;
        });
        (tx, task)
    }

    /// Stop every engine and wait for them.
    pub async fn shutdown(self) {
        for m in &self.members {
            let _ = m.commands.send(SyncCommand::Shutdown).await;
        }
        for m in self.members {
            let _ = m.task.await;
            m.forward.abort();
        }
    }
}

fn spawn_member(
    ws: WorkspaceSeen,
    handle: EngineHandle,
    tx: mpsc::Sender<WorkspaceEvent>,
) -> FleetMember {
    let EngineHandle {
        commands,
        mut events,
        status,
        task,
    } = handle;
    let workspace = ws.id.clone();
    let forward = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let ev = WorkspaceEvent {
                workspace: workspace.clone(),
                event,
            };
            if tx.send(ev).await.is_err() {
                return;
            }
        }
    });
    FleetMember {
        ws,
        commands,
        status,
        task,
        forward,
    }
}

/// The final event of a member's run, as an outcome; `None` for progress events.
pub fn outcome_of(ws: &WorkspaceSeen, ev: &SyncEvent) -> Option<WorkspaceOutcome> {
    match ev {
        SyncEvent::Finished(summary) => Some(WorkspaceOutcome {
            ws: ws.clone(),
            failure: None,
            summary: Some(summary.clone()),
        }),
        SyncEvent::Failed {
            kind,
            error,
            summary,
            refresh: false,
        } => Some(WorkspaceOutcome {
            ws: ws.clone(),
            failure: Some((*kind, error.clone())),
            summary: summary.clone(),
        }),
        _ => None,
    }
}
