//! The registration page: the registrations the organisation is party to, the form that registers a
//! receivable (choosing its invoices), release and the registry's certificate number, the exports for
//! the national registry and the financing platform, and the import of the platform's confirmations.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::registration::{self as app, ImportReport, NewRegistration, Registration};
use lianrong_app::{AppError, AppResult, ErrorKind, Permission};
use lianrong_domain::Money;
use lianrong_domain::registration::{RegistrationKind, RegistrationStatus};

use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Opt, Ui, render, see_other, status_for};
use crate::download;
use crate::state::AppState;
use crate::upload::{IMPORT_BODY_BYTES_MAX, read_file_part};

pub fn import_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(IMPORT_BODY_BYTES_MAX)
}

pub struct Row {
    pub id: String,
    pub reference: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub kind: &'static str,
    pub creditor: String,
    pub debtor: String,
    pub financier: String,
    pub invoice_nos: String,
    pub amount: String,
    pub due_date: String,
    pub certificate: String,
    pub registered: String,
    /// The caller may release it and record its certificate number (creditor or financier, active).
    pub can_act: bool,
    /// The caller may release it: the financier it names, or the creditor of one that names none.
    pub can_release: bool,
}

pub struct Candidate {
    pub invoice_id: String,
    pub invoice_no: String,
    pub debtor: String,
    pub outstanding: String,
    pub due_date: String,
    /// The registration already claiming the invoice.
    pub registered_as: Option<String>,
    pub checked: bool,
}

pub struct IssueRow {
    pub row_no: u64,
    pub field: String,
    pub code: String,
    pub message: String,
    pub raw: String,
}

pub struct ImportView {
    pub rows_total: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub issues: Vec<IssueRow>,
}

#[derive(Template)]
#[template(path = "registrations.html")]
struct RegistrationsPage {
    ui: Ui,
    rows: Vec<Row>,
    pager: Pager,
    status_filter: Vec<Opt>,
    may_register: bool,
    candidates: Vec<Candidate>,
    banks: Vec<Opt>,
    kinds: Vec<Opt>,
    form: Params,
    import: Option<ImportView>,
}

fn dash(s: Option<&str>) -> String {
    s.filter(|v| !v.is_empty()).map_or_else(|| "—".to_string(), str::to_string)
}

fn row(r: &Registration, actor_org: &str, lang_en: bool) -> Row {
    let status = RegistrationStatus::parse(&r.row.status).unwrap_or(RegistrationStatus::Released);
    let kind = RegistrationKind::parse(&r.row.kind).unwrap_or(RegistrationKind::Pledge);
    let party = |name: Option<&str>, uscc: &str| match name {
        Some(n) => format!("{n}（{uscc}）"),
        None => uscc.to_string(),
    };
    Row {
        id: r.row.id.clone(),
        reference: r.row.reference.clone(),
        status: status.label(lang_en),
        status_code: status.code(),
        kind: kind.label(lang_en),
        creditor: party(Some(&r.creditor_name), &r.row.creditor_uscc),
        debtor: party(r.debtor_name.as_deref(), &r.row.debtor_uscc),
        financier: dash(r.financier_name.as_deref()),
        invoice_nos: r.row.invoice_nos.replace(',', "、"),
        amount: Money::from_fen(r.row.amount_fen).display_yuan(),
        due_date: dash(r.row.due_date.as_deref()),
        certificate: dash(r.row.registry_certificate_no.as_deref()),
        registered: lianrong_app::display_time(r.row.registered_at_ms),
        can_act: status == RegistrationStatus::Active
            && (r.row.creditor_org_id == actor_org || r.row.financier_org_id.as_deref() == Some(actor_org)),
        can_release: status == RegistrationStatus::Active
            && match r.row.financier_org_id.as_deref() {
                Some(f) => f == actor_org,
                None => r.row.creditor_org_id == actor_org,
            },
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(list_page(&state, &ctx, &q, Params::default(), None, None).await)
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
    import: Option<ImportReport>,
) -> AppResult<Response> {
    let actor = ctx.actor();
    let lang_en = ctx.lang_en();
    let mut ui = ctx.ui("registrations").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let status = q.opt("status");
    let page = app::list(&state.app, actor, status, q.page()?).await?;
    let may_register = actor.submits_trade_data() && ctx.allows(Permission::RegisterReceivable);
    let (candidates, banks) = if may_register {
        let chosen = form.all("invoice_ids");
        let candidates = app::registrable(&state.app, actor)
            .await?
            .into_iter()
            .map(|(f, reference)| Candidate {
                checked: chosen.contains(&f.invoice_id),
                invoice_id: f.invoice_id,
                invoice_no: f.invoice_no,
                debtor: f.buyer_uscc,
                outstanding: Money::from_fen(f.outstanding_fen).display_yuan(),
                due_date: dash(f.due_date.as_deref()),
                registered_as: reference,
            })
            .collect();
        let banks = app::banks(&state.app, actor).await?;
        let chosen_bank = form.get("financier_org_id").to_string();
        let banks = Opt::list(banks.iter().map(|b| (b.id.as_str(), b.name.as_str())), |v| v == chosen_bank);
        (candidates, banks)
    } else {
        (Vec::new(), Vec::new())
    };
    let chosen_kind = form.opt("kind").unwrap_or("pledge").to_string();
    let view = RegistrationsPage {
        rows: page.items.iter().map(|r| row(r, &actor.org_id, lang_en)).collect(),
        pager: Pager::new(&page, "/registrations", &[("status", status.unwrap_or(""))]),
        status_filter: Opt::list(RegistrationStatus::ALL.iter().map(|s| (s.code(), s.label(lang_en))), |v| {
            Some(v) == status
        }),
        may_register,
        candidates,
        banks,
        kinds: Opt::list(RegistrationKind::ALL.iter().map(|k| (k.code(), k.label(lang_en))), |v| v == chosen_kind),
        form,
        import: import.map(|r| ImportView {
            rows_total: r.rows_total,
            accepted: r.accepted,
            rejected: r.rejected,
            issues: r
                .issues
                .into_iter()
                .map(|i| IssueRow {
                    row_no: i.row_no,
                    field: i.field.unwrap_or_default(),
                    code: i.code,
                    message: if lang_en { i.en } else { i.zh },
                    raw: i.raw,
                })
                .collect(),
        }),
        ui,
    };
    let status = if view.import.is_some() { StatusCode::OK } else { status_for(failed) };
    Ok(render(status, &view))
}

pub async fn register(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let term_months = match f.opt("term_months").map(str::parse::<i64>) {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(_)) => {
            let e = AppError::invalid(
                "term_months",
                "term_months_out_of_range",
                "The period must be a whole number of months",
                "登记期限须为整数月",
            );
            return ctx.respond(list_page(&state, &ctx, &Params::default(), f, Some(&e), None).await);
        }
    };
    let input = NewRegistration {
        invoice_ids: f.all("invoice_ids"),
        financier_org_id: f.opt("financier_org_id").map(str::to_string),
        kind: f.opt("kind").map(str::to_string),
        term_months,
        note: f.opt("note").map(str::to_string),
    };
    match app::register(&state.app, ctx.actor(), input).await {
        Ok(_) => see_other("/registrations?ok=registered"),
        Err(e) => ctx.respond(list_page(&state, &ctx, &Params::default(), f, Some(&e), None).await),
    }
}

pub async fn release(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    match app::release(&state.app, ctx.actor(), &id, f.get("reason")).await {
        Ok(_) => see_other("/registrations?ok=released"),
        Err(e) => ctx.fail(&e),
    }
}

pub async fn certificate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    match app::set_certificate(&state.app, ctx.actor(), &id, f.get("registry_certificate_no")).await {
        Ok(_) => see_other("/registrations?ok=updated"),
        Err(e) => ctx.fail(&e),
    }
}

pub async fn export(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    let result = async {
        let (format, file) = app::parse_export(q.opt("format"), q.opt("file"))?;
        app::export(&state.app, ctx.actor(), format, file).await
    }
    .await;
    match result {
        Ok(file) => download::exported(file),
        Err(e) => ctx.fail(&e),
    }
}

/// A CSRF token is 64 hex characters; anything much longer is not one.
const CSRF_FIELD_BYTES_MAX: usize = 256;

fn form_error(code: &'static str, en: String, zh: &str) -> AppError {
    AppError::new(ErrorKind::Invalid, code, en, zh.to_string())
}

/// The import form: the token first, then the file; the report is shown on the page.
pub async fn import(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(r) => {
            let e = form_error(
                "multipart_invalid",
                format!("The upload form could not be read: {}", r.body_text()),
                "无法读取上传表单",
            );
            return ctx.respond(list_page(&state, &ctx, &Params::default(), Params::default(), Some(&e), None).await);
        }
    };
    let mut token_checked = false;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let e = form_error(
                    "multipart_invalid",
                    format!("The upload form could not be read: {e}"),
                    "无法读取上传表单",
                );
                return ctx.fail(&e);
            }
        };
        match field.name() {
            Some("csrf_token") => {
                let token = match field.bytes().await {
                    Ok(b) if b.len() <= CSRF_FIELD_BYTES_MAX => String::from_utf8(b.to_vec()).unwrap_or_default(),
                    _ => String::new(),
                };
                if let Some(refusal) = ctx.csrf_refusal(&Params(vec![("csrf_token".into(), token)])) {
                    return refusal;
                }
                token_checked = true;
            }
            Some("file") if token_checked => {
                let (name, bytes) = match read_file_part(field).await {
                    Ok(x) => x,
                    Err(e) => return ctx.fail(&e.error),
                };
                if bytes.is_empty() {
                    let e = AppError::invalid("file", "file_missing", "Choose a file to import", "请选择要导入的文件");
                    return ctx
                        .respond(list_page(&state, &ctx, &Params::default(), Params::default(), Some(&e), None).await);
                }
                return match app::import_confirmations(&state.app, ctx.actor(), &name, bytes).await {
                    Ok(report) => ctx.respond(
                        list_page(&state, &ctx, &Params::default(), Params::default(), None, Some(report)).await,
                    ),
                    Err(e) if e.kind == ErrorKind::Invalid => ctx
                        .respond(list_page(&state, &ctx, &Params::default(), Params::default(), Some(&e), None).await),
                    Err(e) => ctx.fail(&e),
                };
            }
            _ => {}
        }
    }
    if !token_checked {
        return ctx.csrf_refusal(&Params::default()).unwrap_or_else(|| {
            ctx.fail(&AppError::forbidden("The form's security token is missing", "表单安全令牌缺失"))
        });
    }
    let e = AppError::invalid("file", "file_missing", "Choose a file to import", "请选择要导入的文件");
    ctx.respond(list_page(&state, &ctx, &Params::default(), Params::default(), Some(&e), None).await)
}
