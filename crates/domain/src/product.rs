//! Financing products ("one chain, one enterprise, one policy"): a bank publishes what it finances —
//! receivables, factoring, reverse factoring, commitment discounts, order financing, data-only credit —
//! on which chains, to which tiers, on what evidence, for what amounts, terms, rates and fees. A
//! chain-specific variant belongs to the same bank, names exactly one chain and may only narrow its
//! parent's reach (chains, tiers, evidence, amounts, terms); its price (rate, advance ratio, fees) is
//! its own. [`eligibility`] is the pure pre-check an application will run: every reason a supplier's
//! case does not fit, each with a code and a message in both languages.
//!
//! Rates and ratios are integer basis points (1 bp = 0.01 %); money is integer fen.

use std::borrow::Cow;

use crate::labelled_enum;
use crate::refusal::Refusal;

/// A product's name as the catalogue shows it (e.g. 链融通·应收账款融资).
pub const NAME_CHARS_MAX: usize = 60;
/// What the product is, for whom, and how to apply.
pub const DESCRIPTION_CHARS_MAX: usize = 2_000;
/// Chains one product may name (none: every chain).
pub const CHAINS_PER_PRODUCT_MAX: usize = 20;
/// Characters of a chain id (the platform's are UUIDs).
pub const CHAIN_ID_CHARS_MAX: usize = 64;
/// Supplier tiers a product may name: 1 (sells to the core) to 5.
pub const TIER_MIN: u8 = 1;
pub const TIER_MAX: u8 = 5;
/// The largest single financing a product may offer: ¥10 billion, the platform's bound on one trade
/// amount (larger is a typing error).
pub const AMOUNT_FEN_MAX: i64 = crate::limits::TRADE_AMOUNT_FEN_MAX;
/// Financing terms run from a day to three years (supply-chain finance follows trade terms; a longer
/// "product" is a term loan, not this).
pub const TERM_DAYS_MIN: i64 = 1;
pub const TERM_DAYS_MAX: i64 = 1_095;
/// Annual rates from 0.01 % to 24 % (2,400 bp): above that is a typing error, not a bank product.
pub const RATE_BP_MIN: i64 = 1;
pub const RATE_BP_MAX: i64 = 2_400;
/// The share of the receivable or commitment advanced: at most all of it (10,000 bp = 100 %).
pub const ADVANCE_RATIO_BP_MAX: i64 = 10_000;
/// A one-off fee on the advance: at most 5 % (500 bp); the programme asks banks to cut fees.
pub const FEE_BP_MAX: i64 = 500;
/// A one-off fixed fee: at most ¥100,000.
pub const FEE_FIXED_FEN_MAX: i64 = 10_000_000;
/// A percentage as typed in a form ("4.35", "4.35%"): characters, before it is read.
pub const PERCENT_CHARS_MAX: usize = 12;

labelled_enum!(
    /// What kind of financing a product is.
    ProductKind, "kind" {
        ReceivableFinancing => ("receivable_financing", "应收账款融资", "Receivable financing"),
        FactoringWithRecourse => ("factoring_with_recourse", "有追索权保理", "Factoring with recourse"),
        FactoringWithoutRecourse => ("factoring_without_recourse", "无追索权保理", "Factoring without recourse"),
        ReverseFactoring => ("reverse_factoring", "反向保理", "Reverse factoring"),
        CommitmentDiscount => ("commitment_discount", "债权凭证贴现", "Payment-commitment discount"),
        OrderFinancing => ("order_financing", "订单融资", "Order financing"),
        DataOnlyCredit => ("data_only_credit", "数据信用贷", "Data-only credit (\"four no's\")"),
    }
);

labelled_enum!(
    /// What the supplier's receivable must carry for the product to finance it.
    Evidence, "evidence" {
        Confirmed => ("confirmed", "确权", "Confirmed by the debtor"),
        DataVerified => ("data_verified", "数据核验", "Four-flow verified data"),
        Either => ("either", "确权或数据核验", "Either"),
    }
);

labelled_enum!(
    /// Where a product is in its life: drafted by the bank, published in the catalogue, withdrawn.
    ProductState, "state" {
        Draft => ("draft", "草稿", "Draft"),
        Published => ("published", "已发布", "Published"),
        Withdrawn => ("withdrawn", "已撤回", "Withdrawn"),
    }
);

labelled_enum!(
    /// What a bank does to a product's state.
    ProductAction, "action" {
        Publish => ("publish", "发布", "Publish"),
        Withdraw => ("withdraw", "撤回", "Withdraw"),
    }
);

/// A refused product, naming the field at fault, with a stable code and both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {en}")]
pub struct ProductError {
    pub field: &'static str,
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

impl Refusal for ProductError {
    fn code(&self) -> &'static str {
        self.code
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed(self.field))
    }

    /// The message alone: the field travels beside it, so it is not repeated as `Display` does.
    fn en(&self) -> String {
        self.en.clone()
    }

    fn zh(&self) -> String {
        self.zh.clone()
    }
}

fn err(field: &'static str, code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> ProductError {
    ProductError { field, code, en: en.into(), zh: zh.into() }
}

/// The terms of a product: what the catalogue shows and what [`eligibility`] judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductTerms {
    pub kind: ProductKind,
    /// Empty: every chain.
    pub chain_ids: Vec<String>,
    /// Empty: any tier.
    pub tiers: Vec<u8>,
    pub evidence: Evidence,
    pub amount_min_fen: i64,
    pub amount_max_fen: i64,
    pub term_min_days: i64,
    pub term_max_days: i64,
    /// Annual rate range, basis points.
    pub rate_min_bp: i64,
    pub rate_max_bp: i64,
    /// Share of the receivable advanced, basis points (≤ 10,000).
    pub advance_ratio_bp: i64,
    /// One-off fee on the advance, basis points.
    pub fee_bp: i64,
    /// One-off fixed fee, fen.
    pub fee_fixed_fen: i64,
}

/// A product as a bank writes it: name, description and terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSpec {
    pub name: String,
    pub description: String,
    pub terms: ProductTerms,
}

fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

fn check_name(name: &str) -> Result<String, ProductError> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 {
        return Err(err("name", "name_empty", "The product needs a name", "请填写产品名称"));
    }
    if n > NAME_CHARS_MAX {
        return Err(err(
            "name",
            "name_too_long",
            format!("The name has {n} characters; at most {NAME_CHARS_MAX} are allowed"),
            format!("产品名称为{n}个字符，最多{NAME_CHARS_MAX}个"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(err("name", "text_control", "The name contains a control character", "产品名称含有控制字符"));
    }
    if !name.chars().any(is_chinese) {
        return Err(err(
            "name",
            "name_not_chinese",
            "The catalogue shows products by their Chinese name; write one",
            "产品目录以中文名称展示产品，请填写中文名称",
        ));
    }
    Ok(name.to_string())
}

fn check_description(text: &str) -> Result<String, ProductError> {
    let text = text.trim();
    let n = text.chars().count();
    if n > DESCRIPTION_CHARS_MAX {
        return Err(err(
            "description",
            "description_too_long",
            format!("The description has {n} characters; at most {DESCRIPTION_CHARS_MAX} are allowed"),
            format!("产品说明为{n}个字符，最多{DESCRIPTION_CHARS_MAX}个"),
        ));
    }
    // Line breaks and tabs are how people lay out a description; other control characters are not text.
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(err(
            "description",
            "text_control",
            "The description contains a control character",
            "产品说明含有控制字符",
        ));
    }
    Ok(text.to_string())
}

fn range(
    (min_field, max_field): (&'static str, &'static str),
    (min, max): (i64, i64),
    (lower, upper): (i64, i64),
    (what_en, what_zh): (&str, &str),
    show: impl Fn(i64) -> String,
) -> Result<(), ProductError> {
    for (field, value) in [(min_field, min), (max_field, max)] {
        if value < lower || value > upper {
            let code = match min_field {
                "amount_min_fen" => "amount_out_of_bounds",
                "term_min_days" => "term_out_of_bounds",
                _ => "rate_out_of_bounds",
            };
            return Err(err(
                field,
                code,
                format!(
                    "The {what_en} must be between {} and {}; {} is outside",
                    show(lower),
                    show(upper),
                    show(value)
                ),
                format!("{what_zh}须在{}至{}之间，{}超出范围", show(lower), show(upper), show(value)),
            ));
        }
    }
    if min > max {
        let code = match min_field {
            "amount_min_fen" => "amount_range_inverted",
            "term_min_days" => "term_range_inverted",
            _ => "rate_range_inverted",
        };
        return Err(err(
            max_field,
            code,
            format!("The largest {what_en} ({}) is below the smallest ({})", show(max), show(min)),
            format!("{what_zh}上限（{}）低于下限（{}）", show(max), show(min)),
        ));
    }
    Ok(())
}

/// Yuan with two decimals, for messages.
fn yuan(fen: i64) -> String {
    crate::Money::from_fen(fen).display_yuan()
}

fn days(n: i64) -> String {
    format!("{n} d")
}

/// Checks a product's name, description and terms against every named bound; answers it normalised
/// (text trimmed, chains and tiers sorted without duplicates).
pub fn check_product(spec: &ProductSpec) -> Result<ProductSpec, ProductError> {
    let name = check_name(&spec.name)?;
    let description = check_description(&spec.description)?;
    let terms = check_terms(&spec.terms)?;
    Ok(ProductSpec { name, description, terms })
}

/// Checks the terms alone (see [`check_product`]).
pub fn check_terms(t: &ProductTerms) -> Result<ProductTerms, ProductError> {
    let mut chain_ids: Vec<String> = t.chain_ids.iter().map(|c| c.trim().to_string()).collect();
    chain_ids.sort();
    chain_ids.dedup();
    if chain_ids.len() > CHAINS_PER_PRODUCT_MAX {
        return Err(err(
            "eligible_chain_ids",
            "too_many_chains",
            format!("{} chains named; at most {CHAINS_PER_PRODUCT_MAX} (name none for every chain)", chain_ids.len()),
            format!("指定了{}条产业链，最多{CHAINS_PER_PRODUCT_MAX}条（不指定即适用所有产业链）", chain_ids.len()),
        ));
    }
    if chain_ids
        .iter()
        .any(|c| c.is_empty() || c.chars().count() > CHAIN_ID_CHARS_MAX || c.chars().any(char::is_control))
    {
        return Err(err(
            "eligible_chain_ids",
            "chain_id_invalid",
            "A chain id is empty or malformed",
            "产业链编号为空或格式不正确",
        ));
    }
    let mut tiers = t.tiers.clone();
    tiers.sort_unstable();
    tiers.dedup();
    if let Some(bad) = tiers.iter().find(|&&n| !(TIER_MIN..=TIER_MAX).contains(&n)) {
        return Err(err(
            "eligible_tiers",
            "tier_out_of_range",
            format!("Tier {bad} is not between {TIER_MIN} and {TIER_MAX}"),
            format!("层级{bad}不在{TIER_MIN}至{TIER_MAX}之间"),
        ));
    }
    range(
        ("amount_min_fen", "amount_max_fen"),
        (t.amount_min_fen, t.amount_max_fen),
        (1, AMOUNT_FEN_MAX),
        ("amount", "融资金额"),
        yuan,
    )?;
    range(
        ("term_min_days", "term_max_days"),
        (t.term_min_days, t.term_max_days),
        (TERM_DAYS_MIN, TERM_DAYS_MAX),
        ("term", "融资期限"),
        days,
    )?;
    range(
        ("rate_min_bp", "rate_max_bp"),
        (t.rate_min_bp, t.rate_max_bp),
        (RATE_BP_MIN, RATE_BP_MAX),
        ("annual rate", "年化利率"),
        display_percent,
    )?;
    if t.advance_ratio_bp < 1 || t.advance_ratio_bp > ADVANCE_RATIO_BP_MAX {
        return Err(err(
            "advance_ratio_bp",
            "advance_ratio_out_of_bounds",
            format!("The advance ratio must be above 0 and at most 100 %, not {}", display_percent(t.advance_ratio_bp)),
            format!("融资比例须大于0且不超过100%，{}超出范围", display_percent(t.advance_ratio_bp)),
        ));
    }
    if t.fee_bp < 0 || t.fee_bp > FEE_BP_MAX {
        return Err(err(
            "fee_bp",
            "fee_out_of_bounds",
            format!("The fee must be between 0 and {}, not {}", display_percent(FEE_BP_MAX), display_percent(t.fee_bp)),
            format!("手续费率须在0至{}之间，{}超出范围", display_percent(FEE_BP_MAX), display_percent(t.fee_bp)),
        ));
    }
    if t.fee_fixed_fen < 0 || t.fee_fixed_fen > FEE_FIXED_FEN_MAX {
        return Err(err(
            "fee_fixed_fen",
            "fee_out_of_bounds",
            format!(
                "The fixed fee must be between ¥0.00 and {}, not {}",
                yuan(FEE_FIXED_FEN_MAX),
                yuan(t.fee_fixed_fen)
            ),
            format!("固定费用须在¥0.00至{}之间，{}超出范围", yuan(FEE_FIXED_FEN_MAX), yuan(t.fee_fixed_fen)),
        ));
    }
    check_evidence_fits_kind(t.kind, t.evidence)?;
    Ok(ProductTerms { chain_ids, tiers, ..t.clone() })
}

/// Some kinds decide the evidence: data-only credit is the "four no's" path (no confirmation), reverse
/// factoring finances payables the core confirmed, and a payment commitment is the core's confirmation.
fn check_evidence_fits_kind(kind: ProductKind, evidence: Evidence) -> Result<(), ProductError> {
    let needed = match kind {
        ProductKind::DataOnlyCredit => Some(Evidence::DataVerified),
        ProductKind::ReverseFactoring | ProductKind::CommitmentDiscount => Some(Evidence::Confirmed),
        _ => None,
    };
    match needed {
        Some(needed) if needed != evidence => Err(err(
            "evidence",
            "evidence_kind_mismatch",
            format!("A {} product needs evidence '{}', not '{}'", kind.label_en(), needed.code(), evidence.code()),
            format!("{}产品的增信依据须为“{}”，而非“{}”", kind.label_zh(), needed.label_zh(), evidence.label_zh()),
        )),
        _ => Ok(()),
    }
}

/// Whether evidence `narrow` asks at least what `wide` asks (a variant may not accept more).
fn evidence_within(narrow: Evidence, wide: Evidence) -> bool {
    wide == Evidence::Either || narrow == wide
}

/// Checks a chain-specific variant against its parent (both already checked): same kind, exactly one
/// chain that the parent covers, and no wider tiers, evidence, amounts or terms. Its price may differ.
pub fn check_variant(parent: &ProductTerms, variant: &ProductTerms) -> Result<(), ProductError> {
    let narrower = |field: &'static str, what_en: &str, what_zh: &str| {
        err(
            field,
            "variant_wider_than_parent",
            format!("A chain variant may only narrow its parent's {what_en}"),
            format!("产业链专属版本只能收窄母产品的{what_zh}"),
        )
    };
    if variant.kind != parent.kind {
        return Err(err(
            "kind",
            "variant_kind_differs",
            "A chain variant is of its parent's kind",
            "产业链专属版本须与母产品类型一致",
        ));
    }
    let [chain] = variant.chain_ids.as_slice() else {
        return Err(err(
            "eligible_chain_ids",
            "variant_needs_one_chain",
            "A chain variant names exactly one chain",
            "产业链专属版本须且仅须指定一条产业链",
        ));
    };
    if !parent.chain_ids.is_empty() && !parent.chain_ids.contains(chain) {
        return Err(narrower("eligible_chain_ids", "chains", "适用产业链"));
    }
    let tiers_within = if parent.tiers.is_empty() {
        true
    } else {
        !variant.tiers.is_empty() && variant.tiers.iter().all(|t| parent.tiers.contains(t))
    };
    if !tiers_within {
        return Err(narrower("eligible_tiers", "tiers", "适用层级"));
    }
    if !evidence_within(variant.evidence, parent.evidence) {
        return Err(narrower("evidence", "evidence", "增信依据"));
    }
    if variant.amount_min_fen < parent.amount_min_fen {
        return Err(narrower("amount_min_fen", "amounts", "金额范围"));
    }
    if variant.amount_max_fen > parent.amount_max_fen {
        return Err(narrower("amount_max_fen", "amounts", "金额范围"));
    }
    if variant.term_min_days < parent.term_min_days {
        return Err(narrower("term_min_days", "terms", "期限范围"));
    }
    if variant.term_max_days > parent.term_max_days {
        return Err(narrower("term_max_days", "terms", "期限范围"));
    }
    Ok(())
}

/// The state a product moves to, or why it may not.
pub fn transition(state: ProductState, action: ProductAction) -> Result<ProductState, ProductError> {
    match (state, action) {
        (ProductState::Draft, ProductAction::Publish) => Ok(ProductState::Published),
        (ProductState::Draft | ProductState::Published, ProductAction::Withdraw) => Ok(ProductState::Withdrawn),
        (_, ProductAction::Publish) => Err(err(
            "state",
            "not_a_draft",
            format!("Only a draft is published; this product is {}", state.label_en()),
            format!("只有草稿可以发布，该产品当前为“{}”", state.label_zh()),
        )),
        (_, ProductAction::Withdraw) => {
            Err(err("state", "already_withdrawn", "The product is already withdrawn", "该产品已撤回"))
        }
    }
}

/// Only a draft is edited: a published product is what applicants saw.
pub fn check_editable(state: ProductState) -> Result<(), ProductError> {
    if state == ProductState::Draft {
        Ok(())
    } else {
        Err(err(
            "state",
            "not_a_draft",
            format!("Only a draft is edited; this product is {}", state.label_en()),
            format!("只有草稿可以修改，该产品当前为“{}”", state.label_zh()),
        ))
    }
}

/// A supplier's case, as an application's pre-check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The chain the financing is asked on; `None` when the supplier is on no chain.
    pub chain_id: Option<String>,
    /// The supplier's tier on that chain; `None` when unknown.
    pub tier: Option<u8>,
    /// The receivable is confirmed by its debtor (确权).
    pub confirmed: bool,
    /// The receivable is four-flow verified and eligible for data-only financing.
    pub data_verified: bool,
    pub amount_fen: i64,
    pub term_days: i64,
}

/// Why a case does not fit a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ineligibility {
    ChainNotEligible,
    TierNotEligible { tier: Option<u8> },
    EvidenceMissing { needed: Evidence },
    AmountBelowMin { min_fen: i64 },
    AmountAboveMax { max_fen: i64 },
    TermBelowMin { min_days: i64 },
    TermAboveMax { max_days: i64 },
}

impl Ineligibility {
    pub fn code(&self) -> &'static str {
        match self {
            Ineligibility::ChainNotEligible => "chain_not_eligible",
            Ineligibility::TierNotEligible { .. } => "tier_not_eligible",
            Ineligibility::EvidenceMissing { .. } => "evidence_missing",
            Ineligibility::AmountBelowMin { .. } => "amount_below_min",
            Ineligibility::AmountAboveMax { .. } => "amount_above_max",
            Ineligibility::TermBelowMin { .. } => "term_below_min",
            Ineligibility::TermAboveMax { .. } => "term_above_max",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Ineligibility::ChainNotEligible => "The product is not offered on this chain".into(),
            Ineligibility::TierNotEligible { tier: Some(t) } => format!("The product is not offered to tier {t}"),
            Ineligibility::TierNotEligible { tier: None } => {
                "The product is for named tiers and the supplier's tier is unknown".into()
            }
            Ineligibility::EvidenceMissing { needed: Evidence::Confirmed } => {
                "The product needs a receivable confirmed by its debtor".into()
            }
            Ineligibility::EvidenceMissing { needed: Evidence::DataVerified } => {
                "The product needs a four-flow verified receivable eligible for data-only financing".into()
            }
            Ineligibility::EvidenceMissing { needed: Evidence::Either } => {
                "The product needs a confirmed or a four-flow verified receivable".into()
            }
            Ineligibility::AmountBelowMin { min_fen } => {
                format!("The amount is below the product's minimum of {}", yuan(*min_fen))
            }
            Ineligibility::AmountAboveMax { max_fen } => {
                format!("The amount is above the product's maximum of {}", yuan(*max_fen))
            }
            Ineligibility::TermBelowMin { min_days } => {
                format!("The term is shorter than the product's {min_days} days")
            }
            Ineligibility::TermAboveMax { max_days } => {
                format!("The term is longer than the product's {max_days} days")
            }
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Ineligibility::ChainNotEligible => "该产品不适用于本产业链".into(),
            Ineligibility::TierNotEligible { tier: Some(t) } => format!("该产品不面向{t}级供应商"),
            Ineligibility::TierNotEligible { tier: None } => "该产品限定供应商层级，而该供应商层级未知".into(),
            Ineligibility::EvidenceMissing { needed: Evidence::Confirmed } => "该产品要求应收账款经债务人确权".into(),
            Ineligibility::EvidenceMissing { needed: Evidence::DataVerified } => {
                "该产品要求应收账款经四流核验、可凭数据融资".into()
            }
            Ineligibility::EvidenceMissing { needed: Evidence::Either } => {
                "该产品要求应收账款已确权或经四流核验".into()
            }
            Ineligibility::AmountBelowMin { min_fen } => format!("融资金额低于产品下限{}", yuan(*min_fen)),
            Ineligibility::AmountAboveMax { max_fen } => format!("融资金额高于产品上限{}", yuan(*max_fen)),
            Ineligibility::TermBelowMin { min_days } => format!("融资期限短于产品最短期限{min_days}天"),
            Ineligibility::TermAboveMax { max_days } => format!("融资期限长于产品最长期限{max_days}天"),
        }
    }

    pub fn message(&self, lang_en: bool) -> String {
        if lang_en { self.message_en() } else { self.message_zh() }
    }
}

/// Every reason `facts` do not fit the product's terms, in a fixed order; empty when they fit.
pub fn eligibility(terms: &ProductTerms, facts: &Facts) -> Vec<Ineligibility> {
    let mut out = Vec::new();
    if !terms.chain_ids.is_empty() && !facts.chain_id.as_ref().is_some_and(|c| terms.chain_ids.contains(c)) {
        out.push(Ineligibility::ChainNotEligible);
    }
    if !terms.tiers.is_empty() && !facts.tier.is_some_and(|t| terms.tiers.contains(&t)) {
        out.push(Ineligibility::TierNotEligible { tier: facts.tier });
    }
    let evidence_ok = match terms.evidence {
        Evidence::Confirmed => facts.confirmed,
        Evidence::DataVerified => facts.data_verified,
        Evidence::Either => facts.confirmed || facts.data_verified,
    };
    if !evidence_ok {
        out.push(Ineligibility::EvidenceMissing { needed: terms.evidence });
    }
    if facts.amount_fen < terms.amount_min_fen {
        out.push(Ineligibility::AmountBelowMin { min_fen: terms.amount_min_fen });
    }
    if facts.amount_fen > terms.amount_max_fen {
        out.push(Ineligibility::AmountAboveMax { max_fen: terms.amount_max_fen });
    }
    if facts.term_days < terms.term_min_days {
        out.push(Ineligibility::TermBelowMin { min_days: terms.term_min_days });
    }
    if facts.term_days > terms.term_max_days {
        out.push(Ineligibility::TermAboveMax { max_days: terms.term_max_days });
    }
    out
}

/// Reads a percentage as people type it ("4.35", "4.35%", "８０", "0.5 %") into basis points, exactly:
/// at most two decimals, never negative. The bounds of the field are checked by [`check_terms`].
pub fn parse_percent_bp(field: &'static str, input: &str) -> Result<i64, ProductError> {
    let excerpt: String = input.chars().take(PERCENT_CHARS_MAX).collect();
    let bad = || {
        err(
            field,
            "percent_invalid",
            format!("'{excerpt}' is not a percentage with at most two decimals (e.g. 4.35)"),
            format!("“{excerpt}”不是最多两位小数的百分数（例如 4.35）"),
        )
    };
    if input.chars().count() > PERCENT_CHARS_MAX {
        return Err(bad());
    }
    let normal: String = input
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            '％' => '%',
            other => other,
        })
        .filter(|c| !c.is_whitespace())
        .collect();
    let body = normal.strip_suffix('%').unwrap_or(&normal);
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int_part.is_empty() || !digits(int_part) || !digits(frac_part) || int_part.len() > 6 {
        return Err(bad());
    }
    // Trailing zeros beyond two decimals say nothing more ("4.350").
    let frac = frac_part.trim_end_matches('0');
    if frac.len() > 2 {
        return Err(bad());
    }
    let int: i64 = int_part.parse().map_err(|_| bad())?;
    let hundredths: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    Ok(int * 100 + hundredths)
}

/// Basis points as a percentage with two decimals: 435 → "4.35%".
pub fn display_percent(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let bp = bp.unsigned_abs();
    format!("{sign}{}.{:02}%", bp / 100, bp % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> ProductTerms {
        ProductTerms {
            kind: ProductKind::ReceivableFinancing,
            chain_ids: vec![],
            tiers: vec![],
            evidence: Evidence::Either,
            amount_min_fen: 100_000,
            amount_max_fen: 500_000_000,
            term_min_days: 30,
            term_max_days: 360,
            rate_min_bp: 350,
            rate_max_bp: 600,
            advance_ratio_bp: 8_000,
            fee_bp: 10,
            fee_fixed_fen: 0,
        }
    }

    fn spec(t: ProductTerms) -> ProductSpec {
        ProductSpec {
            name: "链融通·应收账款融资".into(), description: "面向一级供应商".into(), terms: t
        }
    }

    fn refused(t: ProductTerms) -> (&'static str, &'static str) {
        let e = check_product(&spec(t)).unwrap_err();
        (e.field, e.code)
    }

    #[test]
    fn a_good_product_is_normalised() {
        let t = ProductTerms { chain_ids: vec![" b".into(), "a".into(), "b".into()], tiers: vec![2, 1, 2], ..terms() };
        let s = check_product(&ProductSpec { name: "  链融通  ".into(), ..spec(t) }).unwrap();
        assert_eq!(s.name, "链融通");
        assert_eq!(s.terms.chain_ids, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(s.terms.tiers, vec![1, 2]);
        let multi_line = ProductSpec { description: "第一行\n第二行".into(), ..spec(terms()) };
        assert!(check_product(&multi_line).is_ok());
    }

    #[test]
    fn every_bound_is_refused_by_its_field() {
        let mk = |f: &dyn Fn(&mut ProductTerms)| {
            let mut t = terms();
            f(&mut t);
            refused(t)
        };
        assert_eq!(mk(&|t| t.amount_min_fen = 0), ("amount_min_fen", "amount_out_of_bounds"));
        assert_eq!(mk(&|t| t.amount_max_fen = AMOUNT_FEN_MAX + 1), ("amount_max_fen", "amount_out_of_bounds"));
        assert_eq!(mk(&|t| t.amount_max_fen = 99_999), ("amount_max_fen", "amount_range_inverted"));
        assert_eq!(mk(&|t| t.term_min_days = 0), ("term_min_days", "term_out_of_bounds"));
        assert_eq!(mk(&|t| t.term_max_days = TERM_DAYS_MAX + 1), ("term_max_days", "term_out_of_bounds"));
        assert_eq!(mk(&|t| t.term_max_days = 29), ("term_max_days", "term_range_inverted"));
        assert_eq!(mk(&|t| t.rate_min_bp = 0), ("rate_min_bp", "rate_out_of_bounds"));
        assert_eq!(mk(&|t| t.rate_max_bp = RATE_BP_MAX + 1), ("rate_max_bp", "rate_out_of_bounds"));
        assert_eq!(mk(&|t| t.rate_max_bp = 349), ("rate_max_bp", "rate_range_inverted"));
        assert_eq!(mk(&|t| t.advance_ratio_bp = 0), ("advance_ratio_bp", "advance_ratio_out_of_bounds"));
        assert_eq!(mk(&|t| t.advance_ratio_bp = 10_001), ("advance_ratio_bp", "advance_ratio_out_of_bounds"));
        assert_eq!(mk(&|t| t.fee_bp = -1), ("fee_bp", "fee_out_of_bounds"));
        assert_eq!(mk(&|t| t.fee_bp = FEE_BP_MAX + 1), ("fee_bp", "fee_out_of_bounds"));
        assert_eq!(mk(&|t| t.fee_fixed_fen = FEE_FIXED_FEN_MAX + 1), ("fee_fixed_fen", "fee_out_of_bounds"));
        assert_eq!(mk(&|t| t.tiers = vec![0]), ("eligible_tiers", "tier_out_of_range"));
        assert_eq!(mk(&|t| t.tiers = vec![6]), ("eligible_tiers", "tier_out_of_range"));
        assert_eq!(
            mk(&|t| t.chain_ids = (0..=CHAINS_PER_PRODUCT_MAX).map(|i| format!("c{i}")).collect()),
            ("eligible_chain_ids", "too_many_chains")
        );
        assert_eq!(mk(&|t| t.chain_ids = vec!["".into()]), ("eligible_chain_ids", "chain_id_invalid"));
        assert_eq!(
            mk(&|t| {
                t.kind = ProductKind::DataOnlyCredit;
                t.evidence = Evidence::Confirmed;
            }),
            ("evidence", "evidence_kind_mismatch")
        );
        assert_eq!(mk(&|t| t.kind = ProductKind::ReverseFactoring), ("evidence", "evidence_kind_mismatch"));
        let name = |n: &str| check_product(&ProductSpec { name: n.into(), ..spec(terms()) }).unwrap_err().code;
        assert_eq!(name(" "), "name_empty");
        assert_eq!(name(&"链".repeat(NAME_CHARS_MAX + 1)), "name_too_long");
        assert_eq!(name("Chain Finance"), "name_not_chinese");
        assert_eq!(name("链\u{7}融"), "text_control");
        let long = ProductSpec { description: "说".repeat(DESCRIPTION_CHARS_MAX + 1), ..spec(terms()) };
        assert_eq!(check_product(&long).unwrap_err().field, "description");
        // The edges themselves are allowed.
        let edges = ProductTerms {
            amount_min_fen: 1,
            amount_max_fen: AMOUNT_FEN_MAX,
            term_min_days: TERM_DAYS_MIN,
            term_max_days: TERM_DAYS_MAX,
            rate_min_bp: RATE_BP_MIN,
            rate_max_bp: RATE_BP_MAX,
            advance_ratio_bp: ADVANCE_RATIO_BP_MAX,
            fee_bp: FEE_BP_MAX,
            fee_fixed_fen: FEE_FIXED_FEN_MAX,
            tiers: vec![TIER_MIN, TIER_MAX],
            ..terms()
        };
        assert!(check_terms(&edges).is_ok());
    }

    #[test]
    fn a_variant_narrows_its_parent() {
        let parent = ProductTerms { chain_ids: vec!["nev".into(), "chips".into()], tiers: vec![1, 2], ..terms() };
        let variant = ProductTerms {
            chain_ids: vec!["nev".into()],
            tiers: vec![1],
            evidence: Evidence::Confirmed,
            amount_min_fen: 200_000,
            rate_min_bp: 300,
            rate_max_bp: 400,
            advance_ratio_bp: 9_000,
            ..terms()
        };
        assert_eq!(check_variant(&parent, &variant), Ok(()));
        let field = |v: ProductTerms| check_variant(&parent, &v).unwrap_err().field;
        assert_eq!(field(ProductTerms { chain_ids: vec![], ..variant.clone() }), "eligible_chain_ids");
        assert_eq!(
            field(ProductTerms { chain_ids: vec!["nev".into(), "chips".into()], ..variant.clone() }),
            "eligible_chain_ids"
        );
        assert_eq!(field(ProductTerms { chain_ids: vec!["steel".into()], ..variant.clone() }), "eligible_chain_ids");
        assert_eq!(field(ProductTerms { tiers: vec![], ..variant.clone() }), "eligible_tiers");
        assert_eq!(field(ProductTerms { tiers: vec![3], ..variant.clone() }), "eligible_tiers");
        assert_eq!(field(ProductTerms { amount_min_fen: 1, ..variant.clone() }), "amount_min_fen");
        assert_eq!(field(ProductTerms { amount_max_fen: 600_000_000, ..variant.clone() }), "amount_max_fen");
        assert_eq!(field(ProductTerms { term_min_days: 1, ..variant.clone() }), "term_min_days");
        assert_eq!(field(ProductTerms { term_max_days: 361, ..variant.clone() }), "term_max_days");
        assert_eq!(field(ProductTerms { kind: ProductKind::OrderFinancing, ..variant.clone() }), "kind");
        let confirmed_parent = ProductTerms { evidence: Evidence::Confirmed, ..parent.clone() };
        let e = check_variant(&confirmed_parent, &ProductTerms { evidence: Evidence::Either, ..variant.clone() });
        assert_eq!(e.unwrap_err().field, "evidence");
        // A parent for every chain lets its variant name any one.
        assert_eq!(check_variant(&terms(), &ProductTerms { chain_ids: vec!["steel".into()], ..terms() }), Ok(()));
    }

    fn facts() -> Facts {
        Facts {
            chain_id: Some("nev".into()),
            tier: Some(1),
            confirmed: false,
            data_verified: true,
            amount_fen: 1_000_000,
            term_days: 90,
        }
    }

    #[test]
    fn eligibility_names_every_reason() {
        assert_eq!(eligibility(&terms(), &facts()), vec![]);
        let narrow =
            ProductTerms { chain_ids: vec!["nev".into()], tiers: vec![1, 2], evidence: Evidence::Confirmed, ..terms() };
        assert_eq!(eligibility(&narrow, &Facts { confirmed: true, ..facts() }), vec![]);
        let all_wrong = Facts {
            chain_id: Some("steel".into()),
            tier: Some(3),
            confirmed: false,
            data_verified: true,
            amount_fen: 99_999,
            term_days: 29,
        };
        let codes: Vec<&str> = eligibility(&narrow, &all_wrong).iter().map(Ineligibility::code).collect();
        assert_eq!(
            codes,
            ["chain_not_eligible", "tier_not_eligible", "evidence_missing", "amount_below_min", "term_below_min"]
        );
        let too_much = Facts { amount_fen: 500_000_001, term_days: 361, ..facts() };
        let codes: Vec<&str> = eligibility(&terms(), &too_much).iter().map(Ineligibility::code).collect();
        assert_eq!(codes, ["amount_above_max", "term_above_max"]);
        // The edges fit.
        let edges = Facts { amount_fen: 100_000, term_days: 360, ..facts() };
        assert_eq!(eligibility(&terms(), &edges), vec![]);
        // Unknown chain or tier does not fit a product that names them.
        let unknown = Facts { chain_id: None, tier: None, confirmed: true, ..facts() };
        assert_eq!(
            eligibility(&narrow, &unknown),
            vec![Ineligibility::ChainNotEligible, Ineligibility::TierNotEligible { tier: None }]
        );
        // Evidence: data-only needs verified data; either takes one of the two; nothing fits none.
        let data_only = ProductTerms { kind: ProductKind::DataOnlyCredit, evidence: Evidence::DataVerified, ..terms() };
        let confirmed_only = Facts { confirmed: true, data_verified: false, ..facts() };
        assert_eq!(
            eligibility(&data_only, &confirmed_only),
            vec![Ineligibility::EvidenceMissing { needed: Evidence::DataVerified }]
        );
        assert_eq!(eligibility(&terms(), &confirmed_only), vec![]);
        let neither = Facts { confirmed: false, data_verified: false, ..facts() };
        assert_eq!(eligibility(&terms(), &neither), vec![Ineligibility::EvidenceMissing { needed: Evidence::Either }]);
        // Every reason speaks both languages.
        for i in eligibility(&narrow, &all_wrong).iter().chain(eligibility(&terms(), &too_much).iter()) {
            assert!(!i.message_zh().is_empty() && !i.message_en().is_empty());
        }
        assert!(Ineligibility::AmountBelowMin { min_fen: 100_000 }.message_zh().contains("¥1,000.00"));
    }

    #[test]
    fn percentages_become_exact_basis_points() {
        let p = |s: &str| parse_percent_bp("rate", s);
        assert_eq!(p("4.35"), Ok(435));
        assert_eq!(p("4.35%"), Ok(435));
        assert_eq!(p(" 4.5 % "), Ok(450));
        assert_eq!(p("80"), Ok(8_000));
        assert_eq!(p("０.５％"), Ok(50));
        assert_eq!(p("4.350"), Ok(435));
        assert_eq!(p("0.01"), Ok(1));
        assert_eq!(p("100"), Ok(10_000));
        for bad in ["4.355", "-1", "", "%", ".5", "4.3.5", "abc", "1e2", "4,35", "1234567.8"] {
            assert_eq!(p(bad).unwrap_err().code, "percent_invalid", "{bad}");
        }
        assert_eq!(display_percent(435), "4.35%");
        assert_eq!(display_percent(8_000), "80.00%");
        assert_eq!(display_percent(5), "0.05%");
    }

    #[test]
    fn products_move_from_draft_to_published_to_withdrawn() {
        use ProductAction::*;
        use ProductState::*;
        assert_eq!(transition(Draft, Publish), Ok(Published));
        assert_eq!(transition(Published, Withdraw), Ok(Withdrawn));
        assert_eq!(transition(Draft, Withdraw), Ok(Withdrawn));
        assert_eq!(transition(Published, Publish).unwrap_err().code, "not_a_draft");
        assert_eq!(transition(Withdrawn, Publish).unwrap_err().code, "not_a_draft");
        assert_eq!(transition(Withdrawn, Withdraw).unwrap_err().code, "already_withdrawn");
        assert!(check_editable(Draft).is_ok());
        assert_eq!(check_editable(Published).unwrap_err().code, "not_a_draft");
    }
}
