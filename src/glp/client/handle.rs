//! The [`Client`] handle: building one, and the state its clones share (token, pacing,
//! breaker, patience, events and counters).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Url;
use tokio::sync::{broadcast, watch};

use super::events::{AtomicCounters, ClientEvent, Counters};
use crate::config::{ApiConfig, Secret};
use crate::domain::WorkspaceId;
use crate::glp::auth::{Auth, describe_reqwest};
use crate::glp::breaker::{Breaker, BreakerSnapshot, Permit, Transition};
use crate::glp::error::GlpError;
use crate::glp::health::{HealthSnapshot, HealthWindow};
use crate::glp::pace::Pacer;
use crate::glp::patience::Patience;

pub(crate) struct Inner {
    pub cfg: ApiConfig,
    pub(super) base: String,
    pub(super) http: reqwest::Client,
    /// The client for token requests (never follows redirects).
    token_http: reqwest::Client,
    pub auth: Arc<Auth>,
    /// Shared with other workspaces' clients when the rate-limit scope is the API client.
    pub pacer: Arc<Pacer>,
    pub(super) breaker: Breaker,
    pub(super) health: HealthWindow,
    pub(super) patience: Patience,
    pub(super) events: broadcast::Sender<ClientEvent>,
    pub(super) counters: AtomicCounters,
    pub(super) seq: AtomicU64,
}

/// The GreenLake API client. Cheap to clone; clones share the token, pacing and breaker.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Build a client. Installs the TLS provider; validates the URLs; sends nothing yet.
    pub fn new(cfg: &ApiConfig, secret: Secret) -> Result<Client, GlpError> {
        Client::new_with_pacer(cfg, secret, None)
    }

    /// [`Client::new`] drawing on `pacer` (another client's [`Client::pacer`]) instead of a
    /// pacer of its own: workspaces whose rate-limit budget is one API client's share it.
    pub fn new_with_pacer(
        cfg: &ApiConfig,
        secret: Secret,
        pacer: Option<Arc<Pacer>>,
    ) -> Result<Client, GlpError> {
        crate::tls::init();
        let base = cfg.base_url.trim().trim_end_matches('/').to_string();
        Url::parse(&base).map_err(|e| {
            GlpError::Config(format!(
                "[api] base_url = {base:?} is not a valid URL ({e}): use e.g. \
                 https://global.api.greenlake.hpe.com"
            ))
        })?;
        let build = |redirects: bool| {
            let b = reqwest::Client::builder()
                .timeout(cfg.timeout)
                .connect_timeout(cfg.connect_timeout)
                .pool_max_idle_per_host(cfg.max_concurrency.max(1) as usize * 2)
                .user_agent(concat!("glp-console/", env!("CARGO_PKG_VERSION")));
            let b = if redirects {
                b
            } else {
                b.redirect(reqwest::redirect::Policy::none())
            };
            b.build().map_err(|e| {
                GlpError::Config(format!(
                    "cannot build the HTTP client: {}",
                    describe_reqwest(&e)
                ))
            })
        };
        let http = build(true)?;
        let token_http = build(false)?;
        let auth = Auth::new(
            cfg.token_url.trim(),
            cfg.client_id.trim(),
            &secret,
            token_http.clone(),
        )?;
        Ok(Client::assemble(
            cfg,
            base,
            (http, token_http),
            Arc::new(auth),
            pacer,
        ))
    }

    /// A client for MSP tenant `tenant` (glp-api.md §11): its tokens come from exchanging
    /// this client's token (this must be the MSP's client-credentials client) at the
    /// tenant's token URL. It has its own token cache, breaker, health and counters, the
    /// same settings and connection pool, and `pacer` when given (rate-limit scope "API
    /// client": pass [`Client::pacer`] of the MSP's client), else a pacer of its own.
    pub fn tenant_client(
        &self,
        tenant: &WorkspaceId,
        pacer: Option<Arc<Pacer>>,
    ) -> Result<Client, GlpError> {
        let inner = &*self.inner;
        let auth = Auth::exchange(
            Arc::clone(&inner.auth),
            &inner.base,
            tenant,
            inner.token_http.clone(),
        )?;
        Ok(Client::assemble(
            &inner.cfg,
            inner.base.clone(),
            (inner.http.clone(), inner.token_http.clone()),
            Arc::new(auth),
            pacer,
        ))
    }

    fn assemble(
        cfg: &ApiConfig,
        base: String,
        (http, token_http): (reqwest::Client, reqwest::Client),
        auth: Arc<Auth>,
        pacer: Option<Arc<Pacer>>,
    ) -> Client {
        let (events, _) = broadcast::channel(256);
        Client {
            inner: Arc::new(Inner {
                cfg: cfg.clone(),
                base,
                http,
                token_http,
                auth,
                pacer: pacer.unwrap_or_else(|| Arc::new(Pacer::new(&cfg.rate_limits))),
                breaker: Breaker::new(&cfg.breaker),
                health: HealthWindow::default(),
                patience: Patience::default(),
                events,
                counters: AtomicCounters::default(),
                seq: AtomicU64::new(0),
            }),
        }
    }

    /// This client's pacer, to share with the clients of other workspaces.
    pub fn pacer(&self) -> Arc<Pacer> {
        Arc::clone(&self.inner.pacer)
    }

    /// The token source (its URL, and the tenant for an exchanging one).
    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// The base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Live breaker state (state, consecutive failures, time to the next probe, trips).
    pub fn breaker(&self) -> watch::Receiver<BreakerSnapshot> {
        self.inner.breaker.watch()
    }

    /// How the last requests went, as they end (see `glp::health`).
    pub fn health(&self) -> watch::Receiver<HealthSnapshot> {
        self.inner.health.watch()
    }

    /// The breaker state now, with `retry_in` computed as of this call.
    pub fn breaker_snapshot(&self) -> BreakerSnapshot {
        self.inner.breaker.snapshot()
    }

    /// Let calls wait up to `patience` for GreenLake to come back instead of failing on an
    /// outage (`None`: fail once a call's own retries are used up). The outage clock starts
    /// again. The sync engine sets one per resource phase.
    pub fn set_patience(&self, patience: Option<Duration>) {
        self.inner.patience.set(patience);
    }

    /// Retries, rate limiting and breaker changes as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.events.subscribe()
    }

    pub fn counters(&self) -> Counters {
        let c = &self.inner.counters;
        Counters {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            breaker_trips: u64::from(self.inner.breaker.snapshot().trips),
            token_fetches: self.inner.auth.fetches(),
        }
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.cfg
    }

    pub(crate) fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, GlpError> {
        let mut url = Url::parse(&format!("{}{}", self.inner.base, path)).map_err(|e| {
            GlpError::Config(format!("cannot form a URL from base_url and {path}: {e}"))
        })?;
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    pub(super) fn emit(&self, ev: ClientEvent) {
        let _ = self.inner.events.send(ev);
    }

    pub(super) fn note(&self, tr: Transition) {
        if tr != Transition::None {
            let snap = self.inner.breaker.snapshot();
            match tr {
                Transition::Opened => tracing::warn!(
                    failures = snap.failures,
                    "circuit breaker opened: GreenLake calls paused"
                ),
                Transition::Closed => {
                    tracing::info!("circuit breaker closed: GreenLake is back");
                    self.inner.health.recovered();
                }
                _ => tracing::info!("circuit breaker half-open: sending one probe"),
            }
            self.emit(ClientEvent::BreakerChanged(snap));
        }
    }

    pub(super) fn finish(&self, permit: &mut Option<Permit>, healthy: Option<bool>) {
        if let Some(p) = permit.take() {
            match healthy {
                Some(true) => {
                    let tr = p.success();
                    self.note(tr);
                }
                Some(false) => {
                    let tr = p.failure();
                    self.note(tr);
                }
                None => drop(p),
            }
        }
    }

    /// A completion sequence number (orders pages by when they were answered).
    pub(crate) fn next_seq(&self) -> u64 {
        self.inner.seq.fetch_add(1, Ordering::Relaxed)
    }
}
