//! The product catalogue (产品目录) in the console: every signed-in user reads the published
//! products — bank, kind, chains, tiers, evidence, amounts in yuan, terms, rates as % a year, advance
//! ratio and fees; a bank's staff also see their drafts, draft new products (amounts typed in yuan,
//! rates and ratios in percent, converted exactly to basis points), edit drafts, publish and withdraw.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use lianrong_app::product::{self as app, CatalogueQuery, NewProduct, Product};
use lianrong_app::{AppError, AppResult, Permission};
use lianrong_domain::Money;
use lianrong_domain::product::{
    Evidence, ProductKind, ProductState, TIER_MAX, TIER_MIN, display_percent, parse_percent_bp,
};
use lianrong_domain::trade::value::parse_amount_fen;

use super::ctx::Ctx;
use super::form::{FormData, Pager, Params, QueryData};
use super::page::{Opt, Ui, render, see_other, status_for, time_or_dash};
use crate::state::AppState;

/// One product as the catalogue's tables show it.
pub struct ProductLine {
    pub id: String,
    pub name: String,
    pub bank: String,
    pub kind: &'static str,
    pub kind_code: &'static str,
    pub chains: String,
    pub tiers: String,
    pub evidence: &'static str,
    pub amounts: String,
    pub term: String,
    pub rates: String,
    pub advance: String,
    pub fees: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub variant: bool,
}

fn line(p: &Product, lang_en: bool) -> ProductLine {
    let t = &p.row.terms;
    let chains = if p.every_chain() {
        (if lang_en { "Every chain" } else { "全部产业链" }).to_string()
    } else {
        let mut names: Vec<String> = p.chains.iter().map(|(_, n)| n.clone()).collect();
        if p.chains_hidden > 0 {
            names.push(if lang_en {
                format!("{} other chain(s)", p.chains_hidden)
            } else {
                format!("另{}条产业链", p.chains_hidden)
            });
        }
        names.join(if lang_en { ", " } else { "、" })
    };
    let tiers = if t.tiers.is_empty() {
        (if lang_en { "Any tier" } else { "不限层级" }).to_string()
    } else {
        let list = t.tiers.iter().map(u8::to_string).collect::<Vec<_>>();
        if lang_en { format!("Tier {}", list.join(", ")) } else { format!("{}级", list.join("、")) }
    };
    let days = if lang_en { "days" } else { "天" };
    ProductLine {
        id: p.row.id.clone(),
        name: p.row.name.clone(),
        bank: p.bank_name.clone(),
        kind: t.kind.label(lang_en),
        kind_code: t.kind.code(),
        chains,
        tiers,
        evidence: t.evidence.label(lang_en),
        amounts: format!(
            "{} – {}",
            Money::from_fen(t.amount_min_fen).display_yuan(),
            Money::from_fen(t.amount_max_fen).display_yuan()
        ),
        term: format!("{}–{} {days}", t.term_min_days, t.term_max_days),
        rates: format!("{} – {}", display_percent(t.rate_min_bp), display_percent(t.rate_max_bp)),
        advance: display_percent(t.advance_ratio_bp),
        fees: format!("{} + {}", display_percent(t.fee_bp), Money::from_fen(t.fee_fixed_fen).display_yuan()),
        state: p.row.state.label(lang_en),
        state_code: p.row.state.code(),
        variant: p.row.parent_product_id.is_some(),
    }
}

/// The draft form's choices and what was typed.
pub struct ProductForm {
    pub action: String,
    pub form: Params,
    pub kinds: Vec<Opt>,
    pub evidences: Vec<Opt>,
    pub chains: Vec<Opt>,
    pub tiers: Vec<Opt>,
    pub parents: Vec<Opt>,
}

/// The form for a new draft (blank) or for editing one (`form` filled from the product).
async fn product_form(
    state: &AppState,
    ctx: &Ctx,
    action: String,
    form: Params,
    own_id: Option<&str>,
) -> AppResult<ProductForm> {
    let lang = ctx.lang_en();
    let actor = ctx.actor();
    let kind = form.get("kind").to_string();
    let evidence = form.opt("evidence").unwrap_or("either").to_string();
    let chains = app::chains_to_name(&state.app, actor).await?;
    let chosen_parent = form.get("parent_product_id").to_string();
    // A variant's parent: the bank's own products that are not variants themselves and not withdrawn.
    let mut parents = vec![Opt {
        value: String::new(),
        label: ui_t(lang, "（无：独立产品）", "(none: a product of its own)"),
        selected: chosen_parent.is_empty(),
    }];
    let mine = |state: &str| CatalogueQuery {
        bank_org_id: Some(actor.org_id.clone()),
        state: Some(state.into()),
        ..Default::default()
    };
    for state_code in ["published", "draft"] {
        let page = lianrong_domain::page::PageRequest::all_small();
        for p in app::list(&state.app, actor, &mine(state_code), page).await?.items {
            if p.row.parent_product_id.is_none() && Some(p.row.id.as_str()) != own_id {
                parents.push(Opt {
                    selected: p.row.id == chosen_parent,
                    label: format!("{}（{}）", p.row.name, p.row.state.label(lang)),
                    value: p.row.id,
                });
            }
        }
    }
    Ok(ProductForm {
        action,
        kinds: Opt::list(ProductKind::ALL.iter().map(|k| (k.code(), k.label(lang))), |v| v == kind),
        evidences: Opt::list(Evidence::ALL.iter().map(|e| (e.code(), e.label(lang))), |v| v == evidence),
        chains: Opt::list(chains.iter().map(|(id, name)| (id.as_str(), name.as_str())), |v| {
            form.has("eligible_chain_ids", v)
        }),
        tiers: (TIER_MIN..=TIER_MAX)
            .map(|t| Opt {
                value: t.to_string(),
                label: if lang { format!("Tier {t}") } else { format!("{t}级") },
                selected: form.has("eligible_tiers", &t.to_string()),
            })
            .collect(),
        parents,
        form,
    })
}

fn ui_t(lang_en: bool, zh: &str, en: &str) -> String {
    (if lang_en { en } else { zh }).to_string()
}

/// Published products of `kinds` as choices "bank · product (rates)", valued "bank id|product id": the
/// products the application form, a commitment's discount form and an order's financing form offer.
pub async fn product_choices(state: &AppState, ctx: &Ctx, kinds: &[ProductKind]) -> AppResult<Vec<Opt>> {
    let q = CatalogueQuery { kind: None, chain_id: None, bank_org_id: None, state: None };
    let page = app::list(&state.app, ctx.actor(), &q, lianrong_domain::page::PageRequest::all_small()).await?;
    Ok(page
        .items
        .into_iter()
        .filter(|p| kinds.contains(&p.row.terms.kind))
        .map(|p| Opt {
            value: format!("{}|{}", p.row.bank_org_id, p.row.id),
            label: format!(
                "{} · {}（{}，年利率{}–{}）",
                p.bank_name,
                p.row.name,
                p.row.terms.kind.label(ctx.lang_en()),
                display_percent(p.row.terms.rate_min_bp),
                display_percent(p.row.terms.rate_max_bp)
            ),
            selected: false,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "products.html")]
struct CataloguePage {
    ui: Ui,
    rows: Vec<ProductLine>,
    pager: Pager,
    kind_filter: Vec<Opt>,
    drafts: Vec<ProductLine>,
    can_manage: bool,
    pf: Option<ProductForm>,
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, QueryData(q): QueryData) -> Response {
    ctx.respond(catalogue_page(&state, &ctx, &q, Params::default(), None).await)
}

async fn catalogue_page(
    state: &AppState,
    ctx: &Ctx,
    q: &Params,
    form: Params,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let actor = ctx.actor();
    let kind = q.opt("kind").map(str::to_string);
    let query = CatalogueQuery { kind: kind.clone(), ..Default::default() };
    let page = app::list(&state.app, actor, &query, q.page()?).await?;
    let can_manage = ctx.allows(Permission::ManageProducts);
    let (drafts, pf) = if can_manage {
        let drafts = app::own_drafts(&state.app, actor, lianrong_domain::page::PageRequest::all_small()).await?;
        let pf = product_form(state, ctx, "/products".into(), form, None).await?;
        (drafts.items.iter().map(|p| line(p, lang)).collect(), Some(pf))
    } else {
        (Vec::new(), None)
    };
    let mut ui = ctx.ui("products").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let chosen = kind.unwrap_or_default();
    let view = CataloguePage {
        ui,
        rows: page.items.iter().map(|p| line(p, lang)).collect(),
        pager: Pager::new(&page, "/products", &[("kind", &chosen)]),
        kind_filter: Opt::list(ProductKind::ALL.iter().map(|k| (k.code(), k.label(lang))), |v| v == chosen),
        drafts,
        can_manage,
        pf,
    };
    Ok(render(status_for(failed), &view))
}

/// Reads the draft form: amounts in yuan, rates and ratios in percent (at most two decimals), days.
fn read_form(f: &Params) -> AppResult<NewProduct> {
    let yuan = |field: &'static str| -> AppResult<i64> {
        match f.opt(field) {
            None if field == "fee_fixed_yuan" => Ok(0),
            _ => parse_amount_fen(f.get(field)).map_err(|e| AppError::invalid(field, e.code, e.en, e.zh)),
        }
    };
    let percent = |field: &'static str| -> AppResult<i64> {
        match f.opt(field) {
            None if field == "fee_pct" => Ok(0),
            _ => parse_percent_bp(field, f.get(field)).map_err(|e| AppError::invalid(e.field, e.code, e.en, e.zh)),
        }
    };
    let days = |field: &'static str| -> AppResult<i64> {
        f.get(field).trim().parse::<i64>().map_err(|_| {
            AppError::invalid(field, "days_invalid", "Write the term as a whole number of days", "期限请填写整数天数")
        })
    };
    Ok(NewProduct {
        name: f.get("name").to_string(),
        description: f.opt("description").map(str::to_string),
        kind: f.get("kind").to_string(),
        eligible_chain_ids: f.all("eligible_chain_ids"),
        eligible_tiers: f.all("eligible_tiers").iter().map(|t| t.trim().parse::<i64>().unwrap_or(0)).collect(),
        evidence: f.get("evidence").to_string(),
        amount_min_fen: yuan("amount_min_yuan")?,
        amount_max_fen: yuan("amount_max_yuan")?,
        term_min_days: days("term_min_days")?,
        term_max_days: days("term_max_days")?,
        rate_min_bp: percent("rate_min_pct")?,
        rate_max_bp: percent("rate_max_pct")?,
        advance_ratio_bp: percent("advance_ratio_pct")?,
        fee_bp: percent("fee_pct")?,
        fee_fixed_fen: yuan("fee_fixed_yuan")?,
        parent_product_id: f.opt("parent_product_id").map(str::to_string),
    })
}

/// A bank's staff draft a product.
pub async fn create(State(state): State<AppState>, ctx: Ctx, FormData(f): FormData) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let result = async { app::create(&state.app, ctx.actor(), &read_form(&f)?).await }.await;
    match result {
        Ok(p) => see_other(&format!("/products/{}?ok=created", p.row.id)),
        Err(e) => ctx.respond(catalogue_page(&state, &ctx, &Params::default(), f, Some(&e)).await),
    }
}

/// The form's fields as a product fills them (for editing a draft).
fn form_of(p: &Product) -> Params {
    let t = &p.row.terms;
    let bare = |bp: i64| display_percent(bp).trim_end_matches('%').to_string();
    let yuan = |fen: i64| Money::from_fen(fen).display_yuan().trim_start_matches('¥').to_string();
    let mut v = vec![
        ("name".to_string(), p.row.name.clone()),
        ("description".to_string(), p.row.description.clone()),
        ("kind".to_string(), t.kind.code().to_string()),
        ("evidence".to_string(), t.evidence.code().to_string()),
        ("amount_min_yuan".to_string(), yuan(t.amount_min_fen)),
        ("amount_max_yuan".to_string(), yuan(t.amount_max_fen)),
        ("term_min_days".to_string(), t.term_min_days.to_string()),
        ("term_max_days".to_string(), t.term_max_days.to_string()),
        ("rate_min_pct".to_string(), bare(t.rate_min_bp)),
        ("rate_max_pct".to_string(), bare(t.rate_max_bp)),
        ("advance_ratio_pct".to_string(), bare(t.advance_ratio_bp)),
        ("fee_pct".to_string(), bare(t.fee_bp)),
        ("fee_fixed_yuan".to_string(), yuan(t.fee_fixed_fen)),
        ("parent_product_id".to_string(), p.row.parent_product_id.clone().unwrap_or_default()),
    ];
    v.extend(t.chain_ids.iter().map(|c| ("eligible_chain_ids".to_string(), c.clone())));
    v.extend(t.tiers.iter().map(|n| ("eligible_tiers".to_string(), n.to_string())));
    Params(v)
}

#[derive(Template)]
#[template(path = "product.html")]
struct DetailPage {
    ui: Ui,
    p: ProductLine,
    description: String,
    parent_id: String,
    published_at: String,
    withdrawn_at: String,
    own: bool,
    can_publish: bool,
    can_withdraw: bool,
    pf: Option<ProductForm>,
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    QueryData(q): QueryData,
) -> Response {
    ctx.respond(detail_page(&state, &ctx, &id, &q, None, None).await)
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    q: &Params,
    form: Option<Params>,
    failed: Option<&AppError>,
) -> AppResult<Response> {
    let lang = ctx.lang_en();
    let p = app::get(&state.app, ctx.actor(), id).await?;
    let own = p.row.bank_org_id == ctx.actor().org_id && ctx.allows(Permission::ManageProducts);
    let draft = p.row.state == ProductState::Draft;
    let pf = if own && draft {
        let form = form.unwrap_or_else(|| form_of(&p));
        Some(product_form(state, ctx, format!("/products/{id}"), form, Some(id)).await?)
    } else {
        None
    };
    let mut ui = ctx.ui("products").done(q.get("ok"));
    if let Some(e) = failed {
        ui = ui.error(e);
    }
    let view = DetailPage {
        ui,
        description: p.row.description.clone(),
        parent_id: p.row.parent_product_id.clone().unwrap_or_default(),
        published_at: time_or_dash(p.row.published_at_ms),
        withdrawn_at: time_or_dash(p.row.withdrawn_at_ms),
        own,
        can_publish: own && draft,
        can_withdraw: own && p.row.state != ProductState::Withdrawn,
        pf,
        p: line(&p, lang),
    };
    Ok(render(status_for(failed), &view))
}

/// Saves an edited draft.
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    let result = async { app::update(&state.app, ctx.actor(), &id, &read_form(&f)?).await }.await;
    match result {
        Ok(_) => see_other(&format!("/products/{id}?ok=updated")),
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), Some(f), Some(&e)).await),
    }
}

pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    match app::publish(&state.app, ctx.actor(), &id).await {
        Ok(_) => see_other(&format!("/products/{id}?ok=published")),
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), None, Some(&e)).await),
    }
}

pub async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormData(f): FormData,
) -> Response {
    if let Some(refusal) = ctx.csrf_refusal(&f) {
        return refusal;
    }
    match app::withdraw(&state.app, ctx.actor(), &id).await {
        Ok(_) => see_other(&format!("/products/{id}?ok=product_withdrawn")),
        Err(e) => ctx.respond(detail_page(&state, &ctx, &id, &Params::default(), None, Some(&e)).await),
    }
}
