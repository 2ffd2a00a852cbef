//! API keys for machine clients (ERP pushes). The secret is shown once at creation; only its SM3 digest
//! is stored.

use lianrong_domain::limits::{API_KEY_NAME_CHARS_MAX, API_KEYS_PER_ORG_MAX};
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::role::Scope;
use lianrong_domain::text;
use lianrong_store::StoreError;
use lianrong_store::api_key as store;

use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms, random_bytes, sm3_hex};

/// The app's read views of API keys: plain data, decoded in the store; the API and console show them.
pub use lianrong_store::api_key::ApiKeyRecord;

/// A new key: the record, and the full secret that the caller must copy now.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub record: ApiKeyRecord,
    pub plaintext: String,
}

pub async fn create(app: &App, actor: &Actor, name: &str, scopes: &[String]) -> AppResult<CreatedKey> {
    audit::run(app, actor, Permission::ManageApiKeys, "api_key.create", "organisation", &actor.org_id, async {
        let name = text::bounded("name", name, API_KEY_NAME_CHARS_MAX)?;
        let mut scopes = scopes.iter().map(|s| Scope::parse(s)).collect::<Result<Vec<_>, _>>()?;
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(AppError::invalid(
                "scopes",
                "scopes_required",
                "at least one scope is required",
                "至少需要一个权限范围",
            ));
        }
        // 6 random bytes make a 12-character hex prefix: it finds the row; it is not the secret.
        let prefix = hex::encode(random_bytes::<6>()?);
        let secret = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, random_bytes::<32>()?);
        let record = ApiKeyRecord {
            id: new_id(),
            org_id: actor.org_id.clone(),
            name,
            prefix: prefix.clone(),
            secret_hash: sm3_hex(secret.as_bytes()),
            scopes,
            created_by_user_id: actor.user_id.clone().unwrap_or_else(|| "system".into()),
            created_at_ms: now_ms(),
            revoked_at_ms: None,
            last_used_at_ms: None,
        };
        let mut tx = app.db.begin_write().await?;
        if store::count_live_in_org(&mut tx, &actor.org_id).await? >= API_KEYS_PER_ORG_MAX {
            return Err(AppError::conflict(
                "api_key_limit",
                format!("An organisation may hold at most {API_KEYS_PER_ORG_MAX} live API keys; revoke one first"),
                format!("每个机构最多持有{API_KEYS_PER_ORG_MAX}个有效API密钥，请先吊销不用的密钥"),
            ));
        }
        store::insert(&mut tx, &record).await?;
        audit::ok_in(&mut tx, actor, "api_key.create", "api_key", &record.id, &record.name).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(CreatedKey { plaintext: format!("lrk_{prefix}_{secret}"), record })
    })
    .await
}

pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<ApiKeyRecord>> {
    policy::require(actor, Permission::ManageApiKeys)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list_in_org(&mut conn, &actor.org_id, page).await?)
}

pub async fn revoke(app: &App, actor: &Actor, id: &str) -> AppResult<()> {
    audit::guard(app, actor, Permission::ManageApiKeys, "api_key.revoke", "api_key", id).await?;
    let mut tx = app.db.begin_write().await?;
    if let Err(e) = store::revoke(&mut tx, &actor.org_id, id, now_ms()).await {
        drop(tx);
        return Err(match e {
            StoreError::NotFound => {
                audit::refused(app, actor, "api_key.revoke", "api_key", id, "no live key of this organisation").await;
                AppError::not_found("Live API key", "有效API密钥")
            }
            other => other.into(),
        });
    }
    audit::ok_in(&mut tx, actor, "api_key.revoke", "api_key", id, "").await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
