//! Fixed repayment accounts (回款账户确定): bind a receivable to the account its debtor must pay into, and
//! change it only with the consent of the creditor, the debtor and — once financed — the financing bank.
//! Account numbers are shown masked (`**** 1234`); the creditor alone may ask for the full number with
//! `?reveal=true`, and every reveal is audited. Whoever is not a party to the receivable gets 404.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianrong_app::collection_account::{self as app, AccountState, Change, NewAccount};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::rfc3339;
use crate::auth::ApiActor;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInputDto {
    /// The bank account number, 9–30 digits; spaces, hyphens and full-width digits are accepted.
    pub account_no: String,
    /// The bank and branch holding the account (开户行).
    pub bank_name: String,
    /// The account holder's name (户名).
    pub holder_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeInputDto {
    /// The new account number, 9–30 digits.
    pub account_no: String,
    pub bank_name: String,
    pub holder_name: String,
    /// Why the account changes (at most 500 characters).
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineDto {
    /// Why the change is declined (at most 500 characters).
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountDto {
    /// The account as shown: `**** 1234`.
    pub masked: String,
    pub last4: String,
    pub bank_name: String,
    pub holder_name: String,
    pub bound_by_org_id: String,
    pub bound_by: String,
    pub bound_at: String,
    /// 1 when first bound, one more for every applied change.
    pub version: i64,
    /// The full number: only for the creditor, only with `reveal=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_no: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountStateDto {
    /// The receivable's invoice record id.
    pub invoice_id: String,
    pub invoice_no: String,
    pub creditor_uscc: String,
    pub debtor_uscc: String,
    pub creditor_org_id: Option<String>,
    pub debtor_org_id: Option<String>,
    /// The bank of the active registration financing the receivable, if any.
    pub financier_org_id: Option<String>,
    /// The caller's standing: creditor, debtor, financier or custodian (the operator).
    pub relation: String,
    /// `null` until the creditor binds an account.
    pub account: Option<AccountDto>,
    pub pending_change_id: Option<String>,
}

impl From<AccountState> for AccountStateDto {
    fn from(s: AccountState) -> AccountStateDto {
        AccountStateDto {
            invoice_id: s.invoice_id,
            invoice_no: s.invoice_no,
            creditor_uscc: s.creditor_uscc,
            debtor_uscc: s.debtor_uscc,
            creditor_org_id: s.creditor_org_id,
            debtor_org_id: s.debtor_org_id,
            financier_org_id: s.financier_org_id,
            relation: s.relation.code().to_string(),
            account: s.account.map(|a| AccountDto {
                masked: a.masked,
                last4: a.last4,
                bank_name: a.bank_name,
                holder_name: a.holder_name,
                bound_by_org_id: a.bound_by_org_id,
                bound_by: a.bound_by,
                bound_at: rfc3339(a.bound_at_ms),
                version: a.version,
                account_no: a.revealed,
            }),
            pending_change_id: s.pending_change_id,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentDto {
    pub org_id: String,
    pub consented_by: String,
    pub consented_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeDto {
    pub id: String,
    pub invoice_id: String,
    /// pending, applied, withdrawn or refused.
    pub status: String,
    /// The proposed account, masked.
    pub masked: String,
    pub last4: String,
    pub bank_name: String,
    pub holder_name: String,
    pub reason: String,
    pub proposed_by_org_id: String,
    pub proposed_by: String,
    pub proposed_at: String,
    /// Organisations whose consent the change needs (creditor, debtor, financing bank).
    pub required_org_ids: Vec<String>,
    pub consents: Vec<ConsentDto>,
    /// Required organisations that have not consented yet.
    pub awaiting_org_ids: Vec<String>,
    pub closed_by_org_id: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub close_reason: Option<String>,
}

impl From<Change> for ChangeDto {
    fn from(c: Change) -> ChangeDto {
        ChangeDto {
            id: c.id,
            invoice_id: c.invoice_id,
            status: c.status.code().to_string(),
            masked: c.masked,
            last4: c.last4,
            bank_name: c.bank_name,
            holder_name: c.holder_name,
            reason: c.reason,
            proposed_by_org_id: c.proposed_by_org_id,
            proposed_by: c.proposed_by,
            proposed_at: rfc3339(c.proposed_at_ms),
            required_org_ids: c.required_org_ids,
            consents: c
                .consents
                .into_iter()
                .map(|k| ConsentDto {
                    org_id: k.org_id,
                    consented_by: k.consented_by,
                    consented_at: rfc3339(k.consented_at_ms),
                })
                .collect(),
            awaiting_org_ids: c.awaiting_org_ids,
            closed_by_org_id: c.closed_by_org_id,
            closed_by: c.closed_by,
            closed_at: c.closed_at_ms.map(rfc3339),
            close_reason: c.close_reason,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeList {
    /// Newest first (at most 100).
    pub items: Vec<ChangeDto>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevealQuery {
    /// `true` to include the full account number (the creditor only; audited).
    pub reveal: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/receivables/{invoice_id}/collection-account", tag = "collection_account",
    params(("invoice_id" = String, Path, description = "The receivable's invoice record id"), RevealQuery),
    description = "The receivable's fixed repayment account, masked, for its creditor, debtor and financing bank.",
    responses((status = 200, body = AccountStateDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(invoice_id): Path<String>,
    ApiQuery(q): ApiQuery<RevealQuery>,
) -> ApiResult<Json<AccountStateDto>> {
    Ok(Json(app::get(&s.app, &actor, &invoice_id, q.reveal.unwrap_or(false)).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/receivables/{invoice_id}/collection-account", tag = "collection_account",
    params(("invoice_id" = String, Path, description = "The receivable's invoice record id")),
    request_body = AccountInputDto,
    description = "The creditor binds the receivable's first repayment account (scope `receivable:write`). Once bound, \
                   binding again answers 409 `collection_account_bound`: propose a change instead. Payments the lake \
                   receives for the receivable to another account are then flagged `payment_other_account`.",
    responses((status = 201, body = AccountStateDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn bind(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(invoice_id): Path<String>,
    ApiJson(b): ApiJson<AccountInputDto>,
) -> ApiResult<(StatusCode, Json<AccountStateDto>)> {
    let new = NewAccount { account_no: b.account_no, bank_name: b.bank_name, holder_name: b.holder_name };
    let state = app::bind(&s.app, &actor, &invoice_id, &new).await?;
    Ok((StatusCode::CREATED, Json(state.into())))
}

#[utoipa::path(get, path = "/api/v1/receivables/{invoice_id}/collection-account/changes", tag = "collection_account",
    params(("invoice_id" = String, Path, description = "The receivable's invoice record id")),
    responses((status = 200, body = ChangeList), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_changes(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(invoice_id): Path<String>,
) -> ApiResult<Json<ChangeList>> {
    let items = app::list_changes(&s.app, &actor, &invoice_id).await?;
    Ok(Json(ChangeList { items: items.into_iter().map(ChangeDto::from).collect() }))
}

#[utoipa::path(post, path = "/api/v1/receivables/{invoice_id}/collection-account/changes", tag = "collection_account",
    params(("invoice_id" = String, Path, description = "The receivable's invoice record id")),
    request_body = ChangeInputDto,
    description = "The creditor, the debtor or the financing bank proposes a new account; the proposer consents by \
                   proposing. It applies when every required organisation has consented. One change may be pending at a time.",
    responses((status = 201, body = ChangeDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn propose(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(invoice_id): Path<String>,
    ApiJson(b): ApiJson<ChangeInputDto>,
) -> ApiResult<(StatusCode, Json<ChangeDto>)> {
    let new = NewAccount { account_no: b.account_no, bank_name: b.bank_name, holder_name: b.holder_name };
    let change = app::propose(&s.app, &actor, &invoice_id, &new, b.reason.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(change.into())))
}

#[utoipa::path(post, path = "/api/v1/receivables/{invoice_id}/collection-account/changes/{change_id}/consent",
    tag = "collection_account",
    params(("invoice_id" = String, Path, description = "The receivable's invoice record id"),
        ("change_id" = String, Path, description = "The change request")),
    description = "Consents for the caller's organisation, which must be one the change needs; the last consent applies it. \
                   Consenting twice answers 409 `already_consented`; an organisation whose consent is not needed gets 403 `consent_not_required`.",
    responses((status = 200, body = ChangeDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn consent(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((invoice_id, change_id)): Path<(String, String)>,
) -> ApiResult<Json<ChangeDto>> {
    Ok(Json(app::consent(&s.app, &actor, &invoice_id, &change_id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/receivables/{invoice_id}/collection-account/changes/{change_id}/withdraw",
    tag = "collection_account",
    params(("invoice_id" = String, Path, description = "The receivable's invoice record id"),
        ("change_id" = String, Path, description = "The change request")),
    description = "The proposer's organisation withdraws its pending change.",
    responses((status = 200, body = ChangeDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn withdraw(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((invoice_id, change_id)): Path<(String, String)>,
) -> ApiResult<Json<ChangeDto>> {
    Ok(Json(app::withdraw(&s.app, &actor, &invoice_id, &change_id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/receivables/{invoice_id}/collection-account/changes/{change_id}/decline",
    tag = "collection_account",
    params(("invoice_id" = String, Path, description = "The receivable's invoice record id"),
        ("change_id" = String, Path, description = "The change request")),
    request_body = DeclineDto,
    description = "A required organisation other than the proposer declines the change: it is refused and the account stays.",
    responses((status = 200, body = ChangeDto), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decline(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((invoice_id, change_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<DeclineDto>,
) -> ApiResult<Json<ChangeDto>> {
    Ok(Json(app::decline(&s.app, &actor, &invoice_id, &change_id, b.reason.as_deref()).await?.into()))
}
