//! One organisation cannot read or change another's data through any endpoint. The test walks every
//! operation in the OpenAPI document (and fails if one is added without being walked here) as users and
//! an API key of foreign organisations, then checks that the victim's data is unchanged.

use std::collections::BTreeSet;

use lianrong_app::Actor;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Api, PASSWORD, TestApp, code, spawn_app, ymd};

/// The victim organisation A and everything it owns.
struct Victim {
    org_id: String,
    uscc: String,
    name: String,
    clerk_id: String,
    key_id: String,
    chain_id: String,
    chain_name: String,
    entry_id: String,
    sender: String,
    submission_id: String,
    record_id: String,
    invoice_id: String,
    leaf_index: u64,
    leaf_id: u64,
    /// A's supplier's pending change of the receivable's repayment account.
    change_id: String,
    /// The supplier's request that A confirm the invoice, and A's signing key.
    confirmation_id: String,
    signing_key: String,
    registration_id: String,
    registration_reference: String,
    /// A's supply-chain credit line from its bank.
    line_id: String,
    /// A commitment A issued to its supplier on that line (its first part held by the supplier).
    commitment_id: String,
    /// A's financing application to its bank, the bank's offer, and the loan it made.
    application_id: String,
    offer_id: String,
    loan_id: String,
    /// A draft product of A's bank, seen by that bank alone.
    product_id: String,
    /// A's bank, and A's consent that it read A's receivables and raw records (read once).
    bank_id: String,
    consent_id: String,
}

/// In the console walk, the form field that stands for a file sent through the upload form.
const UPLOAD: &str = "__upload";

/// A's purchase order, shared with the lake by A; no one else may see it.
const VICTIM_ORDER_NO: &str = "PO-VICTIM-SECRET-0001";
/// A header only A's own column meanings know.
const VICTIM_HEADER: &str = "甲方专用客户编码列";
const VICTIM_INVOICE_NO: &str = "26500000000000000777";
/// What A's consent to its bank is for.
const VICTIM_CONSENT_PURPOSE: &str = "甲方授权本行授信审查专用";
/// The name of A's bank's draft product.
const VICTIM_PRODUCT_NAME: &str = "甲方银行未发布草稿产品";
/// The repayment account A's supplier fixed for A's invoice, and the one it proposes instead.
const VICTIM_ACCOUNT: &str = "6222020200117777777";
const VICTIM_NEW_ACCOUNT: &str = "6222020200118888888";

fn victim_trade_json(v_uscc: &str) -> Value {
    json!({"records": [{"record_type": "order", "order_no": VICTIM_ORDER_NO, "order_date": "2026-01-15",
        "buyer_uscc": v_uscc, "seller_uscc": code(101), "total_amount": "1000.00"},
        {"record_type": "invoice", "invoice_no": VICTIM_INVOICE_NO, "issue_date": "2026-01-20",
        "buyer_uscc": v_uscc, "seller_uscc": code(101), "total_amount": "1000.00", "order_refs": VICTIM_ORDER_NO}]})
}

fn victim_header_csv(v_uscc: &str) -> String {
    format!(
        "订单号,订单日期,{VICTIM_HEADER},销方统一社会信用代码,订单金额\nPO-FORGED-0003,2026-01-16,{v_uscc},{},99.00\n",
        code(101)
    )
}

fn victim_trade_csv(v_uscc: &str) -> Vec<u8> {
    format!("订单号,订单日期,购方统一社会信用代码,销方统一社会信用代码,订单金额\nPO-FORGED-0002,2026-01-16,{v_uscc},{},99.00\n", code(101))
        .into_bytes()
}

impl Victim {
    /// Strings that must never appear in an answer to a foreign caller.
    fn secrets(&self) -> Vec<&str> {
        vec![
            &self.org_id,
            &self.uscc,
            &self.name,
            &self.clerk_id,
            "a.clerk",
            &self.key_id,
            &self.chain_id,
            &self.chain_name,
            &self.entry_id,
            &self.sender,
            &self.submission_id,
            &self.record_id,
            &self.invoice_id,
            &self.confirmation_id,
            &self.signing_key,
            &self.line_id,
            &self.commitment_id,
            &self.application_id,
            &self.offer_id,
            &self.loan_id,
            VICTIM_INVOICE_NO,
            VICTIM_ORDER_NO,
            VICTIM_HEADER,
            &self.registration_id,
            &self.registration_reference,
            "甲方应收账款确权",
            VICTIM_ACCOUNT,
            VICTIM_NEW_ACCOUNT,
            "甲方供应商回款专户",
            &self.change_id,
            &self.product_id,
            VICTIM_PRODUCT_NAME,
            &self.consent_id,
            VICTIM_CONSENT_PURPOSE,
        ]
    }
}

async fn victim(t: &TestApp) -> Victim {
    let system = Actor::system("system");
    let org_id = t.org_with_admin(100, "core", "a.admin").await;
    let supplier = t.org_with_admin(101, "supplier", "a.supplier").await;
    let clerk = lianrong_app::user::create(
        &t.app,
        &system,
        lianrong_app::user::NewUser {
            org_id: org_id.clone(),
            login: "a.clerk".into(),
            display_name: "应付会计".into(),
            password: PASSWORD.into(),
            roles: vec!["finance_staff".into()],
        },
    )
    .await
    .unwrap();
    let as_a = Actor { org_id: org_id.clone(), org_kind: lianrong_domain::org::OrgKind::Core, ..system.clone() };
    let key = lianrong_app::api_key::create(&t.app, &as_a, "A 的 ERP", &["core_library:read".into()]).await.unwrap();
    let chain = lianrong_app::chain::create(&t.app, &system, "甲链主产业链", "nev", true).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &org_id, "core", None).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &chain.id, &supplier, "supplier", Some(1)).await.unwrap();
    let entry = lianrong_app::core_library::apply(&t.app, &system, &org_id, "nev", "链主").await.unwrap();
    lianrong_app::mailbox::add_sender(&t.app, &system, Some(&org_id), "a-finance@victim-corp.cn").await.unwrap();
    let a_admin = Actor {
        org_id: org_id.clone(),
        org_kind: lianrong_domain::org::OrgKind::Core,
        system: false,
        scopes: None,
        roles: vec![lianrong_domain::role::Role::OrgAdmin],
        ..system.clone()
    };
    let body = victim_trade_json(&code(100));
    let records = body["records"].as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect();
    let report =
        lianrong_app::submission::submit_records(&t.app, &a_admin, body.to_string().into_bytes(), "erp", records)
            .await
            .unwrap();
    assert_eq!(report.accepted, 2, "{report:?}");
    let invoice_id: String = sqlx::query_scalar("SELECT id FROM trade_record WHERE doc_no = $1")
        .bind(VICTIM_INVOICE_NO)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM verification WHERE invoice_id = $1")
        .bind(&invoice_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(status, "partly_verified", "the victim's invoice has an order but no delivery");
    let record_id: String = sqlx::query_scalar("SELECT id FROM trade_record WHERE doc_no = $1")
        .bind(VICTIM_ORDER_NO)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    // A log leaf that concerns A and its supplier only.
    let mut tx = t.app.db.begin_write().await.unwrap();
    let leaf_id = lianrong_app::log::append(
        &mut tx,
        lianrong_app::log::LeafKind::Confirmation,
        &format!("conf-{org_id}"),
        &[&org_id, &supplier],
        &json!({"note": "甲方应收账款确权", "chain_id": chain.id}),
        lianrong_app::now_ms(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    lianrong_app::log::integrate_all(&t.app).await.unwrap();
    let leaf_index: i64 = sqlx::query_scalar("SELECT leaf_index FROM log_leaf WHERE leaf_id = $1")
        .bind(leaf_id as i64)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    let leaf_index = leaf_index as u64;
    // The supplier fixed the invoice's repayment account and proposes another, awaiting A's consent.
    // A's supplier registers its receivable against A for financing.
    let as_supplier = Actor {
        org_id: supplier.clone(),
        org_kind: lianrong_domain::org::OrgKind::Supplier,
        system: false,
        scopes: None,
        roles: vec![lianrong_domain::role::Role::OrgAdmin],
        ..system.clone()
    };
    let fixed = |no: &str| lianrong_app::collection_account::NewAccount {
        account_no: no.into(),
        bank_name: "重庆农村商业银行".into(),
        holder_name: "甲方供应商回款专户".into(),
    };
    lianrong_app::collection_account::bind(&t.app, &as_supplier, &invoice_id, &fixed(VICTIM_ACCOUNT)).await.unwrap();
    let change =
        lianrong_app::collection_account::propose(&t.app, &as_supplier, &invoice_id, &fixed(VICTIM_NEW_ACCOUNT), None)
            .await
            .unwrap();
    // A request that A confirm the invoice (written directly, as the supplier would ask); and A's
    // signing key.
    let confirmation_id = lianrong_app::new_id();
    let mut conn = t.app.db.pool.acquire().await.unwrap();
    lianrong_store::confirmation::insert(
        &mut conn,
        &lianrong_store::confirmation::ConfirmationRecord {
            id: confirmation_id.clone(),
            invoice_id: invoice_id.clone(),
            invoice_no: VICTIM_INVOICE_NO.into(),
            creditor_org_id: supplier.clone(),
            debtor_org_id: org_id.clone(),
            batch_id: lianrong_app::new_id(),
            kind: lianrong_domain::confirmation::ConfirmationKind::Request,
            subject: lianrong_domain::confirmation::ConfirmationSubject::Receivable,
            status: lianrong_domain::confirmation::ConfirmationStatus::Requested,
            amount_fen: 100_000,
            due_date: None,
            requested_by: "a.supplier".into(),
            requested_at_ms: lianrong_app::now_ms(),
            decided_by: None,
            decided_at_ms: None,
            reason: None,
            statement: None,
            signature_hex: None,
            public_key_hex: None,
            log_leaf_id: None,
            content_sm3: None,
            invoice_code: None,
        },
    )
    .await
    .unwrap();
    drop(conn);
    let signing_key = lianrong_app::confirmation::signing_key(&t.app, &a_admin).await.unwrap().public_key_hex;
    let registration = lianrong_app::registration::register(
        &t.app,
        &as_supplier,
        lianrong_app::registration::NewRegistration { invoice_ids: vec![invoice_id.clone()], ..Default::default() },
    )
    .await
    .unwrap();
    // A's bank grants it a supply-chain line.
    let bank_id = t.org_with_admin(150, "bank", "a.bank").await;
    let as_bank = Actor {
        org_id: bank_id.clone(),
        org_kind: lianrong_domain::org::OrgKind::Bank,
        system: false,
        scopes: None,
        roles: vec![lianrong_domain::role::Role::OrgAdmin],
        ..system.clone()
    };
    let line = lianrong_app::credit_line::grant(
        &t.app,
        &as_bank,
        &lianrong_app::credit_line::NewLine {
            borrower_org_id: org_id.clone(),
            kind: "core_supply_chain".into(),
            limit_fen: 500_000_000,
            valid_from: ymd(-340),
            valid_until: ymd(389),
        },
    )
    .await
    .unwrap();
    // A commitment A issued to its supplier on that line (written directly: the walk needs it to exist,
    // not the issue's rules, which the commitment tests prove).
    let commitment_id = lianrong_app::new_id();
    let mut conn = t.app.db.pool.acquire().await.unwrap();
    lianrong_store::commitment::insert(
        &mut conn,
        &lianrong_store::commitment::CommitmentRow {
            id: commitment_id.clone(),
            issuer_org_id: org_id.clone(),
            first_holder_org_id: supplier.clone(),
            bank_org_id: line.bank_org_id.clone(),
            credit_line_id: line.id.clone(),
            face_fen: 100_000,
            settled_fen: 0,
            issue_date: crate::common::day(-36),
            maturity_date: crate::common::day(84),
            latest_due_date: None,
            beyond_principle_days: None,
            state: lianrong_domain::commitment::CommitmentState::Outstanding,
            issued_by: "a.admin".into(),
            issued_at_ms: lianrong_app::now_ms(),
            log_leaf_id: None,
            settlement_reference: None,
            settled_at_ms: None,
        },
    )
    .await
    .unwrap();
    let first = lianrong_domain::commitment::Ledger::issue(
        &commitment_id,
        &org_id,
        &supplier,
        100_000,
        jiff::civil::date(2027, 3, 1),
    );
    for p in first.parts.values() {
        lianrong_store::commitment::insert_part(&mut conn, &commitment_id, p, lianrong_app::now_ms()).await.unwrap();
    }
    drop(conn);
    // A's bank drafts a product it has not published.
    let product = lianrong_app::product::create(&t.app, &as_bank, &victim_product()).await.unwrap();
    // A lets its bank read its receivables and raw records; the bank has read once.
    let consent = lianrong_app::consent::grant(
        &t.app,
        &a_admin,
        &lianrong_app::consent::NewConsent {
            bank_org_id: bank_id.clone(),
            categories: vec!["receivables".into(), "raw_records".into()],
            purpose: VICTIM_CONSENT_PURPOSE.into(),
            application_id: None,
            valid_until: t.app.today().tomorrow().unwrap().to_string(),
        },
    )
    .await
    .unwrap();
    let page = lianrong_domain::page::PageRequest::first();
    lianrong_app::consent::records(&t.app, &as_bank, &consent.row.id, page).await.unwrap();
    // A's application to its bank, approved and disbursed (written directly, like the commitment).
    let (application_id, offer_id, loan_id) = (lianrong_app::new_id(), lianrong_app::new_id(), lianrong_app::new_id());
    let mut conn = t.app.db.pool.acquire().await.unwrap();
    lianrong_store::application::insert(
        &mut conn,
        &lianrong_store::application::ApplicationRow {
            id: application_id.clone(),
            applicant_org_id: org_id.clone(),
            subject: lianrong_domain::application::Subject::Receivables,
            invoice_ids: vec![invoice_id.clone()],
            commitment_id: None,
            part_id: None,
            order_id: None,
            amount_fen: 80_000,
            term_days: 90,
            purpose: "甲方融资申请".into(),
            chain_id: None,
            tier: None,
            state: lianrong_domain::application::ApplicationState::Open,
            created_by: "a.admin".into(),
            created_at_ms: lianrong_app::now_ms(),
        },
    )
    .await
    .unwrap();
    lianrong_store::application::insert_offer(
        &mut conn,
        &lianrong_store::application::OfferRow {
            id: offer_id.clone(),
            application_id: application_id.clone(),
            bank_org_id: bank_id.clone(),
            product_id: product.row.id.clone(),
            consent_id: None,
            state: lianrong_domain::application::OfferState::Disbursed,
            findings: Vec::new(),
            submitted_at_ms: lianrong_app::now_ms(),
            approved_amount_fen: Some(80_000),
            rate_bp: Some(400),
            reason: Some("同意".into()),
            first_approver: Some("a.bank".into()),
            first_approver_user_id: None,
            first_approved_at_ms: None,
            second_approver: None,
            second_approver_user_id: None,
            decided_by: Some("a.bank".into()),
            decided_at_ms: None,
            service_working_days: Some(1),
        },
    )
    .await
    .unwrap();
    lianrong_store::loan::insert(
        &mut conn,
        &lianrong_store::loan::LoanRow {
            id: loan_id.clone(),
            offer_id: offer_id.clone(),
            application_id: application_id.clone(),
            bank_org_id: bank_id.clone(),
            borrower_org_id: org_id.clone(),
            product_id: product.row.id.clone(),
            principal_fen: 80_000,
            rate_bp: 400,
            fee_fen: 0,
            upfront_interest_fen: 0,
            advance_fen: 80_000,
            value_date: crate::common::day(-36),
            maturity_date: crate::common::day(54),
            registration_id: None,
            credit_line_id: None,
            commitment_id: None,
            discount_transfer_id: None,
            repaid_principal_fen: 0,
            repaid_interest_fen: 0,
            state: lianrong_domain::loan::LoanState::Outstanding,
            disbursed_by: "a.bank".into(),
            disbursed_at_ms: lianrong_app::now_ms(),
            closed_at_ms: None,
            log_leaf_id: None,
        },
    )
    .await
    .unwrap();
    drop(conn);
    let as_a = Actor { org_id: org_id.clone(), org_kind: lianrong_domain::org::OrgKind::Core, ..system.clone() };
    lianrong_app::column_mapping::change(
        &t.app,
        &as_a,
        &[lianrong_app::column_mapping::MappingChange { header: VICTIM_HEADER.into(), meaning: "buyer_uscc".into() }],
    )
    .await
    .unwrap();
    Victim {
        application_id,
        offer_id,
        loan_id,
        bank_id,
        consent_id: consent.row.id,
        product_id: product.row.id,
        commitment_id,
        line_id: line.id,
        confirmation_id,
        signing_key,
        org_id,
        uscc: code(100),
        name: "测试core100有限公司".into(),
        clerk_id: clerk.id,
        key_id: key.record.id,
        chain_id: chain.id,
        chain_name: chain.name,
        entry_id: entry.id,
        sender: "a-finance@victim-corp.cn".into(),
        submission_id: report.submission_id,
        record_id,
        invoice_id,
        leaf_index,
        leaf_id,
        change_id: change.id,
        registration_id: registration.row.id,
        registration_reference: registration.row.reference,
    }
}

/// The draft of A's bank.
fn victim_product() -> lianrong_app::product::NewProduct {
    lianrong_app::product::NewProduct {
        name: VICTIM_PRODUCT_NAME.into(),
        kind: "receivable_financing".into(),
        evidence: "either".into(),
        amount_min_fen: 100_000,
        amount_max_fen: 1_000_000,
        term_min_days: 30,
        term_max_days: 90,
        rate_min_bp: 300,
        rate_max_bp: 500,
        advance_ratio_bp: 8_000,
        ..Default::default()
    }
}

/// A consent's end date for the walk: safely after today's business date.
fn in_two_days() -> String {
    crate::common::ymd(2)
}

fn consent_json(bank_org_id: &str) -> Value {
    json!({"bank_org_id": bank_org_id, "categories": ["receivables"], "purpose": "外来授权",
        "valid_until": in_two_days()})
}

fn product_json(chain_id: Option<&str>, parent: Option<&str>) -> Value {
    json!({"name": "外行产品", "kind": "receivable_financing", "evidence": "either", "amount_min_fen": 100,
        "amount_max_fen": 1000, "term_min_days": 1, "term_max_days": 30, "rate_min_bp": 100, "rate_max_bp": 200,
        "advance_ratio_bp": 5000, "eligible_chain_ids": chain_id.map(|c| vec![c]).unwrap_or_default(),
        "parent_product_id": parent})
}

/// A public key of the caller's own, for the walk's attempt to set its signing key.
fn own_public_key() -> String {
    let secret = sm2::dsa::SigningKey::from_slice("1234567812345678", &[9u8; 32]).unwrap();
    hex::encode(secret.verifying_key().to_sec1_bytes())
}

/// One request of the walk: the operation it covers and the concrete call.
struct Call {
    method: Method,
    template: &'static str,
    path: String,
    body: Option<Value>,
}

fn calls(v: &Victim) -> Vec<Call> {
    let c = |method: Method, template: &'static str, path: String, body: Option<Value>| Call {
        method,
        template,
        path,
        body,
    };
    vec![
        c(Method::GET, "/api/v1/me", "/api/v1/me".into(), None),
        c(Method::GET, "/api/v1/organisations", "/api/v1/organisations?page_size=200".into(), None),
        c(Method::GET, "/api/v1/organisations", format!("/api/v1/organisations?q={}", v.uscc), None),
        c(Method::GET, "/api/v1/organisations/{id}", format!("/api/v1/organisations/{}", v.org_id), None),
        c(
            Method::POST,
            "/api/v1/organisations",
            "/api/v1/organisations".into(),
            Some(json!({"uscc": code(999), "name": "冒名机构", "kind": "core", "size_class": "large"})),
        ),
        c(Method::GET, "/api/v1/uscc-exceptions", "/api/v1/uscc-exceptions".into(), None),
        c(
            Method::POST,
            "/api/v1/uscc-exceptions",
            "/api/v1/uscc-exceptions".into(),
            Some(json!({"uscc": "91350100M0001TGQXM", "note": "x"})),
        ),
        c(Method::GET, "/api/v1/users", "/api/v1/users?page_size=200".into(), None),
        c(Method::GET, "/api/v1/users/{id}", format!("/api/v1/users/{}", v.clerk_id), None),
        c(
            Method::POST,
            "/api/v1/users",
            "/api/v1/users".into(),
            Some(
                json!({"org_id": v.org_id, "login": "intruder", "display_name": "x", "password": PASSWORD, "roles": ["org_admin"]}),
            ),
        ),
        c(
            Method::PATCH,
            "/api/v1/users/{id}",
            format!("/api/v1/users/{}", v.clerk_id),
            Some(json!({"roles": ["org_admin"], "active": true})),
        ),
        c(
            Method::POST,
            "/api/v1/users/{id}/password",
            format!("/api/v1/users/{}/password", v.clerk_id),
            Some(json!({"password": "Hijacked#Pass1"})),
        ),
        c(
            Method::POST,
            "/api/v1/users/{id}/suspension",
            format!("/api/v1/users/{}/suspension", v.clerk_id),
            Some(json!({"reason": "冒名停用"})),
        ),
        c(Method::GET, "/api/v1/api-keys", "/api/v1/api-keys".into(), None),
        c(
            Method::POST,
            "/api/v1/api-keys",
            "/api/v1/api-keys".into(),
            Some(json!({"name": "own key", "scopes": ["chain:read"]})),
        ),
        c(Method::POST, "/api/v1/api-keys/{id}/revoke", format!("/api/v1/api-keys/{}/revoke", v.key_id), None),
        c(Method::GET, "/api/v1/clusters", "/api/v1/clusters".into(), None),
        c(
            Method::POST,
            "/api/v1/clusters",
            "/api/v1/clusters".into(),
            Some(json!({"id": "fake", "tier": "new_star", "name_zh": "假", "name_en": "Fake"})),
        ),
        c(
            Method::PUT,
            "/api/v1/clusters/{id}",
            "/api/v1/clusters/nev".into(),
            Some(json!({"tier": "new_star", "name_zh": "改名", "name_en": "Renamed"})),
        ),
        c(Method::GET, "/api/v1/chains", "/api/v1/chains".into(), None),
        c(Method::GET, "/api/v1/chains/{id}", format!("/api/v1/chains/{}", v.chain_id), None),
        c(
            Method::POST,
            "/api/v1/chains",
            "/api/v1/chains".into(),
            Some(json!({"name": "伪造产业链", "cluster_id": "nev"})),
        ),
        c(
            Method::PATCH,
            "/api/v1/chains/{id}",
            format!("/api/v1/chains/{}", v.chain_id),
            Some(json!({"pilot": false})),
        ),
        c(Method::GET, "/api/v1/chains/{id}/members", format!("/api/v1/chains/{}/members", v.chain_id), None),
        c(
            Method::POST,
            "/api/v1/chains/{id}/members",
            format!("/api/v1/chains/{}/members", v.chain_id),
            Some(json!({"org_id": v.org_id, "role": "supplier", "tier": 1})),
        ),
        c(
            Method::DELETE,
            "/api/v1/chains/{id}/members/{org_id}",
            format!("/api/v1/chains/{}/members/{}", v.chain_id, v.org_id),
            None,
        ),
        c(Method::GET, "/api/v1/core-library", "/api/v1/core-library?page_size=200".into(), None),
        c(Method::GET, "/api/v1/core-library/{id}", format!("/api/v1/core-library/{}", v.entry_id), None),
        c(
            Method::GET,
            "/api/v1/core-library/{id}/history",
            format!("/api/v1/core-library/{}/history", v.entry_id),
            None,
        ),
        c(
            Method::POST,
            "/api/v1/core-library",
            "/api/v1/core-library".into(),
            Some(json!({"org_id": v.org_id, "cluster_id": "nev", "reason": "代为申请"})),
        ),
        c(
            Method::POST,
            "/api/v1/core-library/{id}/transitions",
            format!("/api/v1/core-library/{}/transitions", v.entry_id),
            Some(json!({"action": "withdraw", "reason": "恶意撤回"})),
        ),
        c(
            Method::POST,
            "/api/v1/core-library/{id}/transitions",
            format!("/api/v1/core-library/{}/transitions", v.entry_id),
            Some(json!({"action": "admit"})),
        ),
        c(Method::GET, "/api/v1/audit-events", "/api/v1/audit-events?page_size=200".into(), None),
        c(Method::GET, "/api/v1/mailbox", format!("/api/v1/mailbox?org_id={}", v.org_id), None),
        c(Method::GET, "/api/v1/mailbox", format!("/api/v1/mailbox?org_id={}", v.uscc), None),
        c(Method::GET, "/api/v1/mailbox/senders", format!("/api/v1/mailbox/senders?org_id={}", v.org_id), None),
        c(
            Method::POST,
            "/api/v1/mailbox/senders",
            "/api/v1/mailbox/senders".into(),
            Some(json!({"address": "intruder@evil.cn", "org_id": v.org_id})),
        ),
        c(
            Method::DELETE,
            "/api/v1/mailbox/senders/{address}",
            format!("/api/v1/mailbox/senders/{}?org_id={}", v.sender, v.org_id),
            None,
        ),
        c(Method::GET, "/api/v1/mailbox/receipts", format!("/api/v1/mailbox/receipts?org_id={}", v.org_id), None),
        c(Method::GET, "/api/v1/standard", "/api/v1/standard".into(), None),
        c(Method::GET, "/api/v1/standard/templates/{name}", "/api/v1/standard/templates/order.csv".into(), None),
        // Submitting A's trade as someone else: accepted as a submission, every row refused (not a party).
        c(Method::POST, "/api/v1/submissions", "/api/v1/submissions".into(), Some(victim_trade_json(&v.uscc))),
        c(
            Method::POST,
            "/api/v1/submissions/upload",
            "/api/v1/submissions/upload".into(),
            Some(json!({"__upload": String::from_utf8(victim_trade_csv(&v.uscc)).unwrap()})),
        ),
        c(Method::GET, "/api/v1/submissions", "/api/v1/submissions?page_size=200".into(), None),
        // A file with A's own header: previewed with the caller's meanings, never A's.
        c(
            Method::POST,
            "/api/v1/submissions/preview",
            "/api/v1/submissions/preview".into(),
            Some(json!({"__upload": victim_header_csv(&v.uscc)})),
        ),
        // Column meanings are the caller's own: reading them shows none of A's; changing them changes the
        // caller's (A's are checked unchanged at the end).
        c(Method::GET, "/api/v1/column-mappings", "/api/v1/column-mappings".into(), None),
        c(
            Method::POST,
            "/api/v1/column-mappings",
            "/api/v1/column-mappings".into(),
            Some(json!({"columns": [{"header": VICTIM_HEADER, "meaning": "ignore"}]})),
        ),
        c(Method::GET, "/api/v1/submissions/{id}", format!("/api/v1/submissions/{}", v.submission_id), None),
        c(
            Method::GET,
            "/api/v1/submissions/{id}/issues",
            format!("/api/v1/submissions/{}/issues", v.submission_id),
            None,
        ),
        c(Method::GET, "/api/v1/submissions/{id}/raw", format!("/api/v1/submissions/{}/raw", v.submission_id), None),
        c(Method::GET, "/api/v1/trade-records", "/api/v1/trade-records?page_size=200".into(), None),
        c(Method::GET, "/api/v1/trade-records", format!("/api/v1/trade-records?doc_no={VICTIM_ORDER_NO}"), None),
        c(Method::GET, "/api/v1/trade-records/{id}", format!("/api/v1/trade-records/{}", v.record_id), None),
        c(Method::GET, "/api/v1/verifications", "/api/v1/verifications?page_size=200".into(), None),
        c(Method::GET, "/api/v1/receivables", "/api/v1/receivables?page_size=200".into(), None),
        c(Method::GET, "/api/v1/receivables/totals", "/api/v1/receivables/totals?side=creditor".into(), None),
        c(Method::GET, "/api/v1/penetration/{org_id}", format!("/api/v1/penetration/{}", v.org_id), None),
        c(Method::GET, "/api/v1/verifications/{invoice_id}", format!("/api/v1/verifications/{}", v.invoice_id), None),
        c(
            Method::GET,
            "/api/v1/receivables/{invoice_id}/collection-account",
            format!("/api/v1/receivables/{}/collection-account?reveal=true", v.invoice_id),
            None,
        ),
        c(
            Method::PUT,
            "/api/v1/receivables/{invoice_id}/collection-account",
            format!("/api/v1/receivables/{}/collection-account", v.invoice_id),
            Some(json!({"account_no": "6222020200119999999", "bank_name": "冒名银行", "holder_name": "冒名户"})),
        ),
        c(
            Method::GET,
            "/api/v1/receivables/{invoice_id}/collection-account/changes",
            format!("/api/v1/receivables/{}/collection-account/changes", v.invoice_id),
            None,
        ),
        c(
            Method::POST,
            "/api/v1/receivables/{invoice_id}/collection-account/changes",
            format!("/api/v1/receivables/{}/collection-account/changes", v.invoice_id),
            Some(json!({"account_no": "6222020200119999999", "bank_name": "冒名银行", "holder_name": "冒名户"})),
        ),
        c(
            Method::POST,
            "/api/v1/receivables/{invoice_id}/collection-account/changes/{change_id}/consent",
            format!("/api/v1/receivables/{}/collection-account/changes/{}/consent", v.invoice_id, v.change_id),
            None,
        ),
        c(
            Method::POST,
            "/api/v1/receivables/{invoice_id}/collection-account/changes/{change_id}/withdraw",
            format!("/api/v1/receivables/{}/collection-account/changes/{}/withdraw", v.invoice_id, v.change_id),
            None,
        ),
        c(
            Method::POST,
            "/api/v1/receivables/{invoice_id}/collection-account/changes/{change_id}/decline",
            format!("/api/v1/receivables/{}/collection-account/changes/{}/decline", v.invoice_id, v.change_id),
            Some(json!({"reason": "恶意拒绝"})),
        ),
        c(
            Method::POST,
            "/api/v1/confirmations",
            "/api/v1/confirmations".into(),
            Some(json!({"invoice_ids": [v.invoice_id]})),
        ),
        c(
            Method::POST,
            "/api/v1/confirmations",
            "/api/v1/confirmations".into(),
            Some(json!({"order_ids": [v.record_id]})),
        ),
        c(Method::GET, "/api/v1/confirmations", "/api/v1/confirmations?page_size=200".into(), None),
        // Credit lines: A's line is invisible to others; a bank may grant lines of its own (to anyone).
        c(Method::GET, "/api/v1/credit-lines", "/api/v1/credit-lines?page_size=200".into(), None),
        c(Method::GET, "/api/v1/credit-lines/{id}", format!("/api/v1/credit-lines/{}", v.line_id), None),
        c(
            Method::POST,
            "/api/v1/credit-lines",
            "/api/v1/credit-lines".into(),
            Some(json!({"borrower_org_id": v.org_id, "kind": "core_supply_chain", "limit_fen": 100,
                "valid_from": ymd(-340), "valid_until": ymd(24)})),
        ),
        // Commitments: A's is invisible to others, and nobody else can issue on A's line or move A's parts.
        c(Method::GET, "/api/v1/commitments", "/api/v1/commitments?page_size=200".into(), None),
        c(Method::GET, "/api/v1/stats/financing", "/api/v1/stats/financing".into(), None),
        // Applications and loans: A's are invisible; nobody else decides, pays out or records repayments.
        c(Method::GET, "/api/v1/stats/loans", "/api/v1/stats/loans".into(), None),
        c(Method::GET, "/api/v1/applications", "/api/v1/applications?page_size=200".into(), None),
        c(Method::GET, "/api/v1/applications/service-time", "/api/v1/applications/service-time".into(), None),
        c(Method::GET, "/api/v1/applications/{id}", format!("/api/v1/applications/{}", v.application_id), None),
        c(
            Method::POST,
            "/api/v1/applications",
            "/api/v1/applications".into(),
            Some(json!({"subject": "receivables", "invoice_ids": [v.invoice_id], "amount_fen": 100, "term_days": 30,
                "purpose": "walk", "offers": [{"bank_org_id": v.bank_id, "product_id": v.product_id}],
                "consent_until": ymd(25)})),
        ),
        c(
            Method::POST,
            "/api/v1/applications/{id}/offers/{offer_id}/decision",
            format!("/api/v1/applications/{}/offers/{}/decision", v.application_id, v.offer_id),
            Some(json!({"decision": "reject", "reason": "walk"})),
        ),
        c(
            Method::POST,
            "/api/v1/applications/{id}/offers/{offer_id}/disbursement",
            format!("/api/v1/applications/{}/offers/{}/disbursement", v.application_id, v.offer_id),
            Some(json!({})),
        ),
        c(Method::GET, "/api/v1/loans", "/api/v1/loans?page_size=200".into(), None),
        c(Method::GET, "/api/v1/loans/{id}", format!("/api/v1/loans/{}", v.loan_id), None),
        c(
            Method::POST,
            "/api/v1/loans/{id}/repayments",
            format!("/api/v1/loans/{}/repayments", v.loan_id),
            Some(json!({"amount_fen": 80_000, "paid_on": ymd(-17), "payment_reference": "WALK"})),
        ),
        c(Method::GET, "/api/v1/commitments/holdings", "/api/v1/commitments/holdings".into(), None),
        c(Method::GET, "/api/v1/commitments/pending-discounts", "/api/v1/commitments/pending-discounts".into(), None),
        c(Method::GET, "/api/v1/commitments/{id}", format!("/api/v1/commitments/{}", v.commitment_id), None),
        c(
            Method::GET,
            "/api/v1/commitments/{id}/lineage",
            format!("/api/v1/commitments/{}/lineage?part_id={}/0", v.commitment_id, v.commitment_id),
            None,
        ),
        c(
            Method::POST,
            "/api/v1/commitments",
            "/api/v1/commitments".into(),
            Some(json!({"holder_org_id": v.org_id, "invoice_ids": [v.invoice_id], "face_fen": 100,
                "maturity_date": ymd(84), "credit_line_id": v.line_id})),
        ),
        c(
            Method::POST,
            "/api/v1/commitments/{id}/transfers",
            format!("/api/v1/commitments/{}/transfers", v.commitment_id),
            Some(json!({"transfer_id": "walk-1", "kind": "split", "part_id": format!("{}/0", v.commitment_id),
                "amounts_fen": [50_000, 50_000]})),
        ),
        c(
            Method::POST,
            "/api/v1/commitments/{id}/transfers/{transfer_id}/post",
            format!("/api/v1/commitments/{}/transfers/walk-1/post", v.commitment_id),
            Some(json!({})),
        ),
        c(
            Method::POST,
            "/api/v1/commitments/{id}/transfers/{transfer_id}/void",
            format!("/api/v1/commitments/{}/transfers/walk-1/void", v.commitment_id),
            Some(json!({})),
        ),
        c(
            Method::POST,
            "/api/v1/commitments/{id}/settle",
            format!("/api/v1/commitments/{}/settle", v.commitment_id),
            Some(json!({"payment_reference": "WALK", "amount_fen": 100_000})),
        ),
        // Products: A's bank's draft is invisible to everyone else; a bank may draft products of its own,
        // but never on a chain it is not on, nor as a variant of another bank's product.
        c(Method::GET, "/api/v1/products", "/api/v1/products?page_size=200".into(), None),
        c(Method::GET, "/api/v1/products", "/api/v1/products?state=draft".into(), None),
        c(Method::GET, "/api/v1/products", format!("/api/v1/products?chain_id={}", v.chain_id), None),
        c(Method::GET, "/api/v1/products/{id}", format!("/api/v1/products/{}", v.product_id), None),
        c(Method::POST, "/api/v1/products", "/api/v1/products".into(), Some(product_json(None, None))),
        c(Method::POST, "/api/v1/products", "/api/v1/products".into(), Some(product_json(Some(&v.chain_id), None))),
        c(
            Method::POST,
            "/api/v1/products",
            "/api/v1/products".into(),
            Some(product_json(Some(&v.chain_id), Some(&v.product_id))),
        ),
        c(
            Method::PUT,
            "/api/v1/products/{id}",
            format!("/api/v1/products/{}", v.product_id),
            Some(product_json(None, None)),
        ),
        c(Method::POST, "/api/v1/products/{id}/publish", format!("/api/v1/products/{}/publish", v.product_id), None),
        c(Method::POST, "/api/v1/products/{id}/withdraw", format!("/api/v1/products/{}/withdraw", v.product_id), None),
        // Consents: A's consent is A's and its bank's alone; an owner may authorise a bank of its own
        // choosing (never naming A as a bank), and no one else reads through or revokes A's consent.
        c(Method::GET, "/api/v1/consents", "/api/v1/consents?page_size=200".into(), None),
        c(Method::GET, "/api/v1/consents/{id}", format!("/api/v1/consents/{}", v.consent_id), None),
        c(Method::POST, "/api/v1/consents", "/api/v1/consents".into(), Some(consent_json(&v.bank_id))),
        c(Method::POST, "/api/v1/consents", "/api/v1/consents".into(), Some(consent_json(&v.org_id))),
        c(Method::POST, "/api/v1/consents/{id}/revoke", format!("/api/v1/consents/{}/revoke", v.consent_id), None),
        c(Method::GET, "/api/v1/consents/{id}/reads", format!("/api/v1/consents/{}/reads", v.consent_id), None),
        c(
            Method::GET,
            "/api/v1/consents/{id}/receivables",
            format!("/api/v1/consents/{}/receivables", v.consent_id),
            None,
        ),
        c(
            Method::GET,
            "/api/v1/consents/{id}/trade-totals",
            format!("/api/v1/consents/{}/trade-totals", v.consent_id),
            None,
        ),
        c(Method::GET, "/api/v1/consents/{id}/records", format!("/api/v1/consents/{}/records", v.consent_id), None),
        c(
            Method::GET,
            "/api/v1/consents/{id}/reference-score",
            format!("/api/v1/consents/{}/reference-score", v.consent_id),
            None,
        ),
        c(Method::GET, "/api/v1/confirmations", "/api/v1/confirmations?role=received&status=requested".into(), None),
        c(Method::GET, "/api/v1/confirmations/{id}", format!("/api/v1/confirmations/{}", v.confirmation_id), None),
        c(
            Method::GET,
            "/api/v1/confirmations/{id}/statement",
            format!("/api/v1/confirmations/{}/statement?decision=confirm", v.confirmation_id),
            None,
        ),
        c(
            Method::POST,
            "/api/v1/confirmations/{id}/decision",
            format!("/api/v1/confirmations/{}/decision", v.confirmation_id),
            Some(json!({"decision": "confirm"})),
        ),
        c(
            Method::POST,
            "/api/v1/confirmations/decisions",
            "/api/v1/confirmations/decisions".into(),
            Some(json!({"decisions": [{"confirmation_id": v.confirmation_id, "decision": "reject", "reason": "x"}]})),
        ),
        c(
            Method::POST,
            "/api/v1/confirmations/payables",
            "/api/v1/confirmations/payables".into(),
            Some(json!({"payables": [{"invoice_id": v.invoice_id}]})),
        ),
        c(
            Method::GET,
            "/api/v1/confirmations/payables/{invoice_id}/statement",
            format!("/api/v1/confirmations/payables/{}/statement", v.invoice_id),
            None,
        ),
        c(
            Method::POST,
            "/api/v1/confirmations/{id}/withdraw",
            format!("/api/v1/confirmations/{}/withdraw", v.confirmation_id),
            None,
        ),
        c(
            Method::GET,
            "/api/v1/confirmations/time-to-confirm",
            format!("/api/v1/confirmations/time-to-confirm?debtor_org_id={}", v.org_id),
            None,
        ),
        // The signing key is always the caller's own organisation's; setting it changes only that.
        c(Method::GET, "/api/v1/signing-key", "/api/v1/signing-key".into(), None),
        c(
            Method::PUT,
            "/api/v1/signing-key",
            "/api/v1/signing-key".into(),
            Some(json!({"public_key": own_public_key()})),
        ),
        c(Method::POST, "/api/v1/signing-key/platform", "/api/v1/signing-key/platform".into(), None),
        // Registrations: registering or releasing A's receivable, or reading its registration, is refused
        // as if it did not exist; the lists and exports hold the caller's own registrations only.
        c(
            Method::POST,
            "/api/v1/registrations",
            "/api/v1/registrations".into(),
            Some(json!({"invoice_ids": [v.invoice_id]})),
        ),
        c(Method::GET, "/api/v1/registrations", "/api/v1/registrations?page_size=200".into(), None),
        c(Method::GET, "/api/v1/registrations/{id}", format!("/api/v1/registrations/{}", v.registration_id), None),
        c(
            Method::POST,
            "/api/v1/registrations/{id}/release",
            format!("/api/v1/registrations/{}/release", v.registration_id),
            Some(json!({"reason": "冒名注销"})),
        ),
        c(
            Method::POST,
            "/api/v1/registrations/{id}/certificate",
            format!("/api/v1/registrations/{}/certificate", v.registration_id),
            Some(json!({"registry_certificate_no": "FORGED-0001"})),
        ),
        c(Method::GET, "/api/v1/registrations/export", "/api/v1/registrations/export?format=zhongdeng".into(), None),
        c(
            Method::GET,
            "/api/v1/registrations/export",
            "/api/v1/registrations/export?format=crcrfsp&file=xlsx".into(),
            None,
        ),
        // A file that is not the platform's confirmation file is refused whole (422), or the caller may
        // not import at all (403).
        c(
            Method::POST,
            "/api/v1/registrations/confirmations/import",
            "/api/v1/registrations/confirmations/import".into(),
            Some(json!({"__upload": String::from_utf8(victim_trade_csv(&v.uscc)).unwrap()})),
        ),
        // Tree heads, the key and consistency proofs hold only hashes and are for every caller.
        c(Method::GET, "/api/v1/log/tree-head", "/api/v1/log/tree-head".into(), None),
        c(Method::GET, "/api/v1/log/key", "/api/v1/log/key".into(), None),
        c(Method::GET, "/api/v1/log/consistency", "/api/v1/log/consistency?first=0&second=1".into(), None),
        c(Method::GET, "/api/v1/log/entries", "/api/v1/log/entries?page_size=200".into(), None),
        c(Method::GET, "/api/v1/log/entries", "/api/v1/log/entries?kind=confirmation".into(), None),
        c(Method::GET, "/api/v1/log/entries/{leaf_index}", format!("/api/v1/log/entries/{}", v.leaf_index), None),
        c(
            Method::GET,
            "/api/v1/log/entries/{leaf_index}",
            format!("/api/v1/log/entries/{}?tree_size=1", v.leaf_index),
            None,
        ),
        c(Method::GET, "/api/v1/log/leaves/{leaf_id}", format!("/api/v1/log/leaves/{}", v.leaf_id), None),
        // Logging in and out concern only the caller's own session; walked with a throw-away session below.
        c(
            Method::POST,
            "/api/v1/session",
            "/api/v1/session".into(),
            Some(json!({"login": "a.admin", "password": "Wrong#Password1"})),
        ),
    ]
}

fn operations_in_openapi(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

async fn walk(caller_name: &str, api: &Api, v: &Victim) {
    let own_org = api.get("/api/v1/me").await.1["org_id"].as_str().unwrap().to_string();
    for call in calls(v) {
        let resp = match call.body.as_ref().and_then(|b| b.get("__upload")) {
            Some(csv) => api.upload(&call.path, "orders.csv", csv.as_str().unwrap().as_bytes().to_vec()).await,
            None => api.send(call.method.clone(), &call.path, call.body.clone()).await,
        };
        let status = resp.status();
        let text = resp.text().await.unwrap();
        if call.template == "/api/v1/audit-events" && status == StatusCode::OK {
            // The caller's own trail names the ids it sent in its refused attempts; what matters is that
            // it holds only the caller's own organisation's events.
            let body: Value = serde_json::from_str(&text).unwrap();
            for e in body["items"].as_array().unwrap() {
                assert_eq!(e["actor_org_id"], own_org.as_str(), "{caller_name} saw a foreign audit event: {e}");
            }
            continue;
        }
        if call.template == "/api/v1/column-mappings" && status == StatusCode::OK {
            // The caller may have given A's header text a meaning of its own (the walk does): what matters
            // is that only the caller's own meanings are listed, never A's.
            let body: Value = serde_json::from_str(&text).unwrap();
            for m in body["items"].as_array().unwrap() {
                assert!(m["meaning"] != "buyer_uscc", "{caller_name} saw A's meaning: {m}");
            }
            continue;
        }
        // A value the caller sent itself (in the body) may be echoed back; everything else of A's must be
        // absent.
        let sent = |secret: &str| call.body.as_ref().is_some_and(|b| b.to_string().contains(secret));
        for secret in v.secrets().into_iter().filter(|s| !sent(s)) {
            assert!(!text.contains(secret), "{caller_name} {} {} revealed '{secret}': {text}", call.method, call.path);
        }
        let ok = match (call.method.clone(), status) {
            // Reads of lists answer 200 with the caller's own items only (checked above); reads of the
            // victim's records answer 404 as if they did not exist.
            // The standard's templates are the same public documents for everyone.
            (Method::GET, StatusCode::OK) => {
                !call.template.contains('{') || call.template == "/api/v1/standard/templates/{name}"
            }
            (_, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED) => true,
            // A file that is not a confirmation file is refused whole; it changes nothing.
            (Method::POST, StatusCode::UNPROCESSABLE_ENTITY)
                if call.template == "/api/v1/registrations/confirmations/import" =>
            {
                let body: Value = serde_json::from_str(&text).unwrap();
                body["code"] == "header_not_found"
            }
            // Creating an API key is allowed for a foreign admin: in its own organisation.
            (Method::POST, StatusCode::CREATED) if call.template == "/api/v1/api-keys" => true,
            // A bank grants a line of its own; the answer names only what the caller sent.
            (Method::POST, StatusCode::CREATED) if call.template == "/api/v1/credit-lines" => true,
            // An owner authorises a bank of its own choosing (A's bank, not A itself).
            (Method::POST, StatusCode::CREATED) if call.template == "/api/v1/consents" => {
                call.body.as_ref().is_some_and(|b| b["bank_org_id"] == v.bank_id.as_str())
            }
            // A bank drafts a product of its own (for every chain, with no parent).
            (Method::POST, StatusCode::CREATED) if call.template == "/api/v1/products" => call
                .body
                .as_ref()
                .is_some_and(|b| b["parent_product_id"].is_null() && b["eligible_chain_ids"] == json!([])),
            // A preview reads the file with the caller's meanings: A's header is unknown to it.
            (Method::POST, StatusCode::OK) if call.template == "/api/v1/submissions/preview" => {
                let body: Value = serde_json::from_str(&text).unwrap();
                let columns = body["sheets"][0]["columns"].as_array().cloned().unwrap_or_default();
                columns.iter().filter(|c| c["header"] == VICTIM_HEADER).all(|c| c["meaning"] != "buyer_uscc")
            }
            // Changing column meanings changes the caller's own.
            (Method::POST, StatusCode::OK) if call.template == "/api/v1/column-mappings" => true,
            // So is setting the caller's own signing key (never another's).
            (Method::PUT | Method::POST, StatusCode::OK) if call.template.starts_with("/api/v1/signing-key") => true,
            // A submission of another's trade is received (its raw bytes kept) and every row refused.
            (Method::POST, StatusCode::CREATED) if call.template.starts_with("/api/v1/submissions") => {
                let body: Value = serde_json::from_str(&text).unwrap();
                body["accepted"] == 0
                    && body["rejected"].as_u64().unwrap_or(0) >= 1
                    && body["row_errors"].as_array().is_some_and(|e| e.iter().all(|e| e["code"] == "not_a_party"))
            }
            _ => false,
        };
        assert!(ok, "{caller_name} {} {} answered {status}: {text}", call.method, call.path);
    }
}

async fn assert_victim_unchanged(t: &TestApp, v: &Victim) {
    let system = Actor::system("system");
    let clerk = lianrong_app::user::get(&t.app, &system, &v.clerk_id).await.unwrap();
    assert_eq!(clerk.roles, vec![lianrong_domain::role::Role::FinanceStaff]);
    assert!(clerk.active);
    let still_logs_in = t.login("a.clerk", PASSWORD).await;
    assert_eq!(still_logs_in.get("/api/v1/me").await.0, StatusCode::OK, "password unchanged");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_user WHERE org_id = $1")
        .bind(&v.org_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(users, 2, "no user was added to A");
    let revoked: Option<i64> = sqlx::query_scalar("SELECT revoked_at_ms FROM api_key WHERE id = $1")
        .bind(&v.key_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(revoked, None);
    let chain = lianrong_app::chain::get(&t.app, &system, &v.chain_id).await.unwrap();
    assert!(chain.pilot);
    assert_eq!(chain.member_count, 2);
    let entry = lianrong_app::core_library::get(&t.app, &system, &v.entry_id).await.unwrap();
    assert_eq!(entry.status, lianrong_domain::core_library::LibraryStatus::Applied);
    let forged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chain WHERE name = '伪造产业链'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(forged, 0, "no chain was created");
    let impostors: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organisation WHERE name = '冒名机构'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(impostors, 0, "no organisation was created");
    let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM core_library_entry WHERE org_id = $1")
        .bind(&v.org_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(entries, 1, "no entry was made for A by anyone else");
    let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chain_member WHERE org_id = $1")
        .bind(&v.org_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(members, 1, "A is a member of its own chain only");
    let nev: String =
        sqlx::query_scalar("SELECT name_zh FROM cluster WHERE id = 'nev'").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(nev, "智能网联新能源汽车");
    let exceptions: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM uscc_exception").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(exceptions, 0);
    let senders: Vec<String> = sqlx::query_scalar("SELECT address FROM mailbox_sender WHERE org_id = $1")
        .bind(&v.org_id)
        .fetch_all(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(senders, vec![v.sender.clone()], "A's registered senders are unchanged");
    let trade: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trade_record").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(trade, 2, "no trade record was written in A's name by anyone else");
    let line = lianrong_app::credit_line::get(&t.app, &system, &v.line_id).await.unwrap();
    assert_eq!((line.limit_fen, line.used_fen), (500_000_000, 0), "A's credit line is unchanged");
    let mut conn = t.app.db.pool.acquire().await.unwrap();
    let parts = lianrong_store::commitment::parts(&mut conn, &v.commitment_id).await.unwrap();
    assert_eq!(parts.len(), 1, "A's commitment has its one issued part, untouched: {parts:?}");
    assert_eq!(parts[0].state, lianrong_domain::commitment::PartState::Held);
    assert!(lianrong_store::commitment::transfers(&mut conn, &v.commitment_id).await.unwrap().is_empty());
    let offer = lianrong_store::application::offer(&mut conn, &v.offer_id).await.unwrap();
    assert_eq!(offer.state, lianrong_domain::application::OfferState::Disbursed, "A's offer is unchanged");
    let loan = lianrong_store::loan::get(&mut conn, &v.loan_id).await.unwrap();
    assert_eq!((loan.state.code(), loan.repaid_principal_fen), ("outstanding", 0), "A's loan is unchanged");
    drop(conn);
    let version: i64 = sqlx::query_scalar("SELECT version FROM collection_account WHERE invoice_id = $1")
        .bind(&v.invoice_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(version, 1, "the repayment account is unchanged");
    let (status, consents): (String, i64) = sqlx::query_as(
        "SELECT c.status, (SELECT COUNT(*) FROM collection_account_consent k WHERE k.change_id = c.id) \
         FROM collection_account_change c WHERE c.id = $1",
    )
    .bind(&v.change_id)
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), consents), ("pending", 1), "the change is pending with the proposer's consent only");
    let c = lianrong_app::confirmation::get(&t.app, &system, &v.confirmation_id).await.unwrap();
    assert_eq!(c.status, lianrong_domain::confirmation::ConfirmationStatus::Requested, "still awaiting A");
    let keys: Vec<String> = sqlx::query_scalar("SELECT public_key_hex FROM org_key WHERE org_id = $1")
        .bind(&v.org_id)
        .fetch_all(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![v.signing_key.clone()], "A's signing key is unchanged");
    let reg = lianrong_app::registration::get(&t.app, &system, &v.registration_id).await.unwrap();
    assert_eq!(
        (reg.row.status.as_str(), reg.row.registry_certificate_no),
        ("active", None),
        "A's registration is untouched"
    );
    let registrations: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM registration").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(registrations, 1, "no one else registered A's receivable");
    let imported: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM external_confirmation").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(imported, 0);
    let product = lianrong_app::product::get(&t.app, &system, &v.product_id).await.unwrap();
    assert_eq!(
        (product.row.state, product.row.name.as_str(), product.row.terms.rate_min_bp),
        (lianrong_domain::product::ProductState::Draft, VICTIM_PRODUCT_NAME, 300),
        "A's bank's draft is untouched"
    );
    let variants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM product WHERE parent_product_id IS NOT NULL")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(variants, 0, "no one made a variant of another bank's product");
    let consent = lianrong_app::consent::get(&t.app, &system, &v.consent_id).await.unwrap();
    assert_eq!(
        (consent.state, consent.reads, consent.row.purpose.as_str()),
        (lianrong_domain::consent::ConsentState::Granted, 1, VICTIM_CONSENT_PURPOSE),
        "A's consent is in force and was read only by its bank"
    );
    let owned: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consent WHERE owner_org_id = $1 OR bank_org_id = $1")
        .bind(&v.org_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(owned, 1, "no consent was given in A's name or to A");
    let meanings: Vec<(String, String)> =
        sqlx::query_as("SELECT header, meaning FROM column_mapping WHERE org_id = $1")
            .bind(&v.org_id)
            .fetch_all(&t.app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        meanings,
        vec![(VICTIM_HEADER.to_string(), "buyer_uscc".to_string())],
        "A's column meanings are A's alone"
    );
}

#[tokio::test]
async fn a_foreign_organisation_can_neither_read_nor_change_anything_through_any_endpoint() {
    let t = spawn_app().await;
    let v = victim(&t).await;
    let system = Actor::system("system");

    // Foreign organisations of three kinds; the core has its own chain, so it has peers of its own.
    let f_core = t.org_with_admin(200, "core", "f.core").await;
    t.org_with_admin(201, "supplier", "f.sup").await;
    t.org_with_admin(202, "bank", "f.bank").await;
    let own_chain = lianrong_app::chain::create(&t.app, &system, "乙链主产业链", "electronics", false).await.unwrap();
    lianrong_app::chain::add_member(&t.app, &system, &own_chain.id, &f_core, "core", None).await.unwrap();
    let as_f = Actor { org_id: f_core.clone(), org_kind: lianrong_domain::org::OrgKind::Core, ..system.clone() };
    let all_scopes: Vec<String> = lianrong_domain::role::Scope::ALL.iter().map(|s| s.code().to_string()).collect();
    let f_key = lianrong_app::api_key::create(&t.app, &as_f, "乙 ERP", &all_scopes).await.unwrap();

    // Every operation in the API document is walked.
    let doc: Value = t
        .anonymous()
        .http
        .get(format!("{}/api/v1/openapi.json", t.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut walked: BTreeSet<(String, String)> =
        calls(&v).iter().map(|c| (c.method.to_string(), c.template.to_string())).collect();
    walked.insert(("DELETE".into(), "/api/v1/session".into()));
    assert_eq!(operations_in_openapi(&doc), walked, "every API operation must be walked by this test");

    for login in ["f.core", "f.sup", "f.bank"] {
        let api = t.login(login, PASSWORD).await;
        walk(login, &api, &v).await;
        // Logging out ends only the caller's own session.
        assert_eq!(api.send(Method::DELETE, "/api/v1/session", None).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(api.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    }
    walk("f.core API key", &t.with_key(&f_key.plaintext), &v).await;
    assert_victim_unchanged(&t, &v).await;

    // The refused attempts on A's data are in the audit trail.
    let refused: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_event WHERE outcome = 'refused'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert!(refused >= 20, "refusals audited: {refused}");
}

/// The console's consent form, naming `bank_org_id` as the bank.
fn consent_form(bank_org_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("bank_org_id", bank_org_id.to_string()),
        ("categories", "receivables".to_string()),
        ("purpose", "外来授权".to_string()),
        ("valid_until", in_two_days()),
    ]
}

/// The console's product form: for every chain, or naming a chain and a parent.
fn product_form(chain_id: Option<&str>, parent: Option<&str>) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("name", "外行产品".to_string()),
        ("kind", "receivable_financing".to_string()),
        ("evidence", "either".to_string()),
        ("amount_min_yuan", "1".to_string()),
        ("amount_max_yuan", "10".to_string()),
        ("term_min_days", "1".to_string()),
        ("term_max_days", "30".to_string()),
        ("rate_min_pct", "1".to_string()),
        ("rate_max_pct", "2".to_string()),
        ("advance_ratio_pct", "50".to_string()),
    ];
    if let Some(c) = chain_id {
        form.push(("eligible_chain_ids", c.to_string()));
    }
    if let Some(p) = parent {
        form.push(("parent_product_id", p.to_string()));
    }
    form
}

/// The console's routes as `crates/web/src/console/mod.rs` declares them: (METHOD, path template).
fn console_routes() -> BTreeSet<(String, String)> {
    let source = include_str!("../../../web/src/console/mod.rs");
    let mut routes = BTreeSet::new();
    for line in source.lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
        let path = line.trim_start_matches(".route(\"").split('"').next().unwrap().to_string();
        for method in ["get", "post", "put", "patch", "delete"] {
            if line.contains(&format!("{method}(")) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn a_foreign_organisation_can_neither_read_nor_change_anything_through_the_console() {
    let t = spawn_app().await;
    let v = victim(&t).await;
    t.org_with_admin(200, "core", "f.core").await;
    t.org_with_admin(201, "supplier", "f.sup").await;
    t.org_with_admin(202, "bank", "f.bank").await;
    // A's admin holds a file in a preview, waiting for its confirmation.
    let a = t.login("a.admin", PASSWORD).await;
    let file = reqwest::multipart::Part::bytes(victim_header_csv(&v.uscc).into_bytes()).file_name("甲方订单.csv");
    let form = reqwest::multipart::Form::new().text("csrf_token", a.csrf.clone().unwrap()).part("file", file);
    let held = a.http.post(format!("{}/submissions/preview", t.base_url)).multipart(form).send().await.unwrap();
    let held_path = held.url().path().to_string();
    assert!(held_path.starts_with("/submissions/preview/") && held.status() == StatusCode::OK, "{held_path}");

    // Pages and forms that touch no organisation's data.
    let public: BTreeSet<(String, String)> = [
        ("GET", "/"),
        ("GET", "/static/console.css"),
        ("GET", "/lang/{lang}"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    let get =
        |template: &'static str, path: String| (Method::GET, template, path, Vec::<(&'static str, String)>::new());
    let post =
        |template: &'static str, path: String, form: Vec<(&'static str, String)>| (Method::POST, template, path, form);
    let walk_list = vec![
        get("/home", "/home".into()),
        get("/orgs", format!("/orgs?q={}", v.uscc)),
        get("/orgs", "/orgs?page_size=200".into()),
        get("/orgs/{id}", format!("/orgs/{}", v.org_id)),
        post(
            "/orgs",
            "/orgs".into(),
            vec![
                ("uscc", code(998)),
                ("name", "冒名机构".into()),
                ("kind", "core".into()),
                ("size_class", "large".into()),
            ],
        ),
        get("/users", "/users?page_size=200".into()),
        get("/users/{id}", format!("/users/{}", v.clerk_id)),
        post(
            "/users",
            "/users".into(),
            vec![
                ("org_id", v.org_id.clone()),
                ("login", "intruder".into()),
                ("display_name", "x".into()),
                ("password", PASSWORD.into()),
                ("roles", "org_admin".into()),
            ],
        ),
        post(
            "/users/{id}",
            format!("/users/{}", v.clerk_id),
            vec![("roles", "org_admin".into()), ("active", "on".into())],
        ),
        post(
            "/users/{id}/password",
            format!("/users/{}/password", v.clerk_id),
            vec![("password", "Hijacked#Pass1".into())],
        ),
        post(
            "/users/{id}/suspension",
            format!("/users/{}/suspension", v.clerk_id),
            vec![("reason", "冒名停用".into())],
        ),
        get("/api-keys", "/api-keys".into()),
        post("/api-keys", "/api-keys".into(), vec![("name", "own key".into()), ("scopes", "chain:read".into())]),
        post("/api-keys/{id}/revoke", format!("/api-keys/{}/revoke", v.key_id), vec![]),
        get("/chains", "/chains".into()),
        get("/chains/{id}", format!("/chains/{}", v.chain_id)),
        post("/chains", "/chains".into(), vec![("name", "伪造产业链".into()), ("cluster_id", "nev".into())]),
        post(
            "/chains/{id}/members",
            format!("/chains/{}/members", v.chain_id),
            vec![
                ("uscc", v.uscc.clone()),
                ("org_id", v.org_id.clone()),
                ("role", "supplier".into()),
                ("tier", "1".into()),
            ],
        ),
        get("/core-library", "/core-library?page_size=200".into()),
        get("/core-library/{id}", format!("/core-library/{}", v.entry_id)),
        post(
            "/core-library",
            "/core-library".into(),
            vec![("org_id", v.org_id.clone()), ("cluster_id", "nev".into()), ("reason", "代为申请".into())],
        ),
        post(
            "/core-library/{id}/transition",
            format!("/core-library/{}/transition", v.entry_id),
            vec![("action", "withdraw".into()), ("reason", "恶意撤回".into())],
        ),
        post(
            "/core-library/{id}/transition",
            format!("/core-library/{}/transition", v.entry_id),
            vec![("action", "admit".into()), ("reason", "".into())],
        ),
        get("/clusters", "/clusters".into()),
        get("/audit", "/audit".into()),
        get("/mailbox", format!("/mailbox?org_id={}", v.org_id)),
        get("/mailbox", format!("/mailbox?org_id={}", v.uscc)),
        get("/mailbox/receipts", format!("/mailbox/receipts?org_id={}", v.org_id)),
        post(
            "/mailbox",
            "/mailbox".into(),
            vec![("action", "add".into()), ("address", "intruder@evil.cn".into()), ("org_id", v.org_id.clone())],
        ),
        post(
            "/mailbox",
            "/mailbox".into(),
            vec![("action", "remove".into()), ("address", v.sender.clone()), ("org_id", v.org_id.clone())],
        ),
        get("/log", "/log".into()),
        get("/log", "/log?kind=confirmation".into()),
        get("/log/{leaf_index}", format!("/log/{}", v.leaf_index)),
        get("/log/leaves/{leaf_id}", format!("/log/leaves/{}", v.leaf_id)),
        // The data lake. Uploading A's trade as someone else: received as the caller's own submission,
        // every row refused (not a party); the banks may not submit at all.
        post(
            "/submissions",
            "/submissions".into(),
            vec![(UPLOAD, String::from_utf8(victim_trade_csv(&v.uscc)).unwrap())],
        ),
        get("/submissions", "/submissions?page_size=200".into()),
        // A preview of a file with A's header: held for the caller, read with the caller's meanings.
        post("/submissions/preview", "/submissions/preview".into(), vec![(UPLOAD, victim_header_csv(&v.uscc))]),
        // A's held file is A's admin's alone: not shown, mapped through, uploaded or let go by anyone else.
        get("/submissions/preview/{token}", held_path.clone()),
        post(
            "/submissions/preview/{token}",
            held_path.clone(),
            vec![
                ("action", "save".into()),
                ("header", VICTIM_HEADER.into()),
                ("meaning", "ignore".into()),
                ("current", "standard".into()),
            ],
        ),
        post("/submissions/preview/{token}", held_path.clone(), vec![("action", "upload".into())]),
        post("/submissions/preview/{token}", held_path.clone(), vec![("action", "cancel".into())]),
        get("/submissions/{id}", format!("/submissions/{}", v.submission_id)),
        get("/submissions/{id}/raw", format!("/submissions/{}/raw", v.submission_id)),
        get("/trade-records", "/trade-records?page_size=200".into()),
        get("/trade-records", format!("/trade-records?doc_no={VICTIM_ORDER_NO}")),
        get("/trade-records", format!("/trade-records?submission_id={}", v.submission_id)),
        get("/trade-records/{id}", format!("/trade-records/{}", v.record_id)),
        get("/standard", "/standard".into()),
        get("/standard/templates/{name}", "/standard/templates/order.xlsx".into()),
        get("/penetration", format!("/penetration?org_id={}", v.org_id)),
        get("/receivables/{invoice_id}/account", format!("/receivables/{}/account", v.invoice_id)),
        post(
            "/receivables/{invoice_id}/account",
            format!("/receivables/{}/account", v.invoice_id),
            vec![("action", "consent".into()), ("change_id", v.change_id.clone())],
        ),
        post(
            "/receivables/{invoice_id}/account",
            format!("/receivables/{}/account", v.invoice_id),
            vec![
                ("action", "bind".into()),
                ("account_no", "6222020200119999999".into()),
                ("bank_name", "冒名银行".into()),
                ("holder_name", "冒名户".into()),
            ],
        ),
        get("/receivables", "/receivables?side=debtor".into()),
        get("/receivables", "/receivables?side=creditor".into()),
        post(
            "/receivables/confirmation-requests",
            "/receivables/confirmation-requests".into(),
            vec![("invoice_id", v.invoice_id.clone())],
        ),
        post(
            "/receivables/payables-confirmations",
            "/receivables/payables-confirmations".into(),
            vec![("invoice_id", v.invoice_id.clone())],
        ),
        post(
            "/confirmations/order-requests",
            "/confirmations/order-requests".into(),
            vec![("order_id", v.record_id.clone())],
        ),
        get("/credit-lines", "/credit-lines".into()),
        post(
            "/credit-lines",
            "/credit-lines".into(),
            vec![
                ("borrower_org_id", v.org_id.clone()),
                ("kind", "core_supply_chain".into()),
                ("limit_yuan", "1.00".into()),
                ("valid_from", ymd(-340)),
                ("valid_until", ymd(24)),
            ],
        ),
        get("/products", "/products".into()),
        get("/products", "/products?kind=receivable_financing&page=1".into()),
        get("/products/{id}", format!("/products/{}", v.product_id)),
        post("/products", "/products".into(), product_form(None, None)),
        post("/products", "/products".into(), product_form(Some(&v.chain_id), Some(&v.product_id))),
        post("/products/{id}", format!("/products/{}", v.product_id), product_form(None, None)),
        post("/products/{id}/publish", format!("/products/{}/publish", v.product_id), vec![]),
        post("/products/{id}/withdraw", format!("/products/{}/withdraw", v.product_id), vec![]),
        get("/consents", "/consents".into()),
        get("/consents/{id}", format!("/consents/{}", v.consent_id)),
        get("/consents/{id}", format!("/consents/{}?category=raw_records", v.consent_id)),
        post("/consents", "/consents".into(), consent_form(&v.bank_id)),
        post("/consents", "/consents".into(), consent_form(&v.org_id)),
        post("/consents/{id}/revoke", format!("/consents/{}/revoke", v.consent_id), vec![]),
        get("/confirmations", "/confirmations?role=received".into()),
        get("/confirmations", "/confirmations?role=sent".into()),
        post(
            "/confirmations",
            "/confirmations".into(),
            vec![("confirmation_id", v.confirmation_id.clone()), ("action", "confirm".into())],
        ),
        post(
            "/confirmations",
            "/confirmations".into(),
            vec![("confirmation_id", v.confirmation_id.clone()), ("action", "withdraw".into())],
        ),
        get("/registrations", "/registrations?page_size=200".into()),
        post("/registrations", "/registrations".into(), vec![("invoice_ids", v.invoice_id.clone())]),
        post(
            "/registrations/{id}/release",
            format!("/registrations/{}/release", v.registration_id),
            vec![("reason", "冒名注销".into())],
        ),
        post(
            "/registrations/{id}/certificate",
            format!("/registrations/{}/certificate", v.registration_id),
            vec![("registry_certificate_no", "FORGED-0001".into())],
        ),
        get("/registrations/export", "/registrations/export?format=crcrfsp&file=csv".into()),
        // Commitments: A's is neither listed, shown nor moved; nobody issues on A's payables or line.
        get("/commitments", "/commitments".into()),
        get("/financing", "/financing".into()),
        // Applications and loans in the console: A's are not shown, decided, paid out or repaid by others.
        get("/applications", "/applications".into()),
        get("/applications/{id}", format!("/applications/{}", v.application_id)),
        post(
            "/applications",
            "/applications".into(),
            vec![
                ("subject", "receivables".into()),
                ("invoice_id", v.invoice_id.clone()),
                ("offer", format!("{}|{}", v.bank_id, v.product_id)),
                ("amount_yuan", "100".into()),
                ("term_days", "30".into()),
                ("purpose", "walk".into()),
                ("consent_until", ymd(25)),
            ],
        ),
        post(
            "/applications/{id}",
            format!("/applications/{}", v.application_id),
            vec![("action", "reject".into()), ("offer_id", v.offer_id.clone()), ("reason", "walk".into())],
        ),
        post(
            "/applications/{id}",
            format!("/applications/{}", v.application_id),
            vec![("action", "disburse".into()), ("offer_id", v.offer_id.clone())],
        ),
        get("/loans", "/loans".into()),
        get("/loans/{id}", format!("/loans/{}", v.loan_id)),
        post(
            "/loans/{id}",
            format!("/loans/{}", v.loan_id),
            vec![("amount_yuan", "800".into()), ("paid_on", ymd(-17)), ("payment_reference", "WALK".into())],
        ),
        get("/commitments", "/commitments?role=held".into()),
        get("/commitments/{id}", format!("/commitments/{}", v.commitment_id)),
        post(
            "/commitments",
            "/commitments".into(),
            vec![
                ("invoice_id", v.invoice_id.clone()),
                ("face_yuan", "1000".into()),
                ("maturity_date", ymd(84)),
                ("credit_line_id", v.line_id.clone()),
            ],
        ),
        post(
            "/commitments/{id}",
            format!("/commitments/{}", v.commitment_id),
            vec![
                ("action", "split".into()),
                ("transfer_id", "walk-2".into()),
                ("part_id", format!("{}/0", v.commitment_id)),
                ("amounts_yuan", "500\n500".into()),
            ],
        ),
        post(
            "/commitments/{id}",
            format!("/commitments/{}", v.commitment_id),
            vec![("action", "settle".into()), ("payment_reference", "WALK".into()), ("amount_yuan", "1000".into())],
        ),
        post(
            "/registrations/import",
            "/registrations/import".into(),
            vec![(UPLOAD, String::from_utf8(victim_trade_csv(&v.uscc)).unwrap())],
        ),
    ];
    let walked: BTreeSet<(String, String)> =
        walk_list.iter().map(|(m, t, _, _)| (m.to_string(), t.to_string())).chain(public.iter().cloned()).collect();
    assert_eq!(console_routes(), walked, "every console route must be walked by this test");

    for login in ["f.core", "f.sup", "f.bank"] {
        let api = t.login(login, PASSWORD).await;
        let csrf = api.csrf.clone().unwrap();
        for (method, template, path, form) in &walk_list {
            let url = format!("{}{path}", t.base_url);
            let req = if *method == Method::GET {
                api.http.get(&url)
            } else if let Some((_, csv)) = form.iter().find(|(name, _)| *name == UPLOAD) {
                // The console's upload form: the token first, then the file.
                let file = reqwest::multipart::Part::bytes(csv.clone().into_bytes()).file_name("orders.csv");
                let multipart = reqwest::multipart::Form::new().text("csrf_token", csrf.clone()).part("file", file);
                api.http.post(&url).multipart(multipart)
            } else {
                let mut fields = form.clone();
                fields.push(("csrf_token", csrf.clone()));
                api.http.post(&url).form(&fields)
            };
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let landed = resp.url().path().to_string();
            let text = resp.text().await.unwrap();
            if *template != "/audit" {
                // A value the caller sent itself (a searched code, a form field, the rows of an uploaded
                // file shown in its report) may be echoed back; everything else of A's must be absent.
                let sent = |secret: &str| {
                    path.contains(secret)
                        || form
                            .iter()
                            .any(|(name, value)| value == secret || (*name == UPLOAD && value.contains(secret)))
                };
                for secret in v.secrets().into_iter().filter(|s| !sent(s)) {
                    assert!(!text.contains(secret), "{login} {method} {path} revealed '{secret}'");
                }
            }
            let ok = match (method.clone(), status) {
                // The upload lands, through the redirect, on the caller's own report: nothing accepted.
                (Method::POST, StatusCode::OK) if *template == "/submissions" => {
                    landed.starts_with("/submissions/")
                        && !landed.contains(&v.submission_id)
                        && text.contains("id=\"report-accepted\">0<")
                        && text.contains("data-code=\"not_a_party\"")
                }
                // The preview lands on the caller's own held file, read with the caller's meanings.
                (Method::POST, StatusCode::OK) if *template == "/submissions/preview" => {
                    landed.starts_with("/submissions/preview/")
                        && landed != held_path
                        && text.contains(VICTIM_HEADER)
                        && !text.contains("data-origin=\"organisation\"")
                }
                // Discarding is answered alike whether or not the token names a held file of the caller's;
                // A's held file is checked still held at the end.
                (Method::POST, StatusCode::OK) if *template == "/submissions/preview/{token}" => {
                    form.iter().any(|(n, a)| *n == "action" && a == "cancel") && landed == "/submissions"
                }
                (Method::GET, StatusCode::OK) => !template.contains('{') || *template == "/standard/templates/{name}",
                (_, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) => true,
                // A form refused as invalid changed nothing either (checked at the end).
                (Method::POST, StatusCode::UNPROCESSABLE_ENTITY) => true,
                // Creating an API key or applying to the library for the caller's own organisation is allowed.
                (Method::POST, s) if s.is_success() || s.is_redirection() => {
                    ["/api-keys", "/core-library", "/credit-lines"].contains(template)
                        || (*template == "/products" && !form.iter().any(|(n, _)| *n == "parent_product_id"))
                        || (*template == "/consents"
                            && form.iter().any(|(n, b)| *n == "bank_org_id" && *b == v.bank_id))
                }
                _ => false,
            };
            assert!(ok, "{login} {method} {path} answered {status}");
        }
    }
    assert_victim_unchanged(&t, &v).await;
    let status = a.http.get(format!("{}{held_path}", t.base_url)).send().await.unwrap().status();
    assert_eq!(status, StatusCode::OK, "A's held file is still held for A");
}
