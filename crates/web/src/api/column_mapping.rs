//! The caller's organisation's own column meanings: headers of its files that the standard does not
//! know, told once and applied to every later file through every channel.

use axum::Json;
use axum::extract::State;
use lianrong_app::column_mapping::MappingRow;
use lianrong_app::column_mapping::{self as app, MappingChange};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::rfc3339;
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ColumnMappingDto {
    /// The header as last written.
    pub header: String,
    /// The normalised text the header is matched by (width, case, spaces and punctuation ignored).
    pub header_key: String,
    /// A field's code, a line column's code (goods_name, quantity, unit_price, …) or `ignore`.
    pub meaning: String,
    pub meaning_zh: String,
    pub meaning_en: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl From<MappingRow> for ColumnMappingDto {
    fn from(r: MappingRow) -> Self {
        ColumnMappingDto {
            header: r.header,
            header_key: r.header_key,
            meaning: r.meaning.code().to_string(),
            meaning_zh: r.meaning.label(false).to_string(),
            meaning_en: r.meaning.label(true).to_string(),
            updated_by: r.updated_by,
            updated_at: rfc3339(r.updated_at_ms),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ColumnMappingListDto {
    pub items: Vec<ColumnMappingDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnChangeDto {
    pub header: String,
    /// A field's code, a line column's code, `ignore`, or `standard` to forget the meaning.
    pub meaning: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnChangesDto {
    pub columns: Vec<ColumnChangeDto>,
}

#[utoipa::path(get, path = "/api/v1/column-mappings", tag = "submission",
    description = "The caller's organisation's own column meanings.",
    responses((status = 200, body = ColumnMappingListDto), (status = 403, body = Problem)))]
pub async fn list(State(s): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<ColumnMappingListDto>> {
    let rows = app::list(&s.app, &actor).await?;
    Ok(Json(ColumnMappingListDto { items: rows.into_iter().map(ColumnMappingDto::from).collect() }))
}

#[utoipa::path(post, path = "/api/v1/column-mappings", tag = "submission", request_body = ColumnChangesDto,
    description = "Gives headers of the caller's organisation's files a meaning (or `standard` to forget one), all or none; \
                   answers the whole mapping. Later uploads, mail and API files of the organisation are read with it.",
    responses((status = 200, body = ColumnMappingListDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn change(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<ColumnChangesDto>,
) -> ApiResult<Json<ColumnMappingListDto>> {
    let changes: Vec<MappingChange> =
        b.columns.into_iter().map(|c| MappingChange { header: c.header, meaning: c.meaning }).collect();
    let rows = app::change(&s.app, &actor, &changes).await?;
    Ok(Json(ColumnMappingListDto { items: rows.into_iter().map(ColumnMappingDto::from).collect() }))
}
