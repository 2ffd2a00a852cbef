//! The audit trail.

use axum::Json;
use axum::extract::State;
use lianrong_app::audit as app;
use lianrong_app::audit::AuditRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{keyed_page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiQuery, KeyedPageParams};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventDto {
    pub id: String,
    pub at: String,
    pub actor_org_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub actor_api_key_id: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// ok or refused.
    pub outcome: String,
    pub detail: String,
}

impl From<AuditRecord> for AuditEventDto {
    fn from(a: AuditRecord) -> Self {
        AuditEventDto {
            id: a.id,
            at: rfc3339(a.at_ms),
            actor_org_id: a.actor_org_id,
            actor_user_id: a.actor_user_id,
            actor_api_key_id: a.actor_api_key_id,
            action: a.action,
            object_type: a.object_type,
            object_id: a.object_id,
            outcome: a.outcome,
            detail: a.detail,
        }
    }
}

keyed_page_dto!(AuditEventPage, AuditEventDto);

#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(KeyedPageParams),
    description = "Actions by the caller's organisation (all organisations for the operator and regulator); admins and auditors only.",
    responses((status = 200, body = AuditEventPage), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<KeyedPageParams>,
) -> ApiResult<Json<AuditEventPage>> {
    Ok(Json(AuditEventPage::from_keyed(app::list(&s.app, &actor, p.seek()?).await?, AuditEventDto::from)))
}
