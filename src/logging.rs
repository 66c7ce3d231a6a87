//! Logging to daily rolling files (never to the terminal the TUI owns), plus stderr for the
//! headless commands. The file writer is non-blocking; keep the returned guard alive until
//! exit so buffered lines are flushed.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

/// File name prefix of the log files (`glp-console.log.2026-11-23`).
pub const LOG_PREFIX: &str = "glp-console.log";

/// Where log lines go besides the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    /// The TUI owns the terminal: nothing on stderr.
    Off,
    /// Headless, with the number of `-v` given: our own warnings and errors on stderr; `-v`
    /// adds our info lines and the libraries' warnings (sqlx's slow statements, server
    /// notices), `-vv` debug lines. Without `-v` a library line is no concern of the person
    /// reading cron mail; the file log keeps it.
    Headless { verbose: u8 },
}

impl Stderr {
    /// The stderr filter: which targets at which level.
    fn targets(verbose: u8) -> Targets {
        let (ours, libraries) = match verbose {
            0 => (LevelFilter::WARN, LevelFilter::OFF),
            1 => (LevelFilter::INFO, LevelFilter::WARN),
            _ => (LevelFilter::DEBUG, LevelFilter::INFO),
        };
        Targets::new()
            .with_default(libraries)
            .with_target(env!("CARGO_CRATE_NAME"), ours)
    }
}

/// Colour on stderr only for a person at a terminal who did not ask for none
/// (<https://no-color.org>): cron mail and redirected files get plain text.
pub fn stderr_colour() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Set up the global subscriber. `level` is a level name or an `EnvFilter` directive.
/// Returns the guard that flushes the file writer on drop, or an error message naming the
/// directory when it cannot be created (logging then goes to stderr only).
pub fn init(dir: &Path, level: &str, stderr: Stderr) -> Result<Option<WorkerGuard>, String> {
    let filter = EnvFilter::try_new(directive(level)).unwrap_or_else(|_| EnvFilter::new("info"));
    let file_layer = match std::fs::create_dir_all(dir) {
        Ok(()) => {
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix(LOG_PREFIX)
                .max_log_files(14)
                .build(dir)
                .map_err(|e| format!("cannot open log files in {}: {e}", dir.display()))?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            Some((
                fmt::layer()
                    .with_writer(writer)
                    .with_ansi(false)
                    .with_target(true),
                guard,
            ))
        }
        Err(e) => {
            eprintln!(
                "glp-console: cannot create log directory {}: {e}; set [log] dir in config.toml",
                dir.display()
            );
            None
        }
    };
    let (file_layer, guard) = match file_layer {
        Some((l, g)) => (Some(l.with_filter(filter)), Some(g)),
        None => (None, None),
    };
    let stderr_layer = match stderr {
        Stderr::Off => None,
        Stderr::Headless { verbose } => Some(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(stderr_colour())
                .with_target(verbose > 0)
                .without_time()
                .with_filter(Stderr::targets(verbose)),
        ),
    };
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    Ok(guard)
}

/// Turn a plain level into a directive that keeps noisy dependencies at `warn`.
fn directive(level: &str) -> String {
    if level.contains('=') || level.contains(',') {
        return level.to_string();
    }
    format!("warn,glp_console={level}")
}
