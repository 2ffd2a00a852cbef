//! Canonical trade records in the console: the list with filters, and one record with every field, its
//! lineage (submission, channel, file, row) and its earlier versions. A record is visible to its two
//! parties; the operator, as the lake's custodian, reads all (each read audited by the app).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lianrong_app::trade::{TradeFilter, TradeRow, VersionRow};
use lianrong_app::{AppResult, trade};
use lianrong_domain::Money;
use lianrong_domain::confirmation::ConfirmationStatus;
use lianrong_domain::trade::{AcceptanceStatus, Field as StdField, InvoiceKind, PaymentMethod, RecordType, TermBasis};

use super::ctx::Ctx;
use super::form::{Pager, Params, QueryData};
use super::label::{channel_label, label_of, or_dash, record_type_label};
use super::page::{Opt, Ui, render};
use super::submission::custodian;
use crate::state::AppState;

pub struct RecordItem {
    pub id: String,
    pub type_label: String,
    pub type_code: String,
    pub doc_no: String,
    pub invoice_code: String,
    pub date: String,
    pub buyer_name: String,
    pub buyer_uscc: String,
    pub seller_name: String,
    pub seller_uscc: String,
    pub amount: String,
    pub negative: bool,
    pub version: i64,
    pub channel: String,
}

fn record_item(r: &TradeRow, lang_en: bool) -> RecordItem {
    RecordItem {
        id: r.id.clone(),
        type_label: record_type_label(&r.record_type, lang_en),
        type_code: r.record_type.clone(),
        doc_no: r.doc_no.clone(),
        invoice_code: r.invoice_code.clone(),
        date: r.doc_date.clone(),
        buyer_name: or_dash(r.buyer_name.as_deref()),
        buyer_uscc: r.buyer_uscc.clone(),
        seller_name: or_dash(r.seller_name.as_deref()),
        seller_uscc: r.seller_uscc.clone(),
        amount: Money::from_fen(r.total_fen).display_yuan(),
        negative: r.total_fen < 0,
        version: r.version,
        channel: channel_label(&r.channel, lang_en),
    }
}

#[derive(Template)]
#[template(path = "trade_records.html")]
struct RecordsPage {
    ui: Ui,
    tab: &'static str,
    rows: Vec<RecordItem>,
    pager: Pager,
    types: Vec<Opt>,
    doc_no: String,
    submission_id: String,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(list_page(&state, &ctx, &q).await)
}

async fn list_page(state: &AppState, ctx: &Ctx, q: &Params) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let record_type = q.opt("record_type").map(RecordType::parse).transpose()?;
    let type_code = record_type.map_or("", RecordType::code);
    let doc_no = q.opt("doc_no").unwrap_or("").to_string();
    let submission_id = q.opt("submission_id").unwrap_or("").to_string();
    let filter = TradeFilter {
        record_type: record_type.map(|rt| rt.code().to_string()),
        submission_id: Some(submission_id.clone()).filter(|s| !s.is_empty()),
        doc_no: Some(doc_no.clone()).filter(|s| !s.is_empty()),
    };
    let page = trade::list(&state.app, ctx.actor(), filter, q.seek()?).await?;
    let view = RecordsPage {
        ui: ctx.ui("submissions"),
        tab: "records",
        rows: page.page.items.iter().map(|r| record_item(r, lang)).collect(),
        pager: Pager::keyed(
            &page,
            "/trade-records",
            &[("record_type", type_code), ("doc_no", &doc_no), ("submission_id", &submission_id)],
        ),
        types: Opt::list(RecordType::ALL.iter().map(|rt| (rt.code(), rt.label(lang))), |v| v == type_code),
        doc_no,
        submission_id,
    };
    Ok(render(StatusCode::OK, &view))
}

/// One labelled value of a record.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
    pub mono: bool,
}

/// One field of an earlier version, marked when the next version changed it.
pub struct VersionEntry {
    pub key: String,
    pub value: String,
    pub changed: bool,
}

pub struct VersionView {
    pub version: i64,
    pub content_sm3: String,
    pub submission_id: String,
    pub row_no: i64,
    pub channel: String,
    pub superseded: String,
    pub entries: Vec<VersionEntry>,
}

#[derive(Template)]
#[template(path = "trade_record.html")]
struct RecordPage {
    ui: Ui,
    r: RecordItem,
    facts: Vec<Fact>,
    lineage_link: bool,
    submission_id: String,
    file_name: String,
    row_no: i64,
    content_sm3: String,
    created: String,
    updated: String,
    chain: Option<(String, String)>,
    versions: Vec<VersionView>,
    verification: Option<VerificationView>,
    credit: Option<CreditView>,
    /// For an order: where its buyer's vouching (确真) stands, and whether the caller (its seller) may ask.
    vouching: Option<(&'static str, String, bool)>,
    /// For the seller of an order: banks' published order-financing products to apply to.
    order_products: Vec<Opt>,
    consent_until: String,
}

/// A receivable's two credit paths, kept apart: the core's confirmation and the data-only path.
pub struct CreditView {
    /// requested, confirmed, rejected, withdrawn or none.
    pub confirmation_code: &'static str,
    pub confirmation: String,
    pub data_only: bool,
    pub data_only_reasons: String,
}

fn credit_view(r: &lianrong_app::receivable::Receivable, lang: bool) -> CreditView {
    CreditView {
        confirmation_code: r.confirmation.as_ref().map(|c| c.status.code()).unwrap_or("none"),
        confirmation: match &r.confirmation {
            Some(c) => c.source.map(|s| s.label(lang)).unwrap_or(c.status.label(lang)).to_string(),
            None => (if lang { "Not asked" } else { "未申请" }).to_string(),
        },
        data_only: r.data_only_eligible(),
        data_only_reasons: r.data_only_ineligibility.iter().map(|i| i.label(lang)).collect::<Vec<_>>().join("；"),
    }
}

/// Why an invoice is or is not proven by the trade: its verdict, each finding, and the documents linked.
pub struct VerificationView {
    pub status_code: String,
    pub status_label: &'static str,
    pub findings: Vec<(&'static str, bool)>,
    pub links: Vec<(&'static str, String, &'static str, String)>,
    pub paid: String,
    pub reversed: String,
}

fn verification_view(v: &lianrong_app::four_flow::VerificationRow, lang: bool) -> VerificationView {
    use lianrong_domain::four_flow::{Discrepancy, VerificationStatus};
    let t = |zh: &'static str, en: &'static str| if lang { en } else { zh };
    let evidence: serde_json::Value = serde_json::from_str(&v.evidence).unwrap_or_default();
    let mut links = Vec::new();
    for (key, label) in [
        ("orders", t("订单", "Order")),
        ("deliveries", t("发货/验收", "Delivery")),
        ("payments", t("付款", "Payment")),
        ("credit_notes", t("扣款/折让", "Credit note")),
        ("reversals", t("红字发票", "Red invoice")),
    ] {
        for l in evidence[key].as_array().into_iter().flatten() {
            let method = if l["method"] == "inferred" {
                t("按金额与日期推断", "inferred by amount and date")
            } else {
                t("单据引用", "by reference")
            };
            links.push((
                label,
                l["doc_no"].as_str().unwrap_or("").to_string(),
                method,
                Money::from_fen(l["applied_fen"].as_i64().unwrap_or(0)).display_yuan(),
            ));
        }
    }
    VerificationView {
        status_code: v.status.clone(),
        status_label: VerificationStatus::parse(&v.status).map_or("?", |s| s.label(lang)),
        findings: v
            .discrepancies
            .split(',')
            .filter_map(|c| Discrepancy::parse(c).ok())
            .map(|d| (d.label(lang), d.contradicts()))
            .collect(),
        links,
        paid: Money::from_fen(v.paid_fen).display_yuan(),
        reversed: Money::from_fen(v.reversed_fen).display_yuan(),
    }
}

pub async fn detail(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    ctx.respond(detail_page(&state, &ctx, &id).await)
}

async fn detail_page(state: &AppState, ctx: &Ctx, id: &str) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let lianrong_app::trade::RecordDetail { row, versions, lines: _ } = trade::get(&state.app, ctx.actor(), id).await?;
    // The counterparty sees the record but not the other party's submission, so it gets no dead link.
    let lineage_link = row.submitter_org_id == ctx.actor().org_id || custodian(ctx);
    let chain = if row.chain_id.is_empty() {
        None
    } else {
        lianrong_app::chain::get(&state.app, ctx.actor(), &row.chain_id).await.ok().map(|c| (c.id, c.name))
    };
    let current = serde_json::to_value(&row).unwrap_or_default();
    // Only blue invoices have a verdict; any other record simply shows none.
    let verification = if row.record_type == "invoice" {
        lianrong_app::four_flow::get(&state.app, ctx.actor(), &row.id).await.ok().map(|v| verification_view(&v, lang))
    } else {
        None
    };
    let credit = if verification.is_some() {
        lianrong_app::receivable::get(&state.app, ctx.actor(), &row.id).await.ok().map(|r| credit_view(&r, lang))
    } else {
        None
    };
    let vouching = if row.record_type == "order" {
        let standing = lianrong_app::confirmation::state_of(&state.app, ctx.actor(), &row.id).await.ok().flatten();
        let me = lianrong_app::org::get(&state.app, ctx.actor(), &ctx.actor().org_id).await.map(|o| o.uscc).ok();
        let live = standing
            .as_ref()
            .is_some_and(|s| matches!(s.status, ConfirmationStatus::Requested | ConfirmationStatus::Confirmed));
        let may_ask = !live
            && me.as_deref() == Some(row.seller_uscc.as_str())
            && ctx.allows(lianrong_app::Permission::RequestConfirmation);
        let (code, label) = match &standing {
            Some(s) => (s.status.code(), s.status.label(lang).to_string()),
            None => ("none", (if lang { "Not asked" } else { "未申请" }).to_string()),
        };
        Some((code, label, may_ask))
    } else {
        None
    };
    let is_seller = lianrong_app::org::get(&state.app, ctx.actor(), &ctx.actor().org_id)
        .await
        .is_ok_and(|o| o.uscc == row.seller_uscc);
    let order_products =
        if row.record_type == "order" && is_seller && ctx.allows(lianrong_app::Permission::ApplyFinancing) {
            super::product::product_choices(state, ctx, &[lianrong_domain::product::ProductKind::OrderFinancing])
                .await
                .unwrap_or_default()
        } else {
            Vec::new()
        };
    let view = RecordPage {
        order_products,
        consent_until: state.app.day_in(90).to_string(),
        vouching,
        verification,
        credit,
        ui: ctx.ui("submissions"),
        facts: facts(&row, lang),
        lineage_link,
        submission_id: row.submission_id.clone(),
        file_name: row.file_name.clone(),
        row_no: row.row_no,
        content_sm3: row.content_sm3.clone(),
        created: lianrong_app::display_time(row.created_at_ms),
        updated: lianrong_app::display_time(row.updated_at_ms),
        chain,
        versions: version_views(&versions, &current, lang),
        r: record_item(&row, lang),
    };
    Ok(render(StatusCode::OK, &view))
}

/// Every field the record carries, in the standard's words; absent optional ones are left out.
fn facts(r: &TradeRow, lang: bool) -> Vec<Fact> {
    let t = |zh: &'static str, en: &'static str| if lang { en } else { zh };
    let fl = |f: StdField| f.label(lang);
    let yuan = |fen: i64| Money::from_fen(fen).display_yuan();
    let labelled = |code: &Option<String>, label: &dyn Fn(&str) -> String| code.as_deref().map(label);
    let key_label = RecordType::parse(&r.record_type).map_or(t("单据号", "Document number"), |rt| fl(rt.key_field()));
    let mut out = vec![
        (t("记录类型", "Record type"), Some(record_type_label(&r.record_type, lang)), false),
        (key_label, Some(r.doc_no.clone()), true),
        (fl(StdField::InvoiceCode), Some(r.invoice_code.clone()).filter(|c| !c.is_empty()), true),
        (t("单据日期", "Document date"), Some(r.doc_date.clone()), false),
        (fl(StdField::BuyerName), r.buyer_name.clone(), false),
        (fl(StdField::BuyerUscc), Some(r.buyer_uscc.clone()), true),
        (fl(StdField::SellerName), r.seller_name.clone(), false),
        (fl(StdField::SellerUscc), Some(r.seller_uscc.clone()), true),
        (fl(StdField::Currency), Some(r.currency.clone()), false),
        (fl(StdField::TotalAmount), Some(yuan(r.total_fen)), true),
        (fl(StdField::NetAmount), r.net_fen.map(yuan), true),
        (fl(StdField::TaxAmount), r.tax_fen.map(yuan), true),
        (fl(StdField::TermDays), r.term_days.map(|d| d.to_string()), false),
        (
            fl(StdField::TermBasis),
            labelled(&r.term_basis, &|c| label_of(c, |c| TermBasis::parse(c).ok(), |v| v.label(lang))),
            false,
        ),
        (
            fl(StdField::InvoiceKind),
            labelled(&r.invoice_kind, &|c| label_of(c, |c| InvoiceKind::parse(c).ok(), |v| v.label(lang))),
            false,
        ),
        (
            fl(StdField::AcceptanceStatus),
            labelled(&r.acceptance_status, &|c| label_of(c, |c| AcceptanceStatus::parse(c).ok(), |v| v.label(lang))),
            false,
        ),
        (fl(StdField::AcceptedDate), r.accepted_date.clone(), false),
        (
            fl(StdField::PaymentMethod),
            labelled(&r.payment_method, &|c| label_of(c, |c| PaymentMethod::parse(c).ok(), |v| v.label(lang))),
            false,
        ),
        // Only the last four digits are kept in the clear.
        (fl(StdField::PayeeAccount), r.payee_account_last4.as_ref().map(|l| format!("**** {l}")), true),
        (fl(StdField::OrderRefs), refs(&r.order_refs), true),
        (fl(StdField::DeliveryRefs), refs(&r.delivery_refs), true),
        (fl(StdField::InvoiceRefs), refs(&r.invoice_refs), true),
        (fl(StdField::Remarks), r.remarks.clone(), false),
    ];
    out.retain(|(_, v, _)| v.as_deref().is_some_and(|v| !v.is_empty()));
    out.into_iter().map(|(label, value, mono)| Fact { label, value: value.unwrap_or_default(), mono }).collect()
}

fn refs(joined: &str) -> Option<String> {
    let list: Vec<&str> = joined.split(',').filter(|x| !x.is_empty()).collect();
    (!list.is_empty()).then(|| list.join(", "))
}

/// Earlier versions as key/value tables; each key is marked when the version after it differs.
fn version_views(versions: &[VersionRow], current: &serde_json::Value, lang_en: bool) -> Vec<VersionView> {
    let mut newer = current.clone();
    let mut out = Vec::with_capacity(versions.len());
    // Versions come newest first, so each is compared with the one that replaced it.
    for v in versions {
        let data: serde_json::Value = serde_json::from_str(&v.data).unwrap_or_default();
        let fields: BTreeMap<String, serde_json::Value> =
            data.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
        let entries = fields
            .iter()
            .filter(|(k, value)| !value.is_null() && !matches!(k.as_str(), "id" | "natural_key"))
            .map(|(k, value)| VersionEntry {
                key: k.clone(),
                value: json_text(k, value),
                changed: newer.get(k) != Some(value),
            })
            .collect();
        out.push(VersionView {
            version: v.version,
            content_sm3: v.content_sm3.clone(),
            submission_id: v.submission_id.clone(),
            row_no: v.row_no,
            channel: channel_label(&v.channel, lang_en),
            superseded: lianrong_app::display_time(v.superseded_at_ms),
            entries,
        });
        newer = data;
    }
    out
}

/// A stored value as text: amounts in fen as yuan, instants as local times, strings bare.
fn json_text(key: &str, value: &serde_json::Value) -> String {
    match (value, value.as_i64()) {
        (_, Some(fen)) if key.ends_with("_fen") => Money::from_fen(fen).display_yuan(),
        (_, Some(ms)) if key.ends_with("_at_ms") => lianrong_app::display_time(ms),
        (serde_json::Value::String(s), _) => s.clone(),
        (other, _) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_show_in_yuan_and_local_time() {
        assert_eq!(json_text("total_fen", &serde_json::json!(123456)), "¥1,234.56");
        assert_eq!(json_text("doc_no", &serde_json::json!("PO-1")), "PO-1");
        assert_eq!(json_text("version", &serde_json::json!(2)), "2");
        assert_eq!(json_text("created_at_ms", &serde_json::json!(0)), "1970-01-01 08:00");
    }
}
