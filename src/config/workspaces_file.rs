//! `[[workspaces]]` and `[msp]` read from the file: each table as a whole (its name, id and
//! credentials belong together), every problem reported with the file, the table
//! (`workspaces[2]`, counted from 1 in file order, or `[msp]`) and the field.

use std::collections::HashMap;

use super::error::ConfigError;
use super::layer::secret_source;
use super::settings::Config;
use super::validate::{Origin, http_url, int_in, invalid, nonempty, workspace_id};
use super::workspace::{Declared, DeclaredMsp, DeclaredWorkspace, MspConfig};
use crate::domain::{WorkspaceId, WorkspaceKind};

const WORKSPACE_KEYS: &[&str] = &[
    "name",
    "id",
    "client_id",
    "client_secret",
    "client_secret_env",
    "client_secret_command",
    "token_url",
];
const MSP_KEYS: &[&str] = &["include", "exclude", "max_tenants"];

/// The keys of one table, each checked for its type as it is read.
struct Fields<'a> {
    table: &'a toml::Table,
    o: Origin<'a>,
    label: &'a str,
    path: &'a str,
    problems: Vec<ConfigError>,
}

impl Fields<'_> {
    fn wrong_type(&mut self, key: &str, v: &toml::Value, expected: &str) {
        let e = invalid(self.o.name("", key), v, expected);
        self.problems.push(e);
    }

    fn string(&mut self, key: &str) -> Option<String> {
        match self.table.get(key)? {
            toml::Value::String(s) => Some(s.clone()),
            v => {
                self.wrong_type(key, &v.clone(), "must be a string");
                None
            }
        }
    }

    fn strings(&mut self, key: &str) -> Vec<String> {
        let Some(v) = self.table.get(key) else {
            return Vec::new();
        };
        let list: Option<Vec<String>> = v.as_array().and_then(|a| {
            a.iter()
                .map(|e| e.as_str().map(|s| s.trim().to_string()))
                .collect()
        });
        match list {
            Some(l) if l.iter().all(|s| !s.is_empty()) => l,
            _ => {
                let v = v.clone();
                self.wrong_type(
                    key,
                    &v,
                    "must be a list of tenant names or ids, e.g. [\"tenant-01\"]",
                );
                Vec::new()
            }
        }
    }

    fn missing(&mut self, key: &str, what: &str) {
        self.problems.push(ConfigError::Missing(format!(
            "{}: {} {key} is missing: {what}",
            self.path, self.label
        )));
    }

    fn reject_unknown(&mut self, allowed: &[&[&str]]) {
        for k in self.table.keys() {
            if !allowed.iter().any(|a| a.contains(&k.as_str())) {
                let expected: Vec<&str> = allowed.iter().flat_map(|a| a.iter().copied()).collect();
                self.problems.push(ConfigError::Parse {
                    path: self.path.to_string(),
                    message: format!(
                        "{} {k}: unknown field `{k}`, expected one of {} (see config.example.toml \
                         for every key)",
                        self.label,
                        expected.join(", ")
                    ),
                });
            }
        }
    }

    /// The workspace part of a table (`[[workspaces]]` or `[msp]`); `None` when a problem
    /// was found, which is then in `problems`.
    fn workspace(&mut self, kind: WorkspaceKind) -> Option<DeclaredWorkspace> {
        let before = self.problems.len();
        let name = match self.string("name") {
            Some(v) => self.check(|o| workspace_name(o, &v)),
            None => {
                if !self.table.contains_key("name") {
                    self.missing(
                        "name",
                        "every workspace needs a unique name (:ws NAME, --workspace NAME)",
                    );
                }
                None
            }
        };
        let id = match self.string("id") {
            Some(v) => self.check(|o| workspace_id(o, "", "id", &v)),
            None => {
                if !self.table.contains_key("id") {
                    self.missing("id", "set the workspace id (GreenLake: Manage Workspace)");
                }
                None
            }
        };
        let client_id = match self.string("client_id") {
            Some(v) => self.check(|o| nonempty(o, "", "client_id", &v)),
            None => {
                if !self.table.contains_key("client_id") {
                    self.missing("client_id", "set the id of an API client of this workspace");
                }
                None
            }
        };
        let (inline, env, command) = (
            self.string("client_secret"),
            self.string("client_secret_env"),
            self.string("client_secret_command"),
        );
        let secret = self.check(|o| secret_source(inline, env, command, o, ""));
        if matches!(secret, Some(None)) {
            self.problems.push(ConfigError::Missing(format!(
                "{}: {} has no client secret: set one of client_secret, client_secret_env, \
                 client_secret_command",
                self.path, self.label
            )));
        }
        let token_url = match self.string("token_url") {
            Some(v) => self.check(|o| http_url(o, "", "token_url", &v)).map(Some),
            None => Some(None),
        };
        if self.problems.len() > before {
            return None;
        }
        let (name, id, client_id, secret, token_url) =
            (name?, id?, client_id?, secret??, token_url?);
        Some(DeclaredWorkspace {
            token_url_given: token_url.is_some(),
            ws: super::workspace::WorkspaceConfig {
                name,
                id,
                kind,
                client_id,
                client_secret: secret,
                token_url: token_url.unwrap_or_default(),
                legacy: false,
            },
        })
    }

    fn check<T>(&mut self, f: impl FnOnce(&Origin) -> Result<T, ConfigError>) -> Option<T> {
        match f(&self.o) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problems.push(e);
                None
            }
        }
    }
}

/// A name a person types after `:ws` and `--workspace`.
fn workspace_name(o: &Origin, v: &str) -> Result<String, ConfigError> {
    let t = nonempty(o, "", "name", v)?;
    if !t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(invalid(
            o.name("", "name"),
            format!("{v:?}"),
            "must be letters, digits, '-', '_' or '.' (it is typed after :ws and --workspace)",
        ));
    }
    if t.eq_ignore_ascii_case("all") {
        return Err(invalid(
            o.name("", "name"),
            format!("{v:?}"),
            "\"all\" is taken (:ws all shows every workspace): choose another name",
        ));
    }
    Ok(t)
}

/// How an include/exclude entry is compared with another: an id in its normalised form, a
/// name in lower case.
fn tenant_key(entry: &str) -> String {
    match WorkspaceId::parse(entry) {
        Some(id)
            if id.as_str().len() == 32 && id.as_str().chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            id.as_str().to_string()
        }
        _ => entry.trim().to_ascii_lowercase(),
    }
}

impl Config {
    /// Take `workspaces` and `msp` out of the document `table` (the key-by-key walk does not
    /// see them) and declare them; every problem is returned. A table with a problem is left
    /// out, so the rest still load.
    pub(super) fn apply_workspace_tables(
        &mut self,
        table: &mut toml::Table,
        path: &str,
    ) -> Vec<ConfigError> {
        let workspaces = table.remove("workspaces");
        let msp = table.remove("msp");
        if workspaces.is_none() && msp.is_none() {
            return Vec::new();
        }
        let mut problems = Vec::new();
        let mut declared = Declared::default();
        let mut labels = Vec::new();
        match workspaces {
            None => {}
            Some(toml::Value::Array(list)) => {
                for (i, entry) in list.iter().enumerate() {
                    let label = format!("workspaces[{}]", i + 1);
                    let Some(t) = entry.as_table() else {
                        problems.push(not_a_table(path, &label, "[[workspaces]]"));
                        continue;
                    };
                    let mut f = fields(t, path, &label);
                    f.reject_unknown(&[WORKSPACE_KEYS]);
                    if let Some(w) = f.workspace(WorkspaceKind::Standalone) {
                        declared.workspaces.push(w);
                        labels.push(label.clone());
                    }
                    problems.append(&mut f.problems);
                }
            }
            Some(_) => problems.push(not_a_table(path, "workspaces", "[[workspaces]]")),
        }
        match msp {
            None => {}
            Some(toml::Value::Table(t)) => {
                let mut f = fields(&t, path, "[msp]");
                f.reject_unknown(&[WORKSPACE_KEYS, MSP_KEYS]);
                declared.msp = msp_table(&mut f);
                problems.append(&mut f.problems);
            }
            Some(_) => problems.push(not_a_table(path, "msp", "[msp]")),
        }
        problems.extend(duplicates(&declared, &labels, path));
        self.declared = declared;
        problems
    }
}

fn fields<'a>(table: &'a toml::Table, path: &'a str, label: &'a str) -> Fields<'a> {
    Fields {
        table,
        o: Origin::Table { path, table: label },
        label,
        path,
        problems: Vec::new(),
    }
}

fn not_a_table(path: &str, label: &str, header: &str) -> ConfigError {
    ConfigError::Parse {
        path: path.to_string(),
        message: format!(
            "{label}: must be a table: write {header} above its keys (see config.example.toml)"
        ),
    }
}

fn msp_table(f: &mut Fields) -> Option<DeclaredMsp> {
    let ws = f.workspace(WorkspaceKind::Msp);
    let include = f.strings("include");
    let exclude = f.strings("exclude");
    let include_keys: HashMap<String, &String> =
        include.iter().map(|e| (tenant_key(e), e)).collect();
    for e in &exclude {
        if let Some(inc) = include_keys.get(&tenant_key(e)) {
            let err = invalid(
                f.o.name("", "exclude"),
                format!("{e:?}"),
                format!(
                    "names the same tenant as include entry {inc:?}: a tenant is either synced \
                     or not, remove it from one of the lists"
                ),
            );
            f.problems.push(err);
        }
    }
    let max_tenants = match f.table.get("max_tenants") {
        None => Some(MspConfig::DEFAULT_MAX_TENANTS),
        Some(toml::Value::Integer(n)) => {
            let n = *n;
            f.check(|o| int_in(o, "", "max_tenants", n, 1, 100_000))
        }
        Some(v) => {
            let v = v.clone();
            f.wrong_type("max_tenants", &v, "must be a whole number, 1..=100000");
            None
        }
    };
    Some(DeclaredMsp {
        ws: ws?,
        include,
        exclude,
        max_tenants: max_tenants?,
    })
    .filter(|_| f.problems.is_empty())
}

/// Names and ids used twice, across `[[workspaces]]` (`labels[i]` names `d.workspaces[i]`)
/// and `[msp]`.
fn duplicates(d: &Declared, labels: &[String], path: &str) -> Vec<ConfigError> {
    let labelled = labels
        .iter()
        .cloned()
        .zip(d.workspaces.iter().map(|w| &w.ws))
        .chain(d.msp.iter().map(|m| ("[msp]".to_string(), &m.ws.ws)));
    let mut names: HashMap<String, String> = HashMap::new();
    let mut ids: HashMap<WorkspaceId, String> = HashMap::new();
    let mut problems = Vec::new();
    for (label, w) in labelled {
        let o = Origin::Table {
            path,
            table: &label,
        };
        if let Some(first) = names.get(&w.name.to_ascii_lowercase()) {
            problems.push(invalid(
                o.name("", "name"),
                format!("{:?}", w.name),
                format!("is already the name of {first}: every workspace needs its own name"),
            ));
        } else {
            names.insert(w.name.to_ascii_lowercase(), label.clone());
        }
        if let Some(first) = ids.get(&w.id) {
            problems.push(invalid(
                o.name("", "id"),
                format!("{:?}", w.id.dashed()),
                format!("is already the id of {first}: list each workspace once"),
            ));
        } else {
            ids.insert(w.id.clone(), label.clone());
        }
    }
    problems
}
