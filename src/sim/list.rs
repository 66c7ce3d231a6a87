//! List parameters (`limit`, `offset`, `filter`, `filter-tags`, `sort`, `select`) and page
//! rendering. The common case (no filter, sort or select) concatenates pre-serialised items.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::errors::ApiError;
use super::filter::{self, Expr, Target};
use super::store::Entry;

/// Parsed list parameters.
#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    pub limit: usize,
    pub offset: usize,
    pub filter: Option<Expr>,
    pub filter_tags: Option<Expr>,
    pub sort: Vec<(Vec<String>, bool)>,
    pub select: Option<Vec<String>>,
}

fn number(name: &str, v: &str) -> Result<i64, ApiError> {
    v.trim().parse::<i64>().map_err(|_| {
        ApiError::bad_param(
            name,
            format!("Must be a numeric value which is 0 or greater (got '{v}')."),
        )
    })
}

/// Parse list parameters; `max_limit` and `default_limit` are per endpoint.
pub(crate) fn parse(
    pairs: &[(String, String)],
    default_limit: u32,
    max_limit: u32,
    allow_tags: bool,
) -> Result<ListQuery, ApiError> {
    let mut q = ListQuery {
        limit: default_limit as usize,
        offset: 0,
        filter: None,
        filter_tags: None,
        sort: Vec::new(),
        select: None,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => {
                let n = number("limit", v)?;
                if n < 1 || n > i64::from(max_limit) {
                    return Err(ApiError::bad_param(
                        "limit",
                        format!(
                            "Ensure this value is between 1 and {max_limit} for field limit (got {n})."
                        ),
                    ));
                }
                q.limit = n as usize;
            }
            "offset" => {
                let n = number("offset", v)?;
                if n < 0 {
                    return Err(ApiError::bad_param(
                        "offset",
                        "Must be a numeric value which is 0 or greater.",
                    ));
                }
                q.offset = n as usize;
            }
            "filter" if !v.trim().is_empty() => {
                q.filter = Some(
                    filter::parse(v, Target::Fields)
                        .map_err(|e| ApiError::bad_param("filter", e))?,
                );
            }
            "filter-tags" => {
                if !allow_tags {
                    return Err(ApiError::bad_param(
                        "filter-tags",
                        "filter-tags is not supported on this endpoint",
                    ));
                }
                if !v.trim().is_empty() {
                    q.filter_tags = Some(
                        filter::parse(v, Target::Tags)
                            .map_err(|e| ApiError::bad_param("filter-tags", e))?,
                    );
                }
            }
            "sort" => {
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let mut words = part.split_whitespace();
                    let field = words.next().unwrap_or_default();
                    let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(o) => {
                            return Err(ApiError::bad_param(
                                "sort",
                                format!("unknown sort direction '{o}' (asc or desc)"),
                            ));
                        }
                    };
                    if words.next().is_some()
                        || !field
                            .chars()
                            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/'))
                    {
                        return Err(ApiError::bad_param(
                            "sort",
                            format!("cannot sort by '{part}'"),
                        ));
                    }
                    q.sort
                        .push((field.split(['.', '/']).map(str::to_string).collect(), desc));
                }
            }
            "select" => {
                let fields: Vec<String> = v
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                if fields.is_empty() {
                    return Err(ApiError::bad_param("select", "select names no property"));
                }
                q.select = Some(fields);
            }
            _ => {}
        }
    }
    Ok(q)
}

/// [`parse`] under a page cap (the `page_cap` fault) below the endpoint's `max_limit`: a
/// `limit` above the cap is refused with the wording GreenLake uses on such deployments, and
/// a request without `limit` gets at most the cap.
pub(crate) fn parse_capped(
    pairs: &[(String, String)],
    default_limit: u32,
    max_limit: u32,
    cap: Option<u32>,
    allow_tags: bool,
) -> Result<ListQuery, ApiError> {
    let Some(cap) = cap.map(|c| c.max(1)).filter(|c| *c < max_limit) else {
        return parse(pairs, default_limit, max_limit, allow_tags);
    };
    for (k, v) in pairs {
        if k == "limit"
            && let Ok(n) = v.trim().parse::<i64>()
            && n > i64::from(cap)
        {
            return Err(ApiError::bad_param(
                "limit",
                format!("limit must be between 1 and {cap}"),
            ));
        }
    }
    parse(pairs, default_limit.min(cap), cap, allow_tags)
}

pub(crate) fn envelope(items: &[&[u8]], offset: usize, total: usize) -> Vec<u8> {
    let size: usize = items.iter().map(|i| i.len() + 1).sum::<usize>() + 80;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"items\":[");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(it);
    }
    out.extend_from_slice(
        format!(
            "],\"count\":{},\"offset\":{},\"total\":{}}}",
            items.len(),
            offset,
            total
        )
        .as_bytes(),
    );
    out
}

/// Render one page of `entries` (already in served order).
pub(crate) fn render(entries: &[Entry], q: &ListQuery) -> Vec<u8> {
    if q.filter.is_none() && q.filter_tags.is_none() && q.sort.is_empty() && q.select.is_none() {
        let total = entries.len();
        let start = q.offset.min(total);
        let end = start.saturating_add(q.limit).min(total);
        let items: Vec<&[u8]> = entries[start..end].iter().map(|e| &*e.bytes).collect();
        return envelope(&items, q.offset, total);
    }
    let mut idx: Vec<usize> = (0..entries.len())
        .filter(|&i| {
            let v = &entries[i].value;
            q.filter.as_ref().is_none_or(|f| f.matches(v))
                && q.filter_tags.as_ref().is_none_or(|f| f.matches(v))
        })
        .collect();
    if !q.sort.is_empty() {
        idx.sort_by(|&a, &b| {
            for (path, desc) in &q.sort {
                let o = filter::cmp_values(
                    filter::lookup(&entries[a].value, path),
                    filter::lookup(&entries[b].value, path),
                );
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }
    let total = idx.len();
    let start = q.offset.min(total);
    let end = start.saturating_add(q.limit).min(total);
    let page = &idx[start..end];
    match &q.select {
        None => {
            let items: Vec<&[u8]> = page.iter().map(|&i| &*entries[i].bytes).collect();
            envelope(&items, q.offset, total)
        }
        Some(fields) => {
            let owned: Vec<Vec<u8>> = page
                .iter()
                .map(|&i| {
                    let v = &entries[i].value;
                    let m: Map<String, Value> = fields
                        .iter()
                        .filter_map(|f| v.get(f).map(|x| (f.clone(), x.clone())))
                        .collect();
                    serde_json::to_vec(&m).unwrap_or_else(|_| b"{}".to_vec())
                })
                .collect();
            let items: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
            envelope(&items, q.offset, total)
        }
    }
}
