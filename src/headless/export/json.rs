//! A JSON array written one element at a time: `[`, the items separated by `,\n`, `]`.

use std::io::{self, Write};

use serde::Serialize;

pub struct JsonArrayWriter<W: Write> {
    out: W,
    rows: u64,
}

impl<W: Write> JsonArrayWriter<W> {
    pub fn new(out: W) -> Self {
        JsonArrayWriter { out, rows: 0 }
    }

    fn separator(&mut self) -> io::Result<()> {
        let sep: &[u8] = if self.rows == 0 { b"[\n" } else { b",\n" };
        self.rows += 1;
        self.out.write_all(sep)
    }

    /// An element that is already JSON text (a stored item, copied as PostgreSQL gives it).
    pub fn raw(&mut self, json: &str) -> io::Result<()> {
        self.separator()?;
        self.out.write_all(json.as_bytes())
    }

    pub fn value<T: Serialize>(&mut self, v: &T) -> io::Result<()> {
        self.separator()?;
        serde_json::to_writer(&mut self.out, v).map_err(io::Error::from)
    }

    /// Close the array and flush; returns the number of elements.
    pub fn finish(mut self) -> io::Result<u64> {
        let end: &[u8] = if self.rows == 0 { b"[]\n" } else { b"\n]\n" };
        self.out.write_all(end)?;
        self.out.flush()?;
        Ok(self.rows)
    }
}
