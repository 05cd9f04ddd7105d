//! Rows for `COPY ... FROM STDIN (FORMAT binary)`, PostgreSQL's bulk load:
//! no plan, no parameter arrays and no `ON CONFLICT` probe per row, which
//! made up most of the database's time in a projector's multi-row INSERT.
//! The format is PostgreSQL's documented binary COPY format (a signature,
//! then per row its field count and each field as a length and the type's
//! binary `send` form, `-1` for NULL).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// The binary COPY signature, flags and header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC).
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// How much encoded data is sent at a time: the server parses one chunk
/// while the next is encoded.
const CHUNK_BYTES: usize = 256 * 1024;

/// A binary COPY into one table, sent as it fills.
pub(crate) struct BinaryCopy<'c> {
    copy: sqlx::postgres::PgCopyIn<&'c mut PgConnection>,
    buffer: Vec<u8>,
}

impl<'c> BinaryCopy<'c> {
    /// Starts `COPY {target} FROM STDIN (FORMAT binary)`; `target` is the
    /// table and its column list.
    pub(crate) async fn start(
        conn: &'c mut PgConnection,
        target: &str,
    ) -> Result<BinaryCopy<'c>, sqlx::Error> {
        let copy = conn
            .copy_in_raw(&format!("COPY {target} FROM STDIN (FORMAT binary)"))
            .await?;
        let mut buffer = Vec::with_capacity(CHUNK_BYTES + 16 * 1024);
        buffer.extend_from_slice(HEADER);
        Ok(BinaryCopy { copy, buffer })
    }

    /// Starts a row of `fields` fields; its fields follow.
    pub(crate) fn row(&mut self, fields: i16) -> Row<'_> {
        self.buffer.extend_from_slice(&fields.to_be_bytes());
        Row(&mut self.buffer)
    }

    /// Sends what has been encoded once it is a chunk's worth.
    pub(crate) async fn flush_if_full(&mut self) -> Result<(), sqlx::Error> {
        if self.buffer.len() >= CHUNK_BYTES {
            self.copy.send(self.buffer.as_slice()).await?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// Sends the rest and ends the COPY; returns the rows copied.
    pub(crate) async fn finish(mut self) -> Result<u64, sqlx::Error> {
        self.buffer.extend_from_slice(&(-1i16).to_be_bytes());
        self.copy.send(self.buffer.as_slice()).await?;
        self.copy.finish().await
    }
}

/// One row's fields, written in the table's column list order.
pub(crate) struct Row<'b>(&'b mut Vec<u8>);

impl Row<'_> {
    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        let length = i32::try_from(bytes.len()).expect("a field under 2 GiB");
        self.0.extend_from_slice(&length.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    fn null(&mut self) -> &mut Self {
        self.0.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    /// A `uuid`.
    pub(crate) fn uuid(&mut self, value: Option<Uuid>) -> &mut Self {
        match value {
            Some(value) => self.field(value.as_bytes()),
            None => self.null(),
        }
    }

    /// A `text`.
    pub(crate) fn text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.field(value.as_bytes()),
            None => self.null(),
        }
    }

    /// An `int4`.
    pub(crate) fn int4(&mut self, value: i32) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    /// An `int8`.
    pub(crate) fn int8(&mut self, value: i64) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    /// A `timestamptz`, in microseconds from PostgreSQL's epoch.
    pub(crate) fn timestamptz(&mut self, value: Option<DateTime<Utc>>) -> &mut Self {
        match value {
            Some(value) => {
                self.field(&(value.timestamp_micros() - POSTGRES_EPOCH_MICROS).to_be_bytes())
            }
            None => self.null(),
        }
    }

    /// A `jsonb`: format version 1, then its text.
    pub(crate) fn jsonb(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(text) => {
                let length = i32::try_from(text.len() + 1).expect("a field under 2 GiB");
                self.0.extend_from_slice(&length.to_be_bytes());
                self.0.push(1);
                self.0.extend_from_slice(text.as_bytes());
                self
            }
            None => self.null(),
        }
    }
}
