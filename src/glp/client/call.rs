//! One logical API call and its answer, as the request methods hand them to the client.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};

use crate::glp::pace::Endpoint;

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Json(Vec<u8>),
    MergePatch(Vec<u8>),
}

/// One logical API call (retried as a whole).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub endpoint: Endpoint,
    pub url: Url,
    pub body: Option<Body>,
}

/// A received answer.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}
