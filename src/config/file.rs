//! The file layer: a TOML document applied key by key, so one bad or unknown key does not
//! hide the others, and a warning when a file holding a secret is readable by others.
//! `[[workspaces]]` and `[msp]` are taken out first and read table by table
//! (`workspaces_file`): a workspace's keys only make sense together.

use std::collections::HashSet;
use std::path::Path;

use super::error::ConfigError;
use super::raw::RawFile;
use super::secret::{SecretSource, url_has_password};
use super::settings::Config;
use super::validate::Origin;

/// A key as messages name it: `[api] page_size.devices`, `[foo]`.
fn key_label(path: &[String]) -> String {
    match path.split_first() {
        Some((section, rest)) if !rest.is_empty() => format!("[{section}] {}", rest.join(".")),
        Some((section, _)) => format!("[{section}]"),
        None => String::new(),
    }
}

/// The document split into one small document per key (`[api] page_size.devices = 5` becomes
/// `{api = {page_size = {devices = 5}}}`) with the key's path, in file order. The `client_secret*` keys stay together: only one of
/// them may be set, which needs them side by side.
fn key_documents(table: &toml::Table) -> Vec<(Vec<String>, toml::Table)> {
    fn leaves(t: &toml::Table, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        for (k, v) in t {
            prefix.push(k.clone());
            match v {
                toml::Value::Table(sub) if !sub.is_empty() => leaves(sub, prefix, out),
                _ => out.push(prefix.clone()),
            }
            prefix.pop();
        }
    }
    fn get<'a>(t: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
        let (first, rest) = path.split_first()?;
        let v = t.get(first)?;
        match (rest.is_empty(), v) {
            (true, v) => Some(v),
            (false, toml::Value::Table(sub)) => get(sub, rest),
            _ => None,
        }
    }
    fn insert(doc: &mut toml::Table, path: &[String], value: toml::Value) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            doc.insert(first.clone(), value);
            return;
        }
        let entry = doc
            .entry(first.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(sub) = entry {
            insert(sub, rest, value);
        }
    }
    let mut paths = Vec::new();
    leaves(table, &mut Vec::new(), &mut paths);
    let mut docs: Vec<(Vec<String>, toml::Table)> = Vec::new();
    let mut secret_doc: Option<usize> = None;
    for path in paths {
        let Some(value) = get(table, &path).cloned() else {
            continue;
        };
        let is_secret = path.len() == 2 && path[0] == "api" && path[1].starts_with("client_secret");
        match (is_secret, secret_doc) {
            (true, Some(i)) => insert(&mut docs[i].1, &path, value),
            _ => {
                let mut doc = toml::Table::new();
                insert(&mut doc, &path, value);
                if is_secret {
                    secret_doc = Some(docs.len());
                }
                docs.push((path, doc));
            }
        }
    }
    docs
}

impl Config {
    /// Apply a TOML document as the file layer. `path` is used in messages.
    pub fn apply_file_text(&mut self, text: &str, path: &Path) -> Result<(), ConfigError> {
        match ConfigError::from_problems(self.apply_file_text_all(text, path)) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Apply a TOML document key by key, so that one bad or unknown key does not hide the
    /// others: each value is deserialised and validated on its own, and every problem is
    /// returned. Only a syntax error stops the walk (the document has no keys to check then).
    pub fn apply_file_text_all(&mut self, text: &str, path: &Path) -> Vec<ConfigError> {
        let shown = path.display().to_string();
        let mut table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                return vec![ConfigError::Parse {
                    path: shown,
                    message: format!(
                        "{} (see config.example.toml for every key)",
                        e.to_string().trim_end()
                    ),
                }];
            }
        };
        let origin = Origin::File(&shown);
        let mut problems = self.apply_workspace_tables(&mut table, &shown);
        // An unknown section or table is one mistake however many keys it holds.
        let mut unknown = HashSet::new();
        for (path, doc) in key_documents(&table) {
            match toml::Value::Table(doc).try_into::<RawFile>() {
                Ok(raw) => {
                    if let Err(e) = self.apply_raw(raw, &origin) {
                        problems.push(e);
                    }
                }
                Err(e) => {
                    let message = e.message().trim_end();
                    let mut shown_path = path.as_slice();
                    if let Some(name) = message
                        .strip_prefix("unknown field `")
                        .and_then(|m| m.split('`').next())
                        && let Some(i) = path.iter().rposition(|p| p == name)
                    {
                        shown_path = &path[..=i];
                        if !unknown.insert(shown_path.to_vec()) {
                            continue;
                        }
                    }
                    problems.push(ConfigError::Parse {
                        path: shown.clone(),
                        message: format!(
                            "{}: {message} (see config.example.toml for every key)",
                            key_label(shown_path)
                        ),
                    });
                }
            }
        }
        self.refresh_workspaces();
        problems
    }

    /// Warn when a file that holds a secret can be read by other users.
    pub(super) fn check_permissions(&mut self, path: &Path) {
        let holds_secret = matches!(self.api.client_secret, SecretSource::Inline(_))
            || self
                .clients()
                .any(|w| matches!(w.client_secret, SecretSource::Inline(_)))
            || url_has_password(&self.database.url);
        if !holds_secret {
            return;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path) {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    self.warnings.push(format!(
                        "{}: holds a secret but is readable by other users (mode {:o}); run \
                         `chmod 600 {}` or move the secret to client_secret_command",
                        path.display(),
                        mode,
                        path.display()
                    ));
                }
            }
        }
    }
}
