//! Financing products ("one chain, one enterprise, one policy"): a bank's staff draft a product,
//! edit the draft, publish it to the catalogue and withdraw it; a chain-specific variant narrows a
//! product of the same bank to one chain with its own price. Published products are public to every
//! signed-in user; drafts are seen by their bank only (anyone else is answered `not_found`). Chains
//! are named only where the reader may see them (chain members, the operator, the regulator); others
//! see how many chains a product is limited to. Every change and every refusal is audited.
//!
//! The pre-check an application runs is `lianrong_domain::product::eligibility(&row.terms, &facts)`
//! on a product read here (its terms are complete, whatever the reader may see of its chains).

use std::collections::HashMap;

use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::product::{
    self as rules, Evidence, ProductAction, ProductError, ProductKind, ProductSpec, ProductState, ProductTerms,
};
use lianrong_store::product::{self as store, ProductFilter, ProductRow, ProductScope};
use lianrong_store::{Conn, StoreError};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Actor, Permission};
use crate::{App, audit, new_id, now_ms};

const OBJECT: &str = "product";

fn not_found() -> AppError {
    AppError::not_found("Product", "金融产品")
}

/// A product's refusals are bad requests, except those about its state (editing a product that is no
/// longer a draft, withdrawing one already withdrawn): those conflict with what another request did.
fn product_error(e: ProductError) -> AppError {
    let kind = match e.code {
        "not_a_draft" | "already_withdrawn" => ErrorKind::Conflict,
        _ => ErrorKind::Invalid,
    };
    AppError::refusal(kind, &e)
}

fn scope(actor: &Actor) -> ProductScope {
    if actor.system { ProductScope::All } else { ProductScope::Viewer { org_id: actor.org_id.clone() } }
}

fn map_missing(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    }
}

/// A product as a bank writes it (the API's body, the console's form).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewProduct {
    pub name: String,
    pub description: Option<String>,
    pub kind: String,
    /// Empty: every chain.
    pub eligible_chain_ids: Vec<String>,
    /// Empty: any tier.
    pub eligible_tiers: Vec<i64>,
    pub evidence: String,
    pub amount_min_fen: i64,
    pub amount_max_fen: i64,
    pub term_min_days: i64,
    pub term_max_days: i64,
    pub rate_min_bp: i64,
    pub rate_max_bp: i64,
    pub advance_ratio_bp: i64,
    pub fee_bp: i64,
    pub fee_fixed_fen: i64,
    /// The product this one is a chain variant of.
    pub parent_product_id: Option<String>,
}

/// A product for a reader: the row (with its complete terms) and its chains as the reader may see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub row: ProductRow,
    /// The bank's registered name (banks are public institutions).
    pub bank_name: String,
    /// (chain id, chain name) of the chains the product names that the reader may see.
    pub chains: Vec<(String, String)>,
    /// How many more chains the product names that the reader may not see.
    pub chains_hidden: usize,
}

impl Product {
    /// Offered on every chain.
    pub fn every_chain(&self) -> bool {
        self.row.terms.chain_ids.is_empty()
    }
}

fn spec_of(new: &NewProduct) -> AppResult<ProductSpec> {
    let kind = ProductKind::parse(&new.kind)?;
    let evidence = Evidence::parse(&new.evidence)?;
    let mut tiers = Vec::with_capacity(new.eligible_tiers.len());
    for &t in &new.eligible_tiers {
        match u8::try_from(t) {
            Ok(t) => tiers.push(t),
            Err(_) => {
                return Err(AppError::invalid(
                    "eligible_tiers",
                    "tier_out_of_range",
                    format!("Tier {t} is not between {} and {}", rules::TIER_MIN, rules::TIER_MAX),
                    format!("层级{t}不在{}至{}之间", rules::TIER_MIN, rules::TIER_MAX),
                ));
            }
        }
    }
    let spec = ProductSpec {
        name: new.name.clone(),
        description: new.description.clone().unwrap_or_default(),
        terms: ProductTerms {
            kind,
            chain_ids: new.eligible_chain_ids.clone(),
            tiers,
            evidence,
            amount_min_fen: new.amount_min_fen,
            amount_max_fen: new.amount_max_fen,
            term_min_days: new.term_min_days,
            term_max_days: new.term_max_days,
            rate_min_bp: new.rate_min_bp,
            rate_max_bp: new.rate_max_bp,
            advance_ratio_bp: new.advance_ratio_bp,
            fee_bp: new.fee_bp,
            fee_fixed_fen: new.fee_fixed_fen,
        },
    };
    rules::check_product(&spec).map_err(product_error)
}

/// The chains must be ones the bank sees (a partner bank on the chain); the parent, when named, the
/// bank's own product of which this may be a variant.
async fn check_references(
    conn: &mut Conn,
    actor: &Actor,
    spec: &ProductSpec,
    parent_id: Option<&str>,
    own_id: Option<&str>,
) -> AppResult<Option<String>> {
    let chain_scope = policy::chain_scope(actor);
    for chain_id in &spec.terms.chain_ids {
        lianrong_store::chain::get(conn, &chain_scope, chain_id).await.map_err(|e| match e {
            StoreError::NotFound => AppError {
                field: Some("eligible_chain_ids".into()),
                ..AppError::not_found(&format!("Chain {chain_id}"), &format!("产业链{chain_id}"))
            },
            other => other.into(),
        })?;
    }
    let Some(parent_id) = parent_id.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let parent_missing = || AppError { field: Some("parent_product_id".into()), ..not_found() };
    if Some(parent_id) == own_id {
        return Err(AppError::invalid(
            "parent_product_id",
            "parent_is_self",
            "A product cannot be a variant of itself",
            "产品不能是其自身的专属版本",
        ));
    }
    let parent = store::get(conn, &scope(actor), parent_id).await.map_err(|e| match e {
        StoreError::NotFound => parent_missing(),
        other => other.into(),
    })?;
    // Another bank's product is answered as if it did not exist, published or not.
    if parent.bank_org_id != actor.org_id {
        return Err(parent_missing());
    }
    if parent.parent_product_id.is_some() {
        return Err(AppError::invalid(
            "parent_product_id",
            "parent_is_a_variant",
            "A variant's parent is a product, not another variant",
            "专属版本的母产品不能本身是专属版本",
        ));
    }
    if parent.state == ProductState::Withdrawn {
        return Err(AppError::invalid(
            "parent_product_id",
            "parent_withdrawn",
            "The parent product is withdrawn",
            "母产品已撤回",
        ));
    }
    rules::check_variant(&parent.terms, &spec.terms).map_err(product_error)?;
    Ok(Some(parent.id))
}

/// Audits a refused change under `action` and passes the result on.
async fn audited<T>(app: &App, actor: &Actor, action: &str, object_id: &str, result: AppResult<T>) -> AppResult<T> {
    if let Err(e) = &result {
        audit::refused(app, actor, action, OBJECT, object_id, &format!("{}: {}", e.code, e.en)).await;
    }
    result
}

/// A bank's staff draft a product.
pub async fn create(app: &App, actor: &Actor, new: &NewProduct) -> AppResult<Product> {
    audit::run(app, actor, Permission::ManageProducts, "product.create", OBJECT, new.name.trim(), async {
        let result = create_checked(app, actor, new).await;
        let row = audited(app, actor, "product.create", new.name.trim(), result).await?;
        view(app, actor, row).await
    })
    .await
}

async fn create_checked(app: &App, actor: &Actor, new: &NewProduct) -> AppResult<ProductRow> {
    let spec = spec_of(new)?;
    let mut tx = app.db.begin_write().await?;
    let parent = check_references(&mut tx, actor, &spec, new.parent_product_id.as_deref(), None).await?;
    let now = now_ms();
    let row = ProductRow {
        id: new_id(),
        bank_org_id: actor.org_id.clone(),
        parent_product_id: parent,
        name: spec.name,
        description: spec.description,
        terms: spec.terms,
        state: ProductState::Draft,
        created_by: actor.trail_name(),
        created_at_ms: now,
        updated_at_ms: now,
        published_at_ms: None,
        withdrawn_at_ms: None,
    };
    store::insert(&mut tx, &row).await?;
    let detail = format!("{} ({}){}", row.name, row.terms.kind.code(), variant_note(&row));
    audit::ok_in(&mut tx, actor, "product.create", OBJECT, &row.id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

fn variant_note(row: &ProductRow) -> String {
    row.parent_product_id.as_ref().map(|p| format!(", variant of {p}")).unwrap_or_default()
}

/// The bank's own product, for a change: anyone else's is `not_found`, even when published.
async fn own(conn: &mut Conn, actor: &Actor, id: &str) -> AppResult<ProductRow> {
    let row = store::get(conn, &scope(actor), id).await.map_err(map_missing)?;
    if row.bank_org_id != actor.org_id && !actor.system {
        return Err(not_found());
    }
    Ok(row)
}

/// Rewrites a draft (all of it, as the form or the PUT body states it).
pub async fn update(app: &App, actor: &Actor, id: &str, new: &NewProduct) -> AppResult<Product> {
    audit::run(app, actor, Permission::ManageProducts, "product.update", OBJECT, id, async {
        let result = update_checked(app, actor, id, new).await;
        let row = audited(app, actor, "product.update", id, result).await?;
        view(app, actor, row).await
    })
    .await
}

async fn update_checked(app: &App, actor: &Actor, id: &str, new: &NewProduct) -> AppResult<ProductRow> {
    let mut tx = app.db.begin_write().await?;
    let current = own(&mut tx, actor, id).await?;
    rules::check_editable(current.state).map_err(product_error)?;
    let spec = spec_of(new)?;
    let parent = check_references(&mut tx, actor, &spec, new.parent_product_id.as_deref(), Some(id)).await?;
    // A product with variants stays a product: it cannot itself become a variant.
    if parent.is_some() && !store::variants(&mut tx, id).await?.is_empty() {
        return Err(AppError::invalid(
            "parent_product_id",
            "has_variants",
            "This product has chain variants of its own, so it cannot become a variant",
            "该产品已有产业链专属版本，不能再作为专属版本",
        ));
    }
    let row = ProductRow {
        parent_product_id: parent,
        name: spec.name,
        description: spec.description,
        terms: spec.terms,
        updated_at_ms: now_ms(),
        ..current
    };
    if !store::update_draft(&mut tx, &row).await? {
        return Err(product_error(rules::check_editable(ProductState::Published).unwrap_err()));
    }
    let detail = format!("{} ({}){}", row.name, row.terms.kind.code(), variant_note(&row));
    audit::ok_in(&mut tx, actor, "product.update", OBJECT, id, &detail).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// Publishes a draft to the catalogue. A variant is published only while its parent is.
pub async fn publish(app: &App, actor: &Actor, id: &str) -> AppResult<Product> {
    act(app, actor, id, ProductAction::Publish).await
}

/// Withdraws a product from the catalogue (a draft too); its variants are withdrawn with it.
pub async fn withdraw(app: &App, actor: &Actor, id: &str) -> AppResult<Product> {
    act(app, actor, id, ProductAction::Withdraw).await
}

async fn act(app: &App, actor: &Actor, id: &str, action: ProductAction) -> AppResult<Product> {
    let name = format!("product.{}", action.code());
    audit::run(app, actor, Permission::ManageProducts, &name, OBJECT, id, async {
        let result = act_checked(app, actor, id, action).await;
        let row = audited(app, actor, &name, id, result).await?;
        view(app, actor, row).await
    })
    .await
}

async fn act_checked(app: &App, actor: &Actor, id: &str, action: ProductAction) -> AppResult<ProductRow> {
    let mut tx = app.db.begin_write().await?;
    let current = own(&mut tx, actor, id).await?;
    let to = rules::transition(current.state, action).map_err(product_error)?;
    if let (ProductAction::Publish, Some(parent_id)) = (action, &current.parent_product_id) {
        let parent = store::get(&mut tx, &ProductScope::All, parent_id).await?;
        if parent.state != ProductState::Published {
            return Err(AppError::conflict(
                "parent_not_published",
                "A chain variant is published only while its parent product is",
                "母产品发布后，产业链专属版本方可发布",
            )
            .with_field("parent_product_id"));
        }
        // The parent's draft may have been narrowed since the variant was written.
        rules::check_variant(&parent.terms, &current.terms).map_err(product_error)?;
    }
    let now = now_ms();
    if !store::set_state(&mut tx, id, current.state, to, now).await? {
        return Err(AppError::conflict(
            "conflict",
            "The product changed meanwhile; reload it and try again",
            "该产品已被他人修改，请刷新后重试",
        ));
    }
    let action_name = format!("product.{}", action.code());
    audit::ok_in(&mut tx, actor, &action_name, OBJECT, id, &format!("{} → {}", current.state.code(), to.code()))
        .await?;
    if action == ProductAction::Withdraw {
        for (variant_id, state) in store::variants(&mut tx, id).await? {
            if state != ProductState::Withdrawn && store::set_state(&mut tx, &variant_id, state, to, now).await? {
                let detail = format!("{} → withdrawn with its parent {id}", state.code());
                audit::ok_in(&mut tx, actor, &action_name, OBJECT, &variant_id, &detail).await?;
            }
        }
    }
    let row = store::get(&mut tx, &ProductScope::All, id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(row)
}

/// The reader's view of a product's chains.
async fn view(app: &App, actor: &Actor, row: ProductRow) -> AppResult<Product> {
    let mut conn = app.db.acquire().await?;
    let mut names = HashMap::new();
    view_in(&mut conn, actor, row, &mut names).await
}

async fn view_in(
    conn: &mut Conn,
    actor: &Actor,
    row: ProductRow,
    // Names already looked up (chains by id, banks by org id): `None` for a chain the reader may not see.
    names: &mut HashMap<String, Option<String>>,
) -> AppResult<Product> {
    let chain_scope = policy::chain_scope(actor);
    let mut chains = Vec::new();
    let mut hidden = 0;
    for id in &row.terms.chain_ids {
        if !names.contains_key(id) {
            let name = match lianrong_store::chain::get(conn, &chain_scope, id).await {
                Ok(c) => Some(c.name),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            names.insert(id.clone(), name);
        }
        match names.get(id).cloned().flatten() {
            Some(name) => chains.push((id.clone(), name)),
            None => hidden += 1,
        }
    }
    if !names.contains_key(&row.bank_org_id) {
        let bank = lianrong_store::org::get(conn, &row.bank_org_id).await?;
        names.insert(row.bank_org_id.clone(), Some(bank.name));
    }
    let bank_name = names.get(&row.bank_org_id).cloned().flatten().unwrap_or_default();
    Ok(Product { row, bank_name, chains, chains_hidden: hidden })
}

/// One product: published ones for everyone, drafts for their bank.
pub async fn get(app: &App, actor: &Actor, id: &str) -> AppResult<Product> {
    policy::require(actor, Permission::ReadProducts)?;
    let mut conn = app.db.acquire().await?;
    let row = store::get(&mut conn, &scope(actor), id).await.map_err(map_missing)?;
    let mut names = HashMap::new();
    view_in(&mut conn, actor, row, &mut names).await
}

/// What the catalogue is filtered by, as asked (codes and ids as text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueQuery {
    pub kind: Option<String>,
    pub chain_id: Option<String>,
    pub bank_org_id: Option<String>,
    /// published (the default), draft or withdrawn; drafts are only ever the caller's bank's.
    pub state: Option<String>,
}

/// The catalogue: published products by default, filtered by kind, chain and bank. A chain filter names
/// a chain the caller may see (else `not_found`, so a chain's existence is not revealed).
pub async fn list(app: &App, actor: &Actor, q: &CatalogueQuery, page: PageRequest) -> AppResult<Page<Product>> {
    policy::require(actor, Permission::ReadProducts)?;
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let kind = blank(&q.kind).map(|k| ProductKind::parse(&k)).transpose()?;
    let state = match blank(&q.state) {
        Some(s) => ProductState::parse(&s)?,
        None => ProductState::Published,
    };
    let mut conn = app.db.acquire().await?;
    let chain_id = blank(&q.chain_id);
    if let Some(c) = &chain_id {
        lianrong_store::chain::get(&mut conn, &policy::chain_scope(actor), c).await.map_err(|e| match e {
            StoreError::NotFound => {
                AppError { field: Some("chain_id".into()), ..AppError::not_found("Chain", "产业链") }
            }
            other => other.into(),
        })?;
    }
    let filter = ProductFilter { kind, chain_id, bank_org_id: blank(&q.bank_org_id), state: Some(state) };
    let Page { items, page, page_size, total } = store::list(&mut conn, &scope(actor), &filter, page).await?;
    let mut names = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for row in items {
        out.push(view_in(&mut conn, actor, row, &mut names).await?);
    }
    Ok(Page { items: out, page, page_size, total })
}

/// The caller's bank's own drafts (for its staff's page).
pub async fn own_drafts(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<Product>> {
    policy::require(actor, Permission::ManageProducts)?;
    let mut conn = app.db.acquire().await?;
    let filter = ProductFilter {
        bank_org_id: Some(actor.org_id.clone()),
        state: Some(ProductState::Draft),
        ..Default::default()
    };
    let Page { items, page, page_size, total } = store::list(&mut conn, &scope(actor), &filter, page).await?;
    let mut names = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for row in items {
        out.push(view_in(&mut conn, actor, row, &mut names).await?);
    }
    Ok(Page { items: out, page, page_size, total })
}

/// The chains a bank may name on a product: those it sees (as a partner bank, or all for the platform).
pub async fn chains_to_name(app: &App, actor: &Actor) -> AppResult<Vec<(String, String)>> {
    policy::require(actor, Permission::ManageProducts)?;
    let mut conn = app.db.acquire().await?;
    let page = PageRequest::new(Some(1), Some(lianrong_domain::limits::PAGE_SIZE_MAX))?;
    let chains = lianrong_store::chain::list(&mut conn, &policy::chain_scope(actor), page).await?;
    Ok(chains.items.into_iter().map(|c| (c.id, c.name)).collect())
}
