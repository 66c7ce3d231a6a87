//! One line of the help, as the app builds it and the view wraps it.

/// One help line: a heading, or a key (or command) and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLine {
    pub heading: bool,
    pub key: String,
    pub text: String,
}

impl HelpLine {
    pub(crate) fn heading(text: &str) -> HelpLine {
        HelpLine {
            heading: true,
            key: String::new(),
            text: text.to_string(),
        }
    }
    pub(crate) fn blank() -> HelpLine {
        HelpLine {
            heading: false,
            key: String::new(),
            text: String::new(),
        }
    }
    /// The line as search sees it.
    pub fn plain(&self) -> String {
        format!("{} {}", self.key, self.text)
    }
}
