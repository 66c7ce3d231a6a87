//! Saved views (`:save NAME`, `:view NAME`): a tab's filter, sort and columns under a name,
//! kept in one TOML file in the state directory so they outlive the session. A leaf: the
//! app captures and applies views; this module only knows the file.
//!
//! The file is written whole on every change, through a temporary file and a rename, so a
//! crash mid-write leaves the old file, never half of one. A file that cannot be read is
//! left alone until the user saves: then it is kept beside the new one as `.bak`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Name of the views file inside the state directory.
pub const VIEWS_FILE_NAME: &str = "views.toml";

/// One saved view. Columns and the sort column are kept by their header names (what the
/// user sees and what survives a new column being added to a table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    /// `devices`, `subscriptions`, `expiring`, `expired`, `assign` or `workspaces`.
    pub tab: String,
    #[serde(default)]
    pub filter: String,
    /// The sort column (absent: the table's load order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(default)]
    pub desc: bool,
    /// The visible columns, in the order shown.
    #[serde(default)]
    pub columns: Vec<String>,
}

impl SavedView {
    /// One line for `:view` and the help: where it goes and what it applies.
    pub fn summary(&self) -> String {
        let mut s = self.tab.clone();
        if !self.filter.is_empty() {
            s.push_str(&format!(", filter \"{}\"", self.filter));
        }
        if let Some(c) = &self.sort {
            let dir = if self.desc { "desc" } else { "asc" };
            s.push_str(&format!(", sort {} {dir}", c.to_lowercase()));
        }
        s.push_str(&format!(", {} columns", self.columns.len()));
        s
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FileBody {
    #[serde(default)]
    views: BTreeMap<String, SavedView>,
}

/// Why the views file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ViewsError {
    #[error(
        "saved views are kept only for this session: no state directory is known (HOME unset?)"
    )]
    NoDir,
    #[error("writing {path} failed: {source} (check that the directory is writable)")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Encode(#[from] toml::ser::Error),
}

/// The saved views and the file they live in.
#[derive(Debug, Default)]
pub struct ViewsFile {
    path: Option<PathBuf>,
    views: BTreeMap<String, SavedView>,
    /// The file exists but could not be read: it is not overwritten silently.
    unreadable: bool,
}

impl ViewsFile {
    /// The views kept in `dir` (none when there is no file yet), and a warning naming the
    /// file and what to do when it cannot be read.
    pub fn load(dir: &Path) -> (ViewsFile, Option<String>) {
        let path = dir.join(VIEWS_FILE_NAME);
        let mut file = ViewsFile {
            path: Some(path.clone()),
            ..ViewsFile::default()
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (file, None),
            Err(e) => {
                file.unreadable = true;
                let w = format!(
                    "saved views: cannot read {}: {e}; fix its permissions or remove it \
                     (a :save keeps it as {}.bak)",
                    path.display(),
                    VIEWS_FILE_NAME
                );
                return (file, Some(w));
            }
        };
        match toml::from_str::<FileBody>(&text) {
            Ok(body) => {
                file.views = body.views;
                (file, None)
            }
            Err(e) => {
                file.unreadable = true;
                let why = e.message().to_string();
                let at = e
                    .span()
                    .map(|s| format!(" at line {}", text[..s.start].lines().count().max(1)))
                    .unwrap_or_default();
                let w = format!(
                    "saved views: {} is not valid{at} ({why}); fix or delete it — the next \
                     :save keeps it as {}.bak and starts a new one",
                    path.display(),
                    VIEWS_FILE_NAME
                );
                (file, Some(w))
            }
        }
    }

    /// Where the views are kept (none: in memory only).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
    pub fn get(&self, name: &str) -> Option<&SavedView> {
        self.views.get(name)
    }
    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.views.keys().map(String::as_str)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SavedView)> {
        self.views.iter().map(|(k, v)| (k.as_str(), v))
    }
    pub fn is_empty(&self) -> bool {
        self.views.is_empty()
    }

    /// Keep `view` as `name` and write the file.
    pub fn insert(&mut self, name: &str, view: SavedView) -> Result<(), ViewsError> {
        let old = self.views.insert(name.to_string(), view);
        let r = self.write();
        if r.is_err() {
            // The file is the truth: what failed to reach it is not kept either.
            match old {
                Some(v) => self.views.insert(name.to_string(), v),
                None => self.views.remove(name),
            };
        }
        r
    }

    /// Forget `name` and write the file; false when there was no such view.
    pub fn remove(&mut self, name: &str) -> Result<bool, ViewsError> {
        let Some(old) = self.views.remove(name) else {
            return Ok(false);
        };
        if let Err(e) = self.write() {
            self.views.insert(name.to_string(), old);
            return Err(e);
        }
        Ok(true)
    }

    fn write(&mut self) -> Result<(), ViewsError> {
        let path = self.path.clone().ok_or(ViewsError::NoDir)?;
        let werr = |source| ViewsError::Write {
            path: path.display().to_string(),
            source,
        };
        let body = FileBody {
            views: self.views.clone(),
        };
        let text = format!(
            "# glp-console saved views: `:save NAME` writes them, `:view NAME` applies one.\n\
             # Edited by hand? Keep it valid TOML; a broken file is kept as {VIEWS_FILE_NAME}.bak.\n\n{}",
            toml::to_string(&body)?
        );
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(werr)?;
        }
        if self.unreadable && path.exists() {
            std::fs::rename(&path, path.with_extension("toml.bak")).map_err(werr)?;
        }
        self.unreadable = false;
        let tmp = path.with_extension(format!("toml.tmp{}", std::process::id()));
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            use std::io::Write;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(werr(e));
        }
        Ok(())
    }
}

/// A view name: letters, digits, `-`, `_` and `.` (it is a TOML key and typed on the command
/// line); otherwise why not.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() {
        Err("a view needs a name, e.g. :save mine".into())
    } else if let Some(c) = name.chars().find(|c| !ok(*c)) {
        Err(format!(
            "view name \"{name}\": '{c}' is not allowed (letters, digits, - _ . only)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(filter: &str) -> SavedView {
        SavedView {
            tab: "devices".into(),
            filter: filter.into(),
            sort: Some("Serial".into()),
            desc: true,
            columns: vec!["Serial".into(), "Type".into()],
        }
    }

    #[test]
    fn names() {
        assert!(check_name("mine-2_a.b").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").unwrap_err().contains("' '"));
        assert!(check_name("x/y").is_err());
    }

    #[test]
    fn round_trip_and_backup_of_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        let (mut f, w) = ViewsFile::load(dir.path());
        assert!(w.is_none() && f.is_empty());
        f.insert("mine", view("^VNT")).unwrap();
        let (f2, w) = ViewsFile::load(dir.path());
        assert!(w.is_none());
        assert_eq!(f2.get("mine"), Some(&view("^VNT")));

        let path = dir.path().join(VIEWS_FILE_NAME);
        std::fs::write(&path, "[views.mine\ntab = 1").unwrap();
        let (mut f3, w) = ViewsFile::load(dir.path());
        let w = w.unwrap();
        assert!(
            w.contains(&path.display().to_string()) && w.contains(".bak"),
            "{w}"
        );
        assert!(f3.is_empty());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[views.mine\ntab = 1"
        );
        f3.insert("other", view("")).unwrap();
        let bak = std::fs::read_to_string(dir.path().join("views.toml.bak")).unwrap();
        assert_eq!(bak, "[views.mine\ntab = 1");
        let (f4, w) = ViewsFile::load(dir.path());
        assert!(w.is_none());
        assert_eq!(f4.names().collect::<Vec<_>>(), ["other"]);
    }
}
