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
    // To the whole process group, as the terminal's own Ctrl-Z would (a wrapping `sh -c`
    // stops too, so the shell sees its job stopped). SIGTSTP's default action stops the
    // process; the call returns after SIGCONT (`fg`).
    #[allow(
        unsafe_code,
        reason = "kill(2) has no safe wrapper in std; no memory is touched"
    )]
    // SAFETY: kill only sends a signal; pid 0 is this process's group.
    unsafe {
        libc::kill(0, libc::SIGTSTP);
    }
    enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, cursor::Hide)?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    guard.terminal.clear()
}
