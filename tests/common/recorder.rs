//! A recording HTTP proxy on 127.0.0.1: every request our client sends and every answer the
//! upstream (the simulator) gives pass through it unchanged and are kept as
//! [`Exchange`]s, so a test can check both sides against the published contract.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::task::JoinHandle;

use super::openapi::Exchange;

/// Hop-by-hop and length headers the proxy recomputes instead of copying.
const SKIP: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

#[derive(Clone)]
struct Upstream {
    base: String,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<Exchange>>>,
}

/// A running proxy; dropped, it stops serving.
pub struct Recorder {
    addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<Exchange>>>,
    task: JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recorder {
    /// Start forwarding to `upstream` (e.g. `http://127.0.0.1:1234`).
    pub async fn start(upstream: &str) -> Recorder {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("the proxy binds a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound socket has an address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let st = Upstream {
            base: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a plain HTTP client builds"),
            log: Arc::clone(&log),
        };
        let app = Router::new().fallback(forward).with_state(st);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder { addr, log, task }
    }

    /// The base URL to give the client instead of the upstream's.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything recorded so far, in the order the answers came back.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forget what was recorded.
    pub fn clear(&self) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

fn pairs(h: &axum::http::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

async fn forward(State(up): State<Upstream>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let req_body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let url = reqwest::Url::parse(&format!("{}{pq}", up.base)).expect("upstream URL + path");
    let query: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut rb = up.http.request(parts.method.clone(), url.clone());
    for (k, v) in &parts.headers {
        if !SKIP.contains(&k.as_str()) {
            rb = rb.header(k, v);
        }
    }
    let sent = rb.body(req_body.to_vec()).send().await;
    let (status, headers, body) = match sent {
        Ok(r) => {
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            (status, headers, body)
        }
        // The upstream dropped the connection (a fault): answer 502, recorded as status 0.
        Err(_) => (0, Default::default(), Vec::new()),
    };
    up.log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Exchange {
            method: parts.method.as_str().to_string(),
            path: url.path().to_string(),
            query,
            request_headers: pairs(&parts.headers),
            request_body: req_body.to_vec(),
            status,
            response_headers: pairs(&headers),
            response_body: body.clone(),
        });
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (k, v) in &headers {
        if !SKIP.contains(&k.as_str())
            && let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_str().as_bytes()),
                HeaderValue::from_bytes(v.as_bytes()),
            )
        {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}
