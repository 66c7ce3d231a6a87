//! When GreenLake refuses the page size: recognising the refusal in a 400 and choosing the
//! next size to ask for.

use crate::glp::error::{ErrorKind, GlpError};

/// The texts of a 400's body that are about the `limit` parameter.
fn limit_texts(e: &GlpError) -> Vec<&str> {
    let Some(body) = e.api_body() else {
        return Vec::new();
    };
    body.details
        .iter()
        .map(String::as_str)
        .chain(body.message.as_deref())
        .chain(body.text.as_deref())
        .filter(|t| t.to_ascii_lowercase().contains("limit"))
        .collect()
}

/// Whether a failed first request was GreenLake refusing the page size. Any 400 counts when
/// the endpoint has a known fallback not tried yet (the subscription API before August 2026
/// said only "Bad Request"); otherwise the body must be about `limit`.
pub(super) fn refuses_limit(e: &GlpError, fallback: Option<u32>, limit: u64) -> bool {
    e.kind() == ErrorKind::BadRequest
        && (fallback.is_some_and(|f| u64::from(f) < limit) || !limit_texts(e).is_empty())
}

/// The next page size after `limit` was refused: the upper bound the error names
/// (`limit must be between 1 and 20` → 20) when it is below `limit`, else the endpoint's
/// fallback, else half. Always in `1..limit`.
pub(super) fn smaller_limit(e: &GlpError, limit: u64, fallback: Option<u32>) -> u64 {
    let named = limit_texts(e)
        .into_iter()
        .flat_map(|t| {
            t.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        // The refused value itself is often echoed ("(got 200)"); it is not the cap.
        .filter(|n| *n != limit)
        .max()
        // The largest other number is the upper bound; one above the limit is no cap.
        .filter(|n| (1..limit).contains(n));
    named
        .or_else(|| fallback.map(u64::from).filter(|f| (1..limit).contains(f)))
        .unwrap_or(limit / 2)
        .clamp(1, limit.saturating_sub(1).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad_request(details: &[&str]) -> GlpError {
        GlpError::Http {
            method: "GET".into(),
            url: "https://glp.example/devices/v1/devices".into(),
            status: 400,
            body: Box::new(crate::glp::error::ApiErrorBody {
                message: Some("Bad Request".into()),
                details: details.iter().map(|d| d.to_string()).collect(),
                ..Default::default()
            }),
            attempts: 1,
        }
    }

    #[test]
    fn a_refused_limit_steps_to_the_largest_named_below_it_else_fallback_else_half() {
        let e = bad_request(&["limit: limit must be between 1 and 20"]);
        assert!(refuses_limit(&e, None, 2000));
        assert_eq!(smaller_limit(&e, 2000, None), 20);
        let e = bad_request(&[
            "limit: Ensure this value is between 1 and 50 for field limit (got 200).",
        ]);
        assert_eq!(smaller_limit(&e, 200, Some(50)), 50);
        // Nothing usable named: the fallback, then halving, never below 1.
        let e = bad_request(&["limit: too large"]);
        assert_eq!(smaller_limit(&e, 200, Some(50)), 50);
        assert_eq!(smaller_limit(&e, 50, Some(50)), 25);
        assert_eq!(smaller_limit(&e, 2, None), 1);
        // A number above the refused limit is not a cap.
        let e = bad_request(&["limit: must be between 1 and 5000"]);
        assert_eq!(smaller_limit(&e, 2000, None), 1000);
    }

    #[test]
    fn a_400_about_something_else_is_not_a_page_size_refusal() {
        let e = bad_request(&["filter: unknown property 'foo'"]);
        assert!(!refuses_limit(&e, None, 2000));
        // …unless the endpoint's known fallback is still untried (old subscription API).
        assert!(refuses_limit(&e, Some(50), 200));
        assert!(!refuses_limit(&e, Some(50), 50));
    }
}
