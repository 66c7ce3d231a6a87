//! The one line editor of every prompt (the `:` and `/` lines, the wizard's path and tag
//! lines): a string with a cursor, readline's keys, and Tab cycling through candidates.
//! A leaf module: the app and the wizard both own lines. Small enough that a crate
//! (tui-input, a textarea) would bring more than it saves; the keys stay in the keymap.

use super::keys::Edit;

/// A line being typed and where the cursor is in it (a byte offset on a char boundary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEdit {
    text: String,
    cursor: usize,
    /// The Tab cycle under way: the candidates and the one shown. Any other edit ends it.
    cycle: Option<Cycle>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Cycle {
    /// The line up to the word being completed.
    stem: String,
    options: Vec<String>,
    shown: usize,
}

impl LineEdit {
    pub fn as_str(&self) -> &str {
        &self.text
    }
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
    /// The text before and after the cursor, for drawing the cursor between them.
    pub fn split(&self) -> (&str, &str) {
        self.text.split_at(self.cursor)
    }
    pub fn clear(&mut self) {
        self.set(String::new());
    }
    /// The line with the cursor drawn into it (a block where the next character goes).
    pub fn with_cursor(&self) -> String {
        let (a, b) = self.split();
        format!("{a}█{b}")
    }
    /// Replace the text; the cursor goes to its end.
    pub fn set(&mut self, text: impl Into<String>) {
        self.text = text.into();
        self.cursor = self.text.len();
        self.cycle = None;
    }
    /// Take the text out, leaving the line empty.
    pub fn take(&mut self) -> String {
        let t = std::mem::take(&mut self.text);
        self.clear();
        t
    }

    /// Apply an editing key; true when the text changed (cursor moves alone return false).
    pub fn edit(&mut self, e: Edit) -> bool {
        self.cycle = None;
        let before = self.text.len();
        match e {
            Edit::Type(c) => {
                self.text.insert(self.cursor, c);
                self.cursor += c.len_utf8();
                return true;
            }
            Edit::Backspace => {
                if let Some(p) = self.prev_boundary() {
                    self.text.replace_range(p..self.cursor, "");
                    self.cursor = p;
                }
            }
            Edit::ClearLine => {
                self.text.replace_range(..self.cursor, "");
                self.cursor = 0;
            }
            Edit::DeleteWord => {
                let head = &self.text[..self.cursor];
                let trimmed = head.trim_end_matches(' ');
                let start = trimmed.rfind([' ', '/']).map_or(0, |i| i + 1);
                // A word ending in `/` (a path component) goes with its slash.
                let start = if start == self.cursor && start > 0 {
                    head[..start - 1].rfind([' ', '/']).map_or(0, |i| i + 1)
                } else {
                    start
                };
                self.text.replace_range(start..self.cursor, "");
                self.cursor = start;
            }
            Edit::Home => self.cursor = 0,
            Edit::End => self.cursor = self.text.len(),
            Edit::Left => self.cursor = self.prev_boundary().unwrap_or(0),
            Edit::Right => {
                if let Some(c) = self.text[self.cursor..].chars().next() {
                    self.cursor += c.len_utf8();
                }
            }
        }
        self.text.len() != before
    }

    fn prev_boundary(&self) -> Option<usize> {
        self.text[..self.cursor]
            .char_indices()
            .next_back()
            .map(|(i, _)| i)
    }

    /// Tab on the word before the cursor (the text after a space or, with `slash`, a `/`):
    /// the first Tab extends it to the candidates' longest common prefix (and finishes it
    /// when only one fits); when that adds nothing, each Tab shows the next candidate in
    /// turn. `options` are whole words that start with the word typed.
    pub fn complete(&mut self, options: &[String], slash: bool) {
        if let Some(c) = self.cycle.as_mut()
            && self.cursor == self.text.len()
        {
            c.shown = (c.shown + 1) % c.options.len();
            let (stem, word) = (c.stem.clone(), c.options[c.shown].clone());
            self.text = stem + &word;
            self.cursor = self.text.len();
            return;
        }
        if options.is_empty() {
            return;
        }
        let head = &self.text[..self.cursor];
        let seps: &[char] = if slash { &[' ', '/'] } else { &[' '] };
        let start = head.rfind(seps).map_or(0, |i| i + 1);
        let word = &head[start..];
        let mut prefix = options[0].clone();
        for o in &options[1..] {
            while !o.starts_with(&prefix) {
                prefix.pop();
            }
        }
        let stem = self.text[..start].to_string();
        let tail = self.text[self.cursor..].to_string();
        let head = if options.len() == 1 {
            // A path, a `col:` or `key=` goes on being typed; a word is finished.
            let open = slash || options[0].ends_with([':', '=']);
            let end = if open { "" } else { " " };
            format!("{stem}{}{end}", options[0])
        } else if prefix.chars().count() > word.chars().count() {
            format!("{stem}{prefix}")
        } else {
            // Cycling replaces the word at the end of the line only.
            if tail.is_empty() {
                self.cycle = Some(Cycle {
                    stem: stem.clone(),
                    options: options.to_vec(),
                    shown: 0,
                });
            }
            format!("{stem}{}", options[0])
        };
        self.cursor = head.len();
        self.text = head + &tail;
    }

    /// The candidate a Tab cycle shows, if one is under way.
    pub fn cycling(&self) -> Option<(&[String], usize)> {
        self.cycle.as_ref().map(|c| (c.options.as_slice(), c.shown))
    }
}

impl std::fmt::Display for LineEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> LineEdit {
        let mut l = LineEdit::default();
        l.set(s);
        l
    }

    #[test]
    fn readline_keys() {
        let mut l = line("sort serial desc");
        assert!(l.edit(Edit::DeleteWord));
        assert_eq!(l.as_str(), "sort serial ");
        l.edit(Edit::Home);
        l.edit(Edit::Type('x'));
        assert_eq!(l.as_str(), "xsort serial ");
        l.edit(Edit::End);
        l.edit(Edit::Left);
        l.edit(Edit::ClearLine);
        assert_eq!(l.as_str(), " ");
        let mut p = line("~/sheets/a.xlsx");
        p.edit(Edit::DeleteWord);
        assert_eq!(p.as_str(), "~/sheets/");
        p.edit(Edit::DeleteWord);
        assert_eq!(p.as_str(), "~/");
        let mut u = line("héé");
        u.edit(Edit::Left);
        u.edit(Edit::Backspace);
        assert_eq!(u.as_str(), "hé");
        u.edit(Edit::Right);
        u.edit(Edit::Right);
        u.edit(Edit::Type('!'));
        assert_eq!(u.as_str(), "hé!");
    }

    #[test]
    fn tab_extends_then_cycles() {
        let opts: Vec<String> = ["serial", "state", "sub_end"].map(String::from).into();
        let mut l = line("sort s");
        l.complete(&opts, false);
        assert_eq!(l.as_str(), "sort serial");
        l.complete(&opts, false);
        assert_eq!(l.as_str(), "sort state");
        l.complete(&opts, false);
        assert_eq!(l.as_str(), "sort sub_end");
        l.complete(&opts, false);
        assert_eq!(l.as_str(), "sort serial");
        let two: Vec<String> = ["model", "mac"].map(String::from).into();
        let mut m = line("m");
        m.complete(&two[..1], false);
        assert_eq!(m.as_str(), "model ");
    }
}
