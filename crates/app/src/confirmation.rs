//! Debtor confirmation (确权): a creditor asks its debtor to confirm receivables, one
//! or a batch; the debtor confirms or rejects each, signing a canonical statement with its SM2 key; each
//! decision is a leaf of the verifiable log, written in the same transaction; the time from request to
//! decision is measured, because the programme wants it cut.
//!
//! Keys: every organisation has one SM2 key pair. By default the platform generates and holds it and
//! signs for the organisation when one of its people decides in the console or over the API. An
//! organisation may instead supply its public key; it then signs the statement itself
//! (`GET …/statement`) and sends the signature with its decision, and the platform only verifies.
//!
//! A debtor may also confirm unasked by uploading its payables (as on the central bank's platform).
//! Sharing trade data with the lake is not confirmation. The data-only path is in `receivable`
//! (eligibility) and needs no confirmation at all.

use std::collections::{HashMap, HashSet};

use lianrong_domain::confirmation::{
    self as domain, CONFIRMATION_BATCH_MAX, CONFIRMATION_REASON_CHARS_MAX, ConfirmationKind, ConfirmationSource,
    ConfirmationStatus, ConfirmationSubject, Decision, KeyHolder, Statement, WaitFigures,
};
use lianrong_domain::four_flow::VerificationStatus;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::role::Role as UserRole;
use lianrong_store::confirmation::{self as store, ConfirmationScope, OrgKeyRecord};
use lianrong_store::{Conn, StoreError};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey};

use crate::audit;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::log::{LeafKind, PublicKey, SM2_DISTID, canonical_json};
use crate::policy::{self, Actor, Permission};
use crate::{App, new_id, now_ms};

/// The app's read views of confirmation requests, their filter and the side a list is seen from: plain data,
/// decoded in the store; the API and console show them.
pub use lianrong_store::confirmation::{ConfirmationFilter, ConfirmationRecord, Role};

const OBJECT: &str = "confirmation";

fn not_found() -> AppError {
    AppError::not_found("Confirmation request", "确权申请")
}

// ---------------------------------------------------------------------------------------------------
// Signing keys

/// An organisation's signing key as shown to it and to verifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyInfo {
    pub org_id: String,
    pub held_by: KeyHolder,
    /// SEC1 uncompressed point, hex.
    pub public_key_hex: String,
    pub public_key_pem: String,
    /// SM3 of the SEC1 encoding, hex: names the key in statements' verification.
    pub key_id: String,
    pub created_at_ms: i64,
}

fn info(k: &OrgKeyRecord) -> AppResult<SigningKeyInfo> {
    let public = PublicKey::from_text(&k.public_key_hex)?;
    Ok(SigningKeyInfo {
        org_id: k.org_id.clone(),
        held_by: k.held_by,
        public_key_hex: k.public_key_hex.clone(),
        public_key_pem: public.pem()?,
        key_id: public.key_id(),
        created_at_ms: k.created_at_ms,
    })
}

fn key_broken(detail: impl std::fmt::Display) -> AppError {
    tracing::error!(%detail, "organisation signing key unusable");
    AppError::internal()
}

/// A fresh platform-held key for `org_id`, its private half sealed under the platform's field key.
fn platform_key(app: &App, org_id: &str, by: &str) -> AppResult<OrgKeyRecord> {
    let signing = crate::log::generate_signing_key()?;
    let public = PublicKey::from_text(&hex::encode(signing.verifying_key().to_sec1_bytes()))?;
    Ok(OrgKeyRecord {
        org_id: org_id.to_string(),
        public_key_hex: public.sec1_hex(),
        held_by: KeyHolder::Platform,
        private_key_sealed: Some(seal_private_key(app, org_id, &signing)?),
        created_at_ms: now_ms(),
        created_by: by.to_string(),
    })
}

/// Private keys are sealed with the platform's SM4 field key, bound to their organisation, so a copy of
/// the database alone signs nothing.
fn seal_private_key(app: &App, org_id: &str, signing: &SigningKey) -> AppResult<String> {
    app.secret().seal(&signing.to_bytes(), &key_aad(org_id))
}

fn open_private_key(app: &App, k: &OrgKeyRecord) -> AppResult<SigningKey> {
    let sealed = k.private_key_sealed.as_deref().ok_or_else(|| key_broken("no private key is held"))?;
    let bytes = app.secret().open(sealed, &key_aad(&k.org_id))?;
    SigningKey::from_slice(SM2_DISTID, &bytes).map_err(|_| key_broken("the sealed private key is not an SM2 key"))
}

fn key_aad(org_id: &str) -> Vec<u8> {
    crate::secret::aad("org_key", "private_key_sealed", org_id)
}

/// The organisation's key, generating a platform-held one on first use.
async fn ensure_key(app: &App, conn: &mut Conn, org_id: &str, by: &str) -> AppResult<OrgKeyRecord> {
    if let Some(k) = store::org_key(conn, org_id).await? {
        return Ok(k);
    }
    store::insert_org_key_if_absent(conn, &platform_key(app, org_id, by)?).await?;
    // Read back: when two requests generate at once, the first one kept wins for both.
    store::org_key(conn, org_id).await?.ok_or_else(|| key_broken("the key row vanished"))
}

/// The caller's organisation's signing key (made, platform-held, on first use).
pub async fn signing_key(app: &App, actor: &Actor) -> AppResult<SigningKeyInfo> {
    if !actor.submits_trade_data() && actor.org_kind != OrgKind::Bank {
        return Err(AppError::forbidden(
            "Only enterprises and banks sign confirmations",
            "只有企业和银行需要确权签名密钥",
        ));
    }
    let mut conn = app.db.acquire().await?;
    info(&ensure_key(app, &mut conn, &actor.org_id, &actor.trail_name()).await?)
}

fn require_key_admin(actor: &Actor) -> AppResult<()> {
    if actor.scopes.is_some() || !actor.has_role(UserRole::OrgAdmin) || actor.sees_everything() {
        return Err(AppError::forbidden(
            "Only an organisation administrator, signed in, changes its signing key",
            "只有登录的机构管理员可以更换签名密钥",
        ));
    }
    Ok(())
}

/// The organisation supplies its own public key and signs its statements itself from now on.
pub async fn supply_key(app: &App, actor: &Actor, public_key: &str) -> AppResult<SigningKeyInfo> {
    if let Err(e) = require_key_admin(actor) {
        audit::refused(app, actor, "signing_key.supply", "org_key", &actor.org_id, &e.en).await;
        return Err(e);
    }
    if public_key.len() > 4096 {
        return Err(AppError::invalid("public_key", "too_long", "The public key is too long", "公钥过长"));
    }
    let public = PublicKey::from_text(public_key)?;
    let record = OrgKeyRecord {
        org_id: actor.org_id.clone(),
        public_key_hex: public.sec1_hex(),
        held_by: KeyHolder::Organisation,
        private_key_sealed: None,
        created_at_ms: now_ms(),
        created_by: actor.trail_name(),
    };
    replace_key(app, actor, &record, "signing_key.supply").await
}

/// The platform generates and holds a new key for the organisation (replacing a supplied one).
pub async fn use_platform_key(app: &App, actor: &Actor) -> AppResult<SigningKeyInfo> {
    if let Err(e) = require_key_admin(actor) {
        audit::refused(app, actor, "signing_key.platform", "org_key", &actor.org_id, &e.en).await;
        return Err(e);
    }
    let record = platform_key(app, &actor.org_id, &actor.trail_name())?;
    replace_key(app, actor, &record, "signing_key.platform").await
}

async fn replace_key(app: &App, actor: &Actor, record: &OrgKeyRecord, action: &str) -> AppResult<SigningKeyInfo> {
    let mut tx = app.db.begin_write().await?;
    store::replace_org_key(&mut tx, record).await?;
    let detail =
        format!("{} key {}", record.held_by.code(), &record.public_key_hex[..16.min(record.public_key_hex.len())]);
    audit::ok_in(&mut tx, actor, action, "org_key", &actor.org_id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    info(record)
}

// ---------------------------------------------------------------------------------------------------
// Requests

fn batch_size_checked(field: &str, n: usize) -> AppResult<()> {
    if n == 0 {
        return Err(AppError::invalid(field, "empty", "Name at least one receivable", "至少选择一笔应收账款"));
    }
    if n > CONFIRMATION_BATCH_MAX {
        return Err(AppError::invalid(
            field,
            "too_many",
            format!("At most {CONFIRMATION_BATCH_MAX} receivables at once (got {n})"),
            format!("一次最多{CONFIRMATION_BATCH_MAX}笔应收账款（收到{n}笔）"),
        ));
    }
    Ok(())
}

fn reason_checked(field: &str, reason: Option<&str>) -> AppResult<Option<String>> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = reason
        && r.chars().count() > CONFIRMATION_REASON_CHARS_MAX
    {
        return Err(AppError::invalid(
            field,
            "too_long",
            format!("At most {CONFIRMATION_REASON_CHARS_MAX} characters"),
            format!("最多{CONFIRMATION_REASON_CHARS_MAX}个字符"),
        ));
    }
    Ok(reason.map(str::to_string))
}

/// One receivable checked for confirmation: the facts its row records.
struct Asked {
    invoice_id: String,
    invoice_no: String,
    invoice_code: String,
    /// The record's content digest: what the debtor's signature covers.
    content_sm3: String,
    creditor_org_id: String,
    debtor_org_id: String,
    amount_fen: i64,
    due_date: Option<jiff::civil::Date>,
}

/// Which party acts on the receivable.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Acting {
    /// The creditor asks for confirmation.
    Creditor,
    /// The debtor confirms its payable unasked.
    Debtor,
}

/// Checks that `invoice_id` is a receivable the actor may act on as `acting`: visible to it, its
/// party on that side, not contradicted by the trade data, still owed, both parties on the platform.
async fn check_receivable(
    conn: &mut Conn,
    actor_uscc: &str,
    scope: &lianrong_store::trade::TradeScope,
    field: &str,
    invoice_id: &str,
    acting: Acting,
) -> AppResult<Asked> {
    let gone = || AppError { field: Some(field.to_string()), ..AppError::not_found("Receivable", "应收账款") };
    let v = lianrong_store::four_flow::get(conn, scope, invoice_id).await.map_err(|e| match e {
        StoreError::NotFound => gone(),
        other => other.into(),
    })?;
    let refused = |code: &'static str, en: &str, zh: &str| {
        Err(AppError { field: Some(field.to_string()), ..AppError::new(ErrorKind::Forbidden, code, en, zh) })
    };
    if acting == Acting::Creditor && v.seller_uscc != actor_uscc {
        return refused(
            "not_your_receivable",
            "Only the creditor (the invoice's seller) asks for confirmation",
            "只有债权人（发票销售方）可以发起确权申请",
        );
    }
    if acting == Acting::Debtor && v.buyer_uscc != actor_uscc {
        return refused(
            "not_your_payable",
            "Only the debtor (the invoice's buyer) confirms its payables",
            "只有债务人（发票购买方）可以确认其应付账款",
        );
    }
    if v.status == VerificationStatus::Inconsistent.code() {
        return Err(AppError::invalid(
            field,
            "not_a_receivable",
            "The trade data contradict this invoice; resolve the discrepancy before asking for confirmation",
            "贸易数据与该发票矛盾，请先处理核验差异再申请确权",
        ));
    }
    if v.outstanding_fen <= 0 {
        return Err(AppError::invalid(
            field,
            "nothing_outstanding",
            "Nothing is outstanding on this invoice",
            "该发票已无未收金额",
        ));
    }
    let debtor = lianrong_store::org::find_by_uscc(conn, &v.buyer_uscc).await?.ok_or_else(|| {
        AppError::invalid(
            field,
            "debtor_not_on_platform",
            "The debtor is not on the platform, so it cannot confirm here",
            "债务人尚未入驻平台，无法在线确权",
        )
    })?;
    let creditor = lianrong_store::org::find_by_uscc(conn, &v.seller_uscc).await?.ok_or_else(|| {
        AppError::invalid(
            field,
            "creditor_not_on_platform",
            "The creditor is not on the platform, so the receivable cannot be confirmed to it here",
            "债权人尚未入驻平台，无法在线确权",
        )
    })?;
    let record = lianrong_store::trade::get(conn, scope, invoice_id).await?;
    Ok(Asked {
        invoice_id: v.invoice_id,
        invoice_no: record.doc_no,
        invoice_code: record.invoice_code,
        content_sm3: record.content_sm3,
        creditor_org_id: creditor.id,
        debtor_org_id: debtor.id,
        amount_fen: v.outstanding_fen,
        due_date: v.due_date.as_deref().map(|d| crate::clock::stored_date("verification.due_date", d)).transpose()?,
    })
}

fn already(field: &str, live: Option<&ConfirmationRecord>) -> AppError {
    let e = match live.map(|c| c.status) {
        Some(ConfirmationStatus::Confirmed) => AppError::conflict(
            "already_confirmed",
            "The debtor has already confirmed this receivable",
            "债务人已确认该笔应收账款",
        ),
        _ => AppError::conflict(
            "already_requested",
            "Confirmation of this receivable (or order) has already been asked and awaits the debtor",
            "该笔应收账款（或订单）已发起确权（确真）申请，正等待债务人处理",
        ),
    };
    AppError { field: Some(field.to_string()), ..e }
}

/// Asks the debtors of these receivables to confirm them: one request per receivable, all in one batch
/// and one transaction (all or nothing, every refusal naming its item).
pub async fn request(app: &App, actor: &Actor, invoice_ids: &[String]) -> AppResult<Vec<ConfirmationRecord>> {
    request_subject(app, actor, ConfirmationSubject::Receivable, invoice_ids).await
}

/// Asks the buyers of these purchase orders to vouch that they are real (确真), as a request to
/// confirm receivables does: the buyer signs, and the decision is a log leaf.
pub async fn request_orders(app: &App, actor: &Actor, order_ids: &[String]) -> AppResult<Vec<ConfirmationRecord>> {
    request_subject(app, actor, ConfirmationSubject::Order, order_ids).await
}

async fn request_subject(
    app: &App,
    actor: &Actor,
    subject: ConfirmationSubject,
    ids: &[String],
) -> AppResult<Vec<ConfirmationRecord>> {
    audit::guard(app, actor, Permission::RequestConfirmation, "confirmation.request", OBJECT, "").await?;
    let result = request_checked(app, actor, subject, ids).await;
    if let Err(e) = &result {
        let first = ids.first().map(String::as_str).unwrap_or("");
        audit::refused(app, actor, "confirmation.request", subject.code(), first, &format!("{}: {}", e.code, e.en))
            .await;
    }
    result
}

/// The field naming the ids of a request's subject.
fn ids_field(subject: ConfirmationSubject) -> &'static str {
    match subject {
        ConfirmationSubject::Receivable => "invoice_ids",
        ConfirmationSubject::Order => "order_ids",
    }
}

/// Checks that `order_id` is a purchase order the actor sold under and may ask its buyer to vouch for.
async fn check_order(
    conn: &mut Conn,
    actor_uscc: &str,
    scope: &lianrong_store::trade::TradeScope,
    field: &str,
    order_id: &str,
) -> AppResult<Asked> {
    let named = |e: AppError| AppError { field: Some(field.to_string()), ..e };
    let record = lianrong_store::trade::get(conn, scope, order_id).await.map_err(|e| match e {
        StoreError::NotFound => named(AppError::not_found("Purchase order", "采购订单")),
        other => other.into(),
    })?;
    if record.record_type != "order" {
        return Err(AppError::invalid(
            field,
            "not_an_order",
            "Only a purchase order is vouched for; an invoice is confirmed as a receivable",
            "只有采购订单需要确真；发票请申请应收账款确权",
        ));
    }
    if record.seller_uscc != actor_uscc {
        return Err(named(AppError::new(
            ErrorKind::Forbidden,
            "not_your_order",
            "Only the order's seller asks its buyer to vouch for it",
            "只有订单的销售方可以请求购买方确真",
        )));
    }
    let party = |uscc: &str, code: &'static str| {
        let uscc = uscc.to_string();
        async move {
            lianrong_store::org::find_by_uscc(conn, &uscc).await?.map(|o| o.id).ok_or_else(|| {
                AppError::invalid(
                    field,
                    code,
                    "A party of the order is not on the platform, so it cannot vouch here",
                    "订单一方尚未入驻平台，无法在线确真",
                )
            })
        }
    };
    let debtor_org_id = party(&record.buyer_uscc, "debtor_not_on_platform").await?;
    Ok(Asked {
        invoice_id: record.id,
        invoice_no: record.doc_no,
        invoice_code: record.invoice_code,
        content_sm3: record.content_sm3,
        creditor_org_id: String::new(),
        debtor_org_id,
        amount_fen: record.total_fen,
        due_date: None,
    })
}

async fn request_checked(
    app: &App,
    actor: &Actor,
    subject: ConfirmationSubject,
    ids: &[String],
) -> AppResult<Vec<ConfirmationRecord>> {
    let ids_name = ids_field(subject);
    batch_size_checked(ids_name, ids.len())?;
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(id.as_str()) {
            return Err(AppError::invalid(
                &format!("{ids_name}[{i}]"),
                "duplicate",
                "The same receivable or order is named twice",
                "同一笔应收账款或订单出现了两次",
            ));
        }
    }
    let invoice_ids = ids;
    let scope = crate::trade::scope(app, actor).await?;
    let mut tx = app.db.begin_write().await?;
    let me = lianrong_store::org::get(&mut tx, &actor.org_id).await?;
    let (batch_id, now, by) = (new_id(), now_ms(), actor.trail_name());
    let mut made = Vec::with_capacity(invoice_ids.len());
    for (i, id) in invoice_ids.iter().enumerate() {
        let field = format!("{ids_name}[{i}]");
        let asked = match subject {
            ConfirmationSubject::Receivable => {
                check_receivable(&mut tx, &me.uscc, &scope, &field, id, Acting::Creditor).await?
            }
            ConfirmationSubject::Order => Asked {
                creditor_org_id: actor.org_id.clone(),
                ..check_order(&mut tx, &me.uscc, &scope, &field, id).await?
            },
        };
        let c = ConfirmationRecord {
            id: new_id(),
            invoice_id: asked.invoice_id,
            invoice_no: asked.invoice_no,
            creditor_org_id: asked.creditor_org_id,
            debtor_org_id: asked.debtor_org_id,
            batch_id: batch_id.clone(),
            kind: ConfirmationKind::Request,
            subject,
            status: ConfirmationStatus::Requested,
            amount_fen: asked.amount_fen,
            due_date: asked.due_date,
            requested_by: by.clone(),
            requested_at_ms: now,
            decided_by: None,
            decided_at_ms: None,
            reason: None,
            statement: None,
            signature_hex: None,
            public_key_hex: None,
            log_leaf_id: None,
            content_sm3: Some(asked.content_sm3),
            invoice_code: Some(asked.invoice_code),
        };
        match store::insert(&mut tx, &c).await {
            Ok(()) => made.push(c),
            Err(StoreError::Conflict { .. }) => {
                drop(tx);
                let mut conn = app.db.acquire().await?;
                let asked = store::for_invoices(&mut conn, std::slice::from_ref(id)).await?;
                return Err(already(&field, asked.iter().find(|c| c.status == ConfirmationStatus::Confirmed)));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let detail = format!("batch {batch_id}: {} receivable(s)", made.len());
    audit::ok_in(&mut tx, actor, "confirmation.request", OBJECT, &batch_id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(made)
}

/// The creditor withdraws a request the debtor has not decided yet.
pub async fn withdraw(app: &App, actor: &Actor, id: &str) -> AppResult<ConfirmationRecord> {
    audit::guard(app, actor, Permission::RequestConfirmation, "confirmation.withdraw", OBJECT, id).await?;
    let result = async {
        let mut tx = app.db.begin_write().await?;
        let mut c = store::get(&mut tx, &party(actor), id).await.map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
        if c.creditor_org_id != actor.org_id {
            return Err(AppError::forbidden(
                "Only the creditor who asked withdraws a request",
                "只有发起申请的债权人可以撤回",
            ));
        }
        c.status = ConfirmationStatus::Withdrawn;
        c.decided_by = Some(actor.trail_name());
        c.decided_at_ms = Some(now_ms());
        if !store::decide(&mut tx, &c).await? {
            return Err(already_decided());
        }
        audit::ok_in(&mut tx, actor, "confirmation.withdraw", OBJECT, id, "").await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(c)
    }
    .await;
    if let Err(e) = &result {
        audit::refused(app, actor, "confirmation.withdraw", OBJECT, id, &format!("{}: {}", e.code, e.en)).await;
    }
    result
}

fn already_decided() -> AppError {
    AppError::conflict(
        "already_decided",
        "This request has already been decided or withdrawn",
        "该确权申请已处理或已撤回",
    )
}

fn party(actor: &Actor) -> ConfirmationScope {
    if actor.sees_everything() || actor.system {
        ConfirmationScope::All
    } else {
        ConfirmationScope::Party { org_id: actor.org_id.clone() }
    }
}

// ---------------------------------------------------------------------------------------------------
// Decisions

/// One decision on one request. `signature_hex` is required when the organisation holds its own key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput {
    pub confirmation_id: String,
    pub decision: Decision,
    pub reason: Option<String>,
    pub signature_hex: Option<String>,
}

/// The statement the debtor signs for this decision: canonical JSON, the same bytes every time.
pub fn statement_of(c: &ConfirmationRecord, debtor_uscc: &str, creditor_uscc: &str, decision: Decision) -> String {
    let s = Statement {
        schema: domain::STATEMENT_SCHEMA.to_string(),
        subject: c.subject,
        confirmation_id: c.id.clone(),
        decision,
        debtor_uscc: debtor_uscc.to_string(),
        creditor_uscc: creditor_uscc.to_string(),
        invoice_no: c.invoice_no.clone(),
        invoice_code: c.invoice_code.clone().unwrap_or_default(),
        content_sm3: c.content_sm3.clone().unwrap_or_default(),
        amount_fen: c.amount_fen,
        due_date: c.due_date.map(|d| d.to_string()),
        // A debtor's upload is signed before its row exists; its log leaf records when it was made.
        requested_at: (c.kind == ConfirmationKind::Request).then(|| crate::rfc3339_utc(c.requested_at_ms)),
    };
    canonical_json(&serde_json::to_value(&s).unwrap_or(serde_json::Value::Null))
}

/// The bytes an organisation holding its own key signs (SM2, user id 1234567812345678) for a decision.
pub async fn statement(app: &App, actor: &Actor, id: &str, decision: Decision) -> AppResult<String> {
    policy::require(actor, Permission::DecideConfirmation)?;
    let mut conn = app.db.acquire().await?;
    let c = store::get(&mut conn, &party(actor), id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    if c.debtor_org_id != actor.org_id {
        return Err(not_found());
    }
    let (debtor, creditor) = parties_uscc(&mut conn, &c).await?;
    Ok(statement_of(&c, &debtor, &creditor, decision))
}

async fn parties_uscc(conn: &mut Conn, c: &ConfirmationRecord) -> AppResult<(String, String)> {
    let debtor = lianrong_store::org::get(conn, &c.debtor_org_id).await?.uscc;
    let creditor = lianrong_store::org::get(conn, &c.creditor_org_id).await?.uscc;
    Ok((debtor, creditor))
}

/// The debtor decides on requests, one or a batch, in one transaction (all or nothing): each is signed,
/// becomes a log leaf and is recorded; a request already decided is refused by name.
pub async fn decide(app: &App, actor: &Actor, inputs: &[DecisionInput]) -> AppResult<Vec<ConfirmationRecord>> {
    audit::guard(app, actor, Permission::DecideConfirmation, "confirmation.decide", OBJECT, "").await?;
    let result = decide_checked(app, actor, inputs).await;
    if let Err(e) = &result {
        let first = inputs.first().map(|i| i.confirmation_id.as_str()).unwrap_or("");
        audit::refused(app, actor, "confirmation.decide", OBJECT, first, &format!("{}: {}", e.code, e.en)).await;
    }
    result
}

async fn decide_checked(app: &App, actor: &Actor, inputs: &[DecisionInput]) -> AppResult<Vec<ConfirmationRecord>> {
    batch_size_checked("decisions", inputs.len())?;
    let mut tx = app.db.begin_write().await?;
    let (key, signer, public) = signing_parts(app, &mut tx, actor).await?;
    let mut seen = HashSet::new();
    let mut decided = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let field = format!("decisions[{i}]");
        let named = |e: AppError| AppError { field: Some(field.clone()), ..e };
        if !seen.insert(input.confirmation_id.as_str()) {
            return Err(named(AppError::invalid(
                &field,
                "duplicate",
                "The same request is named twice",
                "同一确权申请出现了两次",
            )));
        }
        let mut c = store::get(&mut tx, &party(actor), &input.confirmation_id).await.map_err(|e| match e {
            StoreError::NotFound => named(not_found()),
            other => other.into(),
        })?;
        if c.debtor_org_id != actor.org_id {
            return Err(named(AppError::new(
                ErrorKind::Forbidden,
                "not_the_debtor",
                "Only the debtor confirms or rejects a receivable",
                "只有债务人可以确认或拒绝应收账款",
            )));
        }
        if c.status != ConfirmationStatus::Requested {
            return Err(named(already_decided()));
        }
        let reason = reason_checked(&format!("{field}.reason"), input.reason.as_deref())?;
        if input.decision == Decision::Reject && reason.is_none() {
            return Err(AppError::invalid(
                &format!("{field}.reason"),
                "reason_required",
                "A rejection needs a reason the creditor can act on",
                "拒绝确权须填写理由，便于债权人处理",
            ));
        }
        let signing = Signing { key: &key, signer: signer.as_ref(), public: &public };
        sign_decision(
            &mut tx,
            &signing,
            &mut c,
            input.decision,
            input.signature_hex.as_deref(),
            &field,
            actor.trail_name(),
        )
        .await?;
        c.reason = reason;
        if !store::decide(&mut tx, &c).await? {
            return Err(named(already_decided()));
        }
        decided.push(c);
    }
    let detail = decided.iter().map(|c| format!("{} {}", c.id, c.status.code())).collect::<Vec<_>>().join(", ");
    audit::ok_in(&mut tx, actor, "confirmation.decide", OBJECT, "batch", &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(decided)
}

/// The debtor's key as a decision is signed with it.
struct Signing<'a> {
    key: &'a OrgKeyRecord,
    /// The private key, when the platform holds it.
    signer: Option<&'a SigningKey>,
    public: &'a PublicKey,
}

/// Records `decision` on `c`: builds the statement, signs it (or checks the debtor's own signature),
/// appends the log leaf in the caller's transaction, and fills in the decision's fields.
async fn sign_decision(
    tx: &mut Conn,
    signing: &Signing<'_>,
    c: &mut ConfirmationRecord,
    decision: Decision,
    signature_hex: Option<&str>,
    field: &str,
    by: String,
) -> AppResult<()> {
    let (debtor_uscc, creditor_uscc) = parties_uscc(tx, c).await?;
    let text = statement_of(c, &debtor_uscc, &creditor_uscc, decision);
    let signature = sign_or_verify(signing.signer, signing.public, &text, signature_hex, field)?;
    let now = now_ms();
    let entry = serde_json::json!({
        "confirmation_id": c.id,
        "kind": c.kind.code(),
        "decision": decision.code(),
        "statement_sm3": crate::sm3_hex(text.as_bytes()),
        "statement": text,
        "signature": hex::encode(&signature),
        "public_key": signing.key.public_key_hex,
        "key_held_by": signing.key.held_by.code(),
        "requested_at_ms": c.requested_at_ms,
    });
    let parties = [c.creditor_org_id.as_str(), c.debtor_org_id.as_str()];
    let leaf = crate::log::append(tx, LeafKind::Confirmation, &c.id, &parties, &entry, now).await?;
    c.status = decision.status();
    c.decided_by = Some(by);
    c.decided_at_ms = Some(now);
    c.statement = Some(text);
    c.signature_hex = Some(hex::encode(&signature));
    c.public_key_hex = Some(signing.key.public_key_hex.clone());
    c.log_leaf_id = Some(i64::try_from(leaf).unwrap_or(i64::MAX));
    Ok(())
}

/// The debtor's key, ready to sign: the private key when the platform holds it.
async fn signing_parts(
    app: &App,
    tx: &mut Conn,
    actor: &Actor,
) -> AppResult<(OrgKeyRecord, Option<SigningKey>, PublicKey)> {
    let key = ensure_key(app, tx, &actor.org_id, &actor.trail_name()).await?;
    let signer = match key.held_by {
        KeyHolder::Platform => Some(open_private_key(app, &key)?),
        KeyHolder::Organisation => None,
    };
    let public = PublicKey::from_text(&key.public_key_hex)?;
    Ok((key, signer, public))
}

/// One payable the debtor confirms unasked; `signature_hex` as for a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayableInput {
    pub invoice_id: String,
    pub signature_hex: Option<String>,
}

/// The debtor uploads its payables, which confirms them (as on the central bank's platform): each is
/// checked, signed, a log leaf, in one transaction (all or none). A payable with a request pending is
/// refused by name: decide that request instead.
pub async fn confirm_payables(app: &App, actor: &Actor, inputs: &[PayableInput]) -> AppResult<Vec<ConfirmationRecord>> {
    audit::guard(app, actor, Permission::DecideConfirmation, "confirmation.payables", OBJECT, "").await?;
    let result = confirm_payables_checked(app, actor, inputs).await;
    if let Err(e) = &result {
        let first = inputs.first().map(|i| i.invoice_id.as_str()).unwrap_or("");
        audit::refused(app, actor, "confirmation.payables", "receivable", first, &format!("{}: {}", e.code, e.en))
            .await;
    }
    result
}

/// The statement a debtor holding its own key signs for a payable it confirms unasked: the row's id is
/// not known before, so the statement names the invoice instead (`confirmation_id` is the invoice id).
pub async fn payable_statement(app: &App, actor: &Actor, invoice_id: &str) -> AppResult<String> {
    policy::require(actor, Permission::DecideConfirmation)?;
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    let me = lianrong_store::org::get(&mut conn, &actor.org_id).await?;
    let asked = check_receivable(&mut conn, &me.uscc, &scope, "invoice_id", invoice_id, Acting::Debtor).await?;
    let c = payable_row(asked, "", "", 0);
    let (debtor, creditor) = parties_uscc(&mut conn, &c).await?;
    Ok(statement_of(&c, &debtor, &creditor, Decision::Confirm))
}

/// A debtor-upload row: its id is the invoice's, so the statement can be known before it is made.
fn payable_row(asked: Asked, batch_id: &str, by: &str, now: i64) -> ConfirmationRecord {
    ConfirmationRecord {
        id: asked.invoice_id.clone(),
        invoice_id: asked.invoice_id,
        invoice_no: asked.invoice_no,
        creditor_org_id: asked.creditor_org_id,
        debtor_org_id: asked.debtor_org_id,
        batch_id: batch_id.to_string(),
        kind: ConfirmationKind::DebtorUpload,
        subject: ConfirmationSubject::Receivable,
        status: ConfirmationStatus::Requested,
        amount_fen: asked.amount_fen,
        due_date: asked.due_date,
        requested_by: by.to_string(),
        requested_at_ms: now,
        decided_by: None,
        decided_at_ms: None,
        reason: None,
        statement: None,
        signature_hex: None,
        public_key_hex: None,
        log_leaf_id: None,
        content_sm3: Some(asked.content_sm3),
        invoice_code: Some(asked.invoice_code),
    }
}

async fn confirm_payables_checked(
    app: &App,
    actor: &Actor,
    inputs: &[PayableInput],
) -> AppResult<Vec<ConfirmationRecord>> {
    batch_size_checked("payables", inputs.len())?;
    let scope = crate::trade::scope(app, actor).await?;
    let mut tx = app.db.begin_write().await?;
    let me = lianrong_store::org::get(&mut tx, &actor.org_id).await?;
    let (key, signer, public) = signing_parts(app, &mut tx, actor).await?;
    let signing = Signing { key: &key, signer: signer.as_ref(), public: &public };
    let (batch_id, by) = (new_id(), actor.trail_name());
    let mut seen = HashSet::new();
    let mut made = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let field = format!("payables[{i}]");
        if !seen.insert(input.invoice_id.as_str()) {
            return Err(AppError::invalid(
                &field,
                "duplicate",
                "The same payable is named twice",
                "同一笔应付账款出现了两次",
            ));
        }
        let asked = check_receivable(&mut tx, &me.uscc, &scope, &field, &input.invoice_id, Acting::Debtor).await?;
        let mut c = payable_row(asked, &batch_id, &by, now_ms());
        let live = store::for_invoices(&mut tx, std::slice::from_ref(&input.invoice_id)).await?;
        if let Some(l) =
            live.iter().find(|l| matches!(l.status, ConfirmationStatus::Requested | ConfirmationStatus::Confirmed))
        {
            return Err(already(&field, Some(l)));
        }
        // A payable confirmed, later released by a rejection and uploaded again needs a fresh row id.
        if live.iter().any(|l| l.id == c.id) {
            c.id = new_id();
        }
        sign_decision(&mut tx, &signing, &mut c, Decision::Confirm, input.signature_hex.as_deref(), &field, by.clone())
            .await?;
        store::insert(&mut tx, &c).await.map_err(|e| match e {
            StoreError::Conflict { .. } => already(&field, None),
            other => other.into(),
        })?;
        made.push(c);
    }
    let detail = format!("batch {batch_id}: {} payable(s) confirmed", made.len());
    audit::ok_in(&mut tx, actor, "confirmation.payables", OBJECT, &batch_id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(made)
}

/// Signs with the platform-held key, or checks the organisation's own signature over the statement.
fn sign_or_verify(
    signer: Option<&SigningKey>,
    public: &PublicKey,
    statement: &str,
    supplied_hex: Option<&str>,
    field: &str,
) -> AppResult<Vec<u8>> {
    let field = format!("{field}.signature");
    match (signer, supplied_hex.map(str::trim).filter(|s| !s.is_empty())) {
        (Some(key), None) => {
            let signature: Signature = key.sign(statement.as_bytes());
            Ok(signature.to_bytes().to_vec())
        }
        (Some(_), Some(_)) => Err(AppError::invalid(
            &field,
            "signature_not_expected",
            "The platform holds your key and signs for you; send no signature",
            "您的签名密钥由平台托管并代为签名，请勿另附签名",
        )),
        (None, None) => Err(AppError::invalid(
            &field,
            "signature_required",
            "Your organisation holds its own key: sign the statement (GET …/statement) and send the signature",
            "贵机构自持签名密钥：请对确权声明（GET …/statement）签名后提交签名",
        )),
        (None, Some(text)) => {
            let bad = || {
                AppError::invalid(
                    &field,
                    "bad_signature",
                    "The SM2 signature does not verify with your organisation's public key",
                    "SM2签名无法用贵机构的公钥验证",
                )
            };
            let bytes = hex::decode(text).map_err(|_| bad())?;
            let signature = Signature::from_slice(&bytes).map_err(|_| bad())?;
            public.verifying_key().verify(statement.as_bytes(), &signature).map_err(|_| bad())?;
            Ok(bytes)
        }
    }
}

/// Checks a decided request's signature against the public key recorded with it (what a bank does).
pub fn verify_recorded(c: &ConfirmationRecord) -> AppResult<()> {
    let bad = || {
        AppError::invalid("signature", "bad_signature", "The recorded signature does not verify", "记录的签名无法验证")
    };
    let (Some(statement), Some(sig), Some(key)) = (&c.statement, &c.signature_hex, &c.public_key_hex) else {
        return Err(bad());
    };
    let public = PublicKey::from_text(key)?;
    let signature = Signature::from_slice(&hex::decode(sig).map_err(|_| bad())?).map_err(|_| bad())?;
    public.verifying_key().verify(statement.as_bytes(), &signature).map_err(|_| bad())
}

// ---------------------------------------------------------------------------------------------------
// Reading

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<ConfirmationRecord> {
    policy::require(actor, Permission::ReadTrade)?;
    let mut conn = app.db.acquire().await?;
    store::get(&mut conn, &party(actor), id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })
}

pub fn parse_role(role: Option<&str>) -> AppResult<Role> {
    match role.unwrap_or("both") {
        "sent" | "creditor" => Ok(Role::Sent),
        "received" | "debtor" => Ok(Role::Received),
        "both" | "" => Ok(Role::Both),
        other => Err(AppError::invalid(
            "role",
            "role_unknown",
            format!("role must be sent, received or both, not '{}'", other.chars().take(20).collect::<String>()),
            "role 须为 sent（我发起的）、received（待我确权的）或 both",
        )),
    }
}

pub async fn list(
    app: &App,
    actor: &Actor,
    role: Role,
    filter: &ConfirmationFilter,
    page: PageRequest,
) -> AppResult<Page<ConfirmationRecord>> {
    policy::require(actor, Permission::ReadTrade)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::list(&mut conn, &party(actor), role, filter, page).await?)
}

/// How long debtors take to confirm: decided requests' waits and what is still pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeToConfirm {
    /// The debtor these figures are for; `None` for the whole platform.
    pub debtor_org_id: Option<String>,
    pub figures: WaitFigures,
    pub pending: i64,
    /// How long the oldest pending request has waited.
    pub oldest_pending_ms: Option<i64>,
}

/// The time to confirm of the caller as debtor; the operator and regulator see the whole platform, or
/// one debtor's when they name it.
pub async fn time_to_confirm(app: &App, actor: &Actor, debtor_org_id: Option<&str>) -> AppResult<TimeToConfirm> {
    policy::require(actor, Permission::ReadTrade)?;
    let debtor = if actor.sees_everything() || actor.system {
        debtor_org_id.map(str::to_string)
    } else {
        Some(actor.org_id.clone())
    };
    let mut conn = app.db.acquire().await?;
    let waits = store::decided_waits(&mut conn, debtor.as_deref()).await?;
    let (pending, oldest) = store::pending(&mut conn, debtor.as_deref()).await?;
    Ok(TimeToConfirm {
        debtor_org_id: debtor,
        figures: domain::wait_figures(&waits),
        pending,
        oldest_pending_ms: oldest.map(|t| (now_ms() - t).max(0)),
    })
}

/// Where one trade record (an invoice or an order) stands with its debtor, for a caller who may see it.
pub async fn state_of(app: &App, actor: &Actor, record_id: &str) -> AppResult<Option<ConfirmationState>> {
    policy::require(actor, Permission::ReadTrade)?;
    let scope = crate::trade::scope(app, actor).await?;
    let mut conn = app.db.acquire().await?;
    lianrong_store::trade::get(&mut conn, &scope, record_id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("Trade record", "贸易记录"),
        other => other.into(),
    })?;
    Ok(states(&mut conn, &[record_id.to_string()]).await?.remove(record_id))
}

/// A receivable's standing with its debtor, as the receivables view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationState {
    pub status: ConfirmationStatus,
    pub source: Option<ConfirmationSource>,
    pub confirmation_id: Option<String>,
    pub decided_at_ms: Option<i64>,
    /// The amount the debtor confirmed (or the platform's result names), when it names one.
    pub amount_fen: Option<i64>,
}

/// The confirmation state of each of these invoices that has one: a live request or the debtor's own
/// decision here (signed on request, or by its payables upload, or a rejection), else a result imported
/// from the central bank's platform (by the debtor or the operator), else the latest withdrawn request.
/// An imported result never overrides what the debtor decided on this platform.
pub async fn states(conn: &mut Conn, invoice_ids: &[String]) -> AppResult<HashMap<String, ConfirmationState>> {
    let mut out: HashMap<String, ConfirmationState> = HashMap::new();
    let live = |s: ConfirmationStatus| matches!(s, ConfirmationStatus::Requested | ConfirmationStatus::Confirmed);
    // Oldest first, so a later request replaces an earlier one, but a closed request never replaces a
    // live one (there is at most one live request per receivable).
    for c in store::for_invoices(conn, invoice_ids).await? {
        if out.get(&c.invoice_id).is_some_and(|e| live(e.status) && !live(c.status)) {
            continue;
        }
        let source = match (c.status, c.kind) {
            (ConfirmationStatus::Confirmed, ConfirmationKind::Request) => Some(ConfirmationSource::Signed),
            (ConfirmationStatus::Confirmed, ConfirmationKind::DebtorUpload) => Some(ConfirmationSource::DebtorUpload),
            _ => None,
        };
        let state = ConfirmationState {
            status: c.status,
            source,
            confirmation_id: Some(c.id.clone()),
            decided_at_ms: c.decided_at_ms,
            amount_fen: Some(c.amount_fen),
        };
        out.insert(c.invoice_id.clone(), state);
    }
    // A result imported from the central bank's platform (中征平台) stands where nothing live, and no
    // decision of the debtor's, does here.
    let stands = |s: ConfirmationStatus| live(s) || s == ConfirmationStatus::Rejected;
    for e in lianrong_store::registration::external_confirmations(conn, invoice_ids).await? {
        if out.get(&e.invoice_id).is_some_and(|s| stands(s.status)) {
            continue;
        }
        let status = if e.confirmed { ConfirmationStatus::Confirmed } else { ConfirmationStatus::Rejected };
        let state = ConfirmationState {
            status,
            source: e.confirmed.then_some(ConfirmationSource::Crcrfsp),
            confirmation_id: None,
            decided_at_ms: Some(e.imported_at_ms),
            amount_fen: e.amount_fen,
        };
        out.insert(e.invoice_id.clone(), state);
    }
    Ok(out)
}
