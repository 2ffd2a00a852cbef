//! Registration of receivables against double financing: register, list, release, record the national
//! registry's certificate number, export in the registries' terms, import the financing platform's
//! confirmation file.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::registration::{self as app, ImportReport, Registration};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::download;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::state::AppState;
use crate::upload::{file_missing, next_part, read_file_part};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegisteredInvoiceDto {
    pub invoice_id: String,
    pub invoice_no: String,
    /// What was outstanding when the receivable was registered.
    pub amount_fen: i64,
    pub due_date: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegistrationDto {
    pub id: String,
    /// The reference quoted in refusals and exports, e.g. `LR-REG-2026-000001`.
    pub reference: String,
    /// SM3 over the receivable's canonical description (debtor, creditor, sorted invoice numbers,
    /// amount, due date).
    pub fingerprint: String,
    /// pledge (应收账款质押) or factoring (应收账款转让（保理）).
    pub kind: String,
    /// active or released.
    pub status: String,
    pub creditor_org_id: String,
    pub creditor_uscc: String,
    pub creditor_name: String,
    pub debtor_uscc: String,
    pub debtor_name: Option<String>,
    pub financier_org_id: Option<String>,
    pub financier_name: Option<String>,
    pub financier_uscc: Option<String>,
    /// The outstanding amount registered.
    pub amount_fen: i64,
    /// The latest due date of the invoices.
    pub due_date: Option<String>,
    pub term_months: i64,
    pub note: Option<String>,
    pub invoices: Vec<RegisteredInvoiceDto>,
    pub registered_by: String,
    pub registered_at: String,
    pub released_by: Option<String>,
    pub released_at: Option<String>,
    /// Why it was released.
    pub release_reason: Option<String>,
    /// The registration's leaf in the verifiable log.
    pub log_leaf_id: Option<i64>,
    /// The national registry's (中登网) 登记证明编号, once recorded.
    pub registry_certificate_no: Option<String>,
}

impl From<Registration> for RegistrationDto {
    fn from(r: Registration) -> Self {
        let row = r.row;
        RegistrationDto {
            id: row.id,
            reference: row.reference,
            fingerprint: row.fingerprint,
            kind: row.kind,
            status: row.status,
            creditor_org_id: row.creditor_org_id,
            creditor_uscc: row.creditor_uscc,
            creditor_name: r.creditor_name,
            debtor_uscc: row.debtor_uscc,
            debtor_name: r.debtor_name,
            financier_org_id: row.financier_org_id,
            financier_name: r.financier_name,
            financier_uscc: r.financier_uscc,
            amount_fen: row.amount_fen,
            due_date: row.due_date,
            term_months: row.term_months,
            note: row.note,
            invoices: r
                .invoices
                .into_iter()
                .map(|i| RegisteredInvoiceDto {
                    invoice_id: i.invoice_id,
                    invoice_no: i.invoice_no,
                    amount_fen: i.amount_fen,
                    due_date: i.due_date,
                })
                .collect(),
            registered_by: row.registered_by,
            registered_at: rfc3339(row.registered_at_ms),
            released_by: row.released_by,
            released_at: row.released_at_ms.map(rfc3339),
            release_reason: row.release_reason,
            log_leaf_id: row.log_leaf_id,
            registry_certificate_no: row.registry_certificate_no,
        }
    }
}

page_dto!(RegistrationPage, RegistrationDto);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistrationDto {
    /// The receivable's invoices (trade record ids of blue invoices, as in /api/v1/receivables): all of
    /// your organisation as creditor, against one debtor.
    pub invoice_ids: Vec<String>,
    /// The bank financing the receivable.
    pub financier_org_id: Option<String>,
    /// pledge (default) or factoring.
    pub kind: Option<String>,
    /// Registration period in months, 1–360; by default 12, or until the due date when later.
    pub term_months: Option<i64>,
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/registrations", tag = "registration", request_body = NewRegistrationDto,
    description = "Registers a receivable for financing, atomically: a second registration of any of its invoices is refused \
                   with 409 `already_registered` and the first registration's `reference`, even when both are attempted at once.",
    responses((status = 201, body = RegistrationDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "already_registered: `reference` names the first registration"), (status = 422, body = Problem)))]
pub async fn register(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(b): ApiJson<NewRegistrationDto>,
) -> ApiResult<(StatusCode, Json<RegistrationDto>)> {
    let input = app::NewRegistration {
        invoice_ids: b.invoice_ids,
        financier_org_id: b.financier_org_id,
        kind: b.kind,
        term_months: b.term_months,
        note: b.note,
    };
    Ok((StatusCode::CREATED, Json(app::register(&s.app, &actor, input).await?.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistrationQuery {
    /// active or released; both when absent.
    pub status: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/registrations", tag = "registration", params(RegistrationQuery),
    description = "Registrations where your organisation is the creditor, the debtor or the financier (all for the operator and the regulator).",
    responses((status = 200, body = RegistrationPage), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<RegistrationQuery>,
) -> ApiResult<Json<RegistrationPage>> {
    let page = PageParams { page: q.page, page_size: q.page_size }.request()?;
    let rows = app::list(&s.app, &actor, q.status.as_deref(), page).await?;
    Ok(Json(RegistrationPage::from_page(rows, RegistrationDto::from)))
}

#[utoipa::path(get, path = "/api/v1/registrations/{id}", tag = "registration", params(("id" = String, Path)),
    responses((status = 200, body = RegistrationDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<RegistrationDto>> {
    Ok(Json(app::get(&s.app, &actor, &id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseDto {
    /// Why the registration is released (recorded with the release and in its log leaf).
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/registrations/{id}/release", tag = "registration", params(("id" = String, Path)),
    request_body = ReleaseDto,
    description = "Releases a registration: the financier it names (`financier_releases` refuses the creditor then), or \
        the creditor of one that names no financier. Its invoices may be registered again; the release names who and why \
        and is a log leaf. A loan's registration is released automatically when the loan is repaid.",
    responses((status = 200, body = RegistrationDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn release(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReleaseDto>,
) -> ApiResult<Json<RegistrationDto>> {
    Ok(Json(app::release(&s.app, &actor, &id, &b.reason).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateDto {
    /// The national registry's (中登网) 登记证明编号.
    pub registry_certificate_no: String,
}

#[utoipa::path(post, path = "/api/v1/registrations/{id}/certificate", tag = "registration", params(("id" = String, Path)),
    request_body = CertificateDto,
    description = "Records the national registry's certificate number once the registration is filed there.",
    responses((status = 200, body = RegistrationDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn certificate(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CertificateDto>,
) -> ApiResult<Json<RegistrationDto>> {
    Ok(Json(app::set_certificate(&s.app, &actor, &id, &b.registry_certificate_no).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// zhongdeng (中登网 initial registration, one row per registration) or crcrfsp (中征应收账款融资服务平台
    /// receivable upload, one row per invoice).
    pub format: Option<String>,
    /// csv (UTF-8 with BOM, the default) or xlsx.
    pub file: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/registrations/export", tag = "registration", params(ExportQuery),
    description = "Your active registrations in the terms of the national registry or the receivables financing platform. \
                   Amounts are yuan with two decimals; code columns are text.",
    responses((status = 200, description = "The file", content_type = "text/csv"), (status = 422, body = Problem)))]
pub async fn export(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let (format, file) = app::parse_export(q.format.as_deref(), q.file.as_deref())?;
    Ok(download::exported(app::export(&s.app, &actor, format, file).await?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportIssueDto {
    pub row_no: u64,
    pub field: Option<String>,
    pub code: String,
    pub message_en: String,
    pub message_zh: String,
    /// The row as it stood in the file (cells joined by tabs).
    pub raw_row: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportReportDto {
    pub import_id: String,
    pub rows_total: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Every refused row, with its number, field and reason.
    pub issues: Vec<ImportIssueDto>,
}

impl From<ImportReport> for ImportReportDto {
    fn from(r: ImportReport) -> Self {
        ImportReportDto {
            import_id: r.import_id,
            rows_total: r.rows_total,
            accepted: r.accepted,
            rejected: r.rejected,
            issues: r
                .issues
                .into_iter()
                .map(|i| ImportIssueDto {
                    row_no: i.row_no,
                    field: i.field,
                    code: i.code,
                    message_en: i.en,
                    message_zh: i.zh,
                    raw_row: i.raw,
                })
                .collect(),
        }
    }
}

/// Multipart form with one part named `file`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ConfirmationFileForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[utoipa::path(post, path = "/api/v1/registrations/confirmations/import", tag = "registration",
    request_body(content = ConfirmationFileForm, content_type = "multipart/form-data"),
    description = "Imports a confirmation file from the receivables financing platform (CSV or XLSX with headers 债务人统一社会信用代码, \
                   债权人统一社会信用代码, 发票号码, 金额, 确认结果, 确认日期, 平台编号). A confirmation is the debtor's statement: the \
                   debtor imports the results for its own payables, or the platform operator imports the platform's file; a \
                   creditor's rows about its own receivables are refused (`creditor_cannot_confirm`). An imported result never \
                   overrides the debtor's own decision on this platform. Every row not imported is reported with its number, \
                   field and reason, and kept with the import.",
    responses((status = 201, body = ImportReportDto), (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn import(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    mut multipart: Multipart,
) -> ApiResult<(StatusCode, Json<ImportReportDto>)> {
    while let Some(field) = next_part(&mut multipart).await? {
        if field.name() != Some("file") {
            continue;
        }
        let (name, bytes) = read_file_part(field).await?;
        let report = app::import_confirmations(&s.app, &actor, &name, bytes).await?;
        return Ok((StatusCode::CREATED, Json(report.into())));
    }
    Err(file_missing())
}
