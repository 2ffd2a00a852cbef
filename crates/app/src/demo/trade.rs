//! A year of trade for every demo chain, generated as the files and batches real enterprises would
//! send, and loaded through the three channels so the demo exercises the real paths: the first chain's
//! core shares through the direct link (monthly JSON batches), the second's uploads XLSX workbooks and a
//! GBK CSV, the third's mails monthly CSVs to its designated mailbox; tier-1 and tier-2 suppliers, as
//! buyers of the tier below, upload a CSV each. The trade has seasonality (the Spring Festival dip, a
//! fourth-quarter peak), payment terms (some longer than the SME rule allows), late and missing payments,
//! rejected and partial deliveries (disputes), red-flushed invoices, and a few deliberately inconsistent
//! records: rows that fail validation, invoices that disagree with their delivery or predate it.

use std::collections::HashMap;

use jiff::civil::Date;
use lianrong_domain::chain::MemberRole;
use lianrong_domain::page::PageRequest;
use lianrong_domain::submission::Channel;
use lianrong_store::chain::{self as chain_store, ChainScope};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::clock::plus_days;
use crate::error::{AppError, AppResult};
use crate::mailbox::{Attachment, AttachmentError};
use crate::policy::Actor;
use crate::submission::{InputFile, SubmissionInput};
use crate::{App, mailbox, submission};

/// The demo's trade runs over twelve months of orders, the last of which starts `LAST_MONTH_DAYS_BEFORE`
/// days before a cut-off a little before the business date, and nothing is dated after the cut-off; so
/// whichever day the demo is built on (the wall clock's, or `--business-date`), its world stands in the
/// same place relative to that day: a year of mostly paid trade, with recent invoices still owed and not
/// yet due: like a real ledger on terms of 30 to 90 days, about the last two months of trade are owed.
const MONTHS: i32 = 12;
/// Days from the cut-off to the business date.
const CUTOFF_DAYS_BEFORE: i64 = 17;
/// Days from the start of the last month of orders to the cut-off.
const LAST_MONTH_DAYS_BEFORE: i64 = 35;
/// Orders a core places at least with each tier-1 supplier in the last month.
const RECENT_ORDERS_MIN_TIER1: usize = 3;

/// Reads a message's attachments (the mail crate's MIME reader in production).
pub type Extract = dyn Fn(&[u8]) -> Result<Vec<Attachment>, AttachmentError> + Sync;

/// What the trade loading did, for the demo's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradeSummary {
    pub submissions: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub by_channel: Vec<(Channel, u64)>,
}

/// One party of the generated trade.
#[derive(Debug, Clone)]
struct Party {
    org_id: String,
    uscc: String,
    name: String,
    tier: i64,
}

/// A buyer–seller pair with its terms.
struct Edge {
    buyer: usize,
    seller: usize,
    term_days: i64,
    basis: &'static str,
    amount_scale_fen: i64,
}

/// One row of the standard, as (field code, value) pairs in column order.
type Row = Vec<(&'static str, String)>;

/// The demo's calendar, derived from the business date it is built on.
#[derive(Debug, Clone, Copy)]
struct Calendar {
    /// The first day of the last month of orders.
    last_month: Date,
    cutoff: Date,
}

impl Calendar {
    fn of(today: Date) -> Calendar {
        let cutoff = plus_days(today, -CUTOFF_DAYS_BEFORE);
        Calendar { last_month: plus_days(cutoff, -LAST_MONTH_DAYS_BEFORE), cutoff }
    }

    /// The first day of the `m`-th month of orders (`0..MONTHS`), counted back from the last in calendar
    /// months so that each month's seasonality follows the calendar.
    fn month_start(&self, m: i32) -> Date {
        let back = i64::from(MONTHS - 1 - m);
        self.last_month.checked_sub(jiff::Span::new().months(back)).unwrap_or(self.last_month)
    }
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// Orders per month relative to normal: the Spring Festival (February) halves trade, the fourth quarter
/// is busier.
fn season(month: i8) -> f64 {
    match month {
        2 => 0.5,
        1 => 0.8,
        10..=12 => 1.3,
        _ => 1.0,
    }
}

/// The documents of one buyer's trade, grouped by record type.
#[derive(Default)]
struct Docs {
    orders: Vec<Row>,
    deliveries: Vec<Row>,
    invoices: Vec<Row>,
    payments: Vec<Row>,
}

impl Docs {
    fn all(&self) -> impl Iterator<Item = (&'static str, &Row)> {
        self.orders
            .iter()
            .map(|r| ("order", r))
            .chain(self.deliveries.iter().map(|r| ("delivery", r)))
            .chain(self.invoices.iter().map(|r| ("invoice", r)))
            .chain(self.payments.iter().map(|r| ("payment", r)))
    }
}

struct Generator {
    rng: ChaCha8Rng,
    calendar: Calendar,
    invoice_seq: u64,
    doc_seq: u64,
}

impl Generator {
    fn next_doc(&mut self, prefix: &str) -> String {
        self.doc_seq += 1;
        format!("{prefix}{:07}", self.doc_seq)
    }

    /// A fully digital e-invoice number: two-digit year, Chongqing's province code 50, channel 0, and a
    /// 15-digit sequence.
    fn invoice_no(&mut self, issued: Date) -> String {
        self.invoice_seq += 1;
        format!("{:02}500{:015}", issued.year() % 100, self.invoice_seq)
    }

    fn edge_trade(&mut self, parties: &[Party], e: &Edge, docs: &mut Docs) {
        let (b, s) = (&parties[e.buyer], &parties[e.seller]);
        let account = format!("6222{:015}", self.rng.random_range(0..999_999_999_999_999u64));
        for m in 0..MONTHS {
            let start = self.calendar.month_start(m);
            let expected = 1.5 * season(start.month());
            let drawn = (expected + self.rng.random_range(-0.7..0.7)).round().max(0.0) as usize;
            // Every pair trades in the last month, and a core orders at least three times from each
            // tier-1 supplier: so recent invoices are owed on any business date (the demo's
            // confirmations, commitment and financing start from them), even after a quiet February.
            let floor = match (m == MONTHS - 1, s.tier) {
                (true, 1) => RECENT_ORDERS_MIN_TIER1,
                (true, _) => 1,
                (false, _) => 0,
            };
            let orders = drawn.max(floor);
            for _ in 0..orders {
                self.one_order(b, s, e, start, &account, docs);
            }
        }
    }

    fn party_cols(b: &Party, s: &Party) -> Row {
        vec![
            ("buyer_uscc", b.uscc.clone()),
            ("buyer_name", b.name.clone()),
            ("seller_uscc", s.uscc.clone()),
            ("seller_name", s.name.clone()),
        ]
    }

    #[allow(clippy::too_many_arguments)]
    fn one_order(&mut self, b: &Party, s: &Party, e: &Edge, month: Date, account: &str, docs: &mut Docs) {
        let order_date = plus_days(month, self.rng.random_range(0..20));
        if order_date > self.calendar.cutoff {
            return;
        }
        // Whole yuan, between 0.2 and 2 times the edge's scale.
        let total = e.amount_scale_fen * self.rng.random_range(20..200) / 100 / 100 * 100;
        let tax = total * 13 / 113;
        let order_no = self.next_doc("PO");
        let mut order = vec![("order_no", order_no.clone()), ("order_date", order_date.to_string())];
        order.extend(Self::party_cols(b, s));
        order.extend([
            ("total_amount", yuan(total)),
            ("tax_amount", yuan(tax)),
            ("term_days", e.term_days.to_string()),
            ("term_basis", e.basis.to_string()),
        ]);
        docs.orders.push(order);

        let delivered = plus_days(order_date, self.rng.random_range(3..15));
        if delivered > self.calendar.cutoff {
            return;
        }
        let roll = self.rng.random_range(0..100);
        // 2 % of deliveries are refused (a dispute), 3 % partly accepted.
        let (status, delivered_fen) = match roll {
            0..=1 => ("rejected", total),
            2..=4 => ("partial", total * 8 / 10),
            _ => ("accepted", total),
        };
        let accepted = plus_days(delivered, self.rng.random_range(1..5));
        let delivery_no = self.next_doc("DN");
        let mut delivery = vec![("delivery_no", delivery_no.clone()), ("delivery_date", delivered.to_string())];
        delivery.extend(Self::party_cols(b, s));
        delivery.extend([("order_refs", order_no.clone()), ("total_amount", yuan(delivered_fen))]);
        if accepted <= self.calendar.cutoff {
            delivery.extend([("acceptance_status", status.to_string()), ("accepted_date", accepted.to_string())]);
        } else {
            delivery.push(("acceptance_status", "pending".to_string()));
        }
        docs.deliveries.push(delivery);
        if status == "rejected" || accepted > self.calendar.cutoff {
            return;
        }
        self.invoice_and_payment(
            b,
            s,
            e,
            (&order_no, &delivery_no),
            (delivered, accepted),
            delivered_fen,
            account,
            docs,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn invoice_and_payment(
        &mut self,
        b: &Party,
        s: &Party,
        e: &Edge,
        refs: (&str, &str),
        (delivered, accepted): (Date, Date),
        amount_fen: i64,
        account: &str,
        docs: &mut Docs,
    ) {
        let roll = self.rng.random_range(0..1000);
        // A few invoices deliberately disagree with the trade: 0.5 % dated before the delivery, 0.5 % for
        // 10 % more than was delivered.
        let issued =
            if roll < 5 { plus_days(delivered, -3) } else { plus_days(accepted, self.rng.random_range(0..10)) };
        if issued > self.calendar.cutoff {
            return;
        }
        let invoiced = if (5..10).contains(&roll) { amount_fen * 11 / 10 } else { amount_fen };
        let net = invoiced * 100 / 113;
        let invoice_no = self.invoice_no(issued);
        let invoice = |no: &str, day: Date, total: i64, net: i64, original: Option<&str>| {
            let mut r = vec![("invoice_no", no.to_string()), ("issue_date", day.to_string())];
            r.extend(Self::party_cols(b, s));
            r.extend([
                ("net_amount", yuan(net)),
                ("tax_amount", yuan(total - net)),
                ("total_amount", yuan(total)),
                ("order_refs", refs.0.to_string()),
                ("delivery_refs", refs.1.to_string()),
            ]);
            if let Some(o) = original {
                r.extend([("invoice_kind", "red".to_string()), ("original_invoice_no", o.to_string())]);
            }
            r
        };
        docs.invoices.push(invoice(&invoice_no, issued, invoiced, net, None));
        let mut payable_no = invoice_no.clone();
        // 1 % of invoices are red-flushed (reversed in full) and issued again.
        if (10..20).contains(&roll) {
            let red_day = plus_days(issued, self.rng.random_range(5..15));
            let again = plus_days(red_day, 1);
            if again <= self.calendar.cutoff {
                let red_no = self.invoice_no(red_day);
                docs.invoices.push(invoice(&red_no, red_day, -invoiced, -net, Some(&invoice_no)));
                payable_no = self.invoice_no(again);
                docs.invoices.push(invoice(&payable_no, again, invoiced, net, None));
            }
        }
        let base = match e.basis {
            "invoice" => issued,
            "acceptance" => accepted,
            _ => delivered,
        };
        let due = plus_days(base, e.term_days);
        // 80 % pay on time, 15 % late by 10–60 days, 5 % not yet.
        let delay = match self.rng.random_range(0..100) {
            0..=79 => -self.rng.random_range(0..5),
            80..=94 => self.rng.random_range(10..60),
            _ => return,
        };
        let paid = plus_days(due, delay);
        if paid > self.calendar.cutoff {
            return;
        }
        let mut p = vec![("payment_no", self.next_doc("PAY")), ("payment_date", paid.to_string())];
        p.extend(Self::party_cols(b, s));
        p.extend([
            ("total_amount", yuan(invoiced)),
            ("payment_method", if self.rng.random_range(0..10) == 0 { "bill" } else { "transfer" }.to_string()),
            ("payee_account", account.to_string()),
            ("invoice_refs", payable_no),
        ]);
        docs.payments.push(p);
    }
}

/// The chain's parties and who buys from whom: tier 1 sells to a core, tier n to a supplier of tier n−1.
async fn chain_parties(app: &App) -> AppResult<Vec<(Vec<Party>, Vec<Edge>)>> {
    let mut conn = app.db.acquire().await?;
    let mut chains = chain_store::list(&mut conn, &ChainScope::All, PageRequest::all_small()).await?.items;
    // In the order the demo made them, so each chain keeps its channel.
    chains.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
    let mut out = Vec::new();
    for c in chains {
        let members = chain_store::list_members(&mut conn, &c.id, None, PageRequest::all_small()).await?;
        let mut parties: Vec<Party> = Vec::new();
        for m in members.items.iter().filter(|m| matches!(m.role, MemberRole::Core | MemberRole::Supplier)) {
            parties.push(Party {
                org_id: m.org_id.clone(),
                uscc: m.org_uscc.clone(),
                name: m.org_name.clone(),
                tier: if m.role == MemberRole::Core { 0 } else { m.tier.unwrap_or(1) },
            });
        }
        let by_tier = |t: i64| -> Vec<usize> { (0..parties.len()).filter(|i| parties[*i].tier == t).collect() };
        let mut edges = Vec::new();
        for tier in 1..=3 {
            let buyers = by_tier(tier - 1);
            if buyers.is_empty() {
                continue;
            }
            for (k, seller) in by_tier(tier).into_iter().enumerate() {
                // Cores pay tier 1 on 60 days from delivery, some on 90 (beyond the SME rule's 60 days);
                // lower tiers trade on 30 days, some month-end.
                let (term_days, basis) = match (tier, k % 5) {
                    (1, 0) => (90, "delivery"),
                    (1, 1) => (60, "invoice"),
                    (1, _) => (60, "delivery"),
                    (_, 0) => (30, "month_end"),
                    _ => (30, "acceptance"),
                };
                edges.push(Edge {
                    buyer: buyers[k % buyers.len()],
                    seller,
                    term_days,
                    basis,
                    amount_scale_fen: [0, 80_000_000, 15_000_000, 3_000_000][tier as usize],
                });
            }
        }
        out.push((parties, edges));
    }
    Ok(out)
}

fn csv_of(rows: &[(&'static str, &Row)]) -> String {
    let mut columns: Vec<&'static str> = vec!["record_type"];
    for (_, r) in rows {
        for (k, _) in r.iter() {
            if !columns.contains(k) {
                columns.push(k);
            }
        }
    }
    let mut out = columns
        .iter()
        .map(|c| lianrong_domain::trade::Field::parse(c).map(|f| f.label_zh()).unwrap_or(c))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    for (rt, r) in rows {
        let map: HashMap<&str, &str> = r.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let cells: Vec<String> = columns
            .iter()
            .map(|c| if *c == "record_type" { rt.to_string() } else { map.get(c).copied().unwrap_or("").to_string() })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn xlsx_of(sheets: &[(&str, &[Row])]) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::Workbook;
    let fail = |e: rust_xlsxwriter::XlsxError| {
        tracing::error!(error = %e, "demo workbook");
        AppError::internal()
    };
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).map_err(fail)?;
        // A title row above the header, as finance staff make them.
        ws.write_string(0, 0, format!("{name}明细（演示数据）")).map_err(fail)?;
        let mut columns: Vec<&'static str> = Vec::new();
        for row in rows.iter() {
            for (k, _) in row {
                if !columns.contains(k) {
                    columns.push(k);
                }
            }
        }
        for (c, k) in columns.iter().enumerate() {
            let label = lianrong_domain::trade::Field::parse(k).map(|f| f.label_zh()).unwrap_or(k);
            ws.write_string(1, c as u16, label).map_err(fail)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (k, v) in row {
                let (rr, cc) = (r as u32 + 2, columns.iter().position(|c| c == k).unwrap_or(0) as u16);
                if k.ends_with("amount") {
                    let n: f64 = v.parse().unwrap_or(0.0);
                    ws.write_number(rr, cc, n).map_err(fail)?;
                } else {
                    ws.write_string(rr, cc, v).map_err(fail)?;
                }
            }
        }
    }
    wb.save_to_buffer().map_err(fail)
}

fn value_of<'r>(row: &'r Row, field: &str) -> &'r str {
    row.iter().find(|(k, _)| *k == field).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// Invoices as the e-tax service's 全量发票查询 export lays them out: the invoice sheet 发票基础信息 (status,
/// sign, a red invoice's blue one in its remarks) and the line sheet 信息汇总表, one line per invoice.
fn etax_export_of(invoices: &[&Row]) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::Workbook;
    let fail = |e: rust_xlsxwriter::XlsxError| {
        tracing::error!(error = %e, "demo e-tax export");
        AppError::internal()
    };
    const BASE: [&str; 19] = [
        "序号",
        "发票代码",
        "发票号码",
        "数电发票号码",
        "销方识别号",
        "销方名称",
        "购方识别号",
        "购买方名称",
        "开票日期",
        "金额",
        "税额",
        "价税合计",
        "发票来源",
        "发票票种",
        "发票状态",
        "是否正数发票",
        "发票风险等级",
        "开票人",
        "备注",
    ];
    const LINES: [&str; 20] = [
        "序号",
        "发票代码",
        "发票号码",
        "数电发票号码",
        "销方识别号",
        "销方名称",
        "购方识别号",
        "购买方名称",
        "开票日期",
        "税收分类编码",
        "货物或应税劳务名称",
        "规格型号",
        "单位",
        "数量",
        "单价",
        "金额",
        "税率",
        "税额",
        "价税合计",
        "备注",
    ];
    let mut wb = Workbook::new();
    for (name, head) in [("发票基础信息", &BASE[..]), ("信息汇总表", &LINES[..])] {
        let ws = wb.add_worksheet();
        ws.set_name(name).map_err(fail)?;
        for (c, h) in head.iter().enumerate() {
            ws.write_string(0, c as u16, *h).map_err(fail)?;
        }
        for (i, inv) in invoices.iter().enumerate() {
            let red = !value_of(inv, "original_invoice_no").is_empty();
            let remarks = if red {
                format!("被红冲蓝字数电发票号码：{}", value_of(inv, "original_invoice_no"))
            } else {
                String::new()
            };
            let amount = |f: &str| value_of(inv, f).replace(',', "").parse::<f64>().unwrap_or(0.0);
            let r = i as u32 + 1;
            for (c, h) in head.iter().enumerate() {
                let c = c as u16;
                match *h {
                    "金额" => ws.write_number(r, c, amount("net_amount")).map(|_| ()),
                    "税额" => ws.write_number(r, c, amount("tax_amount")).map(|_| ()),
                    "价税合计" => ws.write_number(r, c, amount("total_amount")).map(|_| ()),
                    "单价" => ws.write_number(r, c, amount("net_amount").abs()).map(|_| ()),
                    "数量" => ws.write_number(r, c, if red { -1.0 } else { 1.0 }).map(|_| ()),
                    other => {
                        let text = match other {
                            "序号" => (i + 1).to_string(),
                            "数电发票号码" => value_of(inv, "invoice_no").to_string(),
                            "销方识别号" => value_of(inv, "seller_uscc").to_string(),
                            "销方名称" => value_of(inv, "seller_name").to_string(),
                            "购方识别号" => value_of(inv, "buyer_uscc").to_string(),
                            "购买方名称" => value_of(inv, "buyer_name").to_string(),
                            "开票日期" => format!("{} 09:30:00", value_of(inv, "issue_date")),
                            "发票来源" => "电子发票服务平台".to_string(),
                            "发票票种" => "数电发票（增值税专用发票）".to_string(),
                            "发票状态" | "发票风险等级" => "正常".to_string(),
                            "是否正数发票" => if red { "否" } else { "是" }.to_string(),
                            "开票人" => "财务".to_string(),
                            "税收分类编码" => "1090414990000000000".to_string(),
                            "货物或应税劳务名称" => "*汽车零部件*配套件".to_string(),
                            "规格型号" => "标准件".to_string(),
                            "单位" => "批".to_string(),
                            "税率" => "13%".to_string(),
                            "备注" => remarks.clone(),
                            _ => String::new(),
                        };
                        if text.is_empty() { Ok(()) } else { ws.write_string(r, c, &text).map(|_| ()) }
                    }
                }
                .map_err(fail)?;
            }
        }
    }
    wb.save_to_buffer().map_err(fail)
}

/// A multipart message with CSV attachments, as a finance desk's mail client sends it.
fn message(from: &str, to: &str, subject: &str, files: &[(String, Vec<u8>)], n: usize, sent: Date) -> Vec<u8> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let boundary = format!("=_lianrong_demo_{n}");
    let sent = sent.strftime("%a, %-d %b %Y");
    let mut m = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: =?UTF-8?B?{}?=\r\nMessage-ID: <demo-{n}@demo.lianrong>\r\nDate: {sent} 09:00:00 +0800\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64.encode(subject),
        b64.encode("您好，附件为本月供应链贸易数据，请查收。")
    );
    for (name, bytes) in files {
        let encoded: Vec<String> =
            b64.encode(bytes).as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        m.push_str(&format!(
            "--{boundary}\r\nContent-Type: text/csv; name=\"=?UTF-8?B?{0}?=\"\r\nContent-Disposition: attachment; filename=\"=?UTF-8?B?{0}?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{1}\r\n",
            b64.encode(name),
            encoded.join("\r\n")
        ));
    }
    m.push_str(&format!("--{boundary}--\r\n"));
    m.into_bytes()
}

fn actor_of(p: &Party, kind: lianrong_domain::org::OrgKind) -> Actor {
    Actor {
        org_id: p.org_id.clone(),
        org_kind: kind,
        org_name: p.name.clone(),
        user_id: None,
        login: Some("demo.erp".into()),
        display_name: Some("演示ERP".into()),
        api_key_id: None,
        roles: vec![lianrong_domain::role::Role::FinanceStaff],
        scopes: None,
        system: false,
    }
}

/// A row that will not pass validation, as real files carry: a mistyped credit code.
fn typo_row(b: &Party, s: &Party, day: Date) -> (&'static str, Row) {
    let mut bad = s.uscc.clone();
    let last = if bad.ends_with('1') { "2" } else { "1" };
    bad.replace_range(17..18, last);
    (
        "order",
        vec![
            ("order_no", "PO-TYPO-0001".into()),
            ("order_date", day.to_string()),
            ("buyer_uscc", b.uscc.clone()),
            ("buyer_name", b.name.clone()),
            ("seller_uscc", bad),
            ("seller_name", s.name.clone()),
            ("total_amount", "12,345.678".into()),
        ],
    )
}

/// Generates the year of trade and loads it through the three channels. `extract` reads a message's
/// attachments (the mail crate's MIME reader, the same the SMTP receiver uses).
pub async fn load(
    app: &App,
    seed: u64,
    progress: &(dyn Fn(u64, u64) + Sync),
    extract: &Extract,
) -> AppResult<TradeSummary> {
    use lianrong_domain::org::OrgKind;
    let chains = chain_parties(app).await?;
    let mut generator = Generator {
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x7a11_e5a1),
        calendar: Calendar::of(app.today()),
        invoice_seq: 0,
        doc_seq: 0,
    };
    let mut summary = TradeSummary::default();
    let mut counts: HashMap<Channel, u64> = HashMap::new();
    let total_steps = chains.iter().map(|(p, _)| p.iter().filter(|x| x.tier < 3).count() as u64).sum::<u64>();
    let mut step = 0u64;
    for (ci, (parties, edges)) in chains.iter().enumerate() {
        // Each buyer's documents for the year.
        let mut by_buyer: HashMap<usize, Docs> = HashMap::new();
        for e in edges {
            generator.edge_trade(parties, e, by_buyer.entry(e.buyer).or_default());
        }
        let mut buyers: Vec<usize> = by_buyer.keys().copied().collect();
        buyers.sort();
        for bi in buyers {
            let docs = &by_buyer[&bi];
            let buyer = &parties[bi];
            let kind = if buyer.tier == 0 { OrgKind::Core } else { OrgKind::Supplier };
            let actor = actor_of(buyer, kind);
            let mut rows: Vec<(&'static str, &Row)> = docs.all().collect();
            let seller = edges.iter().find(|e| e.buyer == bi).map(|e| &parties[e.seller]);
            let typo = seller.map(|s| typo_row(buyer, s, plus_days(generator.calendar.month_start(4), 2)));
            if let Some((rt, r)) = &typo {
                rows.push((rt, r));
            }
            let reports = if buyer.tier > 0 {
                let csv = csv_of(&rows);
                vec![upload(app, &actor, &format!("{}-年度采购数据.csv", buyer.name), csv.into_bytes()).await?]
            } else {
                match ci % 3 {
                    0 => api_batches(app, &actor, &rows).await?,
                    1 => upload_workbooks(app, &actor, docs, &rows, generator.calendar).await?,
                    _ => mail_months(app, buyer, &rows, extract).await?,
                }
            };
            let channel = match (buyer.tier, ci % 3) {
                (0, 0) => Channel::Api,
                (0, 2) => Channel::Mailbox,
                _ => Channel::Upload,
            };
            for (accepted, rejected) in reports {
                summary.submissions += 1;
                summary.accepted += accepted;
                summary.rejected += rejected;
                *counts.entry(channel).or_default() += 1;
            }
            step += 1;
            progress(step, total_steps.max(step));
        }
    }
    summary.by_channel = Channel::ALL.iter().map(|c| (*c, counts.get(c).copied().unwrap_or(0))).collect();
    Ok(summary)
}

async fn upload(app: &App, actor: &Actor, name: &str, bytes: Vec<u8>) -> AppResult<(u64, u64)> {
    let input = SubmissionInput {
        channel: Channel::Upload,
        source: name.to_string(),
        raw: bytes.clone(),
        media_type: submission::media_type_of(name).to_string(),
        files: vec![InputFile { name: name.to_string(), bytes }],
    };
    let r = submission::submit(app, actor, input).await?;
    Ok((r.accepted, r.rejected))
}

/// The direct link: one JSON batch per month, as an ERP's nightly job would send.
async fn api_batches(app: &App, actor: &Actor, rows: &[(&'static str, &Row)]) -> AppResult<Vec<(u64, u64)>> {
    let mut by_month: std::collections::BTreeMap<String, Vec<serde_json::Map<String, serde_json::Value>>> =
        Default::default();
    for (rt, r) in rows {
        let date = r.iter().find(|(k, _)| k.ends_with("_date")).map(|(_, v)| v.clone()).unwrap_or_default();
        let mut obj = serde_json::Map::new();
        obj.insert("record_type".into(), serde_json::Value::String(rt.to_string()));
        for (k, v) in r.iter() {
            obj.insert(k.to_string(), serde_json::Value::String(v.clone()));
        }
        by_month.entry(date.get(..7).unwrap_or("").to_string()).or_default().push(obj);
    }
    let mut out = Vec::new();
    for (month, records) in by_month {
        let body = serde_json::to_vec(&serde_json::json!({"source": format!("ERP {month}"), "records": records}))
            .unwrap_or_default();
        let r = submission::submit_records(app, actor, body, &format!("ERP 月度同步 {month}"), records).await?;
        out.push((r.accepted, r.rejected));
    }
    Ok(out)
}

/// The designated-account upload: one workbook with a sheet per record type, payments as a GBK CSV.
async fn upload_workbooks(
    app: &App,
    actor: &Actor,
    docs: &Docs,
    rows: &[(&'static str, &Row)],
    calendar: Calendar,
) -> AppResult<Vec<(u64, u64)>> {
    let typos: Vec<Row> =
        rows.iter().filter(|(_, r)| r.iter().any(|(_, v)| v == "PO-TYPO-0001")).map(|(_, r)| (*r).clone()).collect();
    let mut orders = docs.orders.clone();
    orders.extend(typos);
    let book = xlsx_of(&[("采购订单", &orders), ("发货验收", &docs.deliveries), ("发票", &docs.invoices)])?;
    let name = format!("{}-{}年度贸易数据.xlsx", calendar.month_start(0).year(), calendar.cutoff.year());
    let mut out = vec![upload(app, actor, &name, book).await?];
    // The last month's received invoices as the e-tax service exports them: the same invoices, now with
    // their status at the tax authority and their lines (the columns the workbook had are kept).
    let month = calendar.month_start(MONTHS - 1).to_string();
    let month = month.get(..7).unwrap_or("");
    let received: Vec<&Row> = docs.invoices.iter().filter(|r| value_of(r, "issue_date").starts_with(month)).collect();
    if !received.is_empty() {
        let name = format!("全量发票查询导出结果_进项_{month}.xlsx");
        out.push(upload(app, actor, &name, etax_export_of(&received)?).await?);
    }
    let payments: Vec<(&'static str, &Row)> = docs.payments.iter().map(|r| ("payment", r)).collect();
    let text = csv_of(&payments);
    let gbk = encoding_rs::GBK.encode(&text).0.into_owned();
    out.push(upload(app, actor, "付款流水.csv", gbk).await?);
    Ok(out)
}

/// The designated mailbox: one message a month from the core's registered finance address.
async fn mail_months(
    app: &App,
    core: &Party,
    rows: &[(&'static str, &Row)],
    extract: &Extract,
) -> AppResult<Vec<(u64, u64)>> {
    let sender = format!("finance@{}.demo.cn", core.uscc.to_lowercase());
    mailbox::add_sender(app, &Actor::system("system"), Some(&core.org_id), &sender).await?;
    let to = lianrong_domain::mailbox::designated_address(&core.uscc, mailbox::MAIL_DOMAIN_DEFAULT);
    let recipient = mailbox::resolve_recipient(app, &to, mailbox::MAIL_DOMAIN_DEFAULT).await?;
    let mut by_month: std::collections::BTreeMap<String, Vec<(&'static str, &Row)>> = Default::default();
    for (rt, r) in rows {
        let date = r.iter().find(|(k, _)| k.ends_with("_date")).map(|(_, v)| v.clone()).unwrap_or_default();
        by_month.entry(date.get(..7).unwrap_or("").to_string()).or_default().push((rt, r));
    }
    let mut out = Vec::new();
    for (n, (month, rows)) in by_month.into_iter().enumerate() {
        let files = vec![(format!("{month}供应链数据.csv"), csv_of(&rows).into_bytes())];
        // Each month's data is mailed on the first of the next month (the last month's by today).
        let sent = Date::strptime("%Y-%m-%d", format!("{month}-01"))
            .ok()
            .and_then(|d| d.checked_add(jiff::Span::new().months(1)).ok())
            .map_or(app.today(), |d| d.min(app.today()));
        let raw = message(&sender, &to, &format!("{month} 供应链贸易数据报送"), &files, n, sent);
        let mail = mailbox::IncomingMail {
            envelope_from: sender.clone(),
            header_from: Some(sender.clone()),
            subject: format!("{month} 供应链贸易数据报送"),
            message_id: format!("<demo-{n}@demo.lianrong>"),
            raw,
        };
        let d = mailbox::receive(app, &recipient, &mail, |raw| extract(raw)).await?;
        out.push((d.accepted, d.rejected));
    }
    Ok(out)
}
