//! Binary `COPY … FROM STDIN`: how new rows reach a table.
//!
//! Why COPY and not `INSERT … SELECT FROM unnest`: for rows the table does not hold yet,
//! COPY writes them with PostgreSQL's multi-insert path (one WAL record and one buffer
//! lookup per heap page instead of per row, no speculative insertion, no `ON CONFLICT`
//! index probe). On the 100 000-device full sync that is about a third of the server's work.
//! The binary format also spares the server from parsing timestamps, numbers and booleans,
//! and rows stream out in [`CHUNK`]-sized messages, so no page-sized buffer is kept on the
//! connection (sqlx keeps a connection's largest message buffer for the connection's life).
//!
//! The format (PostgreSQL docs, "COPY — Binary Format"): a fixed header, then per row a
//! 16-bit field count and per field a 32-bit length (−1 for NULL) followed by the value in
//! the type's binary send format, then a 16-bit −1 trailer.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgCopyIn};

use super::StoreError;

/// Bytes buffered before a `CopyData` message goes out.
const CHUNK: usize = 64 * 1024;

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 00:00:00 UTC).
const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// One binary COPY in progress on a connection (normally inside a page's transaction).
pub(crate) struct BinaryCopy<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    buf: Vec<u8>,
    fields: i16,
}

impl<'c> BinaryCopy<'c> {
    /// Start `COPY table (columns…) FROM STDIN (FORMAT binary)`. Table and column names are
    /// ours (compile-time constants), never user input.
    pub(crate) async fn begin(
        conn: &'c mut PgConnection,
        table: &str,
        columns: &[&str],
    ) -> Result<BinaryCopy<'c>, StoreError> {
        let sql = format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary)",
            columns.join(", ")
        );
        let fields = i16::try_from(columns.len())
            .map_err(|_| StoreError::Other(format!("COPY into {table}: too many columns")))?;
        let copy = conn.copy_in_raw(&sql).await?;
        let mut buf = Vec::with_capacity(CHUNK + 8 * 1024);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        Ok(BinaryCopy { copy, buf, fields })
    }

    /// Begin a row; exactly as many values as columns must follow.
    pub(crate) fn row(&mut self) {
        self.buf.extend_from_slice(&self.fields.to_be_bytes());
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn field(&mut self, bytes: &[u8]) {
        self.prefixed_field(&[], bytes);
    }

    /// A field whose value is `head` then `body` (one length covers both).
    fn prefixed_field(&mut self, head: &[u8], body: &[u8]) {
        // A field is at most one JSON item or string (far below 2 GiB); saturating keeps the
        // arithmetic total, and the server rejects a wrong length rather than misreading.
        let len = i32::try_from(head.len() + body.len()).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(head);
        self.buf.extend_from_slice(body);
    }

    pub(crate) fn text(&mut self, v: Option<&str>) {
        match v {
            Some(s) => self.field(s.as_bytes()),
            None => self.null(),
        }
    }

    /// A `jsonb` value: format version 1, then the JSON text (parsed by the server).
    pub(crate) fn jsonb(&mut self, v: &str) {
        self.prefixed_field(&[1], v.as_bytes());
    }

    pub(crate) fn boolean(&mut self, v: Option<bool>) {
        match v {
            Some(b) => self.field(&[u8::from(b)]),
            None => self.null(),
        }
    }

    pub(crate) fn int8(&mut self, v: Option<i64>) {
        match v {
            Some(n) => self.field(&n.to_be_bytes()),
            None => self.null(),
        }
    }

    pub(crate) fn float8(&mut self, v: Option<f64>) {
        match v {
            Some(x) => self.field(&x.to_bits().to_be_bytes()),
            None => self.null(),
        }
    }

    /// `timestamptz`: microseconds since 2000-01-01 UTC. A time too far out for that count
    /// (hundreds of thousands of years) is stored as unknown rather than failing the page.
    pub(crate) fn timestamptz(&mut self, v: Option<DateTime<Utc>>) {
        let micros = v.and_then(|t| {
            t.timestamp()
                .checked_mul(1_000_000)?
                .checked_add(i64::from(t.timestamp_subsec_micros()))?
                .checked_sub(PG_EPOCH_OFFSET_MICROS)
        });
        self.int8(micros);
    }

    /// Send what is buffered once it passes [`CHUNK`]; call between rows.
    pub(crate) async fn flush_if_full(&mut self) -> Result<(), StoreError> {
        if self.buf.len() >= CHUNK {
            self.copy.send(self.buf.as_slice()).await?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Send the rest and the trailer; returns the rows the server stored. A constraint
    /// violation (e.g. a row another transaction inserted meanwhile) is reported here.
    pub(crate) async fn finish(mut self) -> Result<u64, StoreError> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.copy.send(self.buf.as_slice()).await?;
        Ok(self.copy.finish().await?)
    }
}

/// Whether an error is a unique-key violation (SQLSTATE 23505): for a COPY of rows the
/// pre-read found absent, it means another transaction stored some of them meanwhile.
pub(crate) fn is_unique_violation(e: &StoreError) -> bool {
    match e {
        StoreError::Query(sqlx::Error::Database(d)) => d.code().as_deref() == Some("23505"),
        _ => false,
    }
}

/// Whether an error is about the data written rather than the database: SQLSTATE class 21
/// (cardinality), 22 (data exception: NUL, bad JSON escape, value out of range), 23
/// (integrity constraint) or 54 (program limit: "index row size exceeds", too many
/// columns). Such an error is the item's, and retrying the same item fails the same way;
/// connection loss (class 08), shutdown (57), out of resources (53) and everything else
/// are the database's.
pub(crate) fn is_data_error(e: &StoreError) -> bool {
    match e {
        StoreError::Query(sqlx::Error::Database(d)) => d
            .code()
            .is_some_and(|c| matches!(c.get(..2), Some("21" | "22" | "23" | "54"))),
        _ => false,
    }
}
