//! CSV written row by row (the header from the first serialised row's field names).

use std::io::{self, Write};

use serde::Serialize;

pub struct CsvWriter<W: Write> {
    out: ::csv::Writer<W>,
    rows: u64,
}

/// The csv crate wraps I/O errors; give the I/O error back so a closed pipe is recognised.
fn io_err(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> Self {
        CsvWriter {
            // Buffering is the destination's; the csv writer's own buffer stays small.
            out: ::csv::WriterBuilder::new()
                .buffer_capacity(8 * 1024)
                .from_writer(out),
            rows: 0,
        }
    }

    pub fn serialize<T: Serialize>(&mut self, row: &T) -> io::Result<()> {
        self.rows += 1;
        self.out.serialize(row).map_err(io_err)
    }

    pub fn record<I, F>(&mut self, fields: I) -> io::Result<()>
    where
        I: IntoIterator<Item = F>,
        F: AsRef<[u8]>,
    {
        self.rows += 1;
        self.out.write_record(fields).map_err(io_err)
    }

    /// Flush everything; returns the number of records written.
    pub fn finish(mut self) -> io::Result<u64> {
        self.out.flush()?;
        let mut inner = self
            .out
            .into_inner()
            .map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))?;
        inner.flush()?;
        Ok(self.rows)
    }
}
