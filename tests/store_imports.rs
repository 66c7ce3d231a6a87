//! The dependency direction (issue 13): `store` knows nothing of the engine that uses it —
//! no file under `src/store/` names `crate::sync` (the shared words live in `src/domain.rs`,
//! a leaf that imports nothing of this crate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn store_does_not_import_sync_and_domain_is_a_leaf() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root.join("store"), &mut files);
    assert!(!files.is_empty());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(
            !text.contains("crate::sync"),
            "{} imports crate::sync",
            f.display()
        );
    }
    let domain = std::fs::read_to_string(root.join("domain.rs")).unwrap();
    assert!(
        !domain.contains("crate::"),
        "src/domain.rs imports from the crate"
    );
}
