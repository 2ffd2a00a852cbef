//! The JSON API under `/api/v1`. One module per capability; every route is listed here, grouped by
//! capability, and every handler is described in the OpenAPI document served at `/api/v1/openapi.json`
//! (browsable offline at `/api/docs`).

pub mod api_key;
pub mod application;
pub mod audit;
pub mod chain;
pub mod cluster;
pub mod collection_account;
pub mod column_mapping;
pub mod commitment;
pub mod confirmation;
pub mod consent;
pub mod core_library;
pub mod credit_line;
mod dto;
pub mod four_flow;
pub mod log;
pub mod mailbox;
pub mod me;
pub mod org;
pub mod product;
pub mod registration;
pub mod standard;
pub mod stats;
pub mod submission;
pub mod user;

use axum::Router;
use axum::routing::{get, post};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;
use crate::upload::{IMPORT_BODY_BYTES_MAX, UPLOAD_BODY_BYTES_MAX};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lianrong 链融 API",
        description = "Industry-chain supply-chain finance platform. Authenticate with an organisation's API key \
                       (`Authorization: Bearer lrk_…`) or a console session (state changes then need `X-CSRF-Token`). \
                       Errors are `application/problem+json` (RFC 9457) with a stable `code` and messages in zh-CN and en. \
                       Every state-changing request accepts an `Idempotency-Key` header.",
        license(name = "Apache-2.0")
    ),
    paths(
        me::me, me::login, me::logout,
        org::list, org::get, org::create, org::list_uscc_exceptions, org::add_uscc_exception,
        user::list, user::get, user::create, user::update, user::reset_password, user::suspend,
        api_key::list, api_key::create, api_key::revoke,
        cluster::list, cluster::create, cluster::update,
        chain::list, chain::get, chain::create, chain::set_pilot, chain::members, chain::add_member, chain::remove_member,
        core_library::list, core_library::get, core_library::history, core_library::apply, core_library::transition,
        audit::list,
        standard::get, standard::template,
        submission::submit, submission::upload, submission::list, submission::get, submission::issues, submission::raw,
        submission::records, submission::record, submission::preview, column_mapping::list, column_mapping::change,
        four_flow::list, four_flow::get, four_flow::receivables, four_flow::receivable_totals, four_flow::penetration,
        collection_account::get, collection_account::bind, collection_account::list_changes, collection_account::propose,
        collection_account::consent, collection_account::withdraw, collection_account::decline,
        credit_line::grant, credit_line::list, credit_line::get,
        commitment::issue, commitment::list, commitment::get, commitment::holdings, commitment::pending_discounts,
        commitment::lineage, commitment::operate, commitment::post_discount, commitment::void_discount,
        commitment::settle,
        stats::financing,
        application::apply, application::list, application::get, application::decide, application::service_time,
        application::disburse, application::list_loans, application::get_loan, application::repay,
        application::loan_figures,
        product::create, product::list, product::get, product::update, product::publish, product::withdraw,
        consent::grant, consent::list, consent::get, consent::revoke, consent::reads, consent::receivables,
        consent::trade_totals, consent::records, consent::reference_score,
        confirmation::request, confirmation::list, confirmation::get, confirmation::statement, confirmation::decide,
        confirmation::decide_batch, confirmation::confirm_payables, confirmation::payable_statement, confirmation::withdraw, confirmation::time_to_confirm, confirmation::signing_key,
        confirmation::supply_key, confirmation::use_platform_key,
        mailbox::get, mailbox::list_senders, mailbox::add_sender, mailbox::remove_sender, mailbox::list_receipts,
        log::tree_head, log::key, log::list, log::entry, log::leaf, log::consistency,
        registration::register, registration::list, registration::get, registration::release, registration::certificate,
        registration::export, registration::import,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&Security),
    tags(
        (name = "me", description = "The caller"),
        (name = "organisation", description = "Organisations and their credit codes"),
        (name = "user", description = "Users and roles"),
        (name = "api_key", description = "API keys for machine clients"),
        (name = "cluster", description = "The \"33618\" cluster list"),
        (name = "chain", description = "Industry chains and members"),
        (name = "core_library", description = "The core-enterprise library"),
        (name = "audit", description = "The audit trail"),
        (name = "standard", description = "The data standard and its templates"),
        (name = "four_flow", description = "Four-flow verification of invoices against orders, deliveries and payments"),
        (name = "submission", description = "The data lake: submissions through the three channels, reports, trade records"),
        (name = "collection_account", description = "Fixed repayment accounts of receivables and the consented changes to them"),
        (name = "credit_line", description = "Dedicated supply-chain credit lines granted by banks"),
        (name = "application", description = "Financing applications, the banks' decisions, loans and repayments"),
        (name = "stats", description = "Programme statistics for the operator and the regulator"),
        (name = "commitment", description = "Digital payment commitments: issued by cores, split and passed down the chain, discounted, settled"),
        (name = "product", description = "Financing products: banks publish them, everyone reads the catalogue"),
        (name = "consent", description = "Data authorisation: owners grant banks categories of their data; every read is audited"),
        (name = "confirmation", description = "Debtor confirmation of receivables (确权), signed with SM2"),
        (name = "mailbox", description = "The designated mailbox: address, registered senders, receipts"),
        (name = "log", description = "The verifiable log: signed tree heads, inclusion and consistency proofs"),
        (name = "registration", description = "Registration of receivables against double financing; exports for the national registry and the receivables financing platform"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("lrk_<prefix>_<secret>").build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
        openapi.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("api_key", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

pub fn router(state: AppState) -> Router<AppState> {
    let v1 = Router::new()
        .route("/me", get(me::me))
        .route("/session", post(me::login).delete(me::logout))
        .route("/organisations", get(org::list).post(org::create))
        .route("/organisations/{id}", get(org::get))
        .route("/uscc-exceptions", get(org::list_uscc_exceptions).post(org::add_uscc_exception))
        .route("/users", get(user::list).post(user::create))
        .route("/users/{id}", get(user::get).patch(user::update))
        .route("/users/{id}/password", post(user::reset_password))
        .route("/users/{id}/suspension", post(user::suspend))
        .route("/api-keys", get(api_key::list).post(api_key::create))
        .route("/api-keys/{id}/revoke", post(api_key::revoke))
        .route("/clusters", get(cluster::list).post(cluster::create))
        .route("/clusters/{id}", axum::routing::put(cluster::update))
        .route("/chains", get(chain::list).post(chain::create))
        .route("/chains/{id}", get(chain::get).patch(chain::set_pilot))
        .route("/chains/{id}/members", get(chain::members).post(chain::add_member))
        .route("/chains/{id}/members/{org_id}", axum::routing::delete(chain::remove_member))
        .route("/core-library", get(core_library::list).post(core_library::apply))
        .route("/core-library/{id}", get(core_library::get))
        .route("/core-library/{id}/history", get(core_library::history))
        .route("/core-library/{id}/transitions", post(core_library::transition))
        .route("/audit-events", get(audit::list))
        .route("/standard", get(standard::get))
        .route("/standard/templates/{name}", get(standard::template))
        .route(
            "/submissions",
            get(submission::list)
                .post(submission::submit)
                .layer(axum::extract::DefaultBodyLimit::max(submission::BATCH_BODY_BYTES_MAX)),
        )
        .route(
            "/submissions/upload",
            post(submission::upload).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_BYTES_MAX)),
        )
        .route(
            "/submissions/preview",
            post(submission::preview).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_BYTES_MAX)),
        )
        .route("/column-mappings", get(column_mapping::list).post(column_mapping::change))
        .route("/submissions/{id}", get(submission::get))
        .route("/submissions/{id}/issues", get(submission::issues))
        .route("/submissions/{id}/raw", get(submission::raw))
        .route("/trade-records", get(submission::records))
        .route("/trade-records/{id}", get(submission::record))
        .route("/verifications", get(four_flow::list))
        .route("/verifications/{invoice_id}", get(four_flow::get))
        .route("/receivables", get(four_flow::receivables))
        .route("/receivables/totals", get(four_flow::receivable_totals))
        .route("/penetration/{org_id}", get(four_flow::penetration))
        .route(
            "/receivables/{invoice_id}/collection-account",
            get(collection_account::get).put(collection_account::bind),
        )
        .route(
            "/receivables/{invoice_id}/collection-account/changes",
            get(collection_account::list_changes).post(collection_account::propose),
        )
        .route(
            "/receivables/{invoice_id}/collection-account/changes/{change_id}/consent",
            post(collection_account::consent),
        )
        .route(
            "/receivables/{invoice_id}/collection-account/changes/{change_id}/withdraw",
            post(collection_account::withdraw),
        )
        .route(
            "/receivables/{invoice_id}/collection-account/changes/{change_id}/decline",
            post(collection_account::decline),
        )
        .route("/credit-lines", get(credit_line::list).post(credit_line::grant))
        .route("/credit-lines/{id}", get(credit_line::get))
        .route("/commitments", get(commitment::list).post(commitment::issue))
        .route("/commitments/holdings", get(commitment::holdings))
        .route("/commitments/pending-discounts", get(commitment::pending_discounts))
        .route("/commitments/{id}", get(commitment::get))
        .route("/commitments/{id}/lineage", get(commitment::lineage))
        .route("/commitments/{id}/transfers", post(commitment::operate))
        .route("/commitments/{id}/transfers/{transfer_id}/post", post(commitment::post_discount))
        .route("/commitments/{id}/transfers/{transfer_id}/void", post(commitment::void_discount))
        .route("/commitments/{id}/settle", post(commitment::settle))
        .route("/stats/financing", get(stats::financing))
        .route("/stats/loans", get(application::loan_figures))
        .route("/applications", get(application::list).post(application::apply))
        .route("/applications/service-time", get(application::service_time))
        .route("/applications/{id}", get(application::get))
        .route("/applications/{id}/offers/{offer_id}/decision", post(application::decide))
        .route("/applications/{id}/offers/{offer_id}/disbursement", post(application::disburse))
        .route("/loans", get(application::list_loans))
        .route("/loans/{id}", get(application::get_loan))
        .route("/loans/{id}/repayments", post(application::repay))
        .route("/products", get(product::list).post(product::create))
        .route("/products/{id}", get(product::get).put(product::update))
        .route("/products/{id}/publish", post(product::publish))
        .route("/products/{id}/withdraw", post(product::withdraw))
        .route("/consents", get(consent::list).post(consent::grant))
        .route("/consents/{id}", get(consent::get))
        .route("/consents/{id}/revoke", post(consent::revoke))
        .route("/consents/{id}/reads", get(consent::reads))
        .route("/consents/{id}/receivables", get(consent::receivables))
        .route("/consents/{id}/trade-totals", get(consent::trade_totals))
        .route("/consents/{id}/records", get(consent::records))
        .route("/consents/{id}/reference-score", get(consent::reference_score))
        .route("/confirmations", get(confirmation::list).post(confirmation::request))
        .route("/confirmations/decisions", post(confirmation::decide_batch))
        .route("/confirmations/payables", post(confirmation::confirm_payables))
        .route("/confirmations/payables/{invoice_id}/statement", get(confirmation::payable_statement))
        .route("/confirmations/time-to-confirm", get(confirmation::time_to_confirm))
        .route("/confirmations/{id}", get(confirmation::get))
        .route("/confirmations/{id}/statement", get(confirmation::statement))
        .route("/confirmations/{id}/decision", post(confirmation::decide))
        .route("/confirmations/{id}/withdraw", post(confirmation::withdraw))
        .route("/signing-key", get(confirmation::signing_key).put(confirmation::supply_key))
        .route("/signing-key/platform", post(confirmation::use_platform_key))
        .route("/mailbox", get(mailbox::get))
        .route("/mailbox/senders", get(mailbox::list_senders).post(mailbox::add_sender))
        .route("/mailbox/senders/{address}", axum::routing::delete(mailbox::remove_sender))
        .route("/mailbox/receipts", get(mailbox::list_receipts))
        .route("/log/tree-head", get(log::tree_head))
        .route("/log/key", get(log::key))
        .route("/log/entries", get(log::list))
        .route("/log/entries/{leaf_index}", get(log::entry))
        .route("/log/leaves/{leaf_id}", get(log::leaf))
        .route("/log/consistency", get(log::consistency))
        .route("/registrations", get(registration::list).post(registration::register))
        .route("/registrations/export", get(registration::export))
        .route(
            "/registrations/confirmations/import",
            post(registration::import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_BODY_BYTES_MAX)),
        )
        .route("/registrations/{id}", get(registration::get))
        .route("/registrations/{id}/release", post(registration::release))
        .route("/registrations/{id}/certificate", post(registration::certificate))
        .layer(axum::middleware::from_fn_with_state(state, crate::idempotency::middleware));
    Router::new().nest("/api/v1", v1).merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", ApiDoc::openapi()))
}
