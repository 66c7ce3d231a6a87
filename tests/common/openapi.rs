//! HPE's published OpenAPI specs as a checker of recorded HTTP exchanges.
//!
//! The specs are reference data outside the repository (`../shared/glp-openapi/` beside the
//! project, or `GLP_OPENAPI_DIR`). An exchange is matched to its operation by method and path
//! template, then checked: the bearer security scheme, path and query parameters (names,
//! types, ranges, repetition), the request's media type and body, the response status, its
//! declared headers and its body. Schemas are JSON Schema 2020-12 (OpenAPI 3.1) with `$ref`s
//! into the same document; formats (`uuid`, `date-time`, `email`) are checked too.
//!
//! Where the spec contradicts itself, or where the simulator knowingly follows live GreenLake
//! rather than the spec, an [`Amendment`] patches the schema before it is compiled; each one
//! says why. An amendment whose target is no longer in the spec fails loading, so the list
//! cannot outlive the spec version it was written for.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Value, json};

/// Environment variable naming the spec directory.
pub const ENV: &str = "GLP_OPENAPI_DIR";

/// The spec files the client's traffic falls under.
pub const FILES: &[&str] = &["device-management.json", "subscription-management.json"];

/// Where the specs are expected: `$GLP_OPENAPI_DIR`, else `../shared/glp-openapi/` relative
/// to the project root.
pub fn spec_dir() -> PathBuf {
    match std::env::var_os(ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/glp-openapi"),
    }
}

/// Why an amendment exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The spec is wrong: its own examples (or prose) contradict its schema.
    Errata,
    /// Our simulator deviates on purpose (it follows captured live behaviour).
    KnownDeviation,
}

/// One correction applied to a spec before its schemas are compiled.
pub struct Amendment {
    pub why: Why,
    pub file: &'static str,
    /// JSON pointers (into the spec file) of the schemas to change.
    pub targets: &'static [&'static str],
    pub reason: &'static str,
    pub apply: fn(&mut Value),
}

/// Allow `null` for every property that is not required.
fn optional_properties_nullable(schema: &mut Value) {
    let required: Vec<String> = schema["required"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, p) in props.iter_mut() {
            if !required.contains(name) {
                let orig = p.take();
                *p = json!({"anyOf": [orig, {"type": "null"}]});
            }
        }
    }
}

/// A tag map: string values; `null` (delete the key) where the operation allows it.
fn tag_map(schema: &mut Value) {
    let nullable = schema["additionalProperties"]["properties"]["value"]["oneOf"]
        .as_array()
        .is_some_and(|a| a.iter().any(|s| s["type"] == "null"));
    schema["additionalProperties"] = if nullable {
        json!({"type": ["string", "null"], "maxLength": 256})
    } else {
        json!({"type": "string", "maxLength": 256})
    };
    schema["maxProperties"] = json!(50);
}

/// The errata list and the simulator's known deviations.
pub const AMENDMENTS: &[Amendment] = &[
    // The list and get examples (device_consolidate_*_response, device_*_response) send
    // `null` for application, region, contact, location, deviceName, billing* and more, while
    // the schema types them as plain objects/strings. Live GreenLake sends null too
    // (glp-api.md §4.1, §9.6: a new device has application and subscription null).
    Amendment {
        why: Why::Errata,
        file: "device-management.json",
        targets: &["/components/schemas/DeviceDetail"],
        reason: "optional device properties are null in the spec's own examples",
        apply: optional_properties_nullable,
    },
    // Every error example (401 access_token, 403, 404 id, 422 content, 429 apiRateLimit)
    // gives `metadata` string values; the schema says each value is an object.
    Amendment {
        why: Why::Errata,
        file: "device-management.json",
        targets: &["/components/schemas/GeneralErrorDetail/properties/metadata"],
        reason: "error metadata values are strings in every example",
        apply: |s| s["additionalProperties"] = json!({}),
    },
    Amendment {
        why: Why::Errata,
        file: "subscription-management.json",
        targets: &["/components/schemas/GeneralErrorDetail/properties/metadata"],
        reason: "error metadata values are strings in every example",
        apply: |s| s["additionalProperties"] = json!({}),
    },
    // `tags` is described (and exemplified) as a map of key → value string, with null to
    // delete; the schema makes each value an object with `key`/`value` properties and
    // min/maxProperties (the 1..50 tag count) on the value instead of the map.
    Amendment {
        why: Why::Errata,
        file: "device-management.json",
        targets: &[
            "/components/schemas/DevicesPostRequestV2Beta1/properties/tags",
            "/components/schemas/PatchDevicesRequestV2/properties/tags",
            "/components/schemas/RequestCompute/properties/tags",
            "/components/schemas/RequestNetwork/properties/tags",
            "/components/schemas/RequestStorage/properties/tags",
        ],
        reason: "tag values are strings (null deletes), as the description and examples say",
        apply: tag_map,
    },
    Amendment {
        why: Why::Errata,
        file: "subscription-management.json",
        targets: &[
            "/components/schemas/RequestPostSubscription/properties/tags",
            "/components/schemas/SubscriptionsPatchRequest/properties/tags",
        ],
        reason: "tag values are strings (null deletes), as the description and examples say",
        apply: tag_map,
    },
    // The PATCH description: "To remove an application, set the id under application to
    // null and region to null" (examples UnassignApplication and
    // UpdateExistingTagsAndUnassignApplication do so); the schema types both as strings.
    Amendment {
        why: Why::Errata,
        file: "device-management.json",
        targets: &[
            "/components/schemas/RequestApplication/properties/id",
            "/components/schemas/PatchDevicesRequestV2/properties/region",
        ],
        reason: "application.id and region are null to unassign, as the PATCH description says",
        apply: |s| {
            let orig = s.take();
            *s = json!({"anyOf": [orig, {"type": "null"}]});
        },
    },
    // `location: {}` and `contact: {}` unassign (examples UnassignLocation and
    // UnassignUserContact), but the schemas require `id` / `type` inside.
    Amendment {
        why: Why::Errata,
        file: "device-management.json",
        targets: &[
            "/components/schemas/PatchDevicesRequestV2/properties/location",
            "/components/schemas/RequestContact",
        ],
        reason: "an empty location or contact object unassigns it, as the examples show",
        apply: |s| {
            if let Some(o) = s.as_object_mut() {
                o.remove("required");
            }
        },
    },
    // The simulator serves most quantities as JSON numbers and a few as strings, so the
    // client is tested on both: the schema says string, but its own `example` is the number
    // 20 (and 10), and which one live GreenLake sends is unknown (glp-api.md §4.2, §10.3).
    Amendment {
        why: Why::KnownDeviation,
        file: "subscription-management.json",
        targets: &[
            "/components/schemas/V1Beta1SubscriptionDetail/properties/quantity",
            "/components/schemas/V1Beta1SubscriptionDetail/properties/availableQuantity",
        ],
        reason: "quantities are numbers or numeric strings; the schema's own example is a number",
        apply: |s| s["type"] = json!(["string", "integer"]),
    },
    // A successful device add answers `"result": "SUCCEEDED"` (a string) in the captured
    // live traffic (glp-api.md §2.6); the schema types `result` as an object. The simulator
    // serves the captured shape so the client keeps handling it.
    Amendment {
        why: Why::KnownDeviation,
        file: "device-management.json",
        targets: &["/components/schemas/AsyncOperationResource/properties/result"],
        reason: "a finished device add reports result \"SUCCEEDED\" as live GreenLake does",
        apply: |s| *s = json!({"type": ["object", "string"]}),
    },
];

/// Spec examples that contradict their schema where the schema is right (so no amendment):
/// (example name, reason). They are skipped by [`Contract::example_violations`].
pub const EXAMPLE_ERRATA: &[(&str, &str)] = &[
    (
        "error_unauthorized",
        "the async-operations 401 example gives a bad-request `issues` detail; every other \
         401 example, and the schema, use the metadata detail",
    ),
    (
        "error_not_found",
        "the async-operations 404 example gives a bad-request `issues` detail; the 404 of \
         device by id, and the schema, use the metadata detail",
    ),
    (
        "device_non_workspace_user_response",
        "`subscription` is one object instead of the array of subscriptions the schema has",
    ),
    (
        "devices_workspace_user_response",
        "`subscription` is one object instead of the array of subscriptions the schema has",
    ),
    (
        "device_non_workspace_response",
        "`subscription` is one object instead of the array of subscriptions the schema has",
    ),
    (
        "device_workspace_user_response",
        "`subscription` is one object instead of the array of subscriptions the schema has",
    ),
];

/// One recorded request and its answer.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// Lower-case header names.
    pub request_headers: Vec<(String, String)>,
    pub request_body: Vec<u8>,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Vec<u8>,
}

impl Exchange {
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header(&self.request_headers, name)
    }

    pub fn response_header(&self, name: &str) -> Option<&str> {
        header(&self.response_headers, name)
    }

    /// `METHOD /path?query` for messages.
    pub fn line(&self) -> String {
        let q: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if q.is_empty() {
            format!("{} {} → {}", self.method, self.path, self.status)
        } else {
            format!(
                "{} {}?{} → {}",
                self.method,
                self.path,
                q.join("&"),
                self.status
            )
        }
    }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[derive(Debug, Clone)]
struct Param {
    name: String,
    location: String,
    required: bool,
    schema: Value,
    explode: bool,
}

/// Media type → schema (none when the spec gives no schema).
type Content = BTreeMap<String, Option<Value>>;

#[derive(Debug)]
struct Operation {
    file: &'static str,
    method: String,
    template: String,
    id: String,
    params: Vec<Param>,
    secured: bool,
    /// (required, content)
    body: Option<(bool, Content)>,
    /// status → (content, declared header names)
    responses: BTreeMap<String, (Content, Vec<String>)>,
    /// "N requests per minute" from the description.
    per_minute: Option<u32>,
}

/// The rate limit an operation's description states ("160 requests per minute", "Five
/// requests per minute are supported").
fn stated_rate(description: &str) -> Option<u32> {
    const WORDS: &[(&str, u32)] = &[
        ("one", 1),
        ("two", 2),
        ("three", 3),
        ("four", 4),
        ("five", 5),
        ("six", 6),
        ("seven", 7),
        ("eight", 8),
        ("nine", 9),
        ("ten", 10),
        ("twenty", 20),
        ("thirty", 30),
        ("forty", 40),
        ("fifty", 50),
    ];
    let words: Vec<&str> = description.split_whitespace().collect();
    words.windows(4).find_map(|w| {
        let unit = w[1].trim_end_matches('s') == "request"
            && matches!(w[2], "per" | "a")
            && w[3].starts_with("minute");
        if !unit {
            return None;
        }
        let n = w[0].trim_matches(|c: char| !c.is_alphanumeric());
        n.parse().ok().or_else(|| {
            WORDS
                .iter()
                .find(|(k, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| *v)
        })
    })
}

/// The loaded specs.
pub struct Contract {
    ops: Vec<Operation>,
    /// Amended spec documents by file name (the roots `$ref`s resolve in).
    docs: HashMap<&'static str, Value>,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Follow a local `$ref` (`#/components/...`) once, if `v` is one.
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with("#/") => doc.pointer(&r[1..]).unwrap_or(v),
        _ => v,
    }
}

impl Contract {
    /// Read and amend the spec files in `dir`. The error says where the specs were expected
    /// and how to point the tests elsewhere.
    pub fn load(dir: &Path) -> Result<Contract, String> {
        let mut docs = HashMap::new();
        for f in FILES {
            let path = dir.join(f);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "HPE's OpenAPI specs are expected in {} ({} there: {e}); they are the \
                     shared reference data beside the project (../shared/glp-openapi/), or set \
                     {ENV} to the directory holding {}",
                    dir.display(),
                    f,
                    FILES.join(", ")
                )
            })?;
            let doc: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
            docs.insert(*f, doc);
        }
        for a in AMENDMENTS {
            let doc = docs
                .get_mut(a.file)
                .ok_or_else(|| format!("amendment for unknown spec file {}", a.file))?;
            for t in a.targets {
                let s = doc.pointer_mut(t).ok_or_else(|| {
                    format!(
                        "{} no longer has {t}: the spec changed, review the amendment \"{}\"",
                        a.file, a.reason
                    )
                })?;
                (a.apply)(s);
            }
        }
        let mut ops = Vec::new();
        for (file, doc) in &docs {
            let secured_default = doc["security"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s.get("Bearer").is_some()));
            let Some(paths) = doc["paths"].as_object() else {
                return Err(format!("{file} has no paths"));
            };
            for (template, item) in paths {
                let shared: Vec<Value> = item["parameters"].as_array().cloned().unwrap_or_default();
                for method in ["get", "post", "patch", "put", "delete"] {
                    let Some(op) = item.get(method) else { continue };
                    let mut params = Vec::new();
                    for p in shared
                        .iter()
                        .chain(op["parameters"].as_array().into_iter().flatten())
                    {
                        let p = deref(doc, p);
                        let location = p["in"].as_str().unwrap_or_default().to_string();
                        let style_form = p["style"].as_str().is_none_or(|s| s == "form");
                        params.push(Param {
                            name: p["name"].as_str().unwrap_or_default().to_string(),
                            required: p["required"].as_bool().unwrap_or(location == "path"),
                            schema: p["schema"].clone(),
                            // OpenAPI: form style explodes by default.
                            explode: p["explode"].as_bool().unwrap_or(style_form),
                            location,
                        });
                    }
                    // Schemas are kept inline: their `$ref`s resolve in the root, which
                    // carries the document's components.
                    let content = |c: &Value| -> Content {
                        c.as_object()
                            .into_iter()
                            .flatten()
                            .map(|(mt, m)| (mt.to_ascii_lowercase(), m.get("schema").cloned()))
                            .collect()
                    };
                    let body = op.get("requestBody").map(|rb| {
                        let rb = deref(doc, rb);
                        (
                            rb["required"].as_bool().unwrap_or(false),
                            content(&rb["content"]),
                        )
                    });
                    let mut responses = BTreeMap::new();
                    for (status, r) in op["responses"].as_object().into_iter().flatten() {
                        let r = deref(doc, r);
                        let headers = r["headers"]
                            .as_object()
                            .map(|h| h.keys().cloned().collect())
                            .unwrap_or_default();
                        responses.insert(status.clone(), (content(&r["content"]), headers));
                    }
                    ops.push(Operation {
                        file,
                        method: method.to_ascii_uppercase(),
                        template: template.clone(),
                        id: op["operationId"].as_str().unwrap_or_default().to_string(),
                        params,
                        secured: op
                            .get("security")
                            .and_then(Value::as_array)
                            .map_or(secured_default, |a| !a.is_empty()),
                        body,
                        responses,
                        per_minute: op["description"].as_str().and_then(stated_rate),
                    });
                }
            }
        }
        Ok(Contract {
            ops,
            docs,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// Load from [`spec_dir`], panicking with the loader's message.
    pub fn load_default() -> Contract {
        Contract::load(&spec_dir()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The operation ids the specs define.
    pub fn operation_ids(&self) -> Vec<String> {
        self.ops.iter().map(|o| o.id.clone()).collect()
    }

    /// The per-minute rate limit an operation's description states.
    pub fn rate_limit(&self, operation_id: &str) -> Option<u32> {
        self.ops
            .iter()
            .find(|o| o.id == operation_id)
            .and_then(|o| o.per_minute)
    }

    /// The operation an exchange is for: literal segments must match, `{x}` matches one
    /// segment; the template with the most literal segments wins
    /// (`/devices/v2beta1/devices/group` before `/devices/v2beta1/devices/{id}`).
    fn find(&self, method: &str, path: &str) -> Option<(&Operation, BTreeMap<String, String>)> {
        let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let mut best: Option<(&Operation, BTreeMap<String, String>, usize)> = None;
        for op in self.ops.iter().filter(|o| o.method == method) {
            let t: Vec<&str> = op.template.split('/').collect();
            if t.len() != segs.len() {
                continue;
            }
            let mut vars = BTreeMap::new();
            let mut literal = 0;
            let ok = t.iter().zip(&segs).all(|(a, b)| {
                if a.starts_with('{') && a.ends_with('}') {
                    vars.insert(a[1..a.len() - 1].to_string(), b.to_string());
                    !b.is_empty()
                } else {
                    literal += 1;
                    a == b
                }
            });
            if ok && best.as_ref().is_none_or(|b| literal > b.2) {
                best = Some((op, vars, literal));
            }
        }
        best.map(|(o, v, _)| (o, v))
    }

    /// A compiled validator for `schema` (inline, or a `$ref` into `file`).
    fn validator(
        &self,
        file: &'static str,
        schema: &Value,
    ) -> Result<std::sync::Arc<jsonschema::Validator>, String> {
        let key = format!("{file}\u{0}{schema}");
        if let Some(v) = self
            .validators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(v.clone());
        }
        let doc = &self.docs[file];
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": doc["components"],
            "allOf": [schema],
        });
        let v = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("{file}: schema {schema} does not compile: {e}"))?;
        let v = std::sync::Arc::new(v);
        self.validators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, v.clone());
        Ok(v)
    }

    fn errors(&self, file: &'static str, schema: &Value, inst: &Value, what: &str) -> Vec<String> {
        match self.validator(file, schema) {
            Err(e) => vec![e],
            Ok(v) => v
                .iter_errors(inst)
                .take(8)
                .map(|e| format!("{what}: at '{}': {e}", e.instance_path()))
                .collect(),
        }
    }

    /// A query or path value as the JSON its schema describes (a bad number stays a string
    /// so that the schema reports it).
    fn typed(schema: &Value, raw: &str) -> Value {
        match schema["type"].as_str() {
            Some("integer") => raw
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| json!(raw)),
            Some("number") => raw
                .parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                .unwrap_or_else(|| json!(raw)),
            Some("boolean") => match raw {
                "true" => json!(true),
                "false" => json!(false),
                _ => json!(raw),
            },
            _ => json!(raw),
        }
    }

    /// Check one exchange. `Ok(operationId)` when it follows the spec; otherwise every
    /// violation found, each naming the exchange.
    pub fn check(&self, x: &Exchange) -> Result<String, Vec<String>> {
        let line = x.line();
        let Some((op, vars)) = self.find(&x.method, &x.path) else {
            return Err(vec![format!("{line}: no operation in the specs")]);
        };
        let mut v: Vec<String> = Vec::new();
        let file = op.file;
        if op.secured
            && !x
                .request_header("authorization")
                .is_some_and(|h| h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer "))
        {
            v.push("no `Authorization: Bearer` header (security scheme Bearer)".into());
        }
        // Parameters.
        for p in &op.params {
            match p.location.as_str() {
                "path" => {
                    let raw = vars.get(&p.name).cloned().unwrap_or_default();
                    let val = Self::typed(&p.schema, &raw);
                    v.extend(self.errors(file, &p.schema, &val, &format!("path {}", p.name)));
                }
                "query" => {
                    let given: Vec<&str> = x
                        .query
                        .iter()
                        .filter(|(k, _)| *k == p.name)
                        .map(|(_, v)| v.as_str())
                        .collect();
                    if given.is_empty() {
                        if p.required {
                            v.push(format!("required query parameter `{}` missing", p.name));
                        }
                        continue;
                    }
                    let val = if p.schema["type"] == "array" {
                        let items: Vec<&str> = if p.explode {
                            given.clone()
                        } else if given.len() == 1 {
                            given[0].split(',').collect()
                        } else {
                            v.push(format!(
                                "`{}` repeated, but the spec sends it as one comma list",
                                p.name
                            ));
                            given.clone()
                        };
                        let item_schema = &p.schema["items"];
                        Value::Array(items.iter().map(|i| Self::typed(item_schema, i)).collect())
                    } else {
                        if given.len() > 1 {
                            v.push(format!("`{}` given {} times", p.name, given.len()));
                        }
                        Self::typed(&p.schema, given[0])
                    };
                    v.extend(self.errors(file, &p.schema, &val, &format!("query {}", p.name)));
                }
                _ => {}
            }
        }
        for (k, _) in &x.query {
            if !op
                .params
                .iter()
                .any(|p| p.location == "query" && p.name == *k)
            {
                v.push(format!("query parameter `{k}` is not in the spec"));
            }
        }
        // Request body.
        let media = |h: Option<&str>| {
            h.unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        };
        match &op.body {
            None if !x.request_body.is_empty() => {
                v.push("a request body where the spec defines none".into())
            }
            None => {}
            Some((true, _)) if x.request_body.is_empty() => {
                v.push("the required request body is missing".into())
            }
            Some((false, _)) if x.request_body.is_empty() => {}
            Some((_, content)) => {
                let mt = media(x.request_header("content-type"));
                match content.get(&mt) {
                    None => v.push(format!(
                        "request Content-Type `{mt}`; the spec accepts {:?}",
                        content.keys().collect::<Vec<_>>()
                    )),
                    Some(None) => {}
                    Some(Some(schema)) => match serde_json::from_slice::<Value>(&x.request_body) {
                        Err(e) => v.push(format!("request body is not JSON: {e}")),
                        Ok(body) => v.extend(self.errors(file, schema, &body, "request body")),
                    },
                }
            }
        }
        // Response.
        let status = x.status.to_string();
        let declared = op
            .responses
            .get(&status)
            .or_else(|| op.responses.get(&format!("{}XX", &status[..1])))
            .or_else(|| op.responses.get("default"));
        match declared {
            None => v.push(format!(
                "status {status} is not a documented response (documented: {:?})",
                op.responses.keys().collect::<Vec<_>>()
            )),
            Some((content, headers)) => {
                for h in headers {
                    if x.response_header(h).is_none() {
                        v.push(format!("response header `{h}` missing"));
                    }
                }
                if !content.is_empty() {
                    let mt = media(x.response_header("content-type"));
                    match content.get(&mt) {
                        None => v.push(format!(
                            "response Content-Type `{mt}`; the spec documents {:?}",
                            content.keys().collect::<Vec<_>>()
                        )),
                        Some(None) => {}
                        Some(Some(schema)) => {
                            match serde_json::from_slice::<Value>(&x.response_body) {
                                Err(e) => v.push(format!("response body is not JSON: {e}")),
                                Ok(body) => {
                                    v.extend(self.errors(file, schema, &body, "response body"))
                                }
                            }
                        }
                    }
                }
            }
        }
        if v.is_empty() {
            Ok(op.id.clone())
        } else {
            Err(v
                .into_iter()
                .map(|m| format!("{line} [{}]: {m}", op.id))
                .collect())
        }
    }

    /// Every request and response body example of the given operations checked against
    /// its amended schema (less [`EXAMPLE_ERRATA`]): the amendments must make the spec agree
    /// with itself.
    pub fn example_violations(&self, operation_ids: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for op in &self.ops {
            if !operation_ids.contains(&op.id.as_str()) {
                continue;
            }
            let doc = &self.docs[op.file];
            let base = format!(
                "/paths/{}/{}",
                pointer_escape(&op.template),
                op.method.to_ascii_lowercase()
            );
            let mut media_at: Vec<String> = Vec::new();
            if let Some((_, c)) = &op.body {
                for mt in c.keys() {
                    media_at.push(format!("{base}/requestBody/content/{}", pointer_escape(mt)));
                }
            }
            for (status, (c, _)) in &op.responses {
                for mt in c.keys() {
                    media_at.push(format!(
                        "{base}/responses/{status}/content/{}",
                        pointer_escape(mt)
                    ));
                }
            }
            for at in media_at {
                let Some(m) = doc.pointer(&at) else { continue };
                if m.get("schema").is_none() {
                    continue;
                }
                let schema = m["schema"].clone();
                let mut examples: Vec<(String, Value)> = Vec::new();
                if let Some(e) = m.get("example") {
                    examples.push(("example".into(), e.clone()));
                }
                for (name, e) in m["examples"].as_object().into_iter().flatten() {
                    let e = deref(doc, e);
                    if let Some(val) = e.get("value") {
                        examples.push((name.clone(), val.clone()));
                    }
                }
                for (name, val) in examples {
                    if EXAMPLE_ERRATA.iter().any(|(n, _)| *n == name) {
                        continue;
                    }
                    for e in self.errors(op.file, &schema, &val, &format!("example {name}")) {
                        out.push(format!(
                            "{} {} [{}] {at}: {e}",
                            op.method, op.template, op.id
                        ));
                    }
                }
            }
        }
        out
    }
}
