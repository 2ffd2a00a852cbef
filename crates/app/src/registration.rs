//! Registration of receivables against double financing (docs/domain-rules.md, "Receivables registration"). A
//! creditor registers a receivable — one or more of its invoices against one debtor — for one financing; a
//! second registration of any of those invoices is refused with the first one's reference, even when both are
//! attempted at the same instant, because each invoice has one claim row whose primary key the database
//! enforces. Registrations and releases are leaves of the verifiable log. Registrations export in the terms
//! of the national registry (中登网, initial registration) and of the central bank's receivables financing
//! platform (中征应收账款融资服务平台); that platform's confirmation file can be imported.

use std::collections::HashSet;

use lianrong_domain::limits::{
    CONFIRMATION_FILE_BYTES_MAX, CONFIRMATION_ROWS_MAX, NOTE_CHARS_MAX, REASON_CHARS_MAX, REGISTRATION_EXPORT_ROWS_MAX,
    REGISTRATION_INVOICES_MAX, REGISTRY_CERTIFICATE_NO_CHARS_MAX,
};
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::registration::{
    self as rules, ConfirmationField, ExportInvoice, ExportRegistration, Party, ReceivableKey, RegistrationKind,
    RegistrationStatus,
};
use lianrong_domain::text;
use lianrong_store::StoreError;
use lianrong_store::registration::{
    self as store, ConfirmationImport, ExternalConfirmation, InvoiceFacts, RegisteredInvoice, RegistrationRow,
    RegistrationScope,
};
use serde_json::json;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::log::LeafKind;
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms};

/// A registration with its invoices and its parties' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub row: RegistrationRow,
    pub invoices: Vec<RegisteredInvoice>,
    pub creditor_name: String,
    /// `None` when the debtor is not on the platform.
    pub debtor_name: Option<String>,
    pub financier_name: Option<String>,
    pub financier_uscc: Option<String>,
}

/// What a creditor asks to register.
#[derive(Debug, Clone, Default)]
pub struct NewRegistration {
    /// The invoices (trade record ids of blue invoices) that make up the receivable.
    pub invoice_ids: Vec<String>,
    /// The bank financing the receivable, when known.
    pub financier_org_id: Option<String>,
    /// `pledge` (the default) or `factoring`.
    pub kind: Option<String>,
    /// The registration period in months (1–360); by default 12, or until the due date when later.
    pub term_months: Option<i64>,
    pub note: Option<String>,
}

/// Which registrations the actor sees: the operator and the regulator all; an organisation those where
/// it is the creditor, the debtor or the financier.
pub async fn scope(app: &App, actor: &Actor) -> AppResult<RegistrationScope> {
    if actor.system || actor.sees_everything() {
        return Ok(RegistrationScope::All);
    }
    let mut conn = app.db.acquire().await?;
    let uscc = lianrong_store::org::get(&mut conn, &actor.org_id).await?.uscc;
    Ok(RegistrationScope::Party { org_id: actor.org_id.clone(), uscc })
}

fn not_found() -> AppError {
    AppError::not_found("The registration", "登记")
}

/// Names no id: the answer must not tell whether someone else's invoice exists.
fn invoice_not_found() -> AppError {
    AppError::not_found("An invoice of the receivable", "应收账款中的发票").with_field("invoice_ids")
}

async fn named(app: &App, row: RegistrationRow) -> AppResult<Registration> {
    let mut conn = app.db.acquire().await?;
    let invoices = store::invoices(&mut conn, &row.id).await?;
    let creditor_name = lianrong_store::org::get(&mut conn, &row.creditor_org_id).await?.name;
    let debtor_name = lianrong_store::org::find_by_uscc(&mut conn, &row.debtor_uscc).await?.map(|o| o.name);
    let financier = match &row.financier_org_id {
        Some(id) => Some(lianrong_store::org::get(&mut conn, id).await?),
        None => None,
    };
    Ok(Registration {
        row,
        invoices,
        creditor_name,
        debtor_name,
        financier_name: financier.as_ref().map(|f| f.name.clone()),
        financier_uscc: financier.map(|f| f.uscc),
    })
}

/// Checks what a registration needs before anything is written; every refusal names the field.
struct Checked {
    facts: Vec<InvoiceFacts>,
    kind: RegistrationKind,
    term_months: i64,
    note: Option<String>,
    financier_org_id: Option<String>,
    creditor_uscc: String,
    debtor_org_id: Option<String>,
    /// The business year whose sequence numbers the registration's reference.
    year: i64,
}

async fn check(app: &App, actor: &Actor, input: &NewRegistration) -> AppResult<Checked> {
    let mut ids: Vec<String> =
        input.invoice_ids.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::invalid(
            "invoice_ids",
            "invoice_ids_required",
            "Name at least one invoice of the receivable",
            "请至少选择应收账款的一张发票",
        ));
    }
    if ids.len() > REGISTRATION_INVOICES_MAX {
        return Err(AppError::invalid(
            "invoice_ids",
            "too_many_invoices",
            format!("At most {REGISTRATION_INVOICES_MAX} invoices per registration"),
            format!("每笔登记最多{REGISTRATION_INVOICES_MAX}张发票"),
        ));
    }
    let kind = RegistrationKind::parse(input.kind.as_deref().filter(|k| !k.trim().is_empty()).unwrap_or("pledge"))?;
    if let Some(m) = input.term_months
        && !(1..=rules::TERM_MONTHS_MAX).contains(&m)
    {
        return Err(AppError::invalid(
            "term_months",
            "term_months_out_of_range",
            format!("The registration period must be 1 to {} months", rules::TERM_MONTHS_MAX),
            format!("登记期限须为1至{}个月", rules::TERM_MONTHS_MAX),
        ));
    }
    let note = text::optional("note", input.note.as_deref(), NOTE_CHARS_MAX)?;
    let mut conn = app.db.acquire().await?;
    let me = lianrong_store::org::get(&mut conn, &actor.org_id).await?;
    let mut facts = Vec::with_capacity(ids.len());
    for id in &ids {
        let f = store::invoice_facts(&mut conn, id).await?;
        let f = match f {
            Some(f) if f.seller_uscc == me.uscc => f,
            // The debtor sees the invoice but a receivable is registered by its creditor.
            Some(f) if f.buyer_uscc == me.uscc => {
                return Err(AppError::forbidden(
                    format!("Only the creditor (seller) of invoice {} may register it", f.invoice_no),
                    format!("只有发票 {} 的债权人（销方）可以登记该应收账款", f.invoice_no),
                )
                .with_field("invoice_ids"));
            }
            _ => return Err(invoice_not_found()),
        };
        if f.status == "inconsistent" {
            return Err(AppError::invalid(
                "invoice_ids",
                "invoice_inconsistent",
                format!(
                    "Invoice {} contradicts the trade data (four-flow: inconsistent) and is not a receivable",
                    f.invoice_no
                ),
                format!("发票 {} 与贸易数据相矛盾（四流核验：不一致），不构成应收账款", f.invoice_no),
            ));
        }
        if f.outstanding_fen <= 0 {
            return Err(AppError::invalid(
                "invoice_ids",
                "nothing_outstanding",
                format!("Invoice {} has nothing outstanding", f.invoice_no),
                format!("发票 {} 已无未结金额", f.invoice_no),
            ));
        }
        facts.push(f);
    }
    let first = &facts[0];
    if facts.iter().any(|f| f.buyer_uscc != first.buyer_uscc || f.seller_uscc != first.seller_uscc) {
        return Err(AppError::invalid(
            "invoice_ids",
            "mixed_parties",
            "A receivable's invoices must all be of one creditor against one debtor",
            "一笔应收账款的发票须属于同一债权人和同一债务人",
        ));
    }
    let financier_org_id = match input.financier_org_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(id) => {
            let unknown = || {
                AppError::invalid(
                    "financier_org_id",
                    "financier_not_bank",
                    "The financier must be a bank on the platform",
                    "资金方须为平台上的银行机构",
                )
            };
            match lianrong_store::org::get(&mut conn, id).await {
                Ok(o) if o.kind == OrgKind::Bank => Some(o.id),
                Ok(_) | Err(StoreError::NotFound) => return Err(unknown()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let debtor_org_id = lianrong_store::org::find_by_uscc(&mut conn, &first.buyer_uscc).await?.map(|o| o.id);
    let due = facts.iter().filter_map(|f| f.due_date.clone()).max();
    // By default a year, or until the due date when that is later: the registration must outlast the
    // financing it protects.
    let term_months = input.term_months.unwrap_or_else(|| {
        due.as_deref()
            .and_then(|d| rules::months_until(&app.today().to_string(), d))
            .unwrap_or(0)
            .max(rules::TERM_MONTHS_DEFAULT)
    });
    let year = i64::from(app.today().year());
    Ok(Checked { facts, kind, term_months, note, financier_org_id, creditor_uscc: me.uscc, debtor_org_id, year })
}

/// Registers a receivable for financing in one transaction: the registration, a claim on each invoice
/// and its log leaf. An overlapping registration is refused with code `already_registered`, naming the
/// first registration's reference.
pub async fn register(app: &App, actor: &Actor, input: NewRegistration) -> AppResult<Registration> {
    const ACTION: &str = "registration.register";
    let ids = input.invoice_ids.join(",");
    audit::run(app, actor, Permission::RegisterReceivable, ACTION, "registration", &ids, async {
        let c = check(app, actor, &input).await?;
        let mut tx = app.db.begin_write().await?;
        let row = match register_checked_in(&mut tx, actor, &c).await {
            Ok(row) => row,
            Err(Refusal::Claimed(keys)) => {
                tx.rollback().await.map_err(StoreError::from)?;
                let mut conn = app.db.acquire().await?;
                let e = match store::claimant(&mut conn, &keys).await? {
                    Some(first) => already_registered(&first.reference),
                    // The first registration was released in between: the caller may simply try again.
                    None => AppError::conflict(
                        "already_registered",
                        "The receivable was being registered by someone else at the same moment; please retry",
                        "该应收账款同时正被他人登记，请重试",
                    ),
                };
                drop(conn);
                return Err(e);
            }
            Err(Refusal::Other(e)) => {
                tx.rollback().await.map_err(StoreError::from)?;
                return Err(e);
            }
        };
        tx.commit().await.map_err(StoreError::from)?;
        get(app, actor, &row.id).await
    })
    .await
}

fn already_registered(reference: &str) -> AppError {
    AppError::conflict(
        "already_registered",
        format!(
            "The receivable (or one of its invoices) is already registered as {reference}; it cannot be financed twice"
        ),
        format!("该应收账款（或其中的发票）已登记，登记编号 {reference}，不能重复融资"),
    )
    .with_reference(reference)
}

/// Why a registration inside a caller's transaction did not happen.
enum Refusal {
    /// An invoice is claimed by another registration (its claim keys): the transaction is spoiled and
    /// must roll back before the first registration can be looked up.
    Claimed(Vec<String>),
    Other(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Refusal {
        Refusal::Other(e)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        Refusal::Other(e.into())
    }
}

/// A registration checked by [`prepare`], ready to be written inside another use case's transaction.
pub(crate) struct Prepared(Checked);

/// Checks a registration that `creditor` (the supplier) would make, without writing it: disbursement
/// registers the financed receivable in its own transaction with [`register_in`].
pub(crate) async fn prepare(app: &App, creditor: &Actor, input: &NewRegistration) -> AppResult<Prepared> {
    Ok(Prepared(check(app, creditor, input).await?))
}

/// Writes a prepared registration inside the caller's write transaction; answers the registration's id
/// and reference. An invoice already registered is `already_registered` (roll back).
pub(crate) async fn register_in(
    conn: &mut lianrong_store::Conn,
    creditor: &Actor,
    p: &Prepared,
) -> AppResult<(String, String)> {
    match register_checked_in(conn, creditor, &p.0).await {
        Ok(row) => Ok((row.id, row.reference)),
        Err(Refusal::Claimed(_)) => Err(AppError::conflict(
            "already_registered",
            "An invoice of the receivable is already registered: it cannot be financed twice",
            "该应收账款的发票已登记，不能重复融资",
        )),
        Err(Refusal::Other(e)) => Err(e),
    }
}

/// The registration's writes: the row, a claim on each invoice and its log leaf.
async fn register_checked_in(
    conn: &mut lianrong_store::Conn,
    actor: &Actor,
    c: &Checked,
) -> Result<RegistrationRow, Refusal> {
    let first = &c.facts[0];
    let (debtor_uscc, creditor_uscc) = (first.buyer_uscc.clone(), c.creditor_uscc.clone());
    let amount_fen = c.facts.iter().try_fold(0i64, |sum, f| sum.checked_add(f.outstanding_fen)).ok_or_else(|| {
        Refusal::Other(AppError::invalid(
            "invoice_ids",
            "amount_too_large",
            "The invoices' total is too large",
            "发票合计金额过大",
        ))
    })?;
    let due_date = c.facts.iter().filter_map(|f| f.due_date.clone()).max();
    let key = ReceivableKey {
        debtor_uscc: debtor_uscc.clone(),
        creditor_uscc: creditor_uscc.clone(),
        invoice_nos: c.facts.iter().map(|f| f.invoice_no.clone()).collect(),
        amount_fen,
        due_date: due_date.clone(),
    };
    let invoices: Vec<RegisteredInvoice> = c
        .facts
        .iter()
        .map(|f| RegisteredInvoice {
            invoice_id: f.invoice_id.clone(),
            invoice_no: f.invoice_no.clone(),
            invoice_key: rules::invoice_key(&creditor_uscc, &f.invoice_no),
            amount_fen: f.outstanding_fen,
            due_date: f.due_date.clone(),
        })
        .collect();
    let now = now_ms();
    let year = c.year;
    // A receivable paid by a digital payment commitment is financed through the commitment's parts; it
    // cannot be registered for financing a second time.
    let invoice_ids: Vec<String> = invoices.iter().map(|i| i.invoice_id.clone()).collect();
    // Locked as a commitment's issue locks them, so the two cannot both take one invoice.
    lianrong_store::commitment::lock_invoices(conn, &invoice_ids).await?;
    if let Some((invoice_id, commitment_id)) =
        lianrong_store::commitment::backing_of(conn, &invoice_ids).await?.into_iter().next()
    {
        let e = AppError::conflict(
            "backs_commitment",
            format!(
                "Invoice {invoice_id} backs payment commitment {commitment_id}; it is financed through that commitment"
            ),
            format!("发票 {invoice_id} 已作为债权凭证 {commitment_id} 的开立依据，应通过该凭证融资"),
        )
        .with_reference(&commitment_id);
        return Err(Refusal::Other(e));
    }
    let n = store::next_number(conn, year).await?;
    let row = RegistrationRow {
        id: new_id(),
        reference: rules::reference(year, n),
        fingerprint: key.fingerprint(),
        kind: c.kind.code().to_string(),
        creditor_org_id: actor.org_id.clone(),
        creditor_uscc: creditor_uscc.clone(),
        debtor_uscc: debtor_uscc.clone(),
        financier_org_id: c.financier_org_id.clone(),
        amount_fen,
        due_date: due_date.clone(),
        invoice_nos: key.sorted_invoice_nos().join(","),
        status: RegistrationStatus::Active.code().to_string(),
        term_months: c.term_months,
        note: c.note.clone(),
        registered_by_org_id: actor.org_id.clone(),
        registered_by: actor.trail_name(),
        registered_at_ms: now,
        released_at_ms: None,
        released_by: None,
        release_reason: None,
        log_leaf_id: None,
        registry_certificate_no: None,
    };
    match store::insert(conn, &row, &invoices).await {
        Ok(()) => {}
        Err(e) if store::is_claim_conflict(&e) => {
            return Err(Refusal::Claimed(invoices.iter().map(|i| i.invoice_key.clone()).collect()));
        }
        Err(e) => return Err(e.into()),
    }
    let mut parties: Vec<&str> = vec![actor.org_id.as_str()];
    for p in [c.debtor_org_id.as_deref(), c.financier_org_id.as_deref()].into_iter().flatten() {
        if !parties.contains(&p) {
            parties.push(p);
        }
    }
    let entry = json!({
        "action": "register",
        "reference": row.reference,
        "fingerprint": row.fingerprint,
        "kind": row.kind,
        "creditor_uscc": creditor_uscc,
        "debtor_uscc": debtor_uscc,
        "financier_org_id": row.financier_org_id,
        "invoice_nos": key.sorted_invoice_nos(),
        "amount_fen": amount_fen,
        "due_date": due_date,
        "term_months": row.term_months,
    });
    let leaf = crate::log::append(conn, LeafKind::Registration, &row.id, &parties, &entry, now).await?;
    store::set_log_leaf_id(conn, &row.id, leaf).await?;
    audit::ok_in(
        conn,
        actor,
        "registration.register",
        "registration",
        &row.id,
        &format!("{} {}", row.reference, row.invoice_nos),
    )
    .await?;
    Ok(row)
}

/// Why a registration was released when its loan was repaid (the platform's own reason).
pub(crate) const RELEASED_ON_REPAYMENT: &str = "融资已结清 loan repaid";

/// Releases a registration (its financing ended, or it was made in error): its invoices may be
/// registered again. A registration that names a financier protects that financier's money, so only the
/// financier releases it (and the platform does when the loan it secures is repaid); one the creditor
/// made alone, the creditor releases. The release names who and why, and is a log leaf.
pub async fn release(app: &App, actor: &Actor, id: &str, reason: &str) -> AppResult<Registration> {
    const ACTION: &str = "registration.release";
    audit::run(app, actor, Permission::RegisterReceivable, ACTION, "registration", id, async {
        let scope = scope(app, actor).await?;
        let row = {
            let mut conn = app.db.acquire().await?;
            store::get_scoped(&mut conn, &scope, id).await
        };
        let row = row.map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
        may_release(actor, &row)?;
        let reason = text::bounded("reason", reason, REASON_CHARS_MAX)?;
        let mut tx = app.db.begin_write().await?;
        if !release_in(&mut tx, actor, &row, &reason, now_ms()).await? {
            tx.rollback().await.map_err(StoreError::from)?;
            let e = AppError::conflict(
                "already_released",
                format!("Registration {} is already released", row.reference),
                format!("登记 {} 已注销", row.reference),
            )
            .with_reference(&row.reference);
            return Err(e);
        }
        tx.commit().await.map_err(StoreError::from)?;
        get(app, actor, id).await
    })
    .await
}

/// Who may release: the financier a registration names; the creditor only when it names none.
pub fn may_release(actor: &Actor, row: &RegistrationRow) -> AppResult<()> {
    let financier = row.financier_org_id.as_deref();
    if financier == Some(actor.org_id.as_str()) || (financier.is_none() && row.creditor_org_id == actor.org_id) {
        return Ok(());
    }
    if row.creditor_org_id == actor.org_id {
        return Err(AppError::new(
            ErrorKind::Forbidden,
            "financier_releases",
            format!(
                "Registration {} protects its financier's money; only the financier releases it (the platform does when the loan is repaid)",
                row.reference
            ),
            format!("登记 {} 保障资金方的融资，只能由资金方注销（融资结清时平台自动注销）", row.reference),
        )
        .with_reference(&row.reference));
    }
    Err(AppError::forbidden(
        "Only the financier, or the creditor of a registration without one, may release it",
        "只有资金方（或未指定资金方时的债权人）可以注销登记",
    ))
}

/// Releases a registration inside the caller's write transaction (repayment frees the receivable it
/// protected): the release and its log leaf. Answers false when it was already released.
pub(crate) async fn release_in(
    conn: &mut lianrong_store::Conn,
    actor: &Actor,
    row: &RegistrationRow,
    reason: &str,
    now: i64,
) -> AppResult<bool> {
    if !store::release(conn, &row.id, &actor.trail_name(), reason, now).await? {
        return Ok(false);
    }
    let mut parties: Vec<String> = vec![row.creditor_org_id.clone()];
    if let Some(d) = lianrong_store::org::find_by_uscc(conn, &row.debtor_uscc).await? {
        parties.push(d.id);
    }
    if let Some(f) = &row.financier_org_id {
        parties.push(f.clone());
    }
    parties.dedup();
    let parties: Vec<&str> = parties.iter().map(String::as_str).collect();
    let entry = json!({"action": "release", "reference": row.reference, "fingerprint": row.fingerprint,
        "released_by": actor.trail_name(), "reason": reason});
    crate::log::append(conn, LeafKind::Registration, &row.id, &parties, &entry, now).await?;
    audit::ok_in(conn, actor, "registration.release", "registration", &row.id, &format!("{}: {reason}", row.reference))
        .await?;
    Ok(true)
}

/// Records the national registry's certificate number (登记证明编号) once the registration is filed
/// there. The creditor or the financier records it.
pub async fn set_certificate(app: &App, actor: &Actor, id: &str, certificate_no: &str) -> AppResult<Registration> {
    const ACTION: &str = "registration.certificate";
    audit::run(app, actor, Permission::RegisterReceivable, ACTION, "registration", id, async {
        let no = certificate_no.trim();
        let valid = !no.is_empty()
            && no.chars().count() <= REGISTRY_CERTIFICATE_NO_CHARS_MAX
            && no.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(AppError::invalid(
                "registry_certificate_no",
                "invalid_certificate_no",
                format!(
                    "The certificate number must be 1-{REGISTRY_CERTIFICATE_NO_CHARS_MAX} letters, digits or hyphens"
                ),
                format!("登记证明编号须为1至{REGISTRY_CERTIFICATE_NO_CHARS_MAX}位字母、数字或连字符"),
            ));
        }
        let scope = scope(app, actor).await?;
        let row = {
            let mut conn = app.db.acquire().await?;
            store::get_scoped(&mut conn, &scope, id).await
        };
        let row = match row {
            Ok(r) => r,
            Err(StoreError::NotFound) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        };
        if row.creditor_org_id != actor.org_id && row.financier_org_id.as_deref() != Some(actor.org_id.as_str()) {
            let e = AppError::forbidden(
                "Only the creditor or the financier may record the registry's certificate number",
                "只有债权人或资金方可以填写登记证明编号",
            );
            return Err(e);
        }
        let mut tx = app.db.begin_write().await?;
        store::set_certificate(&mut tx, &row.id, no).await?;
        audit::ok_in(&mut tx, actor, ACTION, "registration", &row.id, &format!("{} {no}", row.reference)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        get(app, actor, id).await
    })
    .await
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<Registration> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = scope(app, actor).await?;
    let row = {
        let mut conn = app.db.acquire().await?;
        store::get_scoped(&mut conn, &scope, id).await.map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?
    };
    named(app, row).await
}

/// Registrations the actor sees, newest first; `status` is `active`, `released` or empty for both.
pub async fn list(app: &App, actor: &Actor, status: Option<&str>, page: PageRequest) -> AppResult<Page<Registration>> {
    policy::require(actor, Permission::ReadTrade)?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => RegistrationStatus::parse(s)?.code(),
        None => "",
    };
    let scope = scope(app, actor).await?;
    let rows = {
        let mut conn = app.db.acquire().await?;
        store::list(&mut conn, &scope, status, page).await?
    };
    let mut items = Vec::with_capacity(rows.items.len());
    for r in rows.items {
        items.push(named(app, r).await?);
    }
    Ok(Page { items, page: rows.page, page_size: rows.page_size, total: rows.total })
}

/// The active registration claiming an invoice, if the actor may see it.
pub async fn find_by_invoice(app: &App, actor: &Actor, invoice_id: &str) -> AppResult<Option<Registration>> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = scope(app, actor).await?;
    let row = {
        let mut conn = app.db.acquire().await?;
        match store::find_by_invoice(&mut conn, invoice_id).await? {
            Some(r) => match store::get_scoped(&mut conn, &scope, &r.id).await {
                Ok(r) => Some(r),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        }
    };
    match row {
        Some(r) => Ok(Some(named(app, r).await?)),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------------
// Exports

/// In whose terms an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// 中登网 initial registration (初始登记), one row per registration.
    Zhongdeng,
    /// 中征应收账款融资服务平台 receivable upload, one row per invoice.
    Crcrfsp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFile {
    Csv,
    Xlsx,
}

pub fn parse_export(format: Option<&str>, file: Option<&str>) -> AppResult<(ExportFormat, ExportFile)> {
    let format = match format.unwrap_or("").trim() {
        "zhongdeng" => ExportFormat::Zhongdeng,
        "crcrfsp" => ExportFormat::Crcrfsp,
        _ => {
            return Err(AppError::invalid(
                "format",
                "unknown_export_format",
                "format must be zhongdeng (national registry) or crcrfsp (receivables financing platform)",
                "format 须为 zhongdeng（中登网）或 crcrfsp（中征应收账款融资服务平台）",
            ));
        }
    };
    let file = match file.unwrap_or("csv").trim() {
        "csv" | "" => ExportFile::Csv,
        "xlsx" => ExportFile::Xlsx,
        _ => {
            return Err(AppError::invalid(
                "file",
                "unknown_file_type",
                "file must be csv or xlsx",
                "file 须为 csv 或 xlsx",
            ));
        }
    };
    Ok((format, file))
}

/// An exported file.
#[derive(Debug, Clone)]
pub struct Exported {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The actor's active registrations as a file for the national registry or the financing platform.
pub async fn export(app: &App, actor: &Actor, format: ExportFormat, file: ExportFile) -> AppResult<Exported> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = scope(app, actor).await?;
    let mut regs = Vec::new();
    let mut page_no = 1u32;
    loop {
        let page = PageRequest::new(Some(page_no), Some(lianrong_domain::limits::PAGE_SIZE_MAX))?;
        let rows = {
            let mut conn = app.db.acquire().await?;
            store::list(&mut conn, &scope, RegistrationStatus::Active.code(), page).await?
        };
        let last = rows.items.len() < page.page_size as usize;
        for r in rows.items {
            regs.push(named(app, r).await?);
        }
        if last || regs.len() as i64 >= REGISTRATION_EXPORT_ROWS_MAX {
            break;
        }
        page_no += 1;
    }
    regs.truncate(usize::try_from(REGISTRATION_EXPORT_ROWS_MAX).unwrap_or(usize::MAX));
    let rows: Vec<ExportRegistration> = regs.into_iter().map(export_registration).collect();
    let (headers, text_columns, body, sheet, stem): (&[&str], &[usize], Vec<Vec<String>>, &str, &str) = match format {
        ExportFormat::Zhongdeng => (
            &rules::ZHONGDENG_HEADERS,
            &rules::ZHONGDENG_TEXT_COLUMNS,
            rows.iter().map(rules::zhongdeng_row).collect(),
            "初始登记",
            "zhongdeng-initial-registration",
        ),
        ExportFormat::Crcrfsp => (
            &rules::CRCRFSP_HEADERS,
            &rules::CRCRFSP_TEXT_COLUMNS,
            rows.iter().flat_map(rules::crcrfsp_rows).collect(),
            "应收账款",
            "crcrfsp-receivables",
        ),
    };
    let date = app.today();
    Ok(match file {
        ExportFile::Csv => Exported {
            file_name: format!("{stem}-{date}.csv"),
            content_type: "text/csv; charset=utf-8",
            bytes: rules::csv_file(headers, &body),
        },
        ExportFile::Xlsx => Exported {
            file_name: format!("{stem}-{date}.xlsx"),
            content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes: xlsx(sheet, headers, text_columns, &body)?,
        },
    })
}

fn export_registration(r: Registration) -> ExportRegistration {
    let kind = RegistrationKind::parse(&r.row.kind).unwrap_or(RegistrationKind::Pledge);
    ExportRegistration {
        reference: r.row.reference,
        kind,
        creditor: Party { name: r.creditor_name, uscc: r.row.creditor_uscc },
        debtor: Party { name: r.debtor_name.unwrap_or_default(), uscc: r.row.debtor_uscc },
        financier: Party { name: r.financier_name.unwrap_or_default(), uscc: r.financier_uscc.unwrap_or_default() },
        amount_fen: r.row.amount_fen,
        due_date: r.row.due_date,
        term_months: r.row.term_months,
        registry_certificate_no: r.row.registry_certificate_no,
        invoices: r
            .invoices
            .into_iter()
            .map(|i| ExportInvoice { invoice_no: i.invoice_no, amount_fen: i.amount_fen, due_date: i.due_date })
            .collect(),
    }
}

/// A one-sheet workbook. Every cell is written as text, and the code and amount columns are formatted
/// as text (`@`), so that a spreadsheet neither turns a credit code or a 20-digit invoice number into
/// scientific notation nor drops an amount's trailing zeros.
fn xlsx(sheet_name: &str, headers: &[&str], text_columns: &[usize], rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| {
        tracing::error!(error = %e, "cannot write the export workbook");
        AppError::internal()
    };
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).map_err(fail)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in headers.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, *h, &bold).map_err(fail)?;
        sheet.set_column_width(col, if h.contains("描述") { 60 } else { 24 }).map_err(fail)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let rn = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, v) in row.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            let is_amount = headers.get(c).is_some_and(|h| h.contains("金额"));
            if text_columns.contains(&c) || is_amount {
                sheet.write_string_with_format(rn, col, v, &text).map_err(fail)?;
            } else {
                sheet.write_string(rn, col, v).map_err(fail)?;
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}

// ---------------------------------------------------------------------------------------------------
// Importing the financing platform's confirmation file

/// The source code of the receivables financing platform's results.
pub const CRCRFSP: &str = "crcrfsp";

/// One row of a confirmation file that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportIssue {
    pub row_no: u64,
    pub field: Option<String>,
    pub code: String,
    pub en: String,
    pub zh: String,
    /// The row as it stood in the file (cells joined by tabs).
    pub raw: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub import_id: String,
    pub rows_total: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub issues: Vec<ImportIssue>,
}

fn file_problem(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> AppError {
    AppError::invalid("file", code, en, zh)
}

/// One data row as text with its row number, or the reason it could not be read.
type TextRow = Result<(u64, Vec<String>), (u64, lianrong_lake::FileError)>;

/// A table's rows as text: the header row's mapping and the data rows (or their read errors).
struct ReadTable {
    columns: Vec<Option<ConfirmationField>>,
    rows: Vec<TextRow>,
}

fn read_table(file_name: &str, bytes: Vec<u8>) -> AppResult<ReadTable> {
    let to_app = |e: lianrong_lake::FileError| file_problem(e.code, e.en, e.zh);
    let mut parts = lianrong_lake::file::open_bytes(file_name, bytes).map_err(to_app)?;
    let table = match parts.next() {
        Some(Ok(t)) => t,
        Some(Err(p)) => return Err(to_app(p.error)),
        None => return Err(file_problem("file_empty", "The file holds no table", "文件中没有表格")),
    };
    let mut columns: Option<Vec<Option<ConfirmationField>>> = None;
    let mut rows = Vec::new();
    for (seen, row) in table.rows.enumerate() {
        match row {
            Ok(row) => {
                let cells: Vec<String> = row.cells.iter().map(|c| c.text.clone()).collect();
                if columns.is_none() {
                    let map = rules::map_confirmation_headers(&cells);
                    if map.contains(&Some(ConfirmationField::InvoiceNo)) {
                        columns = Some(map);
                    } else if seen as u64 >= lianrong_domain::limits::HEADER_SCAN_ROWS_MAX {
                        break;
                    }
                    continue;
                }
                if rows.len() as u64 >= CONFIRMATION_ROWS_MAX {
                    return Err(file_problem(
                        "too_many_rows",
                        format!("At most {CONFIRMATION_ROWS_MAX} rows per confirmation file"),
                        format!("每个确认文件最多{CONFIRMATION_ROWS_MAX}行"),
                    ));
                }
                rows.push(Ok((row.row_no, cells)));
            }
            Err(e) if columns.is_some() => rows.push(Err((e.row_no.unwrap_or(0), e))),
            Err(e) => return Err(to_app(e)),
        }
    }
    let columns = columns.ok_or_else(|| {
        file_problem(
            "header_not_found",
            "No header row with 发票号码 (invoice number) was found in the first rows",
            "前几行中未找到含“发票号码”的表头行",
        )
    })?;
    let missing: Vec<&str> = ConfirmationField::ALL
        .iter()
        .filter(|f| f.required() && !columns.contains(&Some(**f)))
        .map(|f| f.header_zh())
        .collect();
    if !missing.is_empty() {
        return Err(file_problem(
            "columns_missing",
            format!("The file lacks the columns {}", missing.join(", ")),
            format!("文件缺少以下列：{}", missing.join("、")),
        ));
    }
    Ok(ReadTable { columns, rows })
}

/// Imports a confirmation file from the receivables financing platform (CSV or XLSX, headers such as
/// 债务人统一社会信用代码, 债权人统一社会信用代码, 发票号码, 金额, 确认结果, 确认日期, 平台编号). A
/// confirmation is the debtor's statement, so the file comes from the debtor (its own payables) or from
/// the platform operator, never from the creditor whose receivables it would confirm. Each row is matched
/// to a receivable; a row that cannot be is reported with its row number, field and reason, and kept with
/// the import.
pub async fn import_confirmations(
    app: &App,
    actor: &Actor,
    file_name: &str,
    bytes: Vec<u8>,
) -> AppResult<ImportReport> {
    const ACTION: &str = "registration.import_confirmations";
    let operator = actor.is_operator_manager() && actor.scopes.is_none();
    if !operator {
        audit::guard(app, actor, Permission::DecideConfirmation, ACTION, "confirmation_import", file_name).await?;
    }
    let file_name: String = file_name.chars().take(200).collect();
    let file_sm3 = crate::sm3_hex(&bytes);
    let table = read_confirmation_file(&file_name, bytes).await?;
    let import = Import { id: new_id(), at_ms: now_ms(), operator };
    let rows_total = table.rows.len() as u64;
    let (accepted, issues) = match_rows(app, actor, &import, table).await?;
    let rejected_rows: HashSet<u64> = issues.iter().map(|i| i.row_no).collect();
    let report = ImportReport {
        import_id: import.id.clone(),
        rows_total,
        accepted: accepted.len() as u64,
        rejected: rejected_rows.len() as u64,
        issues,
    };
    let record = ConfirmationImport {
        id: import.id.clone(),
        source: CRCRFSP.to_string(),
        org_id: actor.org_id.clone(),
        file_name: file_name.clone(),
        file_sm3,
        rows_total: rows_total as i64,
        accepted: report.accepted as i64,
        rejected: report.rejected as i64,
        issues_json: serde_json::Value::Array(
            report
                .issues
                .iter()
                .map(|i| json!({"row_no": i.row_no, "field": i.field, "code": i.code, "en": i.en, "zh": i.zh, "raw": i.raw}))
                .collect(),
        )
        .to_string(),
        imported_by: actor.trail_name(),
        imported_at_ms: import.at_ms,
    };
    let mut tx = app.db.begin_write().await?;
    store::insert_import(&mut tx, &record).await?;
    for c in &accepted {
        store::insert_external_confirmation(&mut tx, c).await?;
    }
    audit::ok_in(
        &mut tx,
        actor,
        ACTION,
        "confirmation_import",
        &import.id,
        &format!("{file_name}: {} accepted, {} rejected", report.accepted, report.rejected),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(report)
}

/// One import being read: its id, when, and whether the operator makes it (for any debtor).
struct Import {
    id: String,
    at_ms: i64,
    operator: bool,
}

/// Reads the platform's file off the async threads, refusing one over the size limit.
async fn read_confirmation_file(file_name: &str, bytes: Vec<u8>) -> AppResult<ReadTable> {
    if bytes.len() > CONFIRMATION_FILE_BYTES_MAX {
        return Err(file_problem(
            "file_too_large",
            format!("The file is larger than {} MiB", CONFIRMATION_FILE_BYTES_MAX / 1024 / 1024),
            format!("文件超过 {} MiB", CONFIRMATION_FILE_BYTES_MAX / 1024 / 1024),
        ));
    }
    let name = file_name.to_string();
    tokio::task::spawn_blocking(move || read_table(&name, bytes)).await.map_err(|e| {
        tracing::error!(error = %e, "the confirmation file reader failed");
        AppError::internal()
    })?
}

/// Matches each row to a receivable the importer may confirm: the accepted results, and every row that
/// could not be matched with its row number, field and reason.
async fn match_rows(
    app: &App,
    actor: &Actor,
    import: &Import,
    table: ReadTable,
) -> AppResult<(Vec<ExternalConfirmation>, Vec<ImportIssue>)> {
    let mut conn = app.db.acquire().await?;
    let me = lianrong_store::org::get(&mut conn, &actor.org_id).await?;
    let (operator, now, import_id) = (import.operator, import.at_ms, &import.id);
    let mut issues = Vec::new();
    let mut accepted: Vec<ExternalConfirmation> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for row in table.rows {
        let (row_no, cells) = match row {
            Ok(r) => r,
            Err((row_no, e)) => {
                issues.push(ImportIssue {
                    row_no,
                    field: None,
                    code: e.code.into(),
                    en: e.en,
                    zh: e.zh,
                    raw: String::new(),
                });
                continue;
            }
        };
        let raw = cells.join("\t");
        let issue = |field: &str, code: &str, en: String, zh: String| ImportIssue {
            row_no,
            field: Some(field.to_string()),
            code: code.to_string(),
            en: format!("Row {row_no}: {en}"),
            zh: format!("第 {row_no} 行：{zh}"),
            raw: raw.clone(),
        };
        let get = |f: ConfirmationField| {
            table.columns.iter().position(|c| *c == Some(f)).and_then(|i| cells.get(i)).cloned().unwrap_or_default()
        };
        let parsed = match rules::read_confirmation_row(get) {
            Ok(p) => p,
            Err(errors) => {
                issues.extend(errors.into_iter().map(|e| issue(e.field, e.code, e.en, e.zh)));
                continue;
            }
        };
        if !operator && parsed.debtor_uscc != me.uscc {
            issues.push(if parsed.creditor_uscc == me.uscc {
                issue(
                    "debtor_uscc",
                    "creditor_cannot_confirm",
                    "a creditor cannot confirm its own receivable; the debtor or the platform operator imports the platform's result".into(),
                    "债权人不能自行确认其应收账款；确认结果须由债务人或平台运营方导入".into(),
                )
            } else {
                issue(
                    "debtor_uscc",
                    "not_your_payable",
                    format!("the debtor {} is not your organisation", parsed.debtor_uscc),
                    format!("债务人 {} 不是本机构", parsed.debtor_uscc),
                )
            });
            continue;
        }
        let facts =
            store::invoice_facts_by_number(&mut conn, &parsed.creditor_uscc, &parsed.debtor_uscc, &parsed.invoice_no)
                .await?;
        let Some(facts) = facts else {
            issues.push(issue(
                "invoice_no",
                "unknown_receivable",
                format!("no receivable with invoice {} against debtor {}", parsed.invoice_no, parsed.debtor_uscc),
                format!("未找到对债务人 {} 的发票 {} 形成的应收账款", parsed.debtor_uscc, parsed.invoice_no),
            ));
            continue;
        };
        if !seen.insert(facts.invoice_id.clone()) {
            issues.push(issue(
                "invoice_no",
                "duplicate_row",
                format!("invoice {} appears more than once in the file", parsed.invoice_no),
                format!("发票 {} 在文件中重复出现", parsed.invoice_no),
            ));
            continue;
        }
        accepted.push(ExternalConfirmation {
            id: new_id(),
            invoice_id: facts.invoice_id,
            source: CRCRFSP.to_string(),
            platform_reference: parsed.platform_reference,
            confirmed: parsed.confirmed,
            confirmed_date: parsed.confirmed_date,
            amount_fen: parsed.amount_fen,
            import_id: import_id.to_string(),
            row_no: i64::try_from(row_no).unwrap_or(i64::MAX),
            imported_at_ms: now,
            imported_by_org_id: actor.org_id.clone(),
            raw_row: raw,
        });
    }
    Ok((accepted, issues))
}

/// The current result on the financing platform for an invoice the actor may see (for the receivables
/// view: "confirmed on 中征平台").
pub async fn external_confirmation(
    app: &App,
    actor: &Actor,
    invoice_id: &str,
) -> AppResult<Option<ExternalConfirmation>> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    lianrong_store::four_flow::get(&mut conn, &scope, invoice_id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("The invoice", "发票"),
        other => other.into(),
    })?;
    Ok(store::external_confirmation(&mut conn, invoice_id).await?)
}

/// How many of a creditor's receivables the console's register form offers.
const REGISTRABLE_SHOWN_MAX: i64 = 500;

/// The actor's own invoices with money still owed (as creditor), each with the reference of the
/// registration already claiming it, for the register form.
pub async fn registrable(app: &App, actor: &Actor) -> AppResult<Vec<(InvoiceFacts, Option<String>)>> {
    policy::require(actor, Permission::ReadTrade)?;
    if !actor.submits_trade_data() {
        return Ok(Vec::new());
    }
    let mut conn = app.db.acquire().await?;
    let uscc = lianrong_store::org::get(&mut conn, &actor.org_id).await?.uscc;
    Ok(store::registrable_invoices(&mut conn, &uscc, REGISTRABLE_SHOWN_MAX).await?)
}

/// The banks a creditor may name as financier. Banks are public institutions, so every caller may list
/// them whatever its chains.
pub async fn banks(app: &App, actor: &Actor) -> AppResult<Vec<lianrong_store::org::OrgRecord>> {
    policy::require(actor, Permission::ReadDirectory)?;
    let mut conn = app.db.acquire().await?;
    let filter = lianrong_store::org::OrgFilter { kind: Some(OrgKind::Bank), query: None };
    let page = PageRequest::new(Some(1), Some(lianrong_domain::limits::PAGE_SIZE_MAX))?;
    Ok(lianrong_store::org::list(&mut conn, &lianrong_store::org::OrgScope::All, &filter, page).await?.items)
}
