//! Opening the lake's object store from a URL.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::prefix::PrefixStore;

use crate::curated::Curated;
use crate::error::{LakeError, LakeResult};
use crate::raw::Raw;

/// The data lake: one object store holding the raw zone (`raw/…`) and the curated zone (`curated/…`).
/// Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    location: String,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake").field("location", &self.location).finish()
    }
}

impl Lake {
    /// Opens the lake at `url`:
    /// - a plain path (relative or absolute) or `file:///abs/path`: a local folder, created if missing;
    /// - `memory://`: an in-memory store (tests);
    /// - `s3://bucket/optional/prefix?endpoint=http://127.0.0.1:9000&region=cn-southwest-1`: any
    ///   S3-compatible store; credentials come from the usual `AWS_ACCESS_KEY_ID` /
    ///   `AWS_SECRET_ACCESS_KEY` environment variables, path-style requests unless
    ///   `virtual_hosted=true`, plain HTTP allowed when the endpoint is `http://`.
    pub fn open(url: &str) -> LakeResult<Lake> {
        let url = url.trim();
        if url.is_empty() {
            return Err(LakeError::InvalidUrl("empty lake location".into()));
        }
        if url == "memory://" || url == "memory:" {
            return Ok(Lake::in_memory());
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            return open_s3(rest, url);
        }
        let path = if url.starts_with("file:") {
            if !url.starts_with("file:///") {
                return Err(LakeError::InvalidUrl(format!("{url}: a file URL needs an absolute path (file:///…)")));
            }
            url::Url::parse(url)
                .ok()
                .and_then(|u| u.to_file_path().ok())
                .ok_or_else(|| LakeError::InvalidUrl(format!("{url}: a file URL needs an absolute path")))?
        } else if url.contains("://") {
            return Err(LakeError::InvalidUrl(format!("{url}: use a path, file://, memory:// or s3://")));
        } else {
            std::path::PathBuf::from(url)
        };
        let path = std::path::absolute(&path).map_err(|e| LakeError::InvalidUrl(format!("{url}: {e}")))?;
        std::fs::create_dir_all(&path).map_err(|e| LakeError::InvalidUrl(format!("{}: {e}", path.display())))?;
        let store = LocalFileSystem::new_with_prefix(&path)?;
        Ok(Lake { store: Arc::new(store), location: format!("file://{}", path.display()) })
    }

    /// A lake held in memory, for tests.
    pub fn in_memory() -> Lake {
        Lake { store: Arc::new(InMemory::new()), location: "memory://".into() }
    }

    /// Where the lake is, without credentials (for logs).
    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn raw(&self) -> Raw {
        Raw::new(self.store.clone())
    }

    pub fn curated(&self) -> Curated {
        Curated::new(self.store.clone())
    }

    /// The object store itself, rooted at the lake (for readers such as DataFusion, and for tests).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }
}

fn open_s3(rest: &str, url: &str) -> LakeResult<Lake> {
    let parsed = url::Url::parse(url).map_err(|e| LakeError::InvalidUrl(format!("{e}")))?;
    let bucket = parsed
        .host_str()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| LakeError::InvalidUrl("s3:// needs a bucket".into()))?;
    let prefix = parsed.path().trim_matches('/').to_owned();
    // One TLS provider for the whole process (ring, as elsewhere in Lianrong); an earlier install wins.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket).with_region("us-east-1");
    let mut virtual_hosted = false;
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "endpoint" => {
                builder = builder.with_allow_http(value.starts_with("http://")).with_endpoint(value.as_ref());
            }
            "region" => builder = builder.with_region(value.as_ref()),
            "virtual_hosted" => virtual_hosted = value == "true",
            "allow_http" => builder = builder.with_allow_http(value == "true"),
            other => return Err(LakeError::InvalidUrl(format!("unknown s3 option {other:?}"))),
        }
    }
    let store = builder.with_virtual_hosted_style_request(virtual_hosted).build()?;
    let shown = rest.split('?').next().unwrap_or(rest);
    let location = format!("s3://{shown}");
    let store: Arc<dyn ObjectStore> =
        if prefix.is_empty() { Arc::new(store) } else { Arc::new(PrefixStore::new(store, prefix.as_str())) };
    Ok(Lake { store, location })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(Lake::open("").is_err());
        assert!(Lake::open("ftp://x/y").is_err());
        assert!(Lake::open("file:relative").is_err());
        assert!(Lake::open("s3://").is_err());
        assert!(Lake::open("s3://bucket/p?bogus=1").is_err());
        let lake = Lake::open("s3://bucket/some/prefix?endpoint=http://127.0.0.1:9&region=cn").unwrap();
        assert_eq!(lake.location(), "s3://bucket/some/prefix");
        assert_eq!(Lake::open("memory://").unwrap().location(), "memory://");
    }

    #[test]
    fn a_plain_path_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lake");
        let lake = Lake::open(path.to_str().unwrap()).unwrap();
        assert!(path.is_dir());
        assert!(lake.location().starts_with("file://"));
        let by_url = Lake::open(&format!("file://{}", path.display())).unwrap();
        assert_eq!(by_url.location(), lake.location());
    }
}

#[cfg(test)]
mod send_tests {
    /// The lake is shared across tasks.
    #[test]
    fn lake_handles_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Lake>();
        assert_send_sync::<crate::Raw>();
        assert_send_sync::<crate::Curated>();
    }
}
