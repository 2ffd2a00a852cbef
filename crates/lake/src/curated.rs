//! The curated zone: Parquet files in Hive-style partitions,
//! `curated/record=<type>/chain=<chain>/month=<YYYY-MM>/data.parquet`, readable by DuckDB
//! (`read_parquet('<lake>/curated/**/*.parquet', hive_partitioning = true)`), Spark and Trino.
//!
//! A partition is written whole from a stream of record batches and replaces the previous file
//! atomically (readers see the old file or the new one, never a mix). Encoding and compression run on
//! the calling task, a row group at a time: feed batches of at most a few thousand rows so the
//! runtime is never held for long, and keep the batch iterator itself non-blocking; for very large
//! partitions call from a task of its own (`tokio::spawn`).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::async_writer::AsyncArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{LakeError, LakeResult};

/// Rows per Parquet row group: bounds the writer's memory and lets readers skip by statistics.
pub const ROW_GROUP_ROWS_MAX: usize = 128 * 1024;
const PARTITION_VALUE_CHARS_MAX: usize = 128;
const FILE_NAME: &str = "data.parquet";

/// Which partition: the record type (`invoice`, `order`…), the chain's id and the business month.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    pub record: String,
    pub chain: String,
    pub month: String,
}

impl PartitionKey {
    /// Validates the three values as safe path segments: `record` is `[a-z][a-z0-9_]*`, `chain` is
    /// `[A-Za-z0-9_-]+` (ids, UUIDs), both at most 128 characters; `month` is `YYYY-MM`.
    pub fn new(record: &str, chain: &str, month: &str) -> LakeResult<Self> {
        let key = PartitionKey { record: record.to_owned(), chain: chain.to_owned(), month: month.to_owned() };
        key.validate()?;
        Ok(key)
    }

    fn validate(&self) -> LakeResult<()> {
        let invalid = |field, value: &str| Err(LakeError::InvalidPartition { field, value: value.to_owned() });
        let record_ok = self.record.len() <= PARTITION_VALUE_CHARS_MAX
            && self.record.starts_with(|c: char| c.is_ascii_lowercase())
            && self.record.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !record_ok {
            return invalid("record", &self.record);
        }
        let chain_ok = !self.chain.is_empty()
            && self.chain.len() <= PARTITION_VALUE_CHARS_MAX
            && self.chain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !chain_ok {
            return invalid("chain", &self.chain);
        }
        if !month_ok(&self.month) {
            return invalid("month", &self.month);
        }
        Ok(())
    }

    /// The partition's folder, `curated/record=…/chain=…/month=…`.
    pub fn dir(&self) -> String {
        format!("curated/record={}/chain={}/month={}", self.record, self.chain, self.month)
    }

    /// The partition's file, `<dir>/data.parquet`.
    pub fn path(&self) -> String {
        format!("{}/{FILE_NAME}", self.dir())
    }

    /// Reads a key back from an object path written by [`Curated::write_partition`].
    pub fn from_path(path: &str) -> Option<PartitionKey> {
        let rest = path.strip_prefix("curated/")?.strip_suffix(&format!("/{FILE_NAME}"))?;
        let mut parts = rest.split('/');
        let record = parts.next()?.strip_prefix("record=")?;
        let chain = parts.next()?.strip_prefix("chain=")?;
        let month = parts.next()?.strip_prefix("month=")?;
        if parts.next().is_some() {
            return None;
        }
        PartitionKey::new(record, chain, month).ok()
    }
}

fn month_ok(month: &str) -> bool {
    let b = month.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && b[0] != b'0'
        && matches!(&month[5..], "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12")
}

/// A partition file as written or listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFile {
    pub key: PartitionKey,
    /// The object path inside the lake, e.g. `curated/record=invoice/chain=c1/month=2026-11/data.parquet`.
    pub path: String,
    /// Rows written (`None` when listed: listing does not open files).
    pub rows: Option<u64>,
    pub bytes: u64,
}

/// The curated zone of a [`crate::Lake`].
#[derive(Clone)]
pub struct Curated {
    store: Arc<dyn ObjectStore>,
}

fn writer_properties() -> LakeResult<WriterProperties> {
    let level = ZstdLevel::try_new(1)?;
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS_MAX))
        .set_created_by("lianrong".to_owned())
        .build())
}

impl Curated {
    pub(crate) fn new(store: Arc<dyn ObjectStore>) -> Self {
        Curated { store }
    }

    /// Writes a partition from record batches that all have `schema`, replacing any previous file
    /// atomically. Memory stays near one row group whatever the number of batches.
    pub async fn write_partition(
        &self,
        key: &PartitionKey,
        schema: SchemaRef,
        batches: impl IntoIterator<Item = RecordBatch>,
    ) -> LakeResult<PartitionFile> {
        key.validate()?;
        let path = Path::from(key.path());
        let sink = object_store::buffered::BufWriter::new(self.store.clone(), path.clone());
        let mut writer = AsyncArrowWriter::try_new(sink, schema.clone(), Some(writer_properties()?))?;
        let mut rows: u64 = 0;
        for batch in batches {
            if batch.schema().fields() != schema.fields() {
                // Dropping the writer abandons the upload: the previous file stays in place.
                return Err(LakeError::SchemaMismatch);
            }
            rows += batch.num_rows() as u64;
            writer.write(&batch).await?;
        }
        writer.close().await?;
        let bytes = self.store.head(&path).await?.size;
        Ok(PartitionFile { key: key.clone(), path: key.path(), rows: Some(rows), bytes })
    }

    /// Lists the partition files, optionally of one record type, sorted by key.
    pub async fn list_partitions(&self, record: Option<&str>) -> LakeResult<Vec<PartitionFile>> {
        let prefix = match record {
            Some(record) => {
                PartitionKey::new(record, "x", "2000-01")?;
                Path::from(format!("curated/record={record}"))
            }
            None => Path::from("curated"),
        };
        let mut listing = self.store.list(Some(&prefix));
        let mut files = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if let Some(key) = PartitionKey::from_path(meta.location.as_ref()) {
                files.push(PartitionFile { key, path: meta.location.to_string(), rows: None, bytes: meta.size });
            }
        }
        files.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(files)
    }

    /// Reads a whole partition back into memory (for tests and small partitions; large ones are read
    /// by a query engine).
    pub async fn read_partition(&self, key: &PartitionKey) -> LakeResult<Vec<RecordBatch>> {
        key.validate()?;
        let bytes: Bytes = match self.store.get(&Path::from(key.path())).await {
            Ok(result) => result.bytes().await?,
            Err(object_store::Error::NotFound { path, .. }) => return Err(LakeError::NotFound { sm3: path }),
            Err(e) => return Err(e.into()),
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
        Ok(reader.collect::<Result<Vec<_>, _>>().map_err(parquet::errors::ParquetError::from)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_are_safe_segments() {
        assert!(PartitionKey::new("invoice", "0196a1b2-c3d4", "2026-11").is_ok());
        for (record, chain, month) in [
            ("Invoice", "c", "2026-11"),
            ("invoice", "../x", "2026-11"),
            ("invoice", "a/b", "2026-11"),
            ("invoice", "", "2026-11"),
            ("invoice", "c", "2026-13"),
            ("invoice", "c", "2026-1"),
            ("invoice", "c", "0999-01"),
            ("in voice", "c", "2026-01"),
            ("", "c", "2026-01"),
            ("invoice", "重庆", "2026-01"),
        ] {
            assert!(PartitionKey::new(record, chain, month).is_err(), "{record}/{chain}/{month}");
        }
    }

    #[test]
    fn keys_round_trip_through_paths() {
        let key = PartitionKey::new("invoice", "c-1", "2026-11").unwrap();
        assert_eq!(key.path(), "curated/record=invoice/chain=c-1/month=2026-11/data.parquet");
        assert_eq!(PartitionKey::from_path(&key.path()), Some(key));
        assert_eq!(PartitionKey::from_path("curated/record=invoice/chain=c/month=2026-11/other.parquet"), None);
    }
}
