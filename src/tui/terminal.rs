//! The terminal guard: raw mode and the alternate screen while the console runs, and the
//! terminal restored on every way out — normal exit, error (`Drop`), panic (a hook that
//! restores before the message prints), and SIGTERM/SIGHUP/input EOF (the run loop ends,
//! then `Drop`).

use std::io::{self, Stdout, Write};
use std::sync::Once;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;

use super::output::LinkBackend;
use super::theme::Glyphs;

/// Owns the terminal while the console runs.
pub struct TerminalGuard {
    pub terminal: Terminal<LinkBackend<Stdout>>,
}

static HOOK: Once = Once::new();

/// Put the terminal back as the shell expects it. Safe to call more than once.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        crossterm::terminal::EndSynchronizedUpdate,
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

impl TerminalGuard {
    /// Enter raw mode and the alternate screen; mouse capture only when configured.
    pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e);
        }
        if mouse {
            let _ = execute!(out, EnableMouseCapture);
        }
        let backend = LinkBackend::new(io::stdout(), Glyphs::from_env());
        let terminal = match backend.and_then(Terminal::new) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
