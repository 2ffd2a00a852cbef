//! The raw zone: every submission stored byte for byte under its SM3 digest at
//! `raw/sm3/<first 2 hex>/<64 hex>`, before anything parses it, and never altered. Storing the same
//! bytes twice finds the first copy; reading re-checks the digest, so altered bytes are detected.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sm3::{Digest, Sm3};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{LakeError, LakeResult};
use crate::limits::RAW_OBJECT_BYTES_MAX;

/// Bytes hashed on the calling task before hashing moves to a blocking thread.
const INLINE_HASH_BYTES_MAX: usize = 1024 * 1024;
/// Read size and multipart part size of `put_stream` (S3 needs parts of at least 5 MiB).
const STREAM_READ_BYTES: usize = 1024 * 1024;
const STREAM_PART_BYTES: usize = 8 * 1024 * 1024;

/// Where a raw object is: its SM3 digest (64 lowercase hex) and its size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawRef {
    pub sm3_hex: String,
    pub size_bytes: u64,
}

/// The raw zone of a [`crate::Lake`].
#[derive(Clone)]
pub struct Raw {
    store: Arc<dyn ObjectStore>,
}

/// The object key of a digest: `raw/sm3/<first 2 hex>/<64 hex>`.
pub fn raw_key(sm3_hex: &str) -> LakeResult<String> {
    let valid = sm3_hex.len() == 64 && sm3_hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !valid {
        return Err(LakeError::InvalidDigest(sm3_hex.to_owned()));
    }
    Ok(format!("raw/sm3/{}/{sm3_hex}", &sm3_hex[..2]))
}

/// The SM3 digest of bytes as 64 lowercase hex characters.
pub fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

async fn digest_off_task(bytes: Bytes) -> String {
    if bytes.len() <= INLINE_HASH_BYTES_MAX {
        return sm3_hex(&bytes);
    }
    let for_thread = bytes.clone();
    match tokio::task::spawn_blocking(move || sm3_hex(&for_thread)).await {
        Ok(hex) => hex,
        Err(_) => sm3_hex(&bytes),
    }
}

fn is_not_found(err: &object_store::Error) -> bool {
    matches!(err, object_store::Error::NotFound { .. })
}

impl Raw {
    pub(crate) fn new(store: Arc<dyn ObjectStore>) -> Self {
        Raw { store }
    }

    /// Stores bytes held in memory. Idempotent: the same bytes give the same reference and an existing
    /// object is not rewritten. The write is atomic (a reader never sees part of an object).
    pub async fn put(&self, bytes: impl Into<Bytes>) -> LakeResult<RawRef> {
        let bytes: Bytes = bytes.into();
        let size_bytes = bytes.len() as u64;
        if size_bytes > RAW_OBJECT_BYTES_MAX {
            return Err(LakeError::TooLarge { limit_bytes: RAW_OBJECT_BYTES_MAX });
        }
        let sm3_hex = digest_off_task(bytes.clone()).await;
        let key = Path::from(raw_key(&sm3_hex)?);
        if !self.exists_at(&key).await? {
            self.store.put(&key, PutPayload::from_bytes(bytes)).await?;
        }
        Ok(RawRef { sm3_hex, size_bytes })
    }

    /// Stores a stream of any size up to [`RAW_OBJECT_BYTES_MAX`] in bounded memory: the bytes are
    /// hashed while they are uploaded to a temporary object, which is then moved to its final key
    /// (or dropped, when that key already holds the same bytes).
    pub async fn put_stream<R: AsyncRead + Unpin + Send>(&self, mut reader: R) -> LakeResult<RawRef> {
        let temp = Path::from(format!("raw/tmp/{}", uuid::Uuid::now_v7()));
        let upload = self.store.put_multipart(&temp).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, STREAM_PART_BYTES);
        let mut hasher = Sm3::new();
        let mut buf = vec![0u8; STREAM_READ_BYTES];
        let mut size_bytes: u64 = 0;
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(LakeError::Read(e));
                }
            };
            if n == 0 {
                break;
            }
            size_bytes += n as u64;
            if size_bytes > RAW_OBJECT_BYTES_MAX {
                let _ = writer.abort().await;
                return Err(LakeError::TooLarge { limit_bytes: RAW_OBJECT_BYTES_MAX });
            }
            hasher.update(&buf[..n]);
            writer.wait_for_capacity(2).await?;
            writer.write(&buf[..n]);
        }
        writer.finish().await?;
        let sm3_hex = hex::encode(hasher.finalize());
        let key = Path::from(raw_key(&sm3_hex)?);
        self.settle(&temp, &key).await?;
        Ok(RawRef { sm3_hex, size_bytes })
    }

    /// Moves the temporary object to its final key unless the key already holds it.
    async fn settle(&self, temp: &Path, key: &Path) -> LakeResult<()> {
        if self.exists_at(key).await? {
            self.store.delete(temp).await?;
            return Ok(());
        }
        match self.store.rename_if_not_exists(temp, key).await {
            Ok(()) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(self.store.delete(temp).await?),
            Err(object_store::Error::NotSupported { .. } | object_store::Error::NotImplemented { .. }) => {
                // Stores without a conditional copy (many S3-compatible ones): the key is content-
                // addressed, so a racing writer can only write the same bytes.
                self.store.copy(temp, key).await?;
                Ok(self.store.delete(temp).await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a raw object and re-checks its digest: altered bytes give [`LakeError::Tampered`].
    pub async fn get(&self, sm3_hex: &str) -> LakeResult<Bytes> {
        let key = Path::from(raw_key(sm3_hex)?);
        let bytes = match self.store.get(&key).await {
            Ok(result) => result.bytes().await?,
            Err(e) if is_not_found(&e) => return Err(LakeError::NotFound { sm3: sm3_hex.to_owned() }),
            Err(e) => return Err(e.into()),
        };
        let actual = digest_off_task(bytes.clone()).await;
        if actual != sm3_hex {
            return Err(LakeError::Tampered { sm3: sm3_hex.to_owned(), actual });
        }
        Ok(bytes)
    }

    /// Whether the raw zone holds the object.
    pub async fn exists(&self, sm3_hex: &str) -> LakeResult<bool> {
        self.exists_at(&Path::from(raw_key(sm3_hex)?)).await
    }

    async fn exists_at(&self, key: &Path) -> LakeResult<bool> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
