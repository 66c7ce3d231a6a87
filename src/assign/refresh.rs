//! The refresh after an assignment: the touched devices are fetched again and stored by the
//! sync engine's targeted refresh (`sync::refresh`) — under the workspace lock, recorded in
//! `sync_history` with trigger `assign` — so no assignment code writes inventory rows and a
//! sync running meanwhile cannot overwrite the fresher rows.
//!
//! With a running engine (the console) the refresh is a [`SyncCommand::Refresh`], so the
//! console shows it like any run; without one (`glp-console assign`, tests) the same engine
//! code runs here.

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::report::ResyncReport;
use crate::domain::{Resource, Trigger};
use crate::glp::client::Client;
use crate::glp::error::GlpError;
use crate::glp::model::{Device, Item};
use crate::store::Store;
use crate::sync::refresh::{RefreshJob, SERIALS_PER_LIST, refresh, serial_filter};
use crate::sync::{RefreshReply, SyncCommand, SyncEvent};

/// Refresh `serials` by running the engine's refresh here (no engine running).
pub async fn resync_serials(client: &Client, store: &Store, serials: &[String]) -> ResyncReport {
    resync_via(None, client, store, serials).await
}

/// Refresh `serials` through `engine` when given (falling back to running the refresh here
/// when the engine is gone), and say what it did.
pub async fn resync_via(
    engine: Option<&mpsc::Sender<SyncCommand>>,
    client: &Client,
    store: &Store,
    serials: &[String],
) -> ResyncReport {
    if let Some(tx) = engine {
        let (reply, rx) = RefreshReply::new();
        let cmd = SyncCommand::Refresh {
            serials: serials.to_vec(),
            trigger: Trigger::Assign,
            reply,
        };
        if tx.send(cmd).await.is_ok()
            && let Ok(done) = rx.await
        {
            return report_of(serials.len(), &done);
        }
        tracing::warn!("the sync engine is gone; refreshing the touched devices here");
    }
    let job = RefreshJob::new(client, store, serials, Trigger::Assign);
    let done = refresh(&job, &|_| {}).await;
    report_of(serials.len(), &done)
}

/// Look devices up by serial number (one `serialNumber in (…)` list per
/// [`SERIALS_PER_LIST`] serials), without storing them: what an apply needs to learn the
/// ids of devices it added.
pub async fn fetch_by_serials(
    client: &Client,
    serials: &[String],
) -> Result<Vec<Item<Device>>, GlpError> {
    let mut out = Vec::new();
    for chunk in serials.chunks(SERIALS_PER_LIST) {
        let stream = client.devices(Some(serial_filter(chunk)));
        futures_util::pin_mut!(stream);
        while let Some(page) = stream.next().await {
            out.extend(page?.items);
        }
    }
    Ok(out)
}

/// The wizard's and the report's figures from the refresh's final event.
pub fn report_of(requested: usize, done: &SyncEvent) -> ResyncReport {
    let (summary, error) = match done {
        SyncEvent::Finished(s) => (Some(s), None),
        SyncEvent::Failed { error, summary, .. } => (summary.as_ref(), Some(error.clone())),
        _ => (None, Some("the refresh ended without a result".into())),
    };
    let devices = summary.and_then(|s| {
        s.resources
            .iter()
            .find(|r| r.resource == Some(Resource::Devices))
    });
    ResyncReport {
        requested,
        fetched: devices.map_or(0, |r| r.fetched as usize),
        inserted: devices.map_or(0, |r| r.inserted),
        updated: devices.map_or(0, |r| r.updated),
        unchanged: devices.map_or(0, |r| r.unchanged),
        error,
    }
}
