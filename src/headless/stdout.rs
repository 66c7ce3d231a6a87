//! Standard output of the headless commands. `glp-console … | head -1` closes the pipe after
//! one line; `print!` would then panic (exit 101, a backtrace with `RUST_BACKTRACE`). A reader
//! that went away is how a pipeline says "enough", so it ends the output quietly: later
//! writes are dropped and the command keeps its own exit code. Any other write error (a full
//! disk behind `> file`) is remembered for `main` to report, since the output is then lost.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);
static ERROR: Mutex<Option<String>> = Mutex::new(None);

/// `print!` for the headless commands (see the module doc).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::headless::stdout::write_fmt(format_args!($($arg)*)) };
}

/// `println!` for the headless commands (see the module doc).
#[macro_export]
macro_rules! outln {
    () => { $crate::headless::stdout::write_fmt(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::headless::stdout::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Write formatted text to stdout and flush it.
pub fn write_fmt(args: fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    let r = out.write_fmt(args).and_then(|()| out.flush());
    if let Err(e) = r {
        note_error(&e);
    }
}

/// Record a failed write to stdout: a closed reader ends the output, anything else is kept
/// for [`take_error`]. Returns whether the reader went away.
pub fn note_error(e: &io::Error) -> bool {
    CLOSED.store(true, Ordering::Relaxed);
    if e.kind() == io::ErrorKind::BrokenPipe {
        return true;
    }
    if let Ok(mut slot) = ERROR.lock()
        && slot.is_none()
    {
        *slot = Some(format!("writing to standard output failed: {e}"));
    }
    false
}

/// Has the reader of stdout gone away (or stdout failed)? Long outputs stop early.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// The write error other than a closed pipe, if one happened.
pub fn take_error() -> Option<String> {
    ERROR.lock().ok().and_then(|mut e| e.take())
}

/// Is this error a reader that went away (`| head`)?
pub fn is_closed_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}
