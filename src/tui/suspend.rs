//! Ctrl-Z: give the terminal back to the shell, stop, and take it again on `fg`. Raw mode
//! swallows the key the shell would have turned into SIGTSTP, so the console raises it.

use std::io;

use crossterm::event::EnableMouseCapture;
use crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};
use crossterm::{cursor, execute};

use super::terminal::{TerminalGuard, restore};

/// Suspend until the shell continues the process, then redraw everything: the screen the
/// console left is gone (the shell drew over it).
pub fn suspend(guard: &mut TerminalGuard, mouse: bool) -> io::Result<()> {
    restore();
    // SIGTSTP's default action stops the whole process; `raise` returns after SIGCONT.
    #[allow(
        unsafe_code,
        reason = "raise(3) has no safe wrapper in std; no memory is touched"
    )]
    // SAFETY: raise only sends a signal to this process.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, cursor::Hide)?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    guard.terminal.clear()
}
