//! The accept loop. We serve connections with hyper directly (not `axum::serve`) so that a
//! response marked [`DropConnection`] becomes a connection closed without any response —
//! the "dropped connection" fault.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A router as hyper calls it.
pub(crate) type Svc = hyper_util::service::TowerToHyperService<axum::Router>;

/// Chooses the router that serves a request (and may rewrite its URI).
pub(crate) trait Pick: Send + Sync + 'static {
    fn pick(&self, req: &mut hyper::Request<Incoming>) -> &Svc;
}

/// Marker on a response: the server drops the connection instead of sending it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// Why a connection was closed on purpose.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by the simulator (fault drop_rate)")]
struct Dropped;

/// Serve the workspaces' routers on `listener` until `stop` is cancelled (each request to the
/// router `dispatch` picks); open connections are aborted then.
pub(crate) async fn serve(listener: TcpListener, dispatch: impl Pick, stop: CancellationToken) {
    let svc = Arc::new(dispatch);
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            a = listener.accept() => a,
            // Reap finished connections so the set does not grow.
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let svc = Arc::clone(&svc);
        conns.spawn(async move {
            let service = service_fn(move |mut req: hyper::Request<Incoming>| {
                let svc = Arc::clone(&svc);
                async move {
                    let router = svc.pick(&mut req);
                    let resp = match hyper::service::Service::call(router, req).await {
                        Ok(r) => r,
                        Err(e) => match e {},
                    };
                    if resp.extensions().get::<DropConnection>().is_some() {
                        return Err(Dropped);
                    }
                    Ok::<_, Dropped>(resp)
                }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
    let _: Option<Infallible> = None;
}
