//! Path entry for the wizard's file step: `~` expansion and shell-like Tab completion of
//! directories and spreadsheets. Reads the file system, so the run loop calls it off the UI
//! task (a hung network home must not freeze the screen).

use std::path::{Path, PathBuf};

/// Spreadsheet extensions the file step offers (what `assign::load` reads).
pub const SHEET_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "xlsb", "ods", "csv", "tsv"];

/// `~` and `~/…` with the home directory.
pub fn expand_tilde(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix('~'), home) {
        (Some(""), Some(h)) => h.to_path_buf(),
        (Some(rest), Some(h)) if rest.starts_with('/') => h.join(&rest[1..]),
        _ => PathBuf::from(path),
    }
}

/// Complete the last component of `input` from the directory it names: directories (with
/// a trailing `/`) and spreadsheets; hidden entries only when the prefix starts with `.`.
/// Returns the new input (extended to the longest common prefix, and finished when only
/// one entry fits) and the candidates to show when several fit.
pub fn complete_path(input: &str, home: Option<&Path>) -> (String, Vec<String>) {
    let (dir_part, prefix) = match input.rfind('/') {
        Some(i) => (&input[..=i], &input[i + 1..]),
        None if input == "~" => return ("~/".into(), Vec::new()),
        None => ("", input),
    };
    let dir = if dir_part.is_empty() {
        PathBuf::from(".")
    } else {
        expand_tilde(dir_part, home)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return (input.to_string(), Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && !prefix.starts_with('.') {
                return None;
            }
            // Follow symlinks: a link to a directory completes as a directory.
            let is_dir = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
            if is_dir {
                return Some(format!("{name}/"));
            }
            let ext = Path::new(&name)
                .extension()
                .map(|x| x.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            SHEET_EXTENSIONS.contains(&ext.as_str()).then_some(name)
        })
        .collect();
    names.sort();
    let mut hits: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with(prefix))
        .cloned()
        .collect();
    if hits.is_empty() {
        let lp = prefix.to_lowercase();
        hits = names
            .into_iter()
            .filter(|n| n.to_lowercase().starts_with(&lp))
            .collect();
    }
    match hits.as_slice() {
        [] => (input.to_string(), Vec::new()),
        [one] => (format!("{dir_part}{one}"), Vec::new()),
        many => {
            let mut common: String = many[0].clone();
            for h in &many[1..] {
                while !h.starts_with(&common) {
                    common.pop();
                }
            }
            let new = if common.len() > prefix.len() {
                format!("{dir_part}{common}")
            } else {
                input.to_string()
            };
            (new, many.to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_expands_only_at_the_start() {
        let h = Path::new("/home/u");
        assert_eq!(expand_tilde("~", Some(h)), PathBuf::from("/home/u"));
        assert_eq!(
            expand_tilde("~/a.xlsx", Some(h)),
            PathBuf::from("/home/u/a.xlsx")
        );
        assert_eq!(expand_tilde("a~/b", Some(h)), PathBuf::from("a~/b"));
        assert_eq!(expand_tilde("~x", Some(h)), PathBuf::from("~x"));
    }

    #[test]
    fn completion_extends_lists_and_finishes() {
        let tmp = tempfile::Builder::new()
            .prefix("glpc-complete-")
            .tempdir()
            .unwrap();
        let dir = tmp.path();
        std::fs::create_dir_all(dir.join("sheets")).unwrap();
        for f in [
            "devices-a.xlsx",
            "devices-b.csv",
            "notes.txt",
            ".hidden.csv",
        ] {
            std::fs::write(dir.join(f), "x").unwrap();
        }
        let base = format!("{}/", dir.display());
        let (new, c) = complete_path(&format!("{base}dev"), None);
        assert_eq!(new, format!("{base}devices-"));
        assert_eq!(c, vec!["devices-a.xlsx", "devices-b.csv"]);
        let (new, c) = complete_path(&format!("{base}devices-a"), None);
        assert_eq!(new, format!("{base}devices-a.xlsx"));
        assert!(c.is_empty());
        let (new, _) = complete_path(&format!("{base}sh"), None);
        assert_eq!(new, format!("{base}sheets/"));
        // Not a spreadsheet, not offered; hidden only on request.
        let (_, c) = complete_path(&base, None);
        assert!(!c.contains(&"notes.txt".to_string()), "{c:?}");
        assert!(!c.iter().any(|x| x.starts_with('.')), "{c:?}");
        let (new, _) = complete_path(&format!("{base}.h"), None);
        assert_eq!(new, format!("{base}.hidden.csv"));
    }
}
