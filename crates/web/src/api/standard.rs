//! The data standard, machine-readable, and its CSV and XLSX templates with Chinese column headers and
//! English aliases ("发票号码/invoice_no": either half matches on upload).

use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use lianrong_domain::trade::header::aliases;
use lianrong_domain::trade::{Presence, RecordType, STANDARD_VERSION};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::ApiActor;
use crate::download;
use crate::error::{ApiResult, Problem};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldDto {
    /// The English column name and JSON key.
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub required: bool,
    pub format_en: String,
    pub format_zh: String,
    /// Other column headers recognised on upload (compared ignoring case, spaces and punctuation).
    pub aliases: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecordTypeDto {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub fields: Vec<FieldDto>,
    pub csv_template: String,
    pub xlsx_template: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StandardDto {
    pub version: String,
    pub record_types: Vec<RecordTypeDto>,
}

fn standard() -> StandardDto {
    StandardDto {
        version: STANDARD_VERSION.into(),
        record_types: RecordType::ALL
            .iter()
            .map(|rt| RecordTypeDto {
                code: rt.code().into(),
                label_zh: rt.label_zh().into(),
                label_en: rt.label_en().into(),
                fields: rt
                    .fields()
                    .map(|(f, p)| FieldDto {
                        code: f.code().into(),
                        label_zh: f.label_zh().into(),
                        label_en: f.label_en().into(),
                        required: p == Presence::Required,
                        format_en: f.format_hint().0.into(),
                        format_zh: f.format_hint().1.into(),
                        aliases: aliases(f).iter().map(|a| a.to_string()).collect(),
                    })
                    .collect(),
                csv_template: format!("/api/v1/standard/templates/{}.csv", rt.code()),
                xlsx_template: format!("/api/v1/standard/templates/{}.xlsx", rt.code()),
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/standard", tag = "standard",
    description = "The data standard (version 1): record types, their fields, formats and recognised column names.",
    responses((status = 200, body = StandardDto)))]
pub async fn get(ApiActor(_actor): ApiActor) -> Json<StandardDto> {
    Json(standard())
}

#[utoipa::path(get, path = "/api/v1/standard/templates/{name}", tag = "standard", params(("name" = String, Path, description = "e.g. invoice.csv or invoice.xlsx")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)))]
pub async fn template(ApiActor(_actor): ApiActor, Path(name): Path<String>) -> ApiResult<Response> {
    Ok(download::template_file(&name)?.into_response())
}
