//! Registration of receivables against double financing (docs/domain-rules.md, "Receivables registration"): a
//! receivable's stable fingerprint, the reference people quote, the two registries' row shapes and the
//! reading of a confirmation file from the central bank's receivables financing platform.
//!
//! A receivable here is one or more invoices of one creditor against one debtor. Its fingerprint is the
//! SM3 digest (lower-case hex) of this canonical text, UTF-8, lines joined by `\n` with no final newline:
//!
//! ```text
//! lianrong-receivable-v1
//! debtor_uscc=<debtor's credit code>
//! creditor_uscc=<creditor's credit code>
//! invoice_nos=<invoice numbers, sorted by byte order, deduplicated, joined by ",">
//! amount_fen=<integer fen>
//! due_date=<YYYY-MM-DD, or empty when no due date is known>
//! ```
//!
//! The same receivable described twice gives the same fingerprint whatever the order of its invoices;
//! what stops double financing is the claim on each invoice (see `store::registration`), the fingerprint
//! names the registered set.

use crate::labelled_enum;
use crate::trade::value::{ValueError, excerpt, normalize_width, parse_amount_fen, parse_date, parse_doc_no};
use crate::uscc::Uscc;

labelled_enum!(
    /// Whether a registration still claims its invoices.
    RegistrationStatus, "status" {
        Active => ("active", "有效", "Active"),
        Released => ("released", "已注销", "Released"),
    }
);

labelled_enum!(
    /// The kind of registration at the national registry (中登网): a pledge of the receivable to a lender,
    /// or its transfer to a factor.
    RegistrationKind, "kind" {
        Pledge => ("pledge", "应收账款质押", "Pledge of receivables"),
        Factoring => ("factoring", "应收账款转让（保理）", "Transfer of receivables (factoring)"),
    }
);

/// The longest registration period the registry accepts: 30 years (a registration runs 1 month to 30 years).
pub const TERM_MONTHS_MAX: i64 = 360;
/// The period when the filer names none.
pub const TERM_MONTHS_DEFAULT: i64 = 12;

/// What identifies a receivable for registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivableKey {
    pub debtor_uscc: String,
    pub creditor_uscc: String,
    pub invoice_nos: Vec<String>,
    pub amount_fen: i64,
    pub due_date: Option<String>,
}

impl ReceivableKey {
    /// The invoice numbers as the canonical text lists them: sorted and without repeats.
    pub fn sorted_invoice_nos(&self) -> Vec<String> {
        let mut nos = self.invoice_nos.clone();
        nos.sort();
        nos.dedup();
        nos
    }

    /// The canonical text the fingerprint covers (documented at the top of this module).
    pub fn canonical(&self) -> String {
        format!(
            "lianrong-receivable-v1\ndebtor_uscc={}\ncreditor_uscc={}\ninvoice_nos={}\namount_fen={}\ndue_date={}",
            self.debtor_uscc,
            self.creditor_uscc,
            self.sorted_invoice_nos().join(","),
            self.amount_fen,
            self.due_date.as_deref().unwrap_or("")
        )
    }

    /// SM3 of the canonical text, lower-case hex.
    pub fn fingerprint(&self) -> String {
        use sm3::Digest;
        let digest = sm3::Sm3::digest(self.canonical().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The key under which an invoice is claimed: its creditor's credit code and its number. An invoice
/// number is unique per issuer (the seller), so the pair names one invoice across the platform.
pub fn invoice_key(creditor_uscc: &str, invoice_no: &str) -> String {
    format!("{creditor_uscc}|{invoice_no}")
}

/// The reference of the `n`-th registration of a year: `LR-REG-2026-000001`.
pub fn reference(year: i64, n: i64) -> String {
    format!("LR-REG-{year}-{n:06}")
}

/// Fen as yuan with exactly two decimals and no grouping (`123456` → `1234.56`), as both registries'
/// upload templates expect amounts.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Whole months from `from` to `to` (both `YYYY-MM-DD`), rounded up, at least 1: a registration should
/// outlast the receivable's due date.
pub fn months_until(from: &str, to: &str) -> Option<i64> {
    let a = jiff::civil::Date::strptime("%Y-%m-%d", from).ok()?;
    let b = jiff::civil::Date::strptime("%Y-%m-%d", to).ok()?;
    let mut months = (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month()) - i64::from(a.month());
    if b.day() > a.day() {
        months += 1;
    }
    Some(months.clamp(1, TERM_MONTHS_MAX))
}

/// The columns of an initial registration (初始登记) as the national registry's form asks them.
pub const ZHONGDENG_HEADERS: [&str; 11] = [
    "登记类型",
    "出质人/转让人名称",
    "出质人/转让人统一社会信用代码",
    "质权人/受让人名称",
    "质权人/受让人统一社会信用代码",
    "担保物描述",
    "应收账款金额(元)",
    "应收账款到期日",
    "登记期限(月)",
    "我方参考号",
    "登记证明编号",
];

/// Which columns of the registry's sheet hold codes that a spreadsheet must keep as text.
pub const ZHONGDENG_TEXT_COLUMNS: [usize; 4] = [2, 4, 9, 10];

/// The columns of a receivable upload to the receivables financing platform (中征应收账款融资服务平台),
/// one row per invoice.
pub const CRCRFSP_HEADERS: [&str; 9] = [
    "债务人名称",
    "债务人统一社会信用代码",
    "债权人名称",
    "债权人统一社会信用代码",
    "发票号码",
    "应收账款金额(元)",
    "到期日",
    "我方参考号",
    "资金方名称",
];

/// Which columns of the platform's sheet hold codes that a spreadsheet must keep as text.
pub const CRCRFSP_TEXT_COLUMNS: [usize; 4] = [1, 3, 4, 7];

/// A party as an export names it: its name (empty when not on the platform) and credit code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Party {
    pub name: String,
    pub uscc: String,
}

/// One registered invoice as the exports list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInvoice {
    pub invoice_no: String,
    pub amount_fen: i64,
    pub due_date: Option<String>,
}

/// One registration with everything both exports need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRegistration {
    pub reference: String,
    pub kind: RegistrationKind,
    pub creditor: Party,
    pub debtor: Party,
    /// The bank or factor; empty when none is named yet.
    pub financier: Party,
    pub amount_fen: i64,
    pub due_date: Option<String>,
    pub term_months: i64,
    pub registry_certificate_no: Option<String>,
    pub invoices: Vec<ExportInvoice>,
}

/// The 担保物描述 (description of the collateral) of an initial registration.
pub fn collateral_description(r: &ExportRegistration) -> String {
    let role = match r.kind {
        RegistrationKind::Pledge => "出质人",
        RegistrationKind::Factoring => "转让人",
    };
    let nos: Vec<&str> = r.invoices.iter().map(|i| i.invoice_no.as_str()).collect();
    let debtor = if r.debtor.name.is_empty() { r.debtor.uscc.clone() } else { r.debtor.name.clone() };
    let due = r.due_date.as_deref().map(|d| format!("，到期日{d}")).unwrap_or_default();
    format!(
        "{role}对{debtor}（统一社会信用代码{}）的应收账款，发票号码：{}，金额合计人民币{}元{due}。平台参考号{}。",
        r.debtor.uscc,
        nos.join("、"),
        yuan(r.amount_fen),
        r.reference
    )
}

/// The registry's row for a registration, in [`ZHONGDENG_HEADERS`] order.
pub fn zhongdeng_row(r: &ExportRegistration) -> Vec<String> {
    vec![
        r.kind.label_zh().to_string(),
        r.creditor.name.clone(),
        r.creditor.uscc.clone(),
        r.financier.name.clone(),
        r.financier.uscc.clone(),
        collateral_description(r),
        yuan(r.amount_fen),
        r.due_date.clone().unwrap_or_default(),
        r.term_months.to_string(),
        r.reference.clone(),
        r.registry_certificate_no.clone().unwrap_or_default(),
    ]
}

/// The platform's rows for a registration, one per invoice, in [`CRCRFSP_HEADERS`] order.
pub fn crcrfsp_rows(r: &ExportRegistration) -> Vec<Vec<String>> {
    r.invoices
        .iter()
        .map(|i| {
            vec![
                r.debtor.name.clone(),
                r.debtor.uscc.clone(),
                r.creditor.name.clone(),
                r.creditor.uscc.clone(),
                i.invoice_no.clone(),
                yuan(i.amount_fen),
                i.due_date.clone().or_else(|| r.due_date.clone()).unwrap_or_default(),
                r.reference.clone(),
                r.financier.name.clone(),
            ]
        })
        .collect()
}

/// A cell for a CSV file that a spreadsheet may open: text that starts like a formula is prefixed with
/// an apostrophe so that it stays text (CSV injection), and a cell with a delimiter, quote or line break
/// is quoted.
pub fn csv_cell(value: &str) -> String {
    let formula_like = value.starts_with(['=', '+', '@', '\t', '\r'])
        || (value.starts_with('-') && value[1..].parse::<f64>().is_err());
    let value = if formula_like { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// A CSV file: UTF-8 with a byte-order mark (so spreadsheets in China open it as UTF-8), CRLF lines.
pub fn csv_file(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str(&headers.iter().map(|h| csv_cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

// ---------------------------------------------------------------------------------------------------
// The platform's confirmation file

/// The columns of a confirmation file this reader knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfirmationField {
    DebtorUscc,
    CreditorUscc,
    InvoiceNo,
    Amount,
    Result,
    Date,
    PlatformReference,
}

impl ConfirmationField {
    pub const ALL: [ConfirmationField; 7] = [
        ConfirmationField::DebtorUscc,
        ConfirmationField::CreditorUscc,
        ConfirmationField::InvoiceNo,
        ConfirmationField::Amount,
        ConfirmationField::Result,
        ConfirmationField::Date,
        ConfirmationField::PlatformReference,
    ];

    /// The stable code that names the field in reports.
    pub fn code(self) -> &'static str {
        match self {
            ConfirmationField::DebtorUscc => "debtor_uscc",
            ConfirmationField::CreditorUscc => "creditor_uscc",
            ConfirmationField::InvoiceNo => "invoice_no",
            ConfirmationField::Amount => "amount",
            ConfirmationField::Result => "result",
            ConfirmationField::Date => "confirmed_date",
            ConfirmationField::PlatformReference => "platform_reference",
        }
    }

    /// The header the platform's file uses.
    pub fn header_zh(self) -> &'static str {
        match self {
            ConfirmationField::DebtorUscc => "债务人统一社会信用代码",
            ConfirmationField::CreditorUscc => "债权人统一社会信用代码",
            ConfirmationField::InvoiceNo => "发票号码",
            ConfirmationField::Amount => "金额",
            ConfirmationField::Result => "确认结果",
            ConfirmationField::Date => "确认日期",
            ConfirmationField::PlatformReference => "平台编号",
        }
    }

    /// Whether a row without it is refused. The amount is informative: the receivable is found by its
    /// parties and invoice number.
    pub fn required(self) -> bool {
        !matches!(self, ConfirmationField::Amount)
    }

    /// The headers (after [`normalize_header`]) that name this field.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            ConfirmationField::DebtorUscc => {
                &["债务人统一社会信用代码", "债务人社会信用代码", "债务人信用代码", "debtoruscc"]
            }
            ConfirmationField::CreditorUscc => {
                &["债权人统一社会信用代码", "债权人社会信用代码", "债权人信用代码", "creditoruscc"]
            }
            ConfirmationField::InvoiceNo => &["发票号码", "发票号", "invoiceno", "invoicenumber"],
            ConfirmationField::Amount => &["金额", "应收账款金额", "确认金额", "amount"],
            ConfirmationField::Result => &["确认结果", "确认状态", "result"],
            ConfirmationField::Date => &["确认日期", "确认时间", "confirmeddate", "date"],
            ConfirmationField::PlatformReference => {
                &["平台编号", "平台业务编号", "业务编号", "平台流水号", "platformreference", "reference"]
            }
        }
    }
}

/// A header reduced for matching: width-normalised, lower-case, without spaces, punctuation, a
/// "required" star or a trailing unit ("(元)").
pub fn normalize_header(input: &str) -> String {
    let s = normalize_width(input).to_lowercase();
    let s = s.trim_end_matches(['）', ')']).to_string();
    let s = s.strip_suffix("(元").or_else(|| s.strip_suffix("（元")).unwrap_or(&s).to_string();
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '_' | '-' | '(' | ')' | '（' | '）' | ':' | '：'))
        .collect()
}

/// Which column holds which field, for a header row; `None` for an unknown header.
pub fn map_confirmation_headers(headers: &[String]) -> Vec<Option<ConfirmationField>> {
    let mut seen = Vec::new();
    headers
        .iter()
        .map(|h| {
            let n = normalize_header(h);
            let f = ConfirmationField::ALL.into_iter().find(|f| f.aliases().contains(&n.as_str()));
            match f {
                Some(f) if !seen.contains(&f) => {
                    seen.push(f);
                    Some(f)
                }
                _ => None,
            }
        })
        .collect()
}

/// One row of a confirmation file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationRow {
    pub debtor_uscc: String,
    pub creditor_uscc: String,
    pub invoice_no: String,
    pub amount_fen: Option<i64>,
    pub confirmed: bool,
    pub confirmed_date: String,
    pub platform_reference: String,
}

/// Why one field of a row was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

impl FieldError {
    fn of(field: ConfirmationField, e: ValueError) -> FieldError {
        FieldError {
            field: field.code(),
            code: e.code,
            en: format!("{}: {}", field.header_zh(), e.en),
            zh: format!("{}：{}", field.header_zh(), e.zh),
        }
    }
}

/// The longest platform reference kept.
pub const PLATFORM_REFERENCE_CHARS_MAX: usize = 64;

/// Reads one row given the text of each known field; every field at fault is named.
pub fn read_confirmation_row(get: impl Fn(ConfirmationField) -> String) -> Result<ConfirmationRow, Vec<FieldError>> {
    use ConfirmationField as F;
    let mut errors = Vec::new();
    let mut text = |f: F| -> Option<String> {
        let v = normalize_width(&get(f));
        if v.is_empty() {
            if f.required() {
                errors.push(FieldError::of(f, ValueError::new("required", "a value is required", "必填，不能为空")));
            }
            None
        } else {
            Some(v)
        }
    };
    let debtor = text(F::DebtorUscc);
    let creditor = text(F::CreditorUscc);
    let invoice = text(F::InvoiceNo);
    let amount = text(F::Amount);
    let result = text(F::Result);
    let date = text(F::Date);
    let reference = text(F::PlatformReference);
    let mut check = |f: F, r: Result<String, ValueError>| -> Option<String> {
        r.map_err(|e| errors.push(FieldError::of(f, e))).ok()
    };
    let uscc = |v: String| -> Result<String, ValueError> {
        Uscc::parse(&v.to_uppercase()).map(|u| u.to_string()).map_err(|_| {
            ValueError::new(
                "uscc_invalid",
                format!("'{}' is not a valid unified social credit code", excerpt(&v)),
                format!("“{}”不是有效的统一社会信用代码", excerpt(&v)),
            )
        })
    };
    let debtor = debtor.and_then(|v| check(F::DebtorUscc, uscc(v)));
    let creditor = creditor.and_then(|v| check(F::CreditorUscc, uscc(v)));
    let invoice = invoice.and_then(|v| check(F::InvoiceNo, parse_doc_no(&v)));
    let amount = amount.and_then(|v| check(F::Amount, parse_amount_fen(&v).map(|f| f.to_string())));
    let confirmed = result.and_then(|v| {
        let r = match v.to_lowercase().as_str() {
            "已确认" | "确认" | "确认通过" | "confirmed" => Ok("1".to_string()),
            "已拒绝" | "拒绝" | "确认拒绝" | "rejected" => Ok("0".to_string()),
            _ => Err(ValueError::new(
                "result_unknown",
                format!("'{}' is neither 已确认 (confirmed) nor 已拒绝 (rejected)", excerpt(&v)),
                format!("“{}”不是“已确认”或“已拒绝”", excerpt(&v)),
            )),
        };
        check(F::Result, r)
    });
    let date = date.and_then(|v| check(F::Date, parse_date(&v).map(|d| d.to_string())));
    let reference = reference.and_then(|v| {
        let r = if v.chars().count() > PLATFORM_REFERENCE_CHARS_MAX {
            Err(ValueError::new(
                "too_long",
                format!("at most {PLATFORM_REFERENCE_CHARS_MAX} characters"),
                format!("最多{PLATFORM_REFERENCE_CHARS_MAX}个字符"),
            ))
        } else {
            Ok(v)
        };
        check(F::PlatformReference, r)
    });
    match (debtor, creditor, invoice, confirmed, date, reference) {
        (Some(debtor_uscc), Some(creditor_uscc), Some(invoice_no), Some(c), Some(confirmed_date), Some(r))
            if errors.is_empty() =>
        {
            Ok(ConfirmationRow {
                debtor_uscc,
                creditor_uscc,
                invoice_no,
                amount_fen: amount.and_then(|a| a.parse().ok()),
                confirmed: c == "1",
                confirmed_date,
                platform_reference: r,
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(nos: &[&str]) -> ReceivableKey {
        ReceivableKey {
            debtor_uscc: "91500000MA5U000A5N".into(),
            creditor_uscc: "91110000100000000R".into(),
            invoice_nos: nos.iter().map(|s| s.to_string()).collect(),
            amount_fen: 123_456,
            due_date: Some("2026-08-03".into()),
        }
    }

    #[test]
    fn the_fingerprint_ignores_invoice_order_and_covers_every_part() {
        let a = key(&["26500000000000000902", "26500000000000000901"]);
        let b = key(&["26500000000000000901", "26500000000000000902", "26500000000000000901"]);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
        assert_eq!(
            a.canonical(),
            "lianrong-receivable-v1\ndebtor_uscc=91500000MA5U000A5N\ncreditor_uscc=91110000100000000R\n\
             invoice_nos=26500000000000000901,26500000000000000902\namount_fen=123456\ndue_date=2026-08-03"
        );
        let mut c = a.clone();
        c.amount_fen += 1;
        assert_ne!(a.fingerprint(), c.fingerprint());
        let mut d = a.clone();
        d.due_date = None;
        assert_ne!(a.fingerprint(), d.fingerprint());
    }

    #[test]
    fn references_and_amounts_print_as_the_registries_expect() {
        assert_eq!(reference(2026, 1), "LR-REG-2026-000001");
        assert_eq!(reference(2026, 1_234_567), "LR-REG-2026-1234567");
        assert_eq!(yuan(123_456), "1234.56");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(-1_00), "-1.00");
        assert_eq!(months_until("2026-01-15", "2026-03-15"), Some(2));
        assert_eq!(months_until("2026-01-15", "2026-03-16"), Some(3));
        assert_eq!(months_until("2026-05-01", "2026-01-01"), Some(1));
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("-1.00"), "-1.00");
        assert_eq!(csv_cell("-cmd"), "'-cmd");
        let file = csv_file(&["a", "b"], &[vec!["1".into(), "2".into()]]);
        assert_eq!(file, "\u{feff}a,b\r\n1,2\r\n".as_bytes());
    }

    #[test]
    fn the_registry_row_describes_the_collateral() {
        let r = ExportRegistration {
            reference: "LR-REG-2026-000001".into(),
            kind: RegistrationKind::Pledge,
            creditor: Party { name: "供应商".into(), uscc: "91110000100000000R".into() },
            debtor: Party { name: "链主".into(), uscc: "91500000MA5U000A5N".into() },
            financier: Party { name: "银行".into(), uscc: "12100000000000000F".into() },
            amount_fen: 30_000,
            due_date: Some("2026-08-03".into()),
            term_months: 12,
            registry_certificate_no: None,
            invoices: vec![
                ExportInvoice { invoice_no: "1".into(), amount_fen: 10_000, due_date: None },
                ExportInvoice { invoice_no: "2".into(), amount_fen: 20_000, due_date: Some("2026-08-03".into()) },
            ],
        };
        let row = zhongdeng_row(&r);
        assert_eq!(row.len(), ZHONGDENG_HEADERS.len());
        assert_eq!(row[0], "应收账款质押");
        assert_eq!(row[6], "300.00");
        assert!(row[5].contains("发票号码：1、2") && row[5].contains("人民币300.00元"), "{}", row[5]);
        let rows = crcrfsp_rows(&r);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0][5].as_str(), rows[0][6].as_str()), ("100.00", "2026-08-03"));
        assert_eq!(rows[1].len(), CRCRFSP_HEADERS.len());
    }

    #[test]
    fn confirmation_headers_and_rows_are_read_with_every_fault_named() {
        let headers: Vec<String> = [
            "债务人统一社会信用代码",
            "债权人统一社会信用代码",
            "发票号码",
            "金额(元)",
            "确认结果",
            "确认日期",
            "平台编号",
            "备注",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let map = map_confirmation_headers(&headers);
        assert_eq!(map[3], Some(ConfirmationField::Amount));
        assert_eq!(map[7], None);
        let good = |f: ConfirmationField| {
            match f {
                ConfirmationField::DebtorUscc => "91500000MA5U000A5N",
                ConfirmationField::CreditorUscc => "91110000100000000R",
                ConfirmationField::InvoiceNo => "26500000000000000901",
                ConfirmationField::Amount => "1,234.50",
                ConfirmationField::Result => "已确认",
                ConfirmationField::Date => "2026/06/01",
                ConfirmationField::PlatformReference => "ZZ-0001",
            }
            .to_string()
        };
        let row = read_confirmation_row(good).unwrap();
        assert_eq!((row.amount_fen, row.confirmed, row.confirmed_date.as_str()), (Some(123_450), true, "2026-06-01"));
        let bad = |f: ConfirmationField| match f {
            ConfirmationField::DebtorUscc => "91500000MA5U000A5X".to_string(),
            ConfirmationField::Result => "也许".to_string(),
            ConfirmationField::PlatformReference => String::new(),
            other => good(other),
        };
        let errors = read_confirmation_row(bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["platform_reference", "debtor_uscc", "result"]);
        assert!(errors.iter().all(|e| !e.zh.is_empty() && !e.en.is_empty()));
    }
}
