//! What a page write did: a leaf, so the write path and its bisecting fallback
//! (`store::isolate`) both count in it without importing each other.

/// What one page write did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows that had been marked removed and came back.
    pub restored: u64,
    /// Items stored with U+FFFD for NUL characters PostgreSQL cannot hold.
    pub sanitised: u64,
    /// Items that could not be stored at all (logged by id); the rest of the page was.
    pub skipped: u64,
}

impl UpsertCounts {
    pub fn add(&mut self, o: UpsertCounts) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.restored += o.restored;
        self.sanitised += o.sanitised;
        self.skipped += o.skipped;
    }
}
