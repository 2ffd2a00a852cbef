//! Financing products (migration 0013): the product row and its chains (`product_chain`; none = every
//! chain). State changes are conditional updates on the state they start from, so two staff members
//! publishing and withdrawing at once cannot both win.

use lianrong_domain::page::{Page, PageRequest};
use lianrong_domain::product::{Evidence, ProductKind, ProductState, ProductTerms};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Conn, Result, StoreError, decode, map_write};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    pub id: String,
    pub bank_org_id: String,
    pub parent_product_id: Option<String>,
    pub name: String,
    pub description: String,
    pub terms: ProductTerms,
    pub state: ProductState,
    pub created_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub published_at_ms: Option<i64>,
    pub withdrawn_at_ms: Option<i64>,
}

const COLUMNS: &str = "id, bank_org_id, parent_product_id, name, description, kind, eligible_tiers, evidence, \
    amount_min_fen, amount_max_fen, term_min_days, term_max_days, rate_min_bp, rate_max_bp, advance_ratio_bp, \
    fee_bp, fee_fixed_fen, state, created_by, created_at_ms, updated_at_ms, published_at_ms, withdrawn_at_ms";

fn tiers_text(tiers: &[u8]) -> String {
    tiers.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

fn tiers_of(text: String) -> Result<Vec<u8>> {
    text.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<u8>().map_err(|_| StoreError::Corrupt { column: "product.eligible_tiers", value: text.clone() })
        })
        .collect()
}

fn from_row(r: &AnyRow) -> Result<ProductRow> {
    Ok(ProductRow {
        id: r.try_get("id")?,
        bank_org_id: r.try_get("bank_org_id")?,
        parent_product_id: r.try_get("parent_product_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        terms: ProductTerms {
            kind: decode("product.kind", r.try_get("kind")?, ProductKind::parse)?,
            chain_ids: Vec::new(),
            tiers: tiers_of(r.try_get("eligible_tiers")?)?,
            evidence: decode("product.evidence", r.try_get("evidence")?, Evidence::parse)?,
            amount_min_fen: r.try_get("amount_min_fen")?,
            amount_max_fen: r.try_get("amount_max_fen")?,
            term_min_days: r.try_get("term_min_days")?,
            term_max_days: r.try_get("term_max_days")?,
            rate_min_bp: r.try_get("rate_min_bp")?,
            rate_max_bp: r.try_get("rate_max_bp")?,
            advance_ratio_bp: r.try_get("advance_ratio_bp")?,
            fee_bp: r.try_get("fee_bp")?,
            fee_fixed_fen: r.try_get("fee_fixed_fen")?,
        },
        state: decode("product.state", r.try_get("state")?, ProductState::parse)?,
        created_by: r.try_get("created_by")?,
        created_at_ms: r.try_get("created_at_ms")?,
        updated_at_ms: r.try_get("updated_at_ms")?,
        published_at_ms: r.try_get("published_at_ms")?,
        withdrawn_at_ms: r.try_get("withdrawn_at_ms")?,
    })
}

async fn insert_chains(conn: &mut Conn, product_id: &str, chain_ids: &[String]) -> Result<()> {
    for chain_id in chain_ids {
        sqlx::query("INSERT INTO product_chain (product_id, chain_id) VALUES ($1, $2)")
            .bind(product_id.to_string())
            .bind(chain_id.clone())
            .execute(&mut *conn)
            .await
            .map_err(map_write)?;
    }
    Ok(())
}

pub async fn insert(conn: &mut Conn, p: &ProductRow) -> Result<()> {
    let t = &p.terms;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO product ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22, $23)"
    )))
    .bind(p.id.clone())
    .bind(p.bank_org_id.clone())
    .bind(p.parent_product_id.clone())
    .bind(p.name.clone())
    .bind(p.description.clone())
    .bind(t.kind.code())
    .bind(tiers_text(&t.tiers))
    .bind(t.evidence.code())
    .bind(t.amount_min_fen)
    .bind(t.amount_max_fen)
    .bind(t.term_min_days)
    .bind(t.term_max_days)
    .bind(t.rate_min_bp)
    .bind(t.rate_max_bp)
    .bind(t.advance_ratio_bp)
    .bind(t.fee_bp)
    .bind(t.fee_fixed_fen)
    .bind(p.state.code())
    .bind(p.created_by.clone())
    .bind(p.created_at_ms)
    .bind(p.updated_at_ms)
    .bind(p.published_at_ms)
    .bind(p.withdrawn_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    insert_chains(conn, &p.id, &t.chain_ids).await
}

/// Rewrites a draft's name, description, terms and parent; answers false when it is no longer a draft.
pub async fn update_draft(conn: &mut Conn, p: &ProductRow) -> Result<bool> {
    let t = &p.terms;
    let done = sqlx::query(
        "UPDATE product SET parent_product_id = $2, name = $3, description = $4, kind = $5, eligible_tiers = $6, \
         evidence = $7, amount_min_fen = $8, amount_max_fen = $9, term_min_days = $10, term_max_days = $11, \
         rate_min_bp = $12, rate_max_bp = $13, advance_ratio_bp = $14, fee_bp = $15, fee_fixed_fen = $16, \
         updated_at_ms = $17 WHERE id = $1 AND state = 'draft'",
    )
    .bind(p.id.clone())
    .bind(p.parent_product_id.clone())
    .bind(p.name.clone())
    .bind(p.description.clone())
    .bind(t.kind.code())
    .bind(tiers_text(&t.tiers))
    .bind(t.evidence.code())
    .bind(t.amount_min_fen)
    .bind(t.amount_max_fen)
    .bind(t.term_min_days)
    .bind(t.term_max_days)
    .bind(t.rate_min_bp)
    .bind(t.rate_max_bp)
    .bind(t.advance_ratio_bp)
    .bind(t.fee_bp)
    .bind(t.fee_fixed_fen)
    .bind(p.updated_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(map_write)?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM product_chain WHERE product_id = $1").bind(p.id.clone()).execute(&mut *conn).await?;
    insert_chains(conn, &p.id, &t.chain_ids).await?;
    Ok(true)
}

/// Moves a product from `from` to `to` at `at_ms` (publishing stamps `published_at_ms`, withdrawing
/// `withdrawn_at_ms`); answers false when it was no longer in `from`.
pub async fn set_state(conn: &mut Conn, id: &str, from: ProductState, to: ProductState, at_ms: i64) -> Result<bool> {
    let sql = match to {
        ProductState::Published => {
            "UPDATE product SET state = $3, published_at_ms = $4, updated_at_ms = $4 WHERE id = $1 AND state = $2"
        }
        ProductState::Withdrawn => {
            "UPDATE product SET state = $3, withdrawn_at_ms = $4, updated_at_ms = $4 WHERE id = $1 AND state = $2"
        }
        ProductState::Draft => "UPDATE product SET state = $3, updated_at_ms = $4 WHERE id = $1 AND state = $2",
    };
    let done = sqlx::query(sql)
        .bind(id.to_string())
        .bind(from.code())
        .bind(to.code())
        .bind(at_ms)
        .execute(&mut *conn)
        .await
        .map_err(map_write)?;
    Ok(done.rows_affected() == 1)
}

/// Who sees which products: a published (or once-published, now withdrawn) product is public; a draft
/// only to its bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductScope {
    /// The platform itself.
    All,
    Viewer {
        org_id: String,
    },
}

fn scope_binds(scope: &ProductScope) -> (i64, String) {
    match scope {
        ProductScope::All => (1, String::new()),
        ProductScope::Viewer { org_id } => (0, org_id.clone()),
    }
}

/// Fills each product's chains (one bounded IN list per chunk of the page).
async fn with_chains(conn: &mut Conn, mut rows: Vec<ProductRow>) -> Result<Vec<ProductRow>> {
    let ids: Vec<String> = rows.iter().map(|p| p.id.clone()).collect();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for chunk in ids.chunks(200) {
        let marks = crate::dialect::placeholders(conn, 1, chunk.len());
        let sql = format!(
            "SELECT product_id, chain_id FROM product_chain WHERE product_id IN {marks} ORDER BY product_id, chain_id"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id.clone());
        }
        for r in q.fetch_all(&mut *conn).await? {
            pairs.push((r.try_get("product_id")?, r.try_get("chain_id")?));
        }
    }
    for p in &mut rows {
        p.terms.chain_ids = pairs.iter().filter(|(id, _)| *id == p.id).map(|(_, c)| c.clone()).collect();
    }
    Ok(rows)
}

pub async fn get(conn: &mut Conn, scope: &ProductScope, id: &str) -> Result<ProductRow> {
    let (all, org) = scope_binds(scope);
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM product WHERE id = $1 AND ($2 = 1 OR published_at_ms IS NOT NULL OR bank_org_id = $3)"
    )))
    .bind(id.to_string())
    .bind(all)
    .bind(org)
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)?;
    with_chains(conn, vec![row]).await?.pop().ok_or(StoreError::NotFound)
}

/// Catalogue filters; a blank one is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    pub kind: Option<ProductKind>,
    /// Products for this chain: those naming it and those for every chain.
    pub chain_id: Option<String>,
    pub bank_org_id: Option<String>,
    pub state: Option<ProductState>,
}

const LIST_WHERE: &str = "($1 = 1 OR p.published_at_ms IS NOT NULL OR p.bank_org_id = $2) \
    AND ($3 = '' OR p.kind = $3) AND ($4 = '' OR p.bank_org_id = $4) AND ($5 = '' OR p.state = $5) \
    AND ($6 = '' OR NOT EXISTS (SELECT 1 FROM product_chain c WHERE c.product_id = p.id) \
         OR EXISTS (SELECT 1 FROM product_chain c WHERE c.product_id = p.id AND c.chain_id = $6))";

pub async fn list(
    conn: &mut Conn,
    scope: &ProductScope,
    f: &ProductFilter,
    page: PageRequest,
) -> Result<Page<ProductRow>> {
    let (all, org) = scope_binds(scope);
    let binds = [
        f.kind.map(|k| k.code().to_string()).unwrap_or_default(),
        f.bank_org_id.clone().unwrap_or_default(),
        f.state.map(|s| s.code().to_string()).unwrap_or_default(),
        f.chain_id.clone().unwrap_or_default(),
    ];
    let mut count =
        sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!("SELECT COUNT(*) FROM product p WHERE {LIST_WHERE}")))
            .bind(all)
            .bind(org.clone());
    for b in &binds {
        count = count.bind(b.clone());
    }
    let total = count.fetch_one(&mut *conn).await?;
    let mut q = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM product p WHERE {LIST_WHERE} \
         ORDER BY COALESCE(p.published_at_ms, p.created_at_ms) DESC, p.id LIMIT $7 OFFSET $8"
    )))
    .bind(all)
    .bind(org);
    for b in &binds {
        q = q.bind(b.clone());
    }
    let rows = q.bind(page.limit()).bind(page.offset()).fetch_all(&mut *conn).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    let items = with_chains(conn, items).await?;
    Ok(Page { items, page: page.page, page_size: page.page_size, total })
}

/// The ids and states of a product's chain variants.
pub async fn variants(conn: &mut Conn, parent_id: &str) -> Result<Vec<(String, ProductState)>> {
    let rows = sqlx::query("SELECT id, state FROM product WHERE parent_product_id = $1 ORDER BY id")
        .bind(parent_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, decode("product.state", r.try_get("state")?, ProductState::parse)?)))
        .collect()
}
