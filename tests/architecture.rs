//! The architecture rules of issue 13, read from `src/` at test time so they hold by test and
//! not by habit:
//!
//! * no import cycle between files of `src/`;
//! * `src/store` imports neither `crate::sync` nor `crate::tui`, and the engine side
//!   (`glp`, `store`, `sync`, `assign`, `domain`) imports neither `ratatui` nor `crossterm`;
//! * no file under `src/` is over 700 lines, except the commented [`LONG_FILES`];
//! * the console's layering: the wizard never imports the app, `WizardStep` is a leaf the
//!   keymap can import, and `impl App` lives only in `tui/app/`; `src/domain.rs` imports
//!   nothing of the crate.
//!
//! This is the only analyser of `src/`'s imports (it replaced two narrower ones with their
//! own edge rules): one rule for what an edge is, checked everywhere.
//!
//! # How the import graph is built
//!
//! Each `.rs` file under `src/` is a node (`a/mod.rs` is the module `a`; `lib.rs` the crate
//! root; `main.rs` is the binary, whose `glp_console::` paths count as `crate::`). Comments,
//! string and char literals and `#[cfg(test)]` items are removed first; a file declared only
//! under `#[cfg(test)]` (`#[cfg(test)] mod tests;`) is no node at all. Then every path that
//! starts with `crate::`, `super::`, `self::` or the name of a child module, in a `use` tree
//! or inline in code, is resolved to the deepest existing file (`crate::tui::wizard::step::X`
//! → `src/tui/wizard/step.rs`), and gives an edge from the importing file to that file.
//! `mod x;` declarations give no edge: declaring a child is not depending on it.
//!
//! **Re-exports.** A parent `mod.rs` that re-exports its children (`pub use step::WizardStep;`)
//! depends on them; if a child then imported `super::WizardStep`, the naive edge child →
//! mod.rs would close a cycle that does not exist in the code's meaning. So when a path lands
//! on a file and names an item that file re-exports (`pub use`, any visibility), the edge goes
//! on to the file the item comes from, recursively. Only a name the file defines itself, or a
//! glob (`use super::*`, which takes everything, the file's own items included), stops at the
//! file. Thus a `mod.rs` that only declares and re-exports never closes a cycle, while a
//! `mod.rs` with code of its own that a child uses and that uses the child is a real cycle.
//!
//! **Parents and children.** `mod x;` is no edge, but a parent that names an item of its
//! child (a field of the child's type) depends on it, and a child that names its parent's
//! item (`super::App`) depends on that. So a `mod.rs` whose type is extended by `impl` blocks
//! in its children keeps each child either a *part* (a type the parent holds, which never
//! names the parent) or a *handler* (an `impl` of the parent's type, which the parent never
//! names: calling a method is no path). A file that is both closes a cycle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files allowed over [`MAX_LINES`], each with the reason.
const LONG_FILES: &[(&str, &str)] = &[
    // The simulator's data generator: one table of realistic value pools and the functions
    // that draw from them; split, each part would be read only next to the other.
    ("sim/data.rs", "the simulator's data generator"),
];

/// The longest file under `src/` (issue 13).
const MAX_LINES: usize = 700;

/// Top-level modules that make up the engine: no terminal crate may appear in them.
const ENGINE: &[&str] = &["glp", "store", "sync", "assign", "domain"];

// ---------------------------------------------------------------------------------------------
// Source text: comments, literals and test-only items removed.
// ---------------------------------------------------------------------------------------------

/// `src` with comments removed and string/char literals emptied (kept as `""`/`' '` so the
/// token structure stays), newlines kept so line numbers still match.
fn strip_comments_and_literals(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if (c == 'r' || c == 'b')
            && !b
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
            && raw_string_start(&b, i).is_some()
        {
            let (hashes, body) = raw_string_start(&b, i).unwrap();
            i = body;
            loop {
                if i >= b.len() {
                    break;
                }
                if b[i] == '"' && (0..hashes).all(|k| b.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                if b[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if b.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < b.len() && b[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At `i`, `r"`, `r#"`, `br"`…: the number of `#` and the index after the opening quote.
fn raw_string_start(b: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if b[j] == 'b' {
        j += 1;
    }
    if b.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while b.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (b.get(j) == Some(&'"')).then_some((hashes, j + 1))
}

/// `code` (already stripped) without the items under `#[cfg(test)]`; also the names of the
/// child modules declared only for tests (`#[cfg(test)] mod tests;`).
fn strip_test_items(code: &str) -> (String, BTreeSet<String>) {
    // `#[cfg(test)]` and `#[cfg(all(test, …))]`: test-only whatever else they require.
    const ATTRS: [&str; 2] = ["#[cfg(test)]", "#[cfg(all(test"];
    let b: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut test_mods = BTreeSet::new();
    let mut i = 0;
    while i < b.len() {
        let attr = ATTRS
            .iter()
            .find(|a| b[i..].starts_with(&a.chars().collect::<Vec<_>>()));
        if let Some(attr) = attr {
            i += attr.chars().count();
            // The rest of the attribute, to its closing `]`.
            while i < b.len() && b[i - 1] != ']' {
                i += 1;
            }
            let start = i;
            // The item runs to a `;` at depth 0 or to the end of its first `{…}` block.
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    '{' => depth += 1,
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    ';' if depth == 0 => {
                        i += 1;
                        break;
                    }
                    '\n' => out.push('\n'),
                    _ => {}
                }
                i += 1;
            }
            let item: String = b[start..i.min(b.len())].iter().collect();
            let words: Vec<&str> = item
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .collect();
            if let Some(p) = words.iter().position(|w| *w == "mod")
                && item.trim_end().ends_with(';')
                && let Some(name) = words.get(p + 1)
            {
                test_mods.insert((*name).to_string());
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    (out, test_mods)
}

// ---------------------------------------------------------------------------------------------
// Paths: `use` trees and inline `crate::…` paths.
// ---------------------------------------------------------------------------------------------

/// One path found in a file: its segments, whether it came from a re-export (`pub use`), and
/// whether it ends in a glob.
#[derive(Debug, Clone)]
struct FoundPath {
    segs: Vec<String>,
    reexport: bool,
    glob: bool,
}

/// Expand a `use` tree (`a::{b, c::{d, e as f}, g::*}`) into its paths.
fn expand_use_tree(tree: &str, prefix: &[String], out: &mut Vec<(Vec<String>, bool)>) {
    let tree = tree.trim();
    if tree.is_empty() {
        return;
    }
    // Split at the first top-level `{`.
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let close = tree.rfind('}').unwrap_or(tree.len());
        let inner = &tree[open + 1..close];
        let mut p = prefix.to_vec();
        p.extend(segments(head));
        for part in split_top_level(inner) {
            expand_use_tree(part, &p, out);
        }
        return;
    }
    let tree = tree.split(" as ").next().unwrap_or(tree).trim();
    let mut p = prefix.to_vec();
    let glob = tree.ends_with('*');
    p.extend(segments(tree.trim_end_matches('*').trim_end_matches("::")));
    // `self` inside braces names the prefix itself.
    if p.last().is_some_and(|s| s == "self") && p.len() > 1 {
        p.pop();
    }
    out.push((p, glob));
}

fn segments(s: &str) -> Vec<String> {
    s.split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Every `use` item and every inline `crate::`/`super::` path of `code`.
fn find_paths(code: &str) -> Vec<FoundPath> {
    let mut found = Vec::new();
    let mut rest_code = String::with_capacity(code.len());
    let mut i = 0;
    while i < code.len() {
        let at_word_start = !code[..i].chars().next_back().is_some_and(is_ident);
        if at_word_start && code[i..].starts_with("use ") {
            let end = code[i..].find(';').map_or(code.len(), |e| i + e);
            let tree = &code[i + 4..end];
            // Visibility right before `use`: `pub`, `pub(crate)`, `pub(super)`…
            let before = rest_code.trim_end();
            let reexport = before.ends_with("pub")
                || before.ends_with(')') && {
                    let open = before.rfind('(').unwrap_or(0);
                    before[..open].trim_end().ends_with("pub")
                };
            let mut paths = Vec::new();
            expand_use_tree(&tree.replace('\n', " "), &[], &mut paths);
            for (segs, glob) in paths {
                found.push(FoundPath {
                    segs,
                    reexport,
                    glob,
                });
            }
            rest_code.push(' ');
            i = end + 1;
            continue;
        }
        let c = code[i..].chars().next().unwrap_or(' ');
        rest_code.push(c);
        i += c.len_utf8();
    }
    // Inline paths in the code outside `use` items (`crate::a::b`, `super::x`, `child::f`,
    // `glp_console::…` in the binary): every `name::name…` token; `Tree::absolute` keeps
    // those that lead into the crate.
    let chars: Vec<char> = rest_code.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        let starts = is_ident(chars[k])
            && !chars[k].is_ascii_digit()
            && (k == 0 || !(is_ident(chars[k - 1]) || chars[k - 1] == ':'));
        if !starts {
            k += 1;
            continue;
        }
        let mut end = k;
        while end < chars.len() && (is_ident(chars[end]) || chars[end] == ':') {
            end += 1;
        }
        let token: String = chars[k..end].iter().collect();
        // `pub(in crate::a::b)` restricts who sees an item; it depends on nothing.
        let lead: String = chars[k.saturating_sub(24)..k].iter().collect();
        let lead: String = lead.chars().filter(|c| !c.is_whitespace()).collect();
        let visibility = lead.ends_with("pub(in");
        if token.contains("::") && !visibility {
            found.push(FoundPath {
                segs: segments(&token),
                reexport: false,
                glob: false,
            });
        }
        k = end;
    }
    found
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

// ---------------------------------------------------------------------------------------------
// The graph.
// ---------------------------------------------------------------------------------------------

/// The analysed source tree: per file (relative to `src/`, `/`-separated) its module path,
/// its paths, and its re-exports.
struct Tree {
    /// Module path → file.
    modules: BTreeMap<Vec<String>, String>,
    /// File → module path.
    module_of: BTreeMap<String, Vec<String>>,
    /// File → the paths found in it.
    paths: BTreeMap<String, Vec<FoundPath>>,
    /// File → stripped code (for the terminal-crate check).
    code: BTreeMap<String, String>,
}

fn module_path(rel: &str) -> Vec<String> {
    let no_ext = rel.trim_end_matches(".rs");
    let mut segs: Vec<String> = no_ext.split('/').map(str::to_string).collect();
    if segs
        .last()
        .is_some_and(|s| s == "mod" || s == "lib" || s == "main")
    {
        segs.pop();
    }
    segs
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

impl Tree {
    fn read(src: &Path) -> Tree {
        let mut files = Vec::new();
        rs_files(src, &mut files);
        let mut raw = BTreeMap::new();
        let mut test_only = BTreeSet::new();
        for f in &files {
            let rel = f
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "build.rs" {
                continue;
            }
            let text = std::fs::read_to_string(f).unwrap();
            let (code, test_mods) = strip_test_items(&strip_comments_and_literals(&text));
            let m = module_path(&rel);
            for t in test_mods {
                let mut child = m.clone();
                child.push(t);
                test_only.insert(child);
            }
            raw.insert(rel, code);
        }
        let mut tree = Tree {
            modules: BTreeMap::new(),
            module_of: BTreeMap::new(),
            paths: BTreeMap::new(),
            code: BTreeMap::new(),
        };
        for (rel, code) in raw {
            let m = module_path(&rel);
            // A file under a test-only module is test code.
            if (1..=m.len()).any(|n| test_only.contains(&m[..n])) {
                continue;
            }
            if rel != "main.rs" {
                tree.modules.insert(m.clone(), rel.clone());
            }
            tree.module_of.insert(rel.clone(), m);
            tree.paths.insert(rel.clone(), find_paths(&code));
            tree.code.insert(rel, code);
        }
        tree
    }

    /// Absolute segments of a path found in `file`, or `None` for a path outside the crate.
    fn absolute(&self, file: &str, segs: &[String]) -> Option<Vec<String>> {
        let here = self.module_of.get(file)?.clone();
        let first = segs.first()?;
        let mut abs = match first.as_str() {
            "crate" | "glp_console" => Vec::new(),
            "self" => here.clone(),
            "super" => {
                let mut m = here.clone();
                let mut k = 0;
                while segs.get(k).is_some_and(|s| s == "super") {
                    m.pop();
                    k += 1;
                }
                m.extend(segs[k..].iter().cloned());
                return Some(m);
            }
            _ => {
                // Uniform paths: a child module of this one, named directly.
                let mut child = here.clone();
                child.push(first.clone());
                if !self.modules.contains_key(&child) {
                    return None;
                }
                here.clone()
            }
        };
        let skip = usize::from(matches!(first.as_str(), "crate" | "glp_console" | "self"));
        abs.extend(segs[skip..].iter().cloned());
        Some(abs)
    }

    /// The file a path (absolute segments) leads to, following re-exports.
    fn resolve(&self, abs: &[String], glob: bool, depth: usize) -> Option<String> {
        let mut n = abs.len();
        while !self.modules.contains_key(&abs[..n]) {
            n = n.checked_sub(1)?;
        }
        let file = self.modules.get(&abs[..n])?.clone();
        let rest = &abs[n..];
        if depth > 16 || (rest.is_empty() && glob) {
            return Some(file);
        }
        let Some(name) = rest.first() else {
            return Some(file);
        };
        // Does `file` re-export `name`? Then the item lives where the re-export points.
        for p in self.paths.get(&file).into_iter().flatten() {
            if !p.reexport {
                continue;
            }
            let named = p.segs.last() == Some(name) && !p.glob;
            if named && let Some(target) = self.absolute(&file, &p.segs) {
                let mut t = target;
                t.extend(rest[1..].iter().cloned());
                return self.resolve(&t, glob, depth + 1);
            }
        }
        Some(file)
    }

    /// Edges file → file, each with one path that makes it (for the failure message).
    fn edges(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (file, paths) in &self.paths {
            for p in paths {
                let Some(abs) = self.absolute(file, &p.segs) else {
                    continue;
                };
                let Some(target) = self.resolve(&abs, p.glob, 0) else {
                    continue;
                };
                if &target != file {
                    edges
                        .entry(file.clone())
                        .or_default()
                        .entry(target)
                        .or_insert_with(|| p.segs.join("::"));
                }
            }
        }
        edges
    }
}

/// The cycles of the graph: one per strongly connected component with more than one file,
/// each as a closed walk `a → b → … → a` with the path that makes every arrow.
fn cycles(edges: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<String> {
    let nodes: BTreeSet<&String> = edges
        .keys()
        .chain(edges.values().flat_map(BTreeMap::keys))
        .collect();
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for t in edges.get(&n).into_iter().flat_map(BTreeMap::keys) {
                if seen.insert(t.clone()) {
                    stack.push(t.clone());
                }
            }
        }
        seen
    };
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in nodes {
        if done.contains(n) {
            continue;
        }
        let fwd = reach(n);
        if !fwd.contains(n) {
            continue;
        }
        // The component: nodes reachable from n that reach n.
        let comp: BTreeSet<String> = fwd
            .iter()
            .filter(|m| reach(m).contains(n))
            .cloned()
            .collect();
        done.extend(comp.iter().cloned());
        out.push(describe_cycle(n, &comp, edges));
    }
    out
}

/// A shortest walk from `start` back to itself inside `comp`, shown with the paths.
fn describe_cycle(
    start: &String,
    comp: &BTreeSet<String>,
    edges: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let mut prev: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.clone()]);
    let mut end = None;
    'bfs: while let Some(n) = queue.pop_front() {
        for t in edges.get(&n).into_iter().flat_map(BTreeMap::keys) {
            if !comp.contains(t) {
                continue;
            }
            if t == start {
                end = Some(n.clone());
                break 'bfs;
            }
            if !prev.contains_key(t) {
                prev.insert(t.clone(), n.clone());
                queue.push_back(t.clone());
            }
        }
    }
    // Back from the last file before `start` to `start`, then forwards.
    let mut back = Vec::new();
    let mut cur = end.unwrap();
    while &cur != start {
        back.push(cur.clone());
        cur = prev[&cur].clone();
    }
    back.reverse();
    let mut walk = vec![start.clone()];
    walk.extend(back);
    walk.push(start.clone());
    let steps: Vec<String> = walk
        .windows(2)
        .map(|w| format!("src/{} → src/{} (uses {})", w[0], w[1], edges[&w[0]][&w[1]]))
        .collect();
    format!("cycle among {} files: {}", comp.len(), steps.join(", "))
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

// ---------------------------------------------------------------------------------------------
// The rules, on the real tree.
// ---------------------------------------------------------------------------------------------

#[test]
fn no_import_cycle_between_files_of_src() {
    let tree = Tree::read(&src_dir());
    let found = cycles(&tree.edges());
    assert!(
        found.is_empty(),
        "import cycles in src/:\n{}",
        found.join("\n")
    );
}

#[test]
fn store_and_the_engine_keep_their_dependency_direction() {
    let tree = Tree::read(&src_dir());
    let mut bad = Vec::new();
    for (file, targets) in tree.edges() {
        if !file.starts_with("store/") && file != "store.rs" {
            continue;
        }
        for (target, via) in targets {
            if ["sync", "tui"]
                .iter()
                .any(|m| target.starts_with(&format!("{m}/")) || target == format!("{m}.rs"))
            {
                bad.push(format!("src/{file} imports src/{target} (uses {via})"));
            }
        }
    }
    for (file, code) in &tree.code {
        let top = file.split(['/', '.']).next().unwrap_or_default();
        if !ENGINE.contains(&top) {
            continue;
        }
        for krate in ["ratatui", "crossterm"] {
            let uses = code.match_indices(krate).any(|(at, _)| {
                let before = code[..at].chars().next_back();
                let after = &code[at + krate.len()..];
                !before.is_some_and(is_ident) && (after.starts_with("::") || after.starts_with(';'))
            });
            if uses {
                bad.push(format!("src/{file} uses {krate}, a terminal crate"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "dependency direction broken:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_file_under_src_is_over_700_lines() {
    let mut files = Vec::new();
    rs_files(&src_dir(), &mut files);
    let mut long = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(src_dir())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let lines = std::fs::read_to_string(&f).unwrap().lines().count();
        if lines > MAX_LINES && !LONG_FILES.iter().any(|(p, _)| *p == rel) {
            long.push(format!("src/{rel}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split them, or add them to LONG_FILES with the reason):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_consoles_layering_holds() {
    let bad = layering_problems(&Tree::read(&src_dir()));
    assert!(
        bad.is_empty(),
        "the console's layering:\n{}",
        bad.join("\n")
    );
}

/// What breaks the console's layering in `tree`, one line each.
fn layering_problems(tree: &Tree) -> Vec<String> {
    let edges = tree.edges();
    let mut bad = Vec::new();
    for (file, targets) in &edges {
        for (target, via) in targets {
            if file.starts_with("tui/wizard/") && target.starts_with("tui/app/") {
                bad.push(format!(
                    "src/{file} imports the app: src/{target} (uses {via})"
                ));
            }
            if file == "tui/wizard/step.rs" && !target.starts_with("tui/model/") {
                bad.push(format!("src/tui/wizard/step.rs is no leaf: uses {via}"));
            }
            if file == "domain.rs" {
                bad.push(format!("src/domain.rs imports src/{target} (uses {via})"));
            }
        }
    }
    for (file, code) in &tree.code {
        let impl_app = code.match_indices("impl App").any(|(at, _)| {
            let after = code[at + "impl App".len()..].trim_start();
            after.starts_with('{') || after.starts_with("for")
        });
        if impl_app && !file.starts_with("tui/app/") {
            bad.push(format!(
                "src/{file} has an `impl App` (it belongs in src/tui/app/)"
            ));
        }
    }
    bad
}

// ---------------------------------------------------------------------------------------------
// The analyser itself, on small trees.
// ---------------------------------------------------------------------------------------------

fn write_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn cycles_of_files(files: &[(&str, &str)]) -> Vec<String> {
    let dir = write_tree(files);
    cycles(&Tree::read(dir.path()).edges())
}

#[test]
fn a_real_cycle_is_named_with_its_paths() {
    let dir = write_tree(&[
        ("lib.rs", "pub mod tui;\n"),
        (
            "tui/mod.rs",
            "pub mod app;\npub mod wizard;\npub mod keymap;\n",
        ),
        (
            "tui/app.rs",
            "use crate::tui::wizard::Wizard;\npub struct App;\n",
        ),
        (
            "tui/wizard.rs",
            "use super::keymap::Keys;\npub struct Wizard;\n",
        ),
        (
            "tui/keymap.rs",
            "pub struct Keys;\nfn f(_: &crate::tui::app::App) {}\n",
        ),
    ]);
    let found = cycles(&Tree::read(dir.path()).edges());
    assert_eq!(found.len(), 1, "{found:?}");
    let c = &found[0];
    assert!(c.contains("cycle among 3 files"), "{c}");
    for part in [
        "src/tui/app.rs → src/tui/wizard.rs (uses crate::tui::wizard::Wizard)",
        "src/tui/wizard.rs → src/tui/keymap.rs (uses super::keymap::Keys)",
        "src/tui/keymap.rs → src/tui/app.rs (uses crate::tui::app::App)",
    ] {
        assert!(c.contains(part), "{c}\nlacks {part}");
    }
}

#[test]
fn a_parent_that_only_declares_and_reexports_closes_no_cycle() {
    let found = cycles_of_files(&[
        ("lib.rs", "pub mod wizard;\n"),
        (
            "wizard/mod.rs",
            "mod step;\nmod keys;\npub use step::Step;\npub(crate) use keys::{Keys, self as k};\n",
        ),
        ("wizard/step.rs", "use super::Keys;\npub struct Step;\n"),
        (
            "wizard/keys.rs",
            "use crate::wizard::Step;\npub struct Keys;\n",
        ),
    ]);
    // step → keys (through the re-export) and keys → step: a real cycle between the two
    // children, and the parent is not part of it.
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("cycle among 2 files"), "{}", found[0]);
    assert!(!found[0].contains("wizard/mod.rs"), "{}", found[0]);

    let found = cycles_of_files(&[
        ("lib.rs", "pub mod wizard;\n"),
        (
            "wizard/mod.rs",
            "mod step;\nmod keys;\npub use step::Step;\npub use keys::Keys;\n",
        ),
        ("wizard/step.rs", "use super::Keys;\npub struct Step;\n"),
        ("wizard/keys.rs", "pub struct Keys;\n"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_parent_with_code_its_child_uses_is_a_cycle() {
    let found = cycles_of_files(&[
        ("lib.rs", "pub mod app;\n"),
        (
            "app/mod.rs",
            "mod wizard;\npub struct App;\nfn f() { wizard::run() }\n",
        ),
        ("app/wizard.rs", "use super::App;\npub fn run() {}\n"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn comments_strings_and_test_modules_make_no_edges() {
    let found = cycles_of_files(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", "use crate::b::B; pub struct A;\n"),
        (
            "b.rs",
            "// use crate::a::A;\n/* crate::a::A */\nconst S: &str = \"crate::a::A\";\n\
             const R: &str = r#\"use crate::a::A;\"#;\nconst C: char = '\"';\n\
             pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n\
             #[cfg(test)]\nmod more;\n",
        ),
        ("b/more.rs", "use crate::a::A;\n"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn use_trees_and_inline_paths_are_both_read() {
    let paths = find_paths(
        "pub(crate) use crate::{a::{B, c::D as E}, f::*, self as g};\nfn h() { crate::x::y(); super::z::W::new(); }\n",
    );
    let shown: Vec<String> = paths
        .iter()
        .map(|p| {
            format!(
                "{}{}{}",
                if p.reexport { "pub " } else { "" },
                p.segs.join("::"),
                if p.glob { "::*" } else { "" }
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "pub crate::a::B",
            "pub crate::a::c::D",
            "pub crate::f::*",
            "pub crate",
            "crate::x::y",
            "super::z::W::new"
        ]
    );
}

#[test]
fn layering_breaks_are_each_named() {
    let dir = write_tree(&[
        ("lib.rs", "mod domain;\nmod tui;\n"),
        ("domain.rs", "use crate::tui::Theme;\n"),
        (
            "tui/mod.rs",
            "pub mod app;\npub mod wizard;\npub struct Theme;\n",
        ),
        ("tui/app/mod.rs", "pub struct App;\n"),
        (
            "tui/wizard/mod.rs",
            "mod step;\nuse crate::tui::app::App;\nimpl App {}\n",
        ),
        (
            "tui/wizard/step.rs",
            "use crate::tui::Theme;\npub enum WizardStep {}\n",
        ),
    ]);
    let bad = layering_problems(&Tree::read(dir.path()));
    let has = |s: &str| bad.iter().any(|b| b.contains(s));
    assert!(has("src/tui/wizard/mod.rs imports the app"), "{bad:?}");
    assert!(has("src/tui/wizard/step.rs is no leaf"), "{bad:?}");
    assert!(has("src/domain.rs imports src/tui/mod.rs"), "{bad:?}");
    assert!(has("src/tui/wizard/mod.rs has an `impl App`"), "{bad:?}");
    assert_eq!(bad.len(), 4, "{bad:?}");
}

#[test]
fn a_visibility_restriction_is_no_edge() {
    let found = cycles_of_files(&[
        ("lib.rs", "mod app;\n"),
        (
            "app/mod.rs",
            "mod parts;\nuse parts::Tables;\npub struct App { t: Tables }\n",
        ),
        (
            "app/parts.rs",
            "pub(in crate::app) struct Tables;\npub(in  crate :: app) fn f() {}\n",
        ),
    ]);
    assert!(found.is_empty(), "{found:?}");
}
