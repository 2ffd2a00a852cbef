//! Stored answers to state-changing API requests (`Idempotency-Key`), keyed by the credential's scope
//! and the key. The HTTP edge decides what to store and when to replay; this module only keeps them.
//! Failures are returned as the store reports them: the edge treats a failed lookup as "nothing stored"
//! and a failed save as "not stored", and logs it.

use lianrong_store::idempotency as store;

use crate::{App, now_ms};

/// The app's read view of a stored answer: plain data, decoded in the store.
pub use lianrong_store::idempotency::StoredResponse;

/// The answer stored for `key` under `scope`, if any.
pub async fn find(app: &App, scope: &str, key: &str) -> lianrong_store::Result<Option<StoredResponse>> {
    let mut conn = app.db.acquire().await?;
    store::find(&mut conn, scope, key).await
}

/// Stores the answer for `key` under `scope`. A concurrent request with the same key may have stored
/// its answer first; the later insert is then refused with a conflict.
pub async fn save(app: &App, scope: &str, key: &str, stored: &StoredResponse) -> lianrong_store::Result<()> {
    let mut conn = app.db.acquire().await?;
    store::insert(&mut conn, scope, key, stored, now_ms()).await
}
