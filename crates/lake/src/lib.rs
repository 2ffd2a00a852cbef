//! Lianrong's data lake I/O, with no SQL and no HTTP.
//!
//! - [`raw`]: the raw zone, every submitted byte stored once under its SM3 digest, verified on read;
//! - [`file`]: tabular decoding of CSV (UTF-8, UTF-16, GBK/GB18030), XLSX, XLS and ZIP into rows of text
//!   cells, streaming where the format allows, under the named [`limits`];
//! - [`curated`]: the curated zone, Parquet files in Hive-style partitions readable by DuckDB, Spark
//!   and Trino without our code.
//!
//! [`Lake::open`] takes a URL: a plain path or `file:///abs/path` (a local folder), `memory://` (tests),
//! or `s3://bucket/prefix?endpoint=http://host:9000&region=…` for any S3-compatible store.
#![forbid(unsafe_code)]

pub mod curated;
pub mod error;
pub mod file;
pub mod limits;
pub mod raw;
mod store;

pub use curated::{Curated, PartitionFile, PartitionKey};
pub use error::{FileError, LakeError, LakeResult};
pub use raw::{Raw, RawRef};
pub use store::Lake;
