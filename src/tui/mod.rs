//! The terminal console (ratatui + crossterm). Never blocks on I/O while drawing.
