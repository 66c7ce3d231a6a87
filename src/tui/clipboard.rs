//! Copy to the user's clipboard with OSC 52: the terminal emulator on the user's desk does
//! the copy, so it works through SSH and tmux (with `set-clipboard on`) without X11.

use base64::Engine;

/// The escape sequence that puts `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07")
}
