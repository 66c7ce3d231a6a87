//! The overview tab's state: the figures last read and the cursor over its numbers. Which
//! numbers a screen shows is [`Caps`] of its size, decided here once for the view (which
//! draws them) and the app (whose cursor moves over them), so the cursor can never sit on a
//! number that is not drawn.

use std::cell::Cell;
use std::sync::Arc;

use crate::store::overview::{Figures, Jump};

/// The panels, in cursor order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Panel {
    Types,
    Regions,
    Status,
    Checks,
    Seats,
    Months,
}

/// One number of the overview and the rows behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub panel: Panel,
    pub label: String,
    pub n: i64,
    pub jump: Jump,
}

/// How many numbers of each list a screen of this size shows (0: the panel is left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// The roomy layout (every panel) rather than the compact one.
    pub wide: bool,
    pub types: usize,
    pub regions: usize,
    pub seats: usize,
}

impl Caps {
    /// The layout of a body `width` × `height` cells (the screen less the tab, info,
    /// status and footer lines).
    pub fn for_area(width: u16, height: u16) -> Caps {
        if width >= 120 && height >= 36 {
            // Three rows of panels: the first two hold lists of (height − 2 borders) lines.
            let first = usize::from((height.saturating_sub(12)) / 2).saturating_sub(2);
            let second = usize::from(height.saturating_sub(12) - height.saturating_sub(12) / 2)
                .saturating_sub(4);
            Caps {
                wide: true,
                types: first,
                regions: first,
                seats: second,
            }
        } else {
            // Two columns: types and status over the checks on the left; seats over the
            // months on the right.
            let types = usize::from(height.saturating_sub(2 + 12 + 1)).clamp(1, 8);
            let seats = usize::from(height.saturating_sub(2 + 8 + 2)).clamp(1, 8);
            Caps {
                wide: false,
                types,
                regions: 0,
                seats,
            }
        }
    }
}

/// The numbers a screen shows, in cursor order.
pub fn items(f: &Figures, caps: &Caps) -> Vec<Item> {
    let mut v = Vec::new();
    let name = |k: &Option<String>| k.clone().unwrap_or_else(|| "(none)".into());
    for c in f.by_type.iter().take(caps.types) {
        v.push(Item {
            panel: Panel::Types,
            label: name(&c.key),
            n: c.n,
            jump: Jump::DeviceType(c.key.clone()),
        });
    }
    for c in f.by_region.iter().take(caps.regions) {
        v.push(Item {
            panel: Panel::Regions,
            label: name(&c.key),
            n: c.n,
            jump: Jump::Region(c.key.clone()),
        });
    }
    for c in &f.by_status {
        v.push(Item {
            panel: Panel::Status,
            label: c.key.word().to_string(),
            n: c.n,
            jump: Jump::Status(c.key),
        });
    }
    for c in &f.checks {
        v.push(Item {
            panel: Panel::Checks,
            label: check_label(&c.key, f.window_days),
            n: c.n,
            jump: c.key.clone(),
        });
    }
    for s in f.seats.iter().take(caps.seats) {
        v.push(Item {
            panel: Panel::Seats,
            label: format!("{} {}", name(&s.subscription_type), name(&s.tier)),
            n: s.subscriptions,
            jump: Jump::Seats {
                subscription_type: s.subscription_type.clone(),
                tier: s.tier.clone(),
            },
        });
    }
    for m in &f.months {
        v.push(Item {
            panel: Panel::Months,
            label: m.key.clone(),
            n: m.n,
            jump: Jump::Month(m.key.clone()),
        });
    }
    v
}

/// A compliance check's line on the overview (short: the panel is 40 cells wide at 80×24).
pub fn check_label(j: &Jump, window_days: u32) -> String {
    use crate::store::compliance::{DeviceCheck as D, SubscriptionCheck as S};
    match j {
        Jump::Check(D::NoApplication) => "devices, no application".into(),
        Jump::Check(D::AssignedNoSubscription) => "assigned, no subscription".into(),
        Jump::Check(D::Archived) => "archived devices".into(),
        Jump::Check(D::MspPool) => "parked in the MSP pool".into(),
        Jump::Expired => "on an expired sub".into(),
        Jump::Expiring => format!("on a sub ending ≤{window_days}d"),
        Jump::TypeMismatch => "on a sub of the wrong type".into(),
        Jump::SubscriptionCheck(S::EndedWithDevices) => "subs ended, devices linked".into(),
        Jump::SubscriptionCheck(S::Evaluation) => "evaluation subs".into(),
        Jump::OverUsed => "subs over-used".into(),
        other => other.label(window_days),
    }
}

/// The overview's part of the app state.
#[derive(Debug, Default)]
pub struct OverviewView {
    pub figures: Option<Arc<Figures>>,
    /// Index into [`items`] of the current layout.
    pub cursor: usize,
    /// The body size last drawn (the layout the cursor moves in).
    pub area: Cell<(u16, u16)>,
    /// A jump asked for, awaiting its rows.
    pub pending: Option<Jump>,
}

impl OverviewView {
    pub fn caps(&self) -> Caps {
        let (w, h) = self.area.get();
        if w == 0 {
            return Caps::for_area(80, 20);
        }
        Caps::for_area(w, h)
    }

    /// The numbers shown now.
    pub fn items(&self) -> Vec<Item> {
        self.figures
            .as_ref()
            .map(|f| items(f, &self.caps()))
            .unwrap_or_default()
    }
}
