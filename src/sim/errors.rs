//! GreenLake error bodies (glp-api.md §5.3) as axum responses, and the JSON responses the
//! handlers share with them.
//!
//! Every 4xx/5xx the simulator serves has the documented required fields (`httpStatusCode`,
//! `errorCode`, `message`, `debugId`) and one of the three `errorDetails` kinds, so a client's
//! error parsing is exercised on realistic bodies.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error response, built by the helpers below.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    pub details: Value,
    /// Extra headers (e.g. `www-authenticate`).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// 400 with one `hpe.greenlake.bad_request` issue.
    pub fn bad_request(source: &str, subject: &str, description: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "HPE_GL_ERROR_BAD_REQUEST",
            message: "Bad Request",
            details: json!([{
                "type": "hpe.greenlake.bad_request",
                "issues": [{"source": source, "subject": subject, "description": description.into()}]
            }]),
            headers: Vec::new(),
        }
    }

    /// 400 about a query parameter.
    pub fn bad_param(subject: &str, description: impl Into<String>) -> ApiError {
        Self::bad_request("query.parameter", subject, description)
    }

    /// 400 about a body field.
    pub fn bad_field(subject: &str, description: impl Into<String>) -> ApiError {
        Self::bad_request("field", subject, description)
    }

    /// 401: the bearer token is missing, unknown or expired.
    pub fn unauthorized(expired: bool) -> ApiError {
        // The spec's 401 body is the general error: a metadata detail, never `issues`.
        let details = if expired {
            json!([{"type": "hpe.greenlake.metadata", "source": "hpe.greenlake.authn",
                "metadata": {"access_token": "Authentication error - the token was expired."}}])
        } else {
            json!([{"type": "hpe.greenlake.metadata", "source": "hpe.greenlake.authn",
                "metadata": {"access_token": "Token provided is invalid"}}])
        };
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "HPE_GL_ERROR_UNAUTHORIZED",
            message: "Unauthorized Request",
            details,
            headers: vec![("www-authenticate", "Bearer error=\"invalid_token\"".into())],
        }
    }

    /// 404 for an unknown item or path.
    pub fn not_found(what: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "HPE_GL_ERROR_NOT_FOUND",
            message: "Not Found",
            details: json!([{"type": "hpe.greenlake.not_found", "source": "hpe.greenlake.devicemanagement",
                "metadata": {"resource": what}}]),
            headers: Vec::new(),
        }
    }

    /// 403: the token is valid but its workspace may not do this (a tenant asking for the
    /// MSP's tenant list).
    pub fn forbidden(reason: &str) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "HPE_GL_ERROR_FORBIDDEN",
            message: "Forbidden",
            details: json!([{"type": "hpe.greenlake.metadata", "source": "hpe.greenlake.authz",
                "metadata": {"reason": reason}}]),
            headers: Vec::new(),
        }
    }

    /// 415 when a PATCH is not `application/merge-patch+json`.
    pub fn unsupported_media(expected: &str) -> ApiError {
        ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "HPE_GL_ERROR_UNSUPPORTED_MEDIA_TYPE",
            message: "Unsupported Media Type",
            details: json!([{"type": "hpe.greenlake.bad_request", "issues": [{
                "source": "header", "subject": "Content-Type",
                "description": format!("Content-Type must be {expected}")}]}]),
            headers: Vec::new(),
        }
    }

    /// 429 with the §5.2 body.
    pub fn too_many_requests() -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "HPE_GL_ERROR_TOO_MANY_REQUESTS",
            message: "Too Many Requests",
            details: json!([{"type": "hpe.greenlake.metadata",
                "source": "hpe.greenlake.devicemanagement",
                "metadata": {"apiRateLimit": "Too Many Requests. Rate limit has exceeded a predefined value."}}]),
            headers: Vec::new(),
        }
    }

    /// 5xx with `retryAfterSeconds`.
    pub fn server(status: StatusCode, retry_after_seconds: u64) -> ApiError {
        let (code, message) = match status.as_u16() {
            502 => ("HPE_GL_ERROR_BAD_GATEWAY", "Bad Gateway"),
            503 => ("HPE_GL_ERROR_SERVICE_UNAVAILABLE", "Service Unavailable"),
            504 => ("HPE_GL_ERROR_GATEWAY_TIMEOUT", "Gateway Timeout"),
            _ => (
                "HPE_GL_ERROR_INTERNAL_SERVER_ERROR",
                "Internal Server Error",
            ),
        };
        ApiError {
            status,
            code,
            message,
            details: json!([{"type": "hpe.greenlake.retry_info", "retryAfterSeconds": retry_after_seconds}]),
            headers: Vec::new(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "httpStatusCode": self.status.as_u16(),
            "errorCode": self.code,
            "message": self.message,
            "debugId": uuid::Uuid::new_v4().to_string(),
            "errorDetails": self.details,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body())).into_response();
        for (k, v) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                resp.headers_mut().insert(*k, v);
            }
        }
        resp
    }
}

/// A JSON response from pre-serialised bytes.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// 200 with a JSON value.
pub fn ok_json(v: &Value) -> Response {
    json_bytes(StatusCode::OK, serde_json::to_vec(v).unwrap_or_default())
}
