//! The data standard, machine-readable, and its CSV and XLSX templates with Chinese column headers and
//! English aliases ("发票号码/invoice_no": either half matches on upload).

use axum::Json;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianrong_domain::trade::header::aliases;
use lianrong_domain::trade::{Presence, RecordType, STANDARD_VERSION};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::ApiActor;
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

fn header_row(rt: RecordType) -> Vec<String> {
    rt.fields().map(|(f, _)| format!("{}/{}", f.label_zh(), f.code())).collect()
}

/// A CSV template: UTF-8 with a BOM so that Excel opens the Chinese headers correctly.
pub fn csv_template(rt: RecordType) -> Vec<u8> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    out.extend_from_slice(header_row(rt).join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// An XLSX template: the header row on the first sheet (named after the record type, which the upload
/// also recognises) and a second sheet explaining each field.
pub fn xlsx_template(rt: RecordType) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = wb.add_worksheet();
    sheet.set_name(rt.label_zh().replace('/', "-"))?;
    for (i, h) in header_row(rt).iter().enumerate() {
        let col = i as u16;
        sheet.write_string_with_format(0, col, h, &bold)?;
        sheet.set_column_width(col, 22)?;
        // Text format keeps long codes (credit codes, invoice numbers, accounts) from becoming 9.1E+17.
        sheet.set_column_format(col, &text)?;
    }
    let help = wb.add_worksheet();
    help.set_name("说明 Notes")?;
    for (c, h) in ["字段 field", "中文名", "English", "必填 required", "格式", "Format"].iter().enumerate() {
        help.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, (f, p)) in rt.fields().enumerate() {
        let row = r as u32 + 1;
        help.write_string(row, 0, f.code())?;
        help.write_string(row, 1, f.label_zh())?;
        help.write_string(row, 2, f.label_en())?;
        help.write_string(row, 3, if p == Presence::Required { "是 yes" } else { "否 no" })?;
        help.write_string(row, 4, f.format_hint().1)?;
        help.write_string(row, 5, f.format_hint().0)?;
    }
    wb.save_to_buffer()
}

/// A template file ready to download: its bytes, media type and `Content-Disposition`.
pub struct TemplateFile {
    pub bytes: Vec<u8>,
    pub media_type: &'static str,
    pub disposition: String,
}

/// The template named `invoice.csv`, `order.xlsx` …; any other name is not found. The API and the
/// console serve the same files.
pub fn template_file(name: &str) -> Result<TemplateFile, lianrong_app::AppError> {
    let not_found = || lianrong_app::AppError::not_found("Template", "模板");
    let (stem, ext) = name.rsplit_once('.').ok_or_else(not_found)?;
    let rt = RecordType::parse(stem).map_err(|_| not_found())?;
    let (bytes, media_type) = match ext {
        "csv" => (csv_template(rt), "text/csv; charset=utf-8"),
        "xlsx" => (
            xlsx_template(rt).map_err(|e| {
                tracing::error!(error = %e, "cannot build an XLSX template");
                lianrong_app::AppError::internal()
            })?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(not_found()),
    };
    Ok(TemplateFile { bytes, media_type, disposition: format!("attachment; filename=\"{}.{ext}\"", rt.code()) })
}

impl IntoResponse for TemplateFile {
    fn into_response(self) -> Response {
        let headers =
            [(header::CONTENT_TYPE, self.media_type.to_string()), (header::CONTENT_DISPOSITION, self.disposition)];
        (StatusCode::OK, headers, self.bytes).into_response()
    }
}

#[utoipa::path(get, path = "/api/v1/standard/templates/{name}", tag = "standard", params(("name" = String, Path, description = "e.g. invoice.csv or invoice.xlsx")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)))]
pub async fn template(ApiActor(_actor): ApiActor, Path(name): Path<String>) -> ApiResult<Response> {
    Ok(template_file(&name)?.into_response())
}
