//! The Expiring tab's picture: subscriptions ending per month for the next 12 months, the
//! already expired ones first (drawn with a hatched glyph, not just another colour), with the
//! devices they cover printed under each month.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::table::put;
use crate::tui::app::App;

const EIGHTHS: [&str; 8] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇"];

/// Compact count: `987`, `1.2k`, `34k`, `1.1M`.
pub fn compact(n: u64) -> String {
    match n {
        0..1000 => n.to_string(),
        1000..10_000 => format!("{:.1}k", n as f64 / 1000.0),
        10_000..1_000_000 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

pub fn draw_month_chart(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme();
    let buf = frame.buffer_mut();
    if area.height < 5 || app.chart().is_empty() {
        return;
    }
    put(
        buf,
        area.x,
        area.y,
        "Subscriptions ending per month (devices covered underneath) — ▒ past = already expired",
        area.width,
        t.header,
    );
    let n = app.chart().len() as u16;
    let cw = (area.width / n).clamp(4, 12);
    let bar_w = (cw - 1).min(7);
    let bars_h = area.height - 3; // title, month, devices
    let max = app
        .chart()
        .iter()
        .map(|b| b.subscriptions)
        .max()
        .unwrap_or(0)
        .max(1);
    for (i, b) in app.chart().iter().enumerate() {
        let x = area.x + i as u16 * cw;
        if x + cw > area.x + area.width {
            break;
        }
        // Height in eighths of a cell; one row is kept for the count above the bar.
        let avail = (bars_h - 1) as u64 * 8;
        let mut eighths = b.subscriptions * avail / max;
        if b.subscriptions > 0 && eighths == 0 {
            eighths = 1;
        }
        let full = (eighths / 8) as u16;
        let part = (eighths % 8) as usize;
        let bottom = area.y + 1 + bars_h - 1;
        let glyph = if i == 0 { "▒" } else { "█" };
        let style = if i == 0 { t.warn } else { t.bar };
        for r in 0..full {
            for c in 0..bar_w {
                put(buf, x + c, bottom - r, glyph, 1, style);
            }
        }
        let mut top = bottom - full;
        if part > 0 && full < bars_h - 1 {
            let g = if i == 0 { "░" } else { EIGHTHS[part] };
            for c in 0..bar_w {
                put(buf, x + c, top, g, 1, style);
            }
            top = top.saturating_sub(1);
        }
        let label = b.subscriptions.to_string();
        if top > area.y {
            put(buf, x, top, &label, cw - 1, t.base);
        }
        put(
            buf,
            x,
            area.y + area.height - 2,
            &b.label,
            cw - 1,
            if i == 0 { t.warn } else { t.dim },
        );
        put(
            buf,
            x,
            area.y + area.height - 1,
            &compact(b.devices),
            cw - 1,
            t.dim,
        );
    }
}
