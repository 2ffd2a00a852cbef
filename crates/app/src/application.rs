//! Financing applications (融资申请). A supplier applies with receivables it is owed or
//! a commitment part it holds, at one or several banks, granting each bank consent to read its data for
//! this application. An automatic pre-check runs before anyone looks; a bank's officer reviews in the
//! data room, a second approver signs above the threshold, and every decision carries its reason
//! (mandatory on rejection). The bank's service time is counted in working days.
//!
//! Double financing is refused before an application exists: a registered receivable, one backing a
//! commitment, or one claimed by another open application cannot be applied with.

use jiff::civil::Date;
use lianrong_domain::application::{
    self as rules, ApplicationState, Finding, OFFERS_MAX, OfferState, PrecheckFacts, REASON_CHARS_MAX, Subject,
};
use lianrong_domain::commitment::PartState;
use lianrong_domain::four_flow::VerificationStatus;
use lianrong_domain::org::OrgKind;
use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::product::{Evidence, Facts as ProductFacts, ProductState};
use lianrong_store::application::{self as store, ApplicationRow, ApplicationScope};
use lianrong_store::chain::ChainScope;
use lianrong_store::{Conn, StoreError};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms};

/// The app's read views of banks' offers: plain data, decoded in the store; the API and console show them.
pub use lianrong_store::application::{OfferRow, findings_json};

const OBJECT: &str = "application";

fn not_found() -> AppError {
    AppError::not_found("Financing application", "融资申请")
}

fn scope(actor: &Actor) -> ApplicationScope {
    if actor.sees_everything() || actor.system {
        ApplicationScope::All
    } else {
        ApplicationScope::Party { org_id: actor.org_id.clone() }
    }
}

// ---------------------------------------------------------------------------------------------------
// Applying

/// One bank chosen, with the product applied for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOffer {
    pub bank_org_id: String,
    pub product_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    /// receivables or commitment_part.
    pub subject: String,
    pub invoice_ids: Vec<String>,
    pub commitment_id: Option<String>,
    pub part_id: Option<String>,
    /// Order financing: the purchase order (a trade record id) the applicant sold under.
    pub order_id: Option<String>,
    pub amount_fen: i64,
    pub term_days: i64,
    pub purpose: String,
    pub offers: Vec<NewOffer>,
    /// Until when each chosen bank may read the applicant's receivables and verified trade totals.
    pub consent_until: String,
}

/// An application with its offers, as one party sees it (a bank sees only its own offer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationView {
    pub application: ApplicationRow,
    pub offers: Vec<OfferRow>,
    pub applicant_name: String,
}

/// What the subject is worth and proves, gathered once for every bank's pre-check.
struct SubjectFacts {
    /// What the subject supports before the advance ratio (outstanding receivables, or the part).
    base_fen: i64,
    confirmed: bool,
    data_verified: bool,
    unverified: Vec<String>,
    sme_breaches: Vec<(String, i64)>,
    term_days_max: Option<i64>,
}

pub async fn apply(app: &App, actor: &Actor, new: &NewApplication) -> AppResult<ApplicationView> {
    const ACTION: &str = "application.apply";
    audit::run(app, actor, Permission::ApplyFinancing, ACTION, OBJECT, "", apply_checked(app, actor, new)).await
}

fn check_shape(new: &NewApplication) -> AppResult<Subject> {
    let subject = Subject::parse(&new.subject)?;
    if new.offers.is_empty() || new.offers.len() > OFFERS_MAX {
        return Err(AppError::invalid(
            "offers",
            "offer_count",
            format!("Choose 1 to {OFFERS_MAX} banks"),
            format!("请选择1至{OFFERS_MAX}家银行"),
        ));
    }
    let mut banks: Vec<&str> = new.offers.iter().map(|o| o.bank_org_id.as_str()).collect();
    banks.sort();
    banks.dedup();
    if banks.len() != new.offers.len() {
        return Err(AppError::invalid("offers", "bank_twice", "Each bank once", "每家银行只能选择一次"));
    }
    if subject == Subject::CommitmentPart && new.offers.len() != 1 {
        return Err(AppError::invalid(
            "offers",
            "one_bank_per_part",
            "A commitment part is discounted at one bank at a time",
            "债权凭证份额一次只能向一家银行申请贴现",
        ));
    }
    if new.amount_fen <= 0 {
        return Err(AppError::invalid(
            "amount_fen",
            "amount_not_positive",
            "The amount must be positive",
            "金额须为正数",
        ));
    }
    if !(1..=lianrong_domain::loan::TERM_DAYS_MAX).contains(&new.term_days) {
        return Err(AppError::invalid(
            "term_days",
            "term_out_of_bounds",
            format!("The term is 1 to {} days", lianrong_domain::loan::TERM_DAYS_MAX),
            format!("期限须为1至{}天", lianrong_domain::loan::TERM_DAYS_MAX),
        ));
    }
    lianrong_domain::text::bounded("purpose", &new.purpose, REASON_CHARS_MAX)?;
    Ok(subject)
}

async fn apply_checked(app: &App, actor: &Actor, new: &NewApplication) -> AppResult<ApplicationView> {
    let subject = check_shape(new)?;
    let purpose = lianrong_domain::text::bounded("purpose", &new.purpose, REASON_CHARS_MAX)?;
    let mut invoice_ids = new.invoice_ids.clone();
    invoice_ids.sort();
    invoice_ids.dedup();
    let facts = match subject {
        Subject::Receivables => receivable_facts(app, actor, &invoice_ids).await?,
        Subject::CommitmentPart => part_facts(app, actor, new).await?,
        Subject::Order => order_facts(app, actor, new.order_id.as_deref()).await?,
    };
    check_claims_of_subject(app, subject, new).await?;
    // What the application claims while it is open: its invoices, or its order.
    let claimed: Vec<String> = match subject {
        Subject::Order => new.order_id.iter().cloned().collect(),
        _ => invoice_ids.clone(),
    };
    let (chain_id, tier) = membership(app, &actor.org_id).await?;
    // Each bank's pre-check, before anything is written.
    let id = new_id();
    let applicant = Applicant { subject, facts: &facts, chain_id: chain_id.clone(), tier };
    let mut offers = Vec::with_capacity(new.offers.len());
    for (n, o) in new.offers.iter().enumerate() {
        offers.push(precheck_offer(app, actor, &id, new, &applicant, n, o).await?);
    }
    let any_open = offers.iter().any(|o| o.state == OfferState::PendingReview);
    let row = ApplicationRow {
        id: id.clone(),
        applicant_org_id: actor.org_id.clone(),
        subject,
        invoice_ids: invoice_ids.clone(),
        commitment_id: new.commitment_id.clone(),
        part_id: new.part_id.clone(),
        order_id: new.order_id.clone().filter(|_| subject == Subject::Order),
        amount_fen: new.amount_fen,
        term_days: new.term_days,
        purpose: purpose.clone(),
        chain_id,
        tier,
        state: if any_open { ApplicationState::Open } else { ApplicationState::Closed },
        created_by: actor.trail_name(),
        created_at_ms: now_ms(),
    };
    write_application(app, actor, new, &row, &mut offers, &claimed).await?;
    get(app, actor, &id).await
}

/// Claimed invoices belong to the subject: a commitment part's own trade basis; an order claims none.
async fn check_claims_of_subject(app: &App, subject: Subject, new: &NewApplication) -> AppResult<()> {
    match subject {
        Subject::Receivables => {}
        Subject::CommitmentPart => {
            let (cid, part) = (new.commitment_id.as_deref().unwrap_or(""), new.part_id.as_deref().unwrap_or(""));
            let mut conn = app.db.acquire().await?;
            let basis = crate::commitment::trade_basis_of_part(&mut conn, cid, part).await?;
            if let Some(n) = new.invoice_ids.iter().position(|i| !basis.contains(i)) {
                return Err(invoice_not_of_subject(n));
            }
        }
        Subject::Order => {
            if !new.invoice_ids.is_empty() {
                return Err(invoice_not_of_subject(0));
            }
        }
    }
    Ok(())
}

/// What every bank's pre-check of one application shares.
struct Applicant<'a> {
    subject: Subject,
    facts: &'a SubjectFacts,
    chain_id: Option<String>,
    tier: Option<i64>,
}

/// One bank's offer as its product's pre-check finds it: pending review, or failed with its findings.
async fn precheck_offer(
    app: &App,
    actor: &Actor,
    id: &str,
    new: &NewApplication,
    applicant: &Applicant<'_>,
    n: usize,
    o: &NewOffer,
) -> AppResult<OfferRow> {
    let (subject, facts, chain_id, tier) = (applicant.subject, applicant.facts, &applicant.chain_id, applicant.tier);
    let field = format!("offers[{n}].product_id");
    let product = crate::product::get(app, actor, &o.product_id)
        .await
        .map_err(|e| AppError { field: Some(field.clone()), ..e })?;
    if product.row.bank_org_id != o.bank_org_id {
        return Err(AppError::invalid(
            &field,
            "product_not_of_bank",
            "The product is not one of that bank's",
            "该产品不属于所选银行",
        ));
    }
    let terms = &product.row.terms;
    let ineligibility = lianrong_domain::product::eligibility(
        terms,
        &ProductFacts {
            chain_id: chain_id.clone(),
            tier: tier.and_then(|t| u8::try_from(t).ok()),
            confirmed: facts.confirmed,
            data_verified: facts.data_verified,
            amount_fen: new.amount_fen,
            term_days: new.term_days,
        },
    );
    let findings = rules::precheck(&PrecheckFacts {
        subject,
        product_kind: terms.kind,
        product_published: product.row.state == ProductState::Published,
        ineligibility,
        // Data-only products need verified trade; a confirmed receivable stands on the core's word.
        unverified: if terms.evidence == Evidence::Confirmed && facts.confirmed {
            Vec::new()
        } else {
            facts.unverified.clone()
        },
        sme_breaches: facts.sme_breaches.clone(),
        amount_fen: new.amount_fen,
        advance_limit_fen: facts.base_fen.saturating_mul(terms.advance_ratio_bp) / 10_000,
    });
    let mut findings = findings;
    if let Some(max) = facts.term_days_max
        && new.term_days > max
    {
        findings.push(Finding {
            code: "term_beyond_maturity".into(),
            blocking: true,
            zh: format!("期限{}天，超过债权凭证剩余期限{max}天", new.term_days),
            en: format!("A {}-day term runs past the commitment's maturity ({max} days)", new.term_days),
        });
    }
    let blocking = findings.iter().any(|f| f.blocking);
    Ok(OfferRow {
        id: new_id(),
        application_id: id.to_string(),
        bank_org_id: o.bank_org_id.clone(),
        product_id: o.product_id.clone(),
        consent_id: None,
        state: if blocking { OfferState::PrecheckFailed } else { OfferState::PendingReview },
        findings,
        submitted_at_ms: now_ms(),
        approved_amount_fen: None,
        rate_bp: None,
        reason: None,
        first_approver: None,
        first_approver_user_id: None,
        first_approved_at_ms: None,
        second_approver: None,
        second_approver_user_id: None,
        decided_by: None,
        decided_at_ms: None,
        service_working_days: None,
    })
}

/// Writes an application in one transaction: the application, its claims, each bank's consent, the
/// discount hold and the offers commit together or not at all, so a failure half-way leaves nothing
/// pending at a bank.
async fn write_application(
    app: &App,
    actor: &Actor,
    new: &NewApplication,
    row: &ApplicationRow,
    offers: &mut [OfferRow],
    claimed: &[String],
) -> AppResult<()> {
    let (id, subject, purpose) = (&row.id, row.subject, &row.purpose);
    let any_open = offers.iter().any(|o| o.state == OfferState::PendingReview);
    let mut tx = app.db.begin_write().await?;
    store::insert(&mut tx, row).await?;
    if any_open && let Err(e) = store::claim(&mut tx, id, claimed).await {
        return Err(match e {
            StoreError::Conflict { .. } => already_applied(),
            other => other.into(),
        });
    }
    // The banks that will look get consent to read the applicant's data for this application.
    for o in offers.iter_mut().filter(|o| o.state == OfferState::PendingReview) {
        let consent = crate::consent::NewConsent {
            bank_org_id: o.bank_org_id.clone(),
            categories: vec!["receivables".into(), "trade_totals".into()],
            purpose: format!("融资申请 {id}：{purpose}"),
            application_id: Some(id.clone()),
            valid_until: new.consent_until.clone(),
        };
        let granted = crate::consent::grant_in(&mut tx, app.today(), actor, &consent)
            .await
            .map_err(|e| AppError { field: Some("consent_until".into()), ..e })?;
        o.consent_id = Some(granted.id);
    }
    // A commitment part is held pending at the bank while the bank decides, so it cannot be spent meanwhile.
    if subject == Subject::CommitmentPart
        && any_open
        && let (Some(cid), Some(part)) = (&new.commitment_id, &new.part_id)
    {
        let op = crate::commitment::Operation::Discount {
            part_id: part.clone(),
            bank_org_id: new.offers[0].bank_org_id.clone(),
            amount_fen: new.amount_fen,
        };
        crate::commitment::operate_in(&mut tx, app.today(), actor, cid, &discount_id(id), &op).await?;
    }
    for o in offers.iter() {
        store::insert_offer(&mut tx, o).await?;
    }
    let detail = format!("{} {} fen at {} bank(s)", subject.code(), row.amount_fen, offers.len());
    audit::ok_in(&mut tx, actor, "application.apply", OBJECT, id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The transfer id of the discount an application holds pending at its bank.
pub fn discount_id(application_id: &str) -> String {
    format!("app-{application_id}")
}

fn invoice_not_of_subject(n: usize) -> AppError {
    AppError::invalid(
        &format!("invoice_ids[{n}]"),
        "invoice_not_of_subject",
        "An application claims only the trade it finances: for a commitment part, the invoices that part pays",
        "融资申请只能占用其所融资的贸易：债权凭证份额只能占用该份额所对应的发票",
    )
}

fn already_applied() -> AppError {
    AppError::conflict(
        "already_applied",
        "A receivable (or the order) of this application is already in another open application",
        "该应收账款（或订单）已在另一笔未结的融资申请中，不能重复申请",
    )
}

/// The applicant's chain and tier (its first membership as a supplier), for the product's rules.
async fn membership(app: &App, org_id: &str) -> AppResult<(Option<String>, Option<i64>)> {
    let mut conn = app.db.acquire().await?;
    let m = lianrong_store::chain::memberships(&mut conn, &ChainScope::All, org_id).await?;
    let first = m.into_iter().find(|m| m.role == lianrong_domain::chain::MemberRole::Supplier);
    Ok(first.map_or((None, None), |m| (Some(m.chain.id), m.tier)))
}

async fn receivable_facts(app: &App, actor: &Actor, invoice_ids: &[String]) -> AppResult<SubjectFacts> {
    if invoice_ids.is_empty() || invoice_ids.len() > rules::INVOICES_MAX {
        return Err(AppError::invalid(
            "invoice_ids",
            "invoice_count",
            format!("Name 1 to {} receivables", rules::INVOICES_MAX),
            format!("请选择1至{}笔应收账款", rules::INVOICES_MAX),
        ));
    }
    let mut f = SubjectFacts {
        base_fen: 0,
        confirmed: true,
        data_verified: true,
        unverified: Vec::new(),
        sme_breaches: Vec::new(),
        term_days_max: None,
    };
    let me = {
        let mut conn = app.db.acquire().await?;
        lianrong_store::org::get(&mut conn, &actor.org_id).await?
    };
    for (n, id) in invoice_ids.iter().enumerate() {
        let field = format!("invoice_ids[{n}]");
        let r =
            crate::receivable::get(app, actor, id).await.map_err(|e| AppError { field: Some(field.clone()), ..e })?;
        if r.verdict.seller_uscc != me.uscc {
            return Err(AppError::invalid(
                &field,
                "not_your_receivable",
                "Only the creditor applies with a receivable",
                "只有债权人可以凭应收账款申请融资",
            ));
        }
        if r.verdict.outstanding_fen <= 0 {
            return Err(AppError::invalid(
                &field,
                "nothing_outstanding",
                format!("Invoice {id} has nothing outstanding"),
                format!("发票 {id} 已无未收金额"),
            ));
        }
        if let Some(reference) = &r.registration_reference {
            return Err(AppError::conflict(
                "already_registered",
                format!("Invoice {id} is registered as financed ({reference}): it cannot be financed twice"),
                format!("发票 {id} 已登记融资（{reference}），不能重复融资"),
            )
            .with_reference(reference));
        }
        let mut conn = app.db.acquire().await?;
        if let Some((_, commitment)) =
            lianrong_store::commitment::backing_of(&mut conn, std::slice::from_ref(id)).await?.into_iter().next()
        {
            return Err(AppError::conflict(
                "backs_commitment",
                format!("Invoice {id} backs payment commitment {commitment}; it is financed through that commitment"),
                format!("发票 {id} 已作为债权凭证 {commitment} 的开立依据，应通过该凭证融资"),
            )
            .with_reference(&commitment));
        }
        if store::claimant(&mut conn, id).await?.is_some() {
            return Err(already_applied());
        }
        // Never more than the debtor confirmed, when it confirmed the receivable.
        f.base_fen = f.base_fen.saturating_add(r.financeable_fen());
        f.confirmed &= r.confirmed();
        f.data_verified &= r.data_only_eligible();
        if r.verdict.status != VerificationStatus::Verified.code() {
            f.unverified.push(id.clone());
        }
        if let Some(days) = r.sme_breach_days {
            f.sme_breaches.push((id.clone(), days));
        }
    }
    Ok(f)
}

/// Order financing: a purchase order the applicant sold under, vouched for by its buyer (订单确真) when
/// the product asks for confirmed evidence; the order's total is what it supports.
async fn order_facts(app: &App, actor: &Actor, order_id: Option<&str>) -> AppResult<SubjectFacts> {
    let Some(order_id) = order_id.map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(AppError::invalid("order_id", "field_required", "Name the purchase order", "请指明订单"));
    };
    let order = crate::trade::get(app, actor, order_id)
        .await
        .map_err(|e| AppError { field: Some("order_id".into()), ..e })?
        .row;
    let me = {
        let mut conn = app.db.acquire().await?;
        lianrong_store::org::get(&mut conn, &actor.org_id).await?
    };
    if order.record_type != "order" || order.seller_uscc != me.uscc {
        return Err(AppError::invalid(
            "order_id",
            "not_your_order",
            "Order financing is applied for by the seller of a purchase order",
            "订单融资须由订单的卖方申请",
        ));
    }
    {
        let mut conn = app.db.acquire().await?;
        if store::claimant(&mut conn, order_id).await?.is_some() {
            return Err(already_applied());
        }
    }
    let vouched = crate::confirmation::state_of(app, actor, order_id)
        .await?
        .is_some_and(|c| c.status == lianrong_domain::confirmation::ConfirmationStatus::Confirmed);
    Ok(SubjectFacts {
        base_fen: order.total_fen,
        confirmed: vouched,
        data_verified: false,
        unverified: Vec::new(),
        sme_breaches: Vec::new(),
        term_days_max: None,
    })
}

async fn part_facts(app: &App, actor: &Actor, new: &NewApplication) -> AppResult<SubjectFacts> {
    let (Some(cid), Some(part_id)) = (&new.commitment_id, &new.part_id) else {
        return Err(AppError::invalid(
            "part_id",
            "field_required",
            "Name the commitment and the part you hold",
            "请指明债权凭证及您持有的份额",
        ));
    };
    let view = crate::commitment::get(app, actor, cid).await?;
    let part = view
        .parts
        .iter()
        .find(|p| &p.id == part_id && p.holder == actor.org_id && p.state == PartState::Held)
        .ok_or_else(|| {
        AppError::invalid(
            "part_id",
            "part_not_held",
            format!("You hold no part {part_id}"),
            format!("您未持有份额 {part_id}"),
        )
    })?;
    let maturity = view.commitment.maturity_date;
    Ok(SubjectFacts {
        base_fen: part.amount_fen,
        // A commitment is the core's confirmed promise to pay.
        confirmed: true,
        data_verified: false,
        unverified: Vec::new(),
        sme_breaches: Vec::new(),
        term_days_max: Some(lianrong_domain::loan::days_between(app.today(), maturity)),
    })
}

// ---------------------------------------------------------------------------------------------------
// Reading

async fn view_of(conn: &mut Conn, actor: &Actor, row: ApplicationRow) -> AppResult<ApplicationView> {
    let mut offers = store::offers(conn, &row.id).await?;
    // A bank sees its own offer, never its competitors'.
    if actor.org_kind == OrgKind::Bank && !(actor.sees_everything() || actor.system) {
        offers.retain(|o| o.bank_org_id == actor.org_id);
    }
    let applicant_name = lianrong_store::org::get(conn, &row.applicant_org_id).await?.name;
    Ok(ApplicationView { application: row, offers, applicant_name })
}

pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<ApplicationView> {
    policy::require(actor, Permission::ReadApplications)?;
    let mut conn = app.db.acquire().await?;
    let row = store::get_scoped(&mut conn, &scope(actor), id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    view_of(&mut conn, actor, row).await
}

pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<ApplicationView>> {
    policy::require(actor, Permission::ReadApplications)?;
    let mut conn = app.db.acquire().await?;
    let rows = store::list(&mut conn, &scope(actor), page).await?;
    let mut items = Vec::with_capacity(rows.items.len());
    for r in rows.items {
        items.push(view_of(&mut conn, actor, r).await?);
    }
    Ok(Page { items, page: rows.page, page_size: rows.page_size, total: rows.total })
}

// ---------------------------------------------------------------------------------------------------
// Deciding

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub approve: bool,
    /// Approved amount (default: what was asked), at most what was asked.
    pub amount_fen: Option<i64>,
    /// Annual rate in basis points, within the product's range (required to approve).
    pub rate_bp: Option<i64>,
    pub reason: String,
}

/// The bank's offer of an application, if the caller's bank has one.
async fn own_offer(
    conn: &mut Conn,
    actor: &Actor,
    application_id: &str,
    offer_id: &str,
) -> AppResult<(ApplicationRow, OfferRow)> {
    let offer = store::offer(conn, offer_id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    if offer.application_id != application_id || offer.bank_org_id != actor.org_id {
        return Err(not_found());
    }
    Ok((store::get(conn, application_id).await?, offer))
}

/// An officer decides an offer; above the threshold an approval waits for a second approver, who must
/// be another person holding the approver role.
pub async fn decide(
    app: &App,
    actor: &Actor,
    application_id: &str,
    offer_id: &str,
    d: &Decision,
) -> AppResult<ApplicationView> {
    const ACTION: &str = "application.decide";
    audit::run(
        app,
        actor,
        Permission::DecideFinancing,
        ACTION,
        OBJECT,
        application_id,
        decide_checked(app, actor, application_id, offer_id, d),
    )
    .await
}

async fn decide_checked(
    app: &App,
    actor: &Actor,
    application_id: &str,
    offer_id: &str,
    d: &Decision,
) -> AppResult<ApplicationView> {
    let reason = d.reason.trim().to_string();
    if reason.chars().count() > REASON_CHARS_MAX {
        return Err(AppError::invalid(
            "reason",
            "reason_too_long",
            format!("At most {REASON_CHARS_MAX} characters"),
            format!("理由最多{REASON_CHARS_MAX}字"),
        ));
    }
    if !d.approve && reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "reason_required",
            "A rejection must give its reason",
            "拒绝须说明理由",
        ));
    }
    let now = now_ms();
    let mut tx = app.db.begin_write().await?;
    let (application, offer) = own_offer(&mut tx, actor, application_id, offer_id).await?;
    let product =
        lianrong_store::product::get(&mut tx, &lianrong_store::product::ProductScope::All, &offer.product_id).await?;
    let mut next = offer.clone();
    let me = actor.trail_name();
    let decided = |next: &mut OfferRow, state: OfferState| {
        next.state = state;
        next.decided_by = Some(me.clone());
        next.decided_at_ms = Some(now);
        let from = app.date_at(offer.submitted_at_ms);
        next.service_working_days = Some(rules::working_days(from, app.today()));
        next.reason = Some(reason.clone()).filter(|r| !r.is_empty());
    };
    match (offer.state, d.approve) {
        (OfferState::PendingReview | OfferState::AwaitingSecond, false) => decided(&mut next, OfferState::Rejected),
        (OfferState::PendingReview, true) => {
            let amount = d.amount_fen.unwrap_or(application.amount_fen);
            if amount <= 0 || amount > application.amount_fen {
                return Err(AppError::invalid(
                    "amount_fen",
                    "amount_out_of_bounds",
                    "The approved amount is positive and at most what was asked",
                    "批准金额须为正数且不超过申请金额",
                ));
            }
            let rate = d.rate_bp.ok_or_else(|| {
                AppError::invalid("rate_bp", "rate_required", "Approving sets the annual rate", "批准须确定年利率")
            })?;
            let terms = &product.terms;
            if rate < terms.rate_min_bp || rate > terms.rate_max_bp {
                return Err(AppError::invalid(
                    "rate_bp",
                    "rate_out_of_range",
                    format!("The product's rates run from {} to {} bp", terms.rate_min_bp, terms.rate_max_bp),
                    format!("利率须在产品的{}至{}个基点之间", terms.rate_min_bp, terms.rate_max_bp),
                ));
            }
            next.approved_amount_fen = Some(amount);
            next.rate_bp = Some(rate);
            next.first_approver = Some(me.clone());
            next.first_approver_user_id = actor.user_id.clone();
            next.first_approved_at_ms = Some(now);
            if rules::needs_second_approver(amount) {
                next.state = OfferState::AwaitingSecond;
                next.reason = Some(reason.clone()).filter(|r| !r.is_empty());
            } else {
                decided(&mut next, OfferState::Approved);
            }
        }
        (OfferState::AwaitingSecond, true) => {
            let first = offer.first_approver_user_id.as_deref();
            crate::user::second_approver_checked(&mut tx, actor, first, offer.submitted_at_ms).await?;
            next.second_approver = Some(me.clone());
            next.second_approver_user_id = actor.user_id.clone();
            decided(&mut next, OfferState::Approved);
        }
        (state, _) => {
            return Err(AppError::conflict(
                "offer_not_open",
                format!("This offer is {} and cannot be decided now", state.label_en()),
                format!("该申请当前状态为「{}」，不能再作决定", state.label_zh()),
            ));
        }
    }
    if !store::update_offer(&mut tx, &next, offer.state).await? {
        return Err(AppError::conflict(
            "offer_changed",
            "Someone else acted on this offer first; reload",
            "该申请已被他人处理，请刷新",
        ));
    }
    if next.state == OfferState::Rejected {
        close_if_done(&mut tx, actor, &application, app.today(), now).await?;
    }
    let detail = format!("{} offer {} ({})", next.state.code(), offer.id, reason);
    audit::ok_in(&mut tx, actor, "application.decide", OBJECT, application_id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    get(app, actor, application_id).await
}

/// Once no offer is open, the application closes: its claims are freed and a held commitment part
/// returns to its holder.
async fn close_if_done(
    conn: &mut Conn,
    actor: &Actor,
    application: &ApplicationRow,
    today: Date,
    now: i64,
) -> AppResult<()> {
    let offers = store::offers(conn, &application.id).await?;
    if offers.iter().any(|o| o.state.is_open() || o.state == OfferState::Disbursed) {
        return Ok(());
    }
    store::release_claims(conn, &application.id).await?;
    store::set_state(conn, &application.id, ApplicationState::Closed).await?;
    if application.subject == Subject::CommitmentPart
        && let Some(cid) = &application.commitment_id
    {
        crate::commitment::decide_discount_in(conn, actor, cid, &discount_id(&application.id), false, today, now)
            .await?;
    }
    Ok(())
}

/// Service time per bank: decisions made, median and slowest working days, and how many met the
/// city's goal of ten working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTime {
    pub bank_org_id: String,
    pub decided: i64,
    pub median_working_days: i64,
    pub max_working_days: i64,
    pub within_goal: i64,
}

pub async fn service_time(app: &App, actor: &Actor) -> AppResult<Vec<ServiceTime>> {
    policy::require(actor, Permission::ReadApplications)?;
    let bank = banks_seen(actor)?;
    let mut conn = app.db.acquire().await?;
    let rows = store::service_times(&mut conn, bank).await?;
    let mut out: Vec<ServiceTime> = Vec::new();
    let mut by_bank: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for (b, d) in rows {
        by_bank.entry(b).or_default().push(d);
    }
    for (bank_org_id, mut days) in by_bank {
        days.sort();
        out.push(ServiceTime {
            bank_org_id,
            decided: days.len() as i64,
            median_working_days: days[days.len() / 2],
            max_working_days: days.last().copied().unwrap_or(0),
            within_goal: days.iter().filter(|d| **d <= rules::SERVICE_GOAL_WORKING_DAYS).count() as i64,
        });
    }
    Ok(out)
}

/// Whose service a caller may watch: a bank its own (`Some`), the programme office every bank's (`None`);
/// nobody else, since an applicant must not learn how a bank works other applicants.
fn banks_seen(actor: &Actor) -> AppResult<Option<&str>> {
    if actor.sees_everything() || actor.system {
        Ok(None)
    } else if actor.org_kind == OrgKind::Bank {
        Ok(Some(actor.org_id.as_str()))
    } else {
        Err(AppError::forbidden(
            "Service times and queues are the banks' and the programme office's",
            "服务时效和待审队列仅向银行和运营机构开放",
        ))
    }
}

/// Used by disbursement: the offer must be approved and the caller's bank's.
pub(crate) async fn approved_offer(
    conn: &mut Conn,
    actor: &Actor,
    application_id: &str,
    offer_id: &str,
) -> AppResult<(ApplicationRow, OfferRow)> {
    let (application, offer) = own_offer(conn, actor, application_id, offer_id).await?;
    if offer.state != OfferState::Approved {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "offer_not_approved",
            format!("This offer is {}; only an approved offer is disbursed", offer.state.label_en()),
            format!("该申请当前状态为「{}」，只有已批准的申请可以放款", offer.state.label_zh()),
        ));
    }
    Ok((application, offer))
}

// ---------------------------------------------------------------------------------------------------
// A bank's queue and an applicant's applications with banks, for the home pages

/// The queue's rows, read in the store (plain data); the console shows them.
pub use lianrong_store::application::{QUEUE_SHOWN_MAX, QueueRow};

/// A waiting application is flagged this many working days after it reached the bank: two days before
/// the city's goal of [`rules::SERVICE_GOAL_WORKING_DAYS`], while there is still time to decide.
pub const QUEUE_WARNING_WORKING_DAYS: i64 = 8;

/// One offer waiting for a bank's decision, with how long it has waited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItem {
    pub row: QueueRow,
    /// The business date the application reached the bank.
    pub submitted_on: Date,
    /// Working days waited since then (the first day not counted), as the service goal counts them.
    pub working_days: i64,
}

impl QueueItem {
    /// At or past the warning mark: to decide before the goal is missed, or already missed.
    pub fn needs_attention(&self) -> bool {
        self.working_days >= QUEUE_WARNING_WORKING_DAYS
    }
}

/// A queue: the longest-waiting offers (at most [`QUEUE_SHOWN_MAX`]) and how many wait in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queue {
    pub items: Vec<QueueItem>,
    pub total: i64,
}

/// Offers waiting for a decision, the longest waiting first. A bank sees its own queue only, never
/// another bank's (which would tell it what its competitors are asked); the programme office
/// (operator, regulator) sees every bank's, the same reach as its service-time figures, so that it can
/// follow the city's ten-day goal. Cores and suppliers have no queue and are refused.
pub async fn queue(app: &App, actor: &Actor) -> AppResult<Queue> {
    policy::require(actor, Permission::ReadApplications)?;
    let bank = banks_seen(actor)?;
    let mut conn = app.db.acquire().await?;
    let (rows, total) = store::queue(&mut conn, bank).await?;
    let today = app.today();
    let items = rows
        .into_iter()
        .map(|row| {
            let submitted_on = app.date_at(row.submitted_at_ms);
            QueueItem { working_days: rules::working_days(submitted_on, today), submitted_on, row }
        })
        .collect();
    Ok(Queue { items, total })
}

/// The caller's applications that a bank still has to decide or pay out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WithBanks {
    pub applications: i64,
    pub asked_fen: i64,
}

/// How many of the caller's own applications are with banks (an offer under review, awaiting its second
/// approver, or approved and not yet paid out), and what they ask for.
pub async fn with_banks(app: &App, actor: &Actor) -> AppResult<WithBanks> {
    policy::require(actor, Permission::ReadApplications)?;
    let mut conn = app.db.acquire().await?;
    let (applications, asked_fen) = store::with_banks(&mut conn, &actor.org_id).await?;
    Ok(WithBanks { applications, asked_fen })
}
