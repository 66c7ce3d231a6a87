//! No text under `src/tui` names a key by hand: every "press s", "(Esc", "j/k" or "Tab
//! completes" a user can read is built from the live bindings, so rebinding in `[ui.keys]`
//! never leaves a stale hint behind. Run by `cargo test --lib tui::key_texts`.
//!
//! Each `.rs` file under `src/tui` is read with its comments, attributes and `#[cfg(test)]`
//! items removed (a file declared as `#[cfg(test)] mod x;` is skipped whole); what is left of
//! its string literals is matched against the patterns in [`names_a_key`]. The key table
//! ([`ALLOWED`]) is the one place where default keys and key names are written down.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The only file allowed to spell keys: the default bindings and the names of the keys.
const ALLOWED: &[&str] = &["tui/keys/defaults.rs"];

/// A string literal of a source file, with the line it starts on.
#[derive(Debug)]
struct Literal {
    line: usize,
    text: String,
    /// Where it sits in the code left after removing comments (for the item ranges).
    at: usize,
}

/// The code with comments removed and each string literal replaced by `""`, and the literals.
fn lex(src: &str) -> (Vec<char>, Vec<Literal>) {
    let b: Vec<char> = src.chars().collect();
    let mut code = Vec::with_capacity(b.len());
    let mut lits = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
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
                        line += 1;
                        code.push('\n');
                    }
                    i += 1;
                }
            }
            continue;
        }
        let ident_before = i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_');
        if let Some((hashes, start)) = raw_start(&b, i).filter(|_| !ident_before) {
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let mut j = start;
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            let text: String = b[start..j.min(b.len())].iter().collect();
            lits.push(Literal {
                line,
                text: text.clone(),
                at: code.len(),
            });
            line += text.matches('\n').count();
            code.extend(['"', '"']);
            i = j + close.len();
            continue;
        }
        if c == '"' {
            let (text, end, lines) = plain_string(&b, i + 1);
            lits.push(Literal {
                line,
                text,
                at: code.len(),
            });
            line += lines;
            code.extend(['"', '"']);
            i = end;
            continue;
        }
        if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if let Some(end) = char_literal_end(&b, i) {
                code.extend(['\'', ' ', '\'']);
                i = end;
                continue;
            }
        }
        if c == '\n' {
            line += 1;
        }
        code.push(c);
        i += 1;
    }
    (code, lits)
}

/// `r"`, `r#"`, `br"`: the number of `#` and where the text starts.
fn raw_start(b: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if b.get(j) == Some(&'b') {
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

/// The text of a `"…"` literal starting after its quote (a `\` line continuation joins the
/// lines as the compiler does), the index after its closing quote, and the newlines in it.
fn plain_string(b: &[char], mut j: usize) -> (String, usize, usize) {
    let mut text = String::new();
    let mut lines = 0;
    while j < b.len() && b[j] != '"' {
        if b[j] == '\\' && j + 1 < b.len() {
            if b[j + 1] == '\n' {
                lines += 1;
                j += 2;
                while j < b.len() && b[j].is_whitespace() {
                    if b[j] == '\n' {
                        lines += 1;
                    }
                    j += 1;
                }
                continue;
            }
            text.push(b[j + 1]);
            j += 2;
            continue;
        }
        if b[j] == '\n' {
            lines += 1;
        }
        text.push(b[j]);
        j += 1;
    }
    (text, j + 1, lines)
}

/// Where a char literal starting at `i` ends, or `None` for a lifetime.
fn char_literal_end(b: &[char], i: usize) -> Option<usize> {
    if b.get(i + 1) == Some(&'\\') {
        let mut j = i + 2;
        while j < b.len() && b[j] != '\'' {
            j += 1;
        }
        return Some(j + 1);
    }
    (b.get(i + 2) == Some(&'\'')).then_some(i + 3)
}

/// Ranges of the code that users never read: attributes (`#[…]`, `reason = "…"`) and
/// `#[cfg(test)]` items. Also the modules declared test-only (`#[cfg(test)] mod x;`).
fn hidden_ranges(code: &[char]) -> (Vec<(usize, usize)>, Vec<String>) {
    let mut ranges = Vec::new();
    let mut test_mods = Vec::new();
    let mut i = 0;
    while i < code.len() {
        if code[i] != '#' {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        if code.get(j) == Some(&'!') {
            j += 1;
        }
        if code.get(j) != Some(&'[') {
            i += 1;
            continue;
        }
        let end = matching(code, j, '[', ']');
        let attr: String = code[j..end].iter().filter(|c| !c.is_whitespace()).collect();
        if attr == "[cfg(test)]" {
            let item_end = item_end(code, end);
            let item: String = code[end..item_end].iter().collect();
            let words: Vec<&str> = item.split_whitespace().collect();
            if let ["mod", name] | ["pub", "mod", name] = words.as_slice() {
                test_mods.push(name.trim_end_matches(';').to_string());
            }
            ranges.push((i, item_end));
            i = item_end;
        } else {
            ranges.push((i, end));
            i = end;
        }
    }
    (ranges, test_mods)
}

/// The index after the bracket that closes the one at `open`.
fn matching(code: &[char], open: usize, l: char, r: char) -> usize {
    let mut depth = 0;
    for (k, c) in code.iter().enumerate().skip(open) {
        if *c == l {
            depth += 1;
        } else if *c == r {
            depth -= 1;
            if depth == 0 {
                return k + 1;
            }
        }
    }
    code.len()
}

/// The end of the item that starts at `from`: its `;` or its closing brace (further
/// attributes in front of it included).
fn item_end(code: &[char], from: usize) -> usize {
    let mut depth = 0i32;
    for k in from..code.len() {
        match code[k] {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ';' if depth == 0 => return k + 1,
            '{' if depth == 0 => return matching(code, k, '{', '}'),
            _ => {}
        }
    }
    code.len()
}

/// Whole words that are key names as the console prints them.
const KEY_WORDS: &[&str] = &["Esc", "Enter", "Tab", "PgUp", "PgDn", "Backspace", "Space"];
/// Fragments that are always key names.
const KEY_BITS: &[&str] = &["j/k", "↑", "↓", "Ctrl-", "Alt-", "Shift-"];

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// The pattern a literal matches when it names a key, if any.
fn names_a_key(s: &str) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let at = |k: usize| chars.get(k).copied();
    let text_at = |k: usize, w: &str| {
        let w: Vec<char> = w.chars().collect();
        chars[k..].starts_with(&w)
    };
    for k in 0..chars.len() {
        let before = k.checked_sub(1).and_then(at);
        // "press s", "press Esc" (but "press {}" is built from the bindings).
        if text_at(k, "press ") && !is_word(before) && at(k + 6) != Some('{') {
            return Some("press <key>".into());
        }
        for w in KEY_WORDS {
            let n = w.chars().count();
            if text_at(k, w) && !is_word(before) && !is_word(at(k + n)) {
                return Some((*w).to_string());
            }
        }
        // A single key in a hint: "r to reload", "- to leave", "(n in the Assign tab)".
        let single = at(k)
            .is_some_and(|c| !c.is_whitespace() && !c.is_ascii_digit() && c != '{' && c != '}');
        let starts = before.is_none_or(|b| b.is_whitespace() || b == '(' || b == '[');
        let rest: String = chars[(k + 1).min(chars.len())..].iter().take(8).collect();
        if single && starts && (rest.starts_with(" to ") || rest.starts_with(" in the ")) {
            return Some(format!("{:?} as a key", at(k).unwrap_or(' ')));
        }
        // A quoted single key: `?`, 's'.
        if let (Some(q @ ('`' | '\'')), Some(c), Some(q2)) = (at(k), at(k + 1), at(k + 2))
            && q == q2
            && !c.is_whitespace()
        {
            return Some(format!("{q}{c}{q}"));
        }
    }
    KEY_BITS
        .iter()
        .find(|b| s.contains(*b))
        .map(|b| (*b).to_string())
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `file:line: pattern in "text"` for every literal under `src/tui` that names a key.
fn offenders(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src.join("tui"), &mut files);
    files.sort();
    let mut texts = Vec::new();
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let (code, lits) = lex(&text);
        let (ranges, test_mods) = hidden_ranges(&code);
        // Where the file's own `mod x;` children live.
        let parent = if f.ends_with("mod.rs") {
            f.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            f.with_extension("")
        };
        for m in test_mods {
            test_only.insert(parent.join(format!("{m}.rs")));
            test_only.insert(parent.join(&m).join("mod.rs"));
        }
        texts.push((f.clone(), lits, ranges));
    }
    let mut out = Vec::new();
    for (f, lits, ranges) in texts {
        let rel = f
            .strip_prefix(src)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if ALLOWED.contains(&rel.as_str()) || test_only.contains(&f) {
            continue;
        }
        for l in lits {
            if ranges.iter().any(|(a, b)| (*a..*b).contains(&l.at)) {
                continue;
            }
            if let Some(p) = names_a_key(&l.text) {
                out.push(format!("src/{rel}:{}: {p} in {:?}", l.line, l.text));
            }
        }
    }
    out
}

/// `file:line` of every key code matched by hand outside the key module: keys are looked up
/// in the bindings, never compared with `KeyCode::…` (building an event, as `type_str`
/// does, is no lookup).
fn hand_matched(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src.join("tui"), &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(src)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if rel.starts_with("tui/keys/") || rel == "tui/key_texts.rs" || rel == "tui/layering.rs" {
            continue;
        }
        let (code, _) = lex(&std::fs::read_to_string(&f).unwrap_or_default());
        let (ranges, _) = hidden_ranges(&code);
        let text: String = code.iter().collect();
        let mut from = 0;
        while let Some(p) = text[from..].find("KeyCode::") {
            let at = from + p;
            from = at + 1;
            let chars_before = text[..at].chars().count();
            let built = text[..at].trim_end().ends_with("KeyEvent::new(");
            if built || ranges.iter().any(|(a, b)| (*a..*b).contains(&chars_before)) {
                continue;
            }
            let line = text[..at].matches('\n').count() + 1;
            out.push(format!("src/{rel}:{line}"));
        }
    }
    out
}

#[test]
fn keys_are_looked_up_in_the_bindings_not_matched_by_hand() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = hand_matched(&src);
    assert!(
        bad.is_empty(),
        "key codes matched by hand (bind an action in src/tui/keys instead):\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_text_under_tui_names_a_key_by_hand() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = offenders(&src);
    assert!(
        bad.is_empty(),
        "{} texts name keys by hand; build them from the bindings (keys.say / keys.press):\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn the_patterns_see_hand_written_keys_and_pass_built_ones() {
    for bad in [
        "no rows yet — press s to sync",
        "no rows match the filter (Esc clears it)",
        "Enter keep · Esc clear · ↑↓ move",
        "Esc close · j/k scroll · PgUp/PgDn · y copy",
        "Space toggle column",
        "type the path; Tab completes",
        "fix the errors, then r to reload",
        "Assign wizard (n in the Assign tab)",
        "(see `?` in the console for the names)",
        "  Ctrl-C         quit from anywhere",
    ] {
        assert!(names_a_key(bad).is_some(), "{bad:?} passes");
    }
    for good in [
        "no rows yet — press {} to sync",
        "{} keep · {} clear",
        "sync {} ({} {}s): {}",
        "the Devices tab shows them",
        "found {} · not found → add {}",
        "Tags for every device (the sheet's tag: columns win per row)",
        "an entry in the table",
    ] {
        assert_eq!(names_a_key(good), None, "{good:?} is flagged");
    }
}

#[test]
fn comments_attributes_and_test_items_are_not_read() {
    let src = "// press s\n/* Esc */ #[allow(x, reason = \"press q\")]\nfn f() { g(\"Esc here\") }\n\
               #[cfg(test)]\nmod tests { fn t() { h(\"press s\") } }\n#[cfg(test)]\nmod more;\n";
    let (code, lits) = lex(src);
    let (ranges, mods) = hidden_ranges(&code);
    let shown: Vec<&str> = lits
        .iter()
        .filter(|l| !ranges.iter().any(|(a, b)| (*a..*b).contains(&l.at)))
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(shown, ["Esc here"]);
    assert_eq!(mods, ["more"]);
    assert_eq!(
        lits.iter().find(|l| l.text == "Esc here").map(|l| l.line),
        Some(3)
    );
}

#[test]
fn the_hand_match_check_sees_a_match_and_passes_a_built_event() {
    let dir = tempfile::tempdir().unwrap();
    let tui = dir.path().join("tui");
    std::fs::create_dir_all(tui.join("keys")).unwrap();
    let files = [
        (
            "x.rs",
            "fn f(ev: E) { match ev.code {\n KeyCode::Esc => {} _ => {} } }\n",
        ),
        (
            "y.rs",
            "fn g(c: char) -> E { KeyEvent::new(KeyCode::Char(c), M) }\n",
        ),
        (
            "keys/key.rs",
            "fn h(ev: E) { if ev.code == KeyCode::Enter {} }\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(tui.join(name), text).unwrap();
    }
    assert_eq!(hand_matched(dir.path()), ["src/tui/x.rs:2"]);
}
