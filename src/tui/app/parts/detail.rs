//! The detail pane's content: what `App` holds. Opening, loading and scrolling it are the
//! app's handlers in `app/detail.rs`.

/// The detail pane's content.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailView {
    pub title: String,
    pub lines: Vec<(DetailStyle, String)>,
    pub scroll: usize,
    pub copy: String,
    pub loading: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailStyle {
    Heading,
    Field,
    Text,
    Json,
}
