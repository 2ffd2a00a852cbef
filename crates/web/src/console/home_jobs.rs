//! What each party's home page leads with: its main job, in figures and, where a picture reads faster
//! than a table, a chart with its table beside it. A supplier sees what it can finance now and how old
//! its receivables are; a core the confirmations it must sign and the payables falling due; a bank its
//! queue against the ten-working-day service clock; the programme office (operator, regulator) financing
//! per chain. The app gathers and scopes every figure; this module only arranges them.

use std::collections::BTreeMap;

use lianrong_app::receivable::{CounterpartyTotal, Side};
use lianrong_app::{AppResult, Permission, application, commitment, confirmation, receivable};
use lianrong_domain::Money;
use lianrong_domain::application::SERVICE_GOAL_WORKING_DAYS;
use lianrong_domain::commitment::{PartState, Request};
use lianrong_domain::confirmation::ConfirmationStatus;
use lianrong_domain::page::PageRequest;
use lianrong_domain::receivable::AgeingBucket;

use super::chart::{BarChart, Goal, Row, Series, Value};
use super::ctx::Ctx;
use crate::state::AppState;

/// A core's payables "due soon" are those falling due within this many days: a month, the horizon a
/// finance department plans its payments on.
const DUE_SOON_DAYS: i64 = 30;

/// An amount as tables show it: yuan to the fen.
fn yuan(fen: i64) -> String {
    Money::from_fen(fen).display_yuan()
}

/// An amount as a chart's bar is labelled: compact in Chinese (万元, 亿元), yuan in English.
fn short_amount(fen: i64, lang_en: bool) -> String {
    if lang_en { yuan(fen) } else { Money::from_fen(fen).display_wan() }
}

/// A label in the reader's language, as `Ui::t` gives it, without building the page's chrome.
fn t(lang_en: bool, zh: &'static str, en: &'static str) -> &'static str {
    if lang_en { en } else { zh }
}

/// One ageing bucket as the table beside the chart shows it.
pub struct BucketRow {
    pub label: &'static str,
    pub invoices: i64,
    pub amount: String,
}

/// Receivables or payables by ageing bucket, summed over counterparties: the chart and its table.
pub struct Ageing {
    pub chart: BarChart,
    pub rows: Vec<BucketRow>,
    pub invoices: i64,
    pub total: String,
}

/// Every bucket in order of age (those without a known due date last), each summed over the
/// counterparties; empty buckets are kept so that the chart always reads the same way.
fn ageing(totals: &[CounterpartyTotal], id: &'static str, title: String, lang_en: bool) -> Ageing {
    let mut by_bucket: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (code, n, fen) in totals.iter().flat_map(|c| c.buckets.iter()) {
        let e = by_bucket.entry(code.as_str()).or_default();
        e.0 += n;
        e.1 = e.1.saturating_add(*fen);
    }
    let mut buckets: Vec<(&str, &'static str)> =
        AgeingBucket::ALL.iter().map(|b| (b.code(), b.label(lang_en))).collect();
    // The store's bucket for receivables whose term is not known: shown only when there are some.
    if by_bucket.contains_key("unknown") {
        buckets.push(("unknown", t(lang_en, "到期日未知", "Due date unknown")));
    }
    let mut rows = Vec::new();
    let mut chart_rows = Vec::new();
    for (code, label) in buckets {
        let (invoices, fen) = by_bucket.get(code).copied().unwrap_or((0, 0));
        rows.push(BucketRow { label, invoices, amount: yuan(fen) });
        // Overdue buckets are drawn in the warning colour: money that should have been paid.
        let warn = code != "not_due" && code != "unknown" && fen > 0;
        chart_rows.push(Row {
            label: label.to_string(),
            values: vec![Value { size: fen, text: short_amount(fen, lang_en), warn }],
        });
    }
    let series = [Series::new(t(lang_en, "未收金额", "Outstanding"), 0)];
    Ageing {
        chart: BarChart::new(id, title, &series, &chart_rows, None),
        invoices: totals.iter().map(|c| c.invoices).sum(),
        total: yuan(totals.iter().map(|c| c.outstanding_fen).sum()),
        rows,
    }
}

// ---------------------------------------------------------------------------------------------------
// Supplier

pub struct SupplierJob {
    pub financeable: i64,
    pub financeable_amount: String,
    /// (examined, outstanding) when the ledger was longer than what was examined.
    pub partial: Option<(i64, i64)>,
    pub held_parts: i64,
    pub held_amount: String,
    /// Parts offered to a bank for discount and waiting for it.
    pub pending_parts: i64,
    pub with_banks: i64,
    pub with_banks_amount: String,
    pub can_apply: bool,
    pub ageing: Ageing,
}

pub async fn supplier(state: &AppState, ctx: &Ctx) -> AppResult<SupplierJob> {
    let (app, actor, lang) = (&state.app, ctx.actor(), ctx.lang_en());
    let now = receivable::financeable_now(app, actor).await?;
    let holdings = commitment::holdings(app, actor).await?;
    let held = holdings.iter().filter(|h| h.part.state == PartState::Held);
    let with_banks = application::with_banks(app, actor).await?;
    let totals = receivable::totals(app, actor, Side::Creditor).await?;
    let title = t(lang, "应收账款账龄分布（未收金额）", "Receivables by age (outstanding)").to_string();
    Ok(SupplierJob {
        financeable: now.receivables,
        financeable_amount: yuan(now.amount_fen),
        partial: (now.examined < now.outstanding).then_some((now.examined, now.outstanding)),
        held_parts: held.clone().count() as i64,
        held_amount: yuan(held.map(|h| h.part.amount_fen).sum()),
        pending_parts: holdings.iter().filter(|h| h.part.state == PartState::Pending).count() as i64,
        with_banks: with_banks.applications,
        with_banks_amount: yuan(with_banks.asked_fen),
        can_apply: ctx.allows(Permission::ApplyFinancing),
        ageing: ageing(&totals, "home-ageing-chart", title, lang),
    })
}

// ---------------------------------------------------------------------------------------------------
// Core

pub struct CoreJob {
    pub to_confirm: i64,
    pub to_confirm_amount: String,
    /// When more requests wait than one page holds, the amount is that of the latest this many.
    pub to_confirm_counted: Option<i64>,
    pub can_decide: bool,
    pub within_days: i64,
    pub due_soon: i64,
    pub due_soon_amount: String,
    pub overdue: i64,
    pub overdue_amount: String,
    pub ageing: Ageing,
}

pub async fn core(state: &AppState, ctx: &Ctx) -> AppResult<CoreJob> {
    let (app, actor, lang) = (&state.app, ctx.actor(), ctx.lang_en());
    let filter = confirmation::ConfirmationFilter { status: Some(ConfirmationStatus::Requested), batch_id: None };
    let waiting =
        confirmation::list(app, actor, confirmation::Role::Received, &filter, PageRequest::all_small()).await?;
    let due = receivable::falling_due(app, actor, Side::Debtor, DUE_SOON_DAYS).await?;
    let totals = receivable::totals(app, actor, Side::Debtor).await?;
    let title = t(lang, "应付账款账龄分布（未付金额）", "Payables by age (unpaid)").to_string();
    Ok(CoreJob {
        to_confirm: waiting.total,
        to_confirm_amount: yuan(waiting.items.iter().map(|c| c.amount_fen).sum()),
        to_confirm_counted: (waiting.total > waiting.items.len() as i64).then_some(waiting.items.len() as i64),
        can_decide: ctx.allows(Permission::DecideConfirmation),
        within_days: due.within_days,
        due_soon: due.due_soon,
        due_soon_amount: yuan(due.due_soon_fen),
        overdue: due.overdue,
        overdue_amount: yuan(due.overdue_fen),
        ageing: ageing(&totals, "home-payables-chart", title, lang),
    })
}

// ---------------------------------------------------------------------------------------------------
// Bank

pub struct QueueView {
    pub application_id: String,
    pub applicant: String,
    pub subject: &'static str,
    pub amount: String,
    pub state_code: &'static str,
    pub state: &'static str,
    pub submitted_on: String,
    pub working_days: i64,
    /// At or past the warning mark (8 working days).
    pub attention: bool,
}

pub struct ServiceView {
    pub decided: i64,
    pub median: i64,
    pub max: i64,
    pub within_goal: i64,
}

pub struct BankJob {
    pub queue: Vec<QueueView>,
    pub waiting: i64,
    pub attention: i64,
    pub warn_days: i64,
    pub goal_days: i64,
    pub chart: BarChart,
    pub service: Option<ServiceView>,
    pub discounts: i64,
    pub discounts_amount: String,
}

pub async fn bank(state: &AppState, ctx: &Ctx) -> AppResult<BankJob> {
    let (app, actor, lang) = (&state.app, ctx.actor(), ctx.lang_en());
    let waiting = application::queue(app, actor).await?;
    let queue = queue_views(&waiting.items, lang);
    let service = application::service_time(app, actor).await?.into_iter().find(|s| s.bank_org_id == actor.org_id);
    let discounts = commitment::pending_discounts(app, actor).await?;
    let discount_fen = |r: &Request| match r {
        Request::Discount { amount_fen, .. } => *amount_fen,
        _ => 0,
    };
    Ok(BankJob {
        attention: queue.iter().filter(|q| q.attention).count() as i64,
        chart: queue_chart(&queue, lang),
        queue,
        waiting: waiting.total,
        warn_days: application::QUEUE_WARNING_WORKING_DAYS,
        goal_days: SERVICE_GOAL_WORKING_DAYS,
        service: service.map(|s| ServiceView {
            decided: s.decided,
            median: s.median_working_days,
            max: s.max_working_days,
            within_goal: s.within_goal,
        }),
        discounts: discounts.len() as i64,
        discounts_amount: yuan(discounts.iter().map(|d| discount_fen(&d.request)).sum()),
    })
}

fn queue_views(items: &[application::QueueItem], lang: bool) -> Vec<QueueView> {
    items
        .iter()
        .map(|q| QueueView {
            application_id: q.row.application_id.clone(),
            applicant: q.row.applicant_name.clone(),
            subject: q.row.subject.label(lang),
            amount: yuan(q.row.amount_fen),
            state_code: q.row.state.code(),
            state: q.row.state.label(lang),
            submitted_on: q.submitted_on.to_string(),
            working_days: q.working_days,
            attention: q.needs_attention(),
        })
        .collect()
}

/// Working days waited per queued application against the goal line.
fn queue_chart(queue: &[QueueView], lang: bool) -> BarChart {
    let rows: Vec<Row> = queue
        .iter()
        .map(|q| Row {
            label: q.applicant.clone(),
            values: vec![Value {
                size: q.working_days,
                text: if lang {
                    format!("{} working days", q.working_days)
                } else {
                    format!("{}个工作日", q.working_days)
                },
                warn: q.attention,
            }],
        })
        .collect();
    let goal = Goal {
        size: SERVICE_GOAL_WORKING_DAYS,
        label: if lang {
            format!("Goal: {SERVICE_GOAL_WORKING_DAYS} working days")
        } else {
            format!("目标：{SERVICE_GOAL_WORKING_DAYS}个工作日")
        },
    };
    let title = t(lang, "待审申请已等待的工作日", "Working days each waiting application has waited").to_string();
    BarChart::new("home-queue-chart", title, &[Series::new(t(lang, "已等待", "Waited"), 0)], &rows, Some(goal))
}

// ---------------------------------------------------------------------------------------------------
// Programme office

pub struct ChainFinancing {
    pub chain: String,
    pub loans: i64,
    pub disbursed: String,
    pub outstanding: String,
    pub discounted: String,
}

pub struct Progress {
    pub chart: BarChart,
    pub rows: Vec<ChainFinancing>,
}

/// Per chain: loans disbursed and outstanding (by the chain the borrower applied as a member of) and
/// commitment parts discounted (by the chain of the commitment's issuer), in fen.
#[derive(Default)]
struct Sums {
    loans: i64,
    disbursed: i64,
    outstanding: i64,
    discounted: i64,
}

pub async fn progress(state: &AppState, ctx: &Ctx) -> AppResult<Progress> {
    let (app, actor, lang) = (&state.app, ctx.actor(), ctx.lang_en());
    let loans = lianrong_app::loan::figures_by_chain_tier(app, actor).await?;
    let parts = lianrong_app::stats::financing_by_chain_tier(app, actor).await?;
    let chains = lianrong_app::chain::list(app, actor, PageRequest::all_small()).await?;
    let mut names: BTreeMap<String, String> = chains.items.into_iter().map(|c| (c.id, c.name)).collect();
    names.extend(parts.iter().map(|f| (f.chain_id.clone(), f.chain_name.clone())));
    // Keyed by chain id; loans of borrowers in no chain gather under the empty key.
    let mut sums: BTreeMap<String, Sums> = BTreeMap::new();
    for f in &loans {
        let s = sums.entry(f.chain_id.clone().unwrap_or_default()).or_default();
        s.loans += f.loans;
        s.disbursed = s.disbursed.saturating_add(f.disbursed_fen);
        s.outstanding = s.outstanding.saturating_add(f.outstanding_fen);
    }
    for f in &parts {
        let s = sums.entry(f.chain_id.clone()).or_default();
        s.discounted = s.discounted.saturating_add(f.discounted_fen);
    }
    let name = |id: &str| match names.get(id) {
        Some(n) => n.clone(),
        None if id.is_empty() => t(lang, "未入链", "No chain").to_string(),
        None => id.to_string(),
    };
    // Only chains where financing happened (a chain whose commitments were passed on but never
    // discounted has nothing to draw); those that financed most first, ties by name for a stable order.
    let mut sums: Vec<(String, Sums)> =
        sums.into_iter().filter(|(_, s)| s.loans > 0 || s.discounted > 0).map(|(id, s)| (name(&id), s)).collect();
    sums.sort_by(|a, b| (b.1.disbursed + b.1.discounted).cmp(&(a.1.disbursed + a.1.discounted)).then(a.0.cmp(&b.0)));
    Ok(Progress { chart: chain_chart(&sums, lang), rows: chain_rows(&sums) })
}

fn chain_rows(sums: &[(String, Sums)]) -> Vec<ChainFinancing> {
    sums.iter()
        .map(|(chain, s)| ChainFinancing {
            chain: chain.clone(),
            loans: s.loans,
            disbursed: yuan(s.disbursed),
            outstanding: yuan(s.outstanding),
            discounted: yuan(s.discounted),
        })
        .collect()
}

fn chain_chart(sums: &[(String, Sums)], lang: bool) -> BarChart {
    let series = [
        Series::new(t(lang, "累计放款", "Loans disbursed"), 0),
        Series::new(t(lang, "贷款余额", "Loans outstanding"), 1),
        Series::new(t(lang, "凭证贴现", "Commitments discounted"), 2),
    ];
    let rows: Vec<Row> = sums
        .iter()
        .map(|(chain, s)| Row {
            label: chain.clone(),
            values: [s.disbursed, s.outstanding, s.discounted]
                .into_iter()
                .map(|fen| Value::new(fen, short_amount(fen, lang)))
                .collect(),
        })
        .collect();
    let title = t(lang, "各产业链融资情况", "Financing per chain").to_string();
    BarChart::new("home-chain-chart", title, &series, &rows, None)
}
