//! Short messages over the screen. A leaf module: the app and the wizard both raise toasts,
//! and neither should have to import the other to name a level.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Warn,
    Error,
}

impl ToastLevel {
    /// How long a toast of this level stays: errors longest, they need reading.
    pub fn seconds(self) -> i64 {
        match self {
            ToastLevel::Info => 4,
            ToastLevel::Warn => 8,
            ToastLevel::Error => 12,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub level: ToastLevel,
    pub until: DateTime<Utc>,
    /// What the toast is about ("retry", "rate limit"): a newer toast of the same key
    /// replaces it, so a retry storm shows one line that counts on, not four stale ones.
    pub key: Option<&'static str>,
}

/// One message as `:messages` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub at: DateTime<Utc>,
    pub level: ToastLevel,
    pub text: String,
}

/// The toasts on screen, newest last, at most [`Toasts::MAX`]; and every toast raised, for
/// `:messages` — a toast goes after seconds, and one that a newer one pushed off was never
/// read at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Toasts {
    items: Vec<Toast>,
    log: std::collections::VecDeque<Logged>,
}

impl Toasts {
    /// More would cover the table they are about.
    pub const MAX: usize = 4;

    /// Messages `:messages` keeps (the oldest go first): hours of use, a few hundred KB.
    pub const LOG: usize = 1000;

    pub fn push(&mut self, level: ToastLevel, text: String, now: DateTime<Utc>) {
        self.push_keyed(level, None, text, now);
    }

    /// [`Toasts::push`], replacing the toast on screen with the same `key` (the log keeps
    /// both).
    pub fn push_keyed(
        &mut self,
        level: ToastLevel,
        key: Option<&'static str>,
        text: String,
        now: DateTime<Utc>,
    ) {
        if key.is_some() {
            self.items.retain(|t| t.key != key);
        }
        self.log.push_back(Logged {
            at: now,
            level,
            text: text.clone(),
        });
        if self.log.len() > Self::LOG {
            self.log.pop_front();
        }
        self.items.push(Toast {
            text,
            level,
            until: now + chrono::Duration::seconds(level.seconds()),
            key,
        });
        if self.items.len() > Self::MAX {
            self.items.remove(0);
        }
    }

    /// Drop the expired ones; true when any went.
    pub fn expire(&mut self, now: DateTime<Utc>) -> bool {
        let before = self.items.len();
        self.items.retain(|t| t.until > now);
        self.items.len() != before
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    pub fn as_slice(&self) -> &[Toast] {
        &self.items
    }

    /// Every message raised, oldest first (the last [`Toasts::LOG`]).
    pub fn log(&self) -> impl Iterator<Item = &Logged> {
        self.log.iter()
    }
}
