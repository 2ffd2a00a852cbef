//! The lake's API: submissions through the direct link (a JSON batch) and the designated-account upload
//! (multipart), their reports, and the canonical trade records.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianrong_app::submission::{self as app, SubmissionReport};
use lianrong_app::submission::{FileRow, IssueRow, SubmissionRow};
use lianrong_app::trade::{LineRow, TradeFilter, TradeRow, VersionRow};
use lianrong_domain::limits::{API_BATCH_BYTES_MAX, RECORDS_PER_API_BATCH_MAX};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{keyed_page_dto, page_dto, rfc3339};
use crate::auth::ApiActor;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, KeyedPageParams, PageParams};
use crate::state::AppState;
use crate::upload::{Processed, file_missing, next_part, process_spooled, spool};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RowErrorDto {
    pub file_name: String,
    pub row_no: u64,
    /// The standard's field code, when one field is at fault.
    pub field: Option<String>,
    pub code: String,
    pub message_en: String,
    pub message_zh: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmissionReportDto {
    pub submission_id: String,
    /// accepted, partial, rejected (or refused).
    pub status: String,
    /// SM3 digest of the raw bytes as stored in the raw zone.
    pub raw_sm3: String,
    pub rows_total: u64,
    /// Rows written as new records or new versions.
    pub accepted: u64,
    /// Rows identical to records already in the lake.
    pub unchanged: u64,
    pub rejected: u64,
    pub warnings: u64,
    pub file_errors: u64,
    /// The first row errors; page through all at /api/v1/submissions/{id}/issues.
    pub row_errors: Vec<RowErrorDto>,
    pub row_errors_total: u64,
    /// The submission's leaf in the verifiable log.
    pub log_leaf_id: Option<u64>,
}

impl From<SubmissionReport> for SubmissionReportDto {
    fn from(r: SubmissionReport) -> Self {
        SubmissionReportDto {
            submission_id: r.submission_id,
            status: r.status.code().into(),
            raw_sm3: r.raw_sm3,
            rows_total: r.rows_total,
            accepted: r.accepted,
            unchanged: r.unchanged,
            rejected: r.rejected,
            warnings: r.warnings,
            file_errors: r.file_errors,
            row_errors: r
                .row_errors
                .into_iter()
                .map(|e| RowErrorDto {
                    file_name: e.file_name,
                    row_no: e.row_no,
                    field: e.field,
                    code: e.code,
                    message_en: e.en,
                    message_zh: e.zh,
                })
                .collect(),
            row_errors_total: r.row_errors_total,
            log_leaf_id: r.log_leaf_id,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmissionDto {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    /// api, upload or mailbox.
    pub channel: String,
    pub source: String,
    pub media_type: String,
    pub raw_sm3: String,
    pub raw_size_bytes: i64,
    /// received, accepted, partial, rejected or refused.
    pub status: String,
    pub rows_total: i64,
    pub accepted: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub warnings: i64,
    pub file_errors: i64,
    pub error_code: Option<String>,
    pub error_en: Option<String>,
    pub error_zh: Option<String>,
    pub submitted_by: String,
    pub log_leaf_id: Option<i64>,
    pub received_at: String,
    pub finished_at: Option<String>,
}

impl From<SubmissionRow> for SubmissionDto {
    fn from(s: SubmissionRow) -> Self {
        SubmissionDto {
            id: s.id,
            org_id: s.org_id,
            org_name: s.org_name,
            channel: s.channel,
            source: s.source,
            media_type: s.media_type,
            raw_sm3: s.raw_sm3,
            raw_size_bytes: s.raw_size_bytes,
            status: s.status,
            rows_total: s.rows_total,
            accepted: s.accepted,
            unchanged: s.unchanged,
            rejected: s.rejected,
            warnings: s.warnings,
            file_errors: s.file_errors,
            error_code: s.error_code,
            error_en: s.error_en,
            error_zh: s.error_zh,
            submitted_by: s.submitted_by,
            log_leaf_id: s.log_leaf_id,
            received_at: rfc3339(s.received_at_ms),
            finished_at: s.finished_at_ms.map(rfc3339),
        }
    }
}

page_dto!(SubmissionPage, SubmissionDto);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmissionFileDto {
    pub file_no: i64,
    pub name: String,
    pub raw_sm3: String,
    pub size_bytes: i64,
    /// csv, xlsx, xls, zip …
    pub format: String,
    pub encoding: Option<String>,
    pub rows_total: i64,
    pub accepted: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub error_code: Option<String>,
    pub error_en: Option<String>,
    pub error_zh: Option<String>,
}

impl From<FileRow> for SubmissionFileDto {
    fn from(f: FileRow) -> Self {
        SubmissionFileDto {
            file_no: f.file_no,
            name: f.name,
            raw_sm3: f.raw_sm3,
            size_bytes: f.size_bytes,
            format: f.format,
            encoding: f.encoding,
            rows_total: f.rows_total,
            accepted: f.accepted,
            unchanged: f.unchanged,
            rejected: f.rejected,
            error_code: f.error_code,
            error_en: f.error_en,
            error_zh: f.error_zh,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmissionDetailDto {
    #[serde(flatten)]
    pub submission: SubmissionDto,
    pub files: Vec<SubmissionFileDto>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssueDto {
    pub seq: i64,
    /// error or warning.
    pub severity: String,
    pub file_name: String,
    pub sheet: Option<String>,
    pub row_no: Option<i64>,
    pub field: Option<String>,
    pub code: String,
    pub message_en: String,
    pub message_zh: String,
    /// The row as it arrived (first 500 characters).
    pub raw_text: Option<String>,
}

impl From<IssueRow> for IssueDto {
    fn from(i: IssueRow) -> Self {
        IssueDto {
            seq: i.seq,
            severity: i.severity,
            file_name: i.file_name,
            sheet: i.sheet,
            row_no: i.row_no,
            field: i.field,
            code: i.code,
            message_en: i.en,
            message_zh: i.zh,
            raw_text: i.raw_text,
        }
    }
}

keyed_page_dto!(IssuePage, IssueDto);

/// A JSON batch: `records` are objects keyed by the standard's field codes (see /api/v1/standard).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchDto {
    /// A name for this batch in reports (e.g. the ERP job id).
    pub source: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Map<String, serde_json::Value>>,
}

fn bad_json(e: &serde_json::Error) -> ApiError {
    ApiError::with_status(
        StatusCode::BAD_REQUEST,
        "malformed_json",
        format!("The body is not a valid batch: {e}"),
        format!("请求体不是有效的 JSON 批次：{e}"),
    )
}

#[utoipa::path(post, path = "/api/v1/submissions", tag = "submission", request_body = BatchDto,
    description = "Channel 1, the direct link: a JSON batch of records. The body is kept byte for byte in the raw zone. \
                   A retry with the same Idempotency-Key is answered with the first report; a re-sent batch finds every record unchanged.",
    responses((status = 201, body = SubmissionReportDto), (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem)))]
pub async fn submit(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SubmissionReportDto>)> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(ApiError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the batch as application/json, or upload a file to /api/v1/submissions/upload",
            "请以 application/json 发送批次，或将文件上传至 /api/v1/submissions/upload",
        ));
    }
    let batch: BatchDto = serde_json::from_slice(&body).map_err(|e| bad_json(&e))?;
    if batch.records.len() > RECORDS_PER_API_BATCH_MAX {
        return Err(ApiError::with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("At most {RECORDS_PER_API_BATCH_MAX} records per batch"),
            format!("每个批次最多 {RECORDS_PER_API_BATCH_MAX} 条记录"),
        ));
    }
    let source = batch.source.unwrap_or_else(|| "api batch".into());
    let report = app::submit_records(&s.app, &actor, body.to_vec(), &source, batch.records).await?;
    Ok((StatusCode::CREATED, Json(report.into())))
}

/// Multipart form with one part named `file`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[utoipa::path(post, path = "/api/v1/submissions/upload", tag = "submission",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    description = "Channel 2, the designated-account upload: one CSV, XLSX or ZIP file in a part named `file`. \
                   The file is spooled to disk as it arrives, stored in the raw zone, then parsed.",
    responses((status = 201, body = SubmissionReportDto), (status = 202, body = PendingDto, description = "Still processing after 20 s: poll the submission"), (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem)))]
pub async fn upload(State(s): State<AppState>, ApiActor(actor): ApiActor, multipart: Multipart) -> ApiResult<Response> {
    Ok(match receive_upload(&s, &actor, multipart).await? {
        Processed::Done(report) => (StatusCode::CREATED, Json(SubmissionReportDto::from(report))).into_response(),
        Processed::Pending(id) => {
            let poll = format!("/api/v1/submissions/{id}");
            (StatusCode::ACCEPTED, Json(PendingDto { submission_id: id, status: "received".into(), poll }))
                .into_response()
        }
    })
}

/// Spools the `file` part to a temporary file (bounded memory), then runs the pipeline on it.
pub async fn receive_upload(
    s: &AppState,
    actor: &lianrong_app::Actor,
    mut multipart: Multipart,
) -> ApiResult<Processed> {
    while let Some(field) = next_part(&mut multipart).await? {
        if field.name() != Some("file") {
            continue;
        }
        let spooled = spool(field).await?;
        return process_spooled(&s.app, actor, std::sync::Arc::new(spooled), s.config.upload_answer_wait()).await;
    }
    Err(file_missing())
}

/// The answer to an upload still being processed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PendingDto {
    pub submission_id: String,
    /// `received`: the raw bytes are stored and the rows are being processed.
    pub status: String,
    /// Poll this for the outcome.
    pub poll: String,
}

#[utoipa::path(get, path = "/api/v1/submissions", tag = "submission", params(PageParams),
    description = "Your organisation's submissions, newest first (the operator, as the lake's custodian, sees all).",
    responses((status = 200, body = SubmissionPage)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<SubmissionPage>> {
    Ok(Json(SubmissionPage::from_page(app::list(&s.app, &actor, p.request()?).await?, SubmissionDto::from)))
}

#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "submission", params(("id" = String, Path)),
    description = "A submission's status and per-file counts: poll this to learn the outcome.",
    responses((status = 200, body = SubmissionDetailDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SubmissionDetailDto>> {
    let submission = app::get(&s.app, &actor, &id).await?;
    let files = app::files(&s.app, &actor, &id).await?;
    Ok(Json(SubmissionDetailDto {
        submission: submission.into(),
        files: files.into_iter().map(SubmissionFileDto::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/submissions/{id}/issues", tag = "submission", params(("id" = String, Path), KeyedPageParams),
    description = "Every rejected row with its field, code and messages, and the warnings (unknown columns…).",
    responses((status = 200, body = IssuePage), (status = 404, body = Problem)))]
pub async fn issues(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<KeyedPageParams>,
) -> ApiResult<Json<IssuePage>> {
    Ok(Json(IssuePage::from_keyed(app::issues(&s.app, &actor, &id, p.seek()?).await?, IssueDto::from)))
}

#[utoipa::path(get, path = "/api/v1/submissions/{id}/raw", tag = "submission", params(("id" = String, Path)),
    description = "The raw bytes exactly as received, checked against their SM3 digest.",
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = Problem)))]
pub async fn raw(State(s): State<AppState>, ApiActor(actor): ApiActor, Path(id): Path<String>) -> ApiResult<Response> {
    let (row, bytes) = app::raw(&s.app, &actor, &id).await?;
    let mut resp = bytes.into_response();
    if let Ok(v) = header::HeaderValue::from_str(&row.media_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = header::HeaderValue::from_str(&format!("sm3:{}", row.raw_sm3)) {
        resp.headers_mut().insert("x-content-sm3", v);
    }
    Ok(resp)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TradeRecordDto {
    pub id: String,
    /// order, delivery, invoice, payment or credit_note.
    pub record_type: String,
    pub version: i64,
    pub content_sm3: String,
    pub doc_no: String,
    pub invoice_code: String,
    pub doc_date: String,
    pub buyer_uscc: String,
    pub buyer_name: Option<String>,
    pub seller_uscc: String,
    pub seller_name: Option<String>,
    pub currency: String,
    pub total_fen: i64,
    pub tax_fen: Option<i64>,
    pub net_fen: Option<i64>,
    pub term_days: Option<i64>,
    pub term_basis: Option<String>,
    pub invoice_kind: Option<String>,
    /// live, voided, red_flushed or partly_red_flushed, when the submitter stated it.
    pub invoice_status: Option<String>,
    pub acceptance_status: Option<String>,
    pub accepted_date: Option<String>,
    pub payment_method: Option<String>,
    /// Only the last four digits are kept in the clear.
    pub payee_account_last4: Option<String>,
    pub order_refs: Vec<String>,
    pub delivery_refs: Vec<String>,
    pub invoice_refs: Vec<String>,
    pub remarks: Option<String>,
    pub chain_id: String,
    /// Lineage: the submission, channel, file and row this version came from.
    pub submission_id: String,
    /// Whose statement this is: the organisation that shared it. Buyer and seller may each share the
    /// same document; each statement is its own record.
    pub submitted_by_org_id: String,
    pub channel: String,
    pub file_name: String,
    pub row_no: i64,
    pub created_at: String,
    pub updated_at: String,
}

fn split_refs(s: &str) -> Vec<String> {
    s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()
}

impl From<TradeRow> for TradeRecordDto {
    fn from(r: TradeRow) -> Self {
        TradeRecordDto {
            id: r.id,
            record_type: r.record_type,
            version: r.version,
            content_sm3: r.content_sm3,
            doc_no: r.doc_no,
            invoice_code: r.invoice_code,
            doc_date: r.doc_date,
            buyer_uscc: r.buyer_uscc,
            buyer_name: r.buyer_name,
            seller_uscc: r.seller_uscc,
            seller_name: r.seller_name,
            currency: r.currency,
            total_fen: r.total_fen,
            tax_fen: r.tax_fen,
            net_fen: r.net_fen,
            term_days: r.term_days,
            term_basis: r.term_basis,
            invoice_kind: r.invoice_kind,
            invoice_status: r.invoice_status,
            acceptance_status: r.acceptance_status,
            accepted_date: r.accepted_date,
            payment_method: r.payment_method,
            payee_account_last4: r.payee_account_last4,
            order_refs: split_refs(&r.order_refs),
            delivery_refs: split_refs(&r.delivery_refs),
            invoice_refs: split_refs(&r.invoice_refs),
            remarks: r.remarks,
            chain_id: r.chain_id,
            submission_id: r.submission_id,
            submitted_by_org_id: r.submitter_org_id,
            channel: r.channel,
            file_name: r.file_name,
            row_no: r.row_no,
            created_at: rfc3339(r.created_at_ms),
            updated_at: rfc3339(r.updated_at_ms),
        }
    }
}

keyed_page_dto!(TradeRecordPage, TradeRecordDto);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TradeVersionDto {
    pub version: i64,
    pub content_sm3: String,
    pub submission_id: String,
    pub row_no: i64,
    pub channel: String,
    pub superseded_at: String,
    /// The earlier version as it was stored.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TradeRecordDetailDto {
    #[serde(flatten)]
    pub record: TradeRecordDto,
    /// Earlier versions, newest first.
    pub history: Vec<TradeVersionDto>,
    /// The invoice's lines as its submitter stated them (empty for other records).
    pub lines: Vec<TradeLineDto>,
}

/// One line of an invoice: goods, quantity, unit price, tax rate and amounts in fen.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TradeLineDto {
    pub line_no: i64,
    pub goods_name: String,
    pub specification: Option<String>,
    pub unit: Option<String>,
    /// Decimal text, as printed on the invoice.
    pub quantity: Option<String>,
    /// Decimal text, as printed on the invoice.
    pub unit_price: Option<String>,
    pub net_fen: i64,
    pub tax_fen: Option<i64>,
    pub tax_rate: Option<String>,
    pub tax_class_code: Option<String>,
    /// The file row the line came from.
    pub row_no: i64,
}

impl From<LineRow> for TradeLineDto {
    fn from(l: LineRow) -> Self {
        TradeLineDto {
            line_no: l.line_no,
            goods_name: l.goods_name,
            specification: l.specification,
            unit: l.unit,
            quantity: l.quantity,
            unit_price: l.unit_price,
            net_fen: l.net_fen,
            tax_fen: l.tax_fen,
            tax_rate: l.tax_rate,
            tax_class_code: l.tax_class_code,
            row_no: l.row_no,
        }
    }
}

impl From<VersionRow> for TradeVersionDto {
    fn from(v: VersionRow) -> Self {
        TradeVersionDto {
            version: v.version,
            content_sm3: v.content_sm3,
            submission_id: v.submission_id,
            row_no: v.row_no,
            channel: v.channel,
            superseded_at: rfc3339(v.superseded_at_ms),
            data: serde_json::from_str(&v.data).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TradeQuery {
    pub record_type: Option<String>,
    pub submission_id: Option<String>,
    pub doc_no: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page: reads the page after it (instead of `page`).
    pub after: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/trade-records", tag = "submission", params(TradeQuery),
    description = "Records to which your organisation is a party (buyer or seller).",
    responses((status = 200, body = TradeRecordPage)))]
pub async fn records(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<TradeQuery>,
) -> ApiResult<Json<TradeRecordPage>> {
    let seek = PageParams { page: q.page, page_size: q.page_size }.seek(q.after.as_deref())?;
    let filter = TradeFilter {
        record_type: q.record_type.filter(|x| !x.is_empty()),
        submission_id: q.submission_id.filter(|x| !x.is_empty()),
        doc_no: q.doc_no.filter(|x| !x.is_empty()),
    };
    Ok(Json(TradeRecordPage::from_keyed(
        lianrong_app::trade::list(&s.app, &actor, filter, seek).await?,
        TradeRecordDto::from,
    )))
}

#[utoipa::path(get, path = "/api/v1/trade-records/{id}", tag = "submission", params(("id" = String, Path)),
    responses((status = 200, body = TradeRecordDetailDto), (status = 404, body = Problem)))]
pub async fn record(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<TradeRecordDetailDto>> {
    let detail = lianrong_app::trade::get(&s.app, &actor, &id).await?;
    Ok(Json(TradeRecordDetailDto {
        record: detail.row.into(),
        history: detail.versions.into_iter().map(TradeVersionDto::from).collect(),
        lines: detail.lines.into_iter().map(TradeLineDto::from).collect(),
    }))
}

/// The batch body limit, for the router's per-route body limit.
pub const BATCH_BODY_BYTES_MAX: usize = API_BATCH_BYTES_MAX;

// ---- a file's preview ----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageDto {
    pub code: String,
    pub message_en: String,
    pub message_zh: String,
}

impl From<app::Problem> for MessageDto {
    fn from(p: app::Problem) -> Self {
        MessageDto { code: p.code, message_en: p.en, message_zh: p.zh }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ColumnPreviewDto {
    /// The spreadsheet's column letter.
    pub column: String,
    pub header: String,
    /// What the column is read as (a field's or a line column's code); absent when it is not read.
    pub meaning: Option<String>,
    pub meaning_zh: Option<String>,
    pub meaning_en: Option<String>,
    /// standard, organisation (the organisation's own meaning), generic, unused, unknown, duplicate, blank.
    pub origin: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SampleRowDto {
    pub row_no: u64,
    /// The cells' text under the columns, in order, shortened to 40 characters.
    pub cells: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SheetPreviewDto {
    pub file_name: String,
    pub sheet_name: Option<String>,
    /// read, hidden, empty, no_header, type_unknown, unreadable.
    pub status: String,
    pub problem: Option<MessageDto>,
    pub header_row_no: Option<u64>,
    /// With no header row found, the row whose columns are shown as the likeliest header, to be given
    /// meanings through POST /api/v1/column-mappings.
    pub header_guess_row_no: Option<u64>,
    pub record_type: Option<String>,
    /// The sheet lists invoices' lines.
    pub lines: bool,
    /// The party column the sheet lacks (buyer_uscc or seller_uscc), taken to be the submitter.
    pub own_party: Option<String>,
    pub columns: Vec<ColumnPreviewDto>,
    pub samples: Vec<SampleRowDto>,
    /// Data rows under the header, total rows not included, counted up to a limit.
    pub rows: u64,
    pub rows_more: bool,
    pub total_rows: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FilePreviewDto {
    pub file_name: String,
    pub format: Option<String>,
    pub encoding: Option<String>,
    pub error: Option<MessageDto>,
    pub sheets: Vec<SheetPreviewDto>,
}

impl From<app::FilePreview> for FilePreviewDto {
    fn from(p: app::FilePreview) -> Self {
        FilePreviewDto {
            file_name: p.file_name,
            format: p.format,
            encoding: p.encoding,
            error: p.error.map(MessageDto::from),
            sheets: p.sheets.into_iter().map(sheet_dto).collect(),
        }
    }
}

fn sheet_dto(s: app::SheetPreview) -> SheetPreviewDto {
    SheetPreviewDto {
        file_name: s.file_name,
        sheet_name: s.sheet_name,
        status: s.status.code().into(),
        problem: s.problem.map(MessageDto::from),
        header_row_no: s.header_row_no,
        header_guess_row_no: s.header_guess_row_no,
        record_type: s.record_type.map(|r| r.code().into()),
        lines: s.lines,
        own_party: s.own_side.map(|f| f.code().into()),
        columns: s
            .columns
            .into_iter()
            .map(|c| ColumnPreviewDto {
                column: c.letter,
                header: c.header,
                meaning: c.meaning.map(|m| m.code().into()),
                meaning_zh: c.meaning.map(|m| m.label(false).into()),
                meaning_en: c.meaning.map(|m| m.label(true).into()),
                origin: c.origin.code().into(),
            })
            .collect(),
        samples: s.samples.into_iter().map(|r| SampleRowDto { row_no: r.row_no, cells: r.cells }).collect(),
        rows: s.rows,
        rows_more: s.rows_more,
        total_rows: s.total_rows,
    }
}

#[utoipa::path(post, path = "/api/v1/submissions/preview", tag = "submission",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    description = "How an upload of this file would be read, before anything is stored: each sheet's header row, record type, \
                   each column's meaning and where it came from (the standard or the organisation's own mapping), and the first rows. \
                   Nothing is kept; fix a column with POST /api/v1/column-mappings, then upload.",
    responses((status = 200, body = FilePreviewDto), (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem)))]
pub async fn preview(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    mut multipart: Multipart,
) -> ApiResult<Json<FilePreviewDto>> {
    while let Some(field) = next_part(&mut multipart).await? {
        if field.name() != Some("file") {
            continue;
        }
        let spooled = spool(field).await?;
        let p = app::preview_path(&s.app, &actor, &spooled.name, spooled.file.path()).await?;
        return Ok(Json(p.into()));
    }
    Err(file_missing())
}
