//! The data standard, version 1: the trade records core enterprises share with the lake (purchase
//! orders, deliveries with their acceptance, invoices including red-flushed ones, payments and credit
//! notes), the fields each carries with their Chinese and English column names, and the validation that
//! turns one row of text cells into a canonical [`TradeRecord`] or names every field at fault.

pub mod header;
pub mod line;
pub mod value;

use jiff::civil::Date;

use crate::labelled_enum;
use crate::limits::{PARTY_NAME_CHARS_MAX, REMARKS_CHARS_MAX};
use crate::uscc::Uscc;
pub use value::{TermBasis, ValueError};

/// The version of the data standard this build implements.
pub const STANDARD_VERSION: &str = "1.0";

labelled_enum!(
    /// The kinds of trade record in the standard.
    RecordType, "record_type" {
        Order => ("order", "采购订单", "Purchase order"),
        Delivery => ("delivery", "发货/验收", "Delivery / acceptance"),
        Invoice => ("invoice", "发票", "Invoice"),
        Payment => ("payment", "付款", "Payment"),
        CreditNote => ("credit_note", "扣款/折让", "Credit note"),
    }
);

labelled_enum!(
    /// A blue invoice, or a red one that reverses (红冲) all or part of an earlier blue invoice.
    InvoiceKind, "invoice_kind" {
        Blue => ("blue", "蓝字发票", "Blue (normal)"),
        Red => ("red", "红字发票", "Red (reversal)"),
    }
);

labelled_enum!(
    /// An invoice's standing at the tax authority, as its issuer's and receiver's invoice lists show it
    /// (发票状态). A voided invoice never was; a fully red-flushed one is reversed by a red invoice even
    /// before that red invoice reaches the lake.
    InvoiceStatus, "invoice_status" {
        Live => ("live", "正常", "Live"),
        Voided => ("voided", "已作废", "Voided"),
        RedFlushed => ("red_flushed", "已全额红冲", "Fully red-flushed"),
        PartlyRedFlushed => ("partly_red_flushed", "已部分红冲", "Partly red-flushed"),
    }
);

labelled_enum!(
    /// Whether the buyer accepted the goods of a delivery.
    AcceptanceStatus, "acceptance_status" {
        Pending => ("pending", "待验收", "Pending"),
        Accepted => ("accepted", "已验收", "Accepted"),
        Partial => ("partial", "部分验收", "Partly accepted"),
        Rejected => ("rejected", "拒收", "Rejected"),
    }
);

labelled_enum!(
    PaymentMethod, "payment_method" {
        Transfer => ("transfer", "银行转账", "Bank transfer"),
        Bill => ("bill", "商业汇票", "Commercial bill"),
        Commitment => ("commitment", "数字债权凭证", "Payment commitment"),
        Other => ("other", "其他", "Other"),
    }
);

labelled_enum!(
    /// The fields of the standard. The code is the English column name and the API's JSON key.
    Field, "field" {
        RecordType => ("record_type", "记录类型", "Record type"),
        BuyerUscc => ("buyer_uscc", "购方统一社会信用代码", "Buyer credit code"),
        BuyerName => ("buyer_name", "购方名称", "Buyer name"),
        SellerUscc => ("seller_uscc", "销方统一社会信用代码", "Seller credit code"),
        SellerName => ("seller_name", "销方名称", "Seller name"),
        OrderNo => ("order_no", "订单号", "Order number"),
        OrderDate => ("order_date", "订单日期", "Order date"),
        DeliveryNo => ("delivery_no", "发货单号", "Delivery number"),
        DeliveryDate => ("delivery_date", "发货日期", "Delivery date"),
        AcceptedDate => ("accepted_date", "验收日期", "Acceptance date"),
        AcceptanceStatus => ("acceptance_status", "验收状态", "Acceptance status"),
        InvoiceCode => ("invoice_code", "发票代码", "Invoice code"),
        InvoiceNo => ("invoice_no", "发票号码", "Invoice number"),
        DigitalInvoiceNo => ("digital_invoice_no", "数电票号码", "Fully digital invoice number"),
        IssueDate => ("issue_date", "开票日期", "Issue date"),
        InvoiceKind => ("invoice_kind", "红蓝字标识", "Invoice kind"),
        InvoiceStatus => ("invoice_status", "发票状态", "Invoice status"),
        OriginalInvoiceNo => ("original_invoice_no", "原蓝字发票号码", "Original invoice number"),
        PaymentNo => ("payment_no", "付款流水号", "Payment number"),
        PaymentDate => ("payment_date", "付款日期", "Payment date"),
        PaymentMethod => ("payment_method", "付款方式", "Payment method"),
        PayeeAccount => ("payee_account", "收款账号", "Payee account"),
        CreditNoteNo => ("credit_note_no", "扣款单号", "Credit note number"),
        CreditNoteDate => ("credit_note_date", "扣款日期", "Credit note date"),
        Amount => ("amount", "金额", "Amount"),
        NetAmount => ("net_amount", "不含税金额", "Amount excluding tax"),
        TaxAmount => ("tax_amount", "税额", "Tax"),
        TotalAmount => ("total_amount", "价税合计", "Total including tax"),
        Currency => ("currency", "币种", "Currency"),
        TermDays => ("term_days", "账期天数", "Payment term (days)"),
        TermBasis => ("term_basis", "账期起算", "Payment term basis"),
        OrderRefs => ("order_refs", "关联订单号", "Related orders"),
        DeliveryRefs => ("delivery_refs", "关联发货单号", "Related deliveries"),
        InvoiceRefs => ("invoice_refs", "关联发票号码", "Related invoices"),
        Remarks => ("remarks", "备注", "Remarks"),
    }
);

pub const FIELD_COUNT: usize = Field::ALL.len();

/// Whether a record type must, may or cannot carry a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
}

use Field as F;
use Presence::{Optional as O, Required as R};

const COMMON: &[(Field, Presence)] =
    &[(F::BuyerUscc, R), (F::BuyerName, O), (F::SellerUscc, R), (F::SellerName, O), (F::Currency, O), (F::Remarks, O)];

const ORDER: &[(Field, Presence)] =
    &[(F::OrderNo, R), (F::OrderDate, R), (F::TotalAmount, R), (F::TaxAmount, O), (F::TermDays, O), (F::TermBasis, O)];
const DELIVERY: &[(Field, Presence)] = &[
    (F::DeliveryNo, R),
    (F::DeliveryDate, R),
    (F::OrderRefs, O),
    (F::TotalAmount, R),
    (F::AcceptanceStatus, O),
    (F::AcceptedDate, O),
];
const INVOICE: &[(Field, Presence)] = &[
    (F::InvoiceCode, O),
    (F::InvoiceNo, R),
    (F::DigitalInvoiceNo, O),
    (F::IssueDate, R),
    (F::InvoiceKind, O),
    (F::InvoiceStatus, O),
    (F::OriginalInvoiceNo, O),
    (F::NetAmount, O),
    (F::TaxAmount, O),
    (F::TotalAmount, R),
    (F::OrderRefs, O),
    (F::DeliveryRefs, O),
    (F::TermDays, O),
    (F::TermBasis, O),
];
const PAYMENT: &[(Field, Presence)] = &[
    (F::PaymentNo, R),
    (F::PaymentDate, R),
    (F::TotalAmount, R),
    (F::PaymentMethod, O),
    (F::PayeeAccount, O),
    (F::InvoiceRefs, O),
];
const CREDIT_NOTE: &[(Field, Presence)] =
    &[(F::CreditNoteNo, R), (F::CreditNoteDate, R), (F::TotalAmount, R), (F::InvoiceRefs, O)];

impl RecordType {
    /// The fields of this record type, its own first, then the common ones.
    pub fn fields(self) -> impl Iterator<Item = (Field, Presence)> {
        let own = match self {
            RecordType::Order => ORDER,
            RecordType::Delivery => DELIVERY,
            RecordType::Invoice => INVOICE,
            RecordType::Payment => PAYMENT,
            RecordType::CreditNote => CREDIT_NOTE,
        };
        own.iter().chain(COMMON.iter()).copied()
    }

    /// The field holding this type's own document number.
    pub fn key_field(self) -> Field {
        match self {
            RecordType::Order => F::OrderNo,
            RecordType::Delivery => F::DeliveryNo,
            RecordType::Invoice => F::InvoiceNo,
            RecordType::Payment => F::PaymentNo,
            RecordType::CreditNote => F::CreditNoteNo,
        }
    }

    /// The field holding this type's own document date.
    pub fn date_field(self) -> Field {
        match self {
            RecordType::Order => F::OrderDate,
            RecordType::Delivery => F::DeliveryDate,
            RecordType::Invoice => F::IssueDate,
            RecordType::Payment => F::PaymentDate,
            RecordType::CreditNote => F::CreditNoteDate,
        }
    }

    /// Reads a record type from a code, a Chinese or English name, or a sheet or file name that
    /// contains one ("2026年11月发票.xlsx").
    pub fn from_name(input: &str) -> Option<RecordType> {
        let s = value::normalize_width(input).to_lowercase();
        if let Ok(rt) = RecordType::parse(&s) {
            return Some(rt);
        }
        const WORDS: &[(&str, RecordType)] = &[
            ("扣款", RecordType::CreditNote),
            ("折让", RecordType::CreditNote),
            ("credit", RecordType::CreditNote),
            ("付款", RecordType::Payment),
            ("回款", RecordType::Payment),
            ("支付", RecordType::Payment),
            ("payment", RecordType::Payment),
            ("发票", RecordType::Invoice),
            ("invoice", RecordType::Invoice),
            ("发货", RecordType::Delivery),
            ("送货", RecordType::Delivery),
            ("验收", RecordType::Delivery),
            ("收货", RecordType::Delivery),
            ("deliver", RecordType::Delivery),
            ("订单", RecordType::Order),
            ("采购", RecordType::Order),
            ("order", RecordType::Order),
        ];
        WORDS.iter().find(|(w, _)| s.contains(w)).map(|(_, rt)| *rt)
    }

    /// The field a column reads as in this record type. Sheets name the document they refer to by its
    /// own column ("订单号" on a delivery means the order it ships), and "金额" means the amount before
    /// tax on an invoice but the paid or ordered amount elsewhere.
    pub fn reading_of(self, field: Field) -> Field {
        match (self, field) {
            (RecordType::Delivery | RecordType::Invoice, F::OrderNo) => F::OrderRefs,
            (RecordType::Invoice, F::DeliveryNo) => F::DeliveryRefs,
            (RecordType::Payment | RecordType::CreditNote, F::InvoiceNo) => F::InvoiceRefs,
            (RecordType::Invoice, F::Amount) => F::NetAmount,
            (_, F::Amount) => F::TotalAmount,
            (_, f) => f,
        }
    }
}

/// One row's values by field, as text, before validation, and which fields the row stated at all.
///
/// A field is *stated* when its column is in the sheet (or its key in the JSON object), even with an
/// empty value: an empty cell under a present column says "none", while a missing column says nothing.
/// A later version keeps what an earlier one stated for every field it does not state (see
/// [`TradeRecord::keep_unstated`]).
#[derive(Debug, Clone, Default)]
pub struct RawRecord {
    values: Vec<Option<String>>,
    stated: u64,
}

/// The fields one row stated (see [`RawRecord`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stated(u64);

impl Stated {
    /// Every field stated: a record given whole (as the demo builder and tests give them).
    pub const ALL: Stated = Stated(u64::MAX);

    pub fn has(self, field: Field) -> bool {
        self.0 & (1 << (field as usize)) != 0
    }
}

// The stated set is a bit mask over the fields.
const _: () = assert!(FIELD_COUNT <= 64);

impl RawRecord {
    pub fn new() -> RawRecord {
        RawRecord { values: vec![None; FIELD_COUNT], stated: 0 }
    }

    /// Sets a field and marks it stated; an empty or blank value states "none". A later non-empty value
    /// wins.
    pub fn set(&mut self, field: Field, text: &str) {
        if self.values.len() != FIELD_COUNT {
            self.values = vec![None; FIELD_COUNT];
        }
        self.stated |= 1 << (field as usize);
        let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
        if !trimmed.is_empty() {
            self.values[field as usize] = Some(trimmed.to_string());
        }
    }

    /// Marks a field stated without a value (its column is present, its cell empty).
    pub fn state(&mut self, field: Field) {
        self.stated |= 1 << (field as usize);
    }

    /// Whether the row stated this field, with or without a value.
    pub fn is_stated(&self, field: Field) -> bool {
        self.stated & (1 << (field as usize)) != 0
    }

    /// The set of fields the row stated, to carry beside the validated record.
    pub fn stated(&self) -> Stated {
        Stated(self.stated)
    }

    /// Moves a field's value and stated mark to another field (see [`RecordType::reading_of`]).
    pub fn reinterpret(self, rt: RecordType) -> RawRecord {
        let mut out = RawRecord::new();
        for f in Field::ALL {
            let target = rt.reading_of(*f);
            if self.is_stated(*f) {
                out.state(target);
            }
            if let Some(v) = self.get(*f)
                && (out.get(target).is_none() || target == *f)
            {
                out.set(target, v);
            }
        }
        out
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        self.values.get(field as usize).and_then(|v| v.as_deref())
    }

    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

/// What validation needs to know from outside: today's business date, to refuse documents from the future.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub today: Date,
}

/// A field at fault in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Option<Field>,
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

impl FieldError {
    pub fn new(field: Option<Field>, code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> FieldError {
        FieldError { field, code, en: en.into(), zh: zh.into() }
    }

    fn of(field: Field, e: ValueError) -> FieldError {
        FieldError { field: Some(field), code: e.code, en: e.en, zh: e.zh }
    }
}

/// A canonical trade record: one version of one document. Amounts in fen; dates as `YYYY-MM-DD`. The
/// serialised form (field order fixed by this struct) is what the record's content digest covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TradeRecord {
    pub record_type: RecordType,
    pub doc_no: String,
    /// The legacy VAT invoice code; empty for fully digital e-invoices and other records.
    pub invoice_code: String,
    pub doc_date: String,
    pub buyer_uscc: Uscc,
    pub buyer_name: Option<String>,
    pub seller_uscc: Uscc,
    pub seller_name: Option<String>,
    pub currency: &'static str,
    pub total_fen: i64,
    pub tax_fen: Option<i64>,
    pub net_fen: Option<i64>,
    pub term_days: Option<i64>,
    pub term_basis: Option<TermBasis>,
    pub invoice_kind: Option<InvoiceKind>,
    /// Absent unless stated, and then left out of the serialised form, so records stated before this
    /// field existed keep their content digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_status: Option<InvoiceStatus>,
    pub acceptance_status: Option<AcceptanceStatus>,
    pub accepted_date: Option<String>,
    pub payment_method: Option<PaymentMethod>,
    /// The payee's account number as given; the storage layer keeps only a digest and the last four digits.
    #[serde(skip)]
    pub payee_account: Option<String>,
    pub order_refs: Vec<String>,
    pub delivery_refs: Vec<String>,
    pub invoice_refs: Vec<String>,
    pub remarks: Option<String>,
}

impl TradeRecord {
    /// The natural key of one party's statement: one document of one type between these two parties,
    /// as shared by `submitter_uscc`. Orders and payments are numbered by the buyer (who issues them);
    /// deliveries, invoices and credit notes by the seller. The counterparty and the submitter are part
    /// of the key, so a submission supersedes only its own organisation's statement of a document, and
    /// naming other parties is another statement, never a rewrite of the first.
    pub fn natural_key(&self, submitter_uscc: &str) -> String {
        natural_key(
            self.record_type,
            self.buyer_uscc.as_str(),
            self.seller_uscc.as_str(),
            &self.invoice_code,
            &self.doc_no,
            submitter_uscc,
        )
    }

    /// Takes from `prior` (the version this one would replace) every optional value the new row did not
    /// state, so a later file that lacks a column leaves that column's values as they were. Fields with a
    /// default (currency, acceptance, payment method) are kept unless stated; amounts before tax and tax
    /// are kept only when the total is unchanged, so they still add up.
    pub fn keep_unstated(&mut self, prior: &TradeRecord, stated: impl Fn(Field) -> bool) {
        let none = |fields: &[Field]| !fields.iter().any(|f| stated(*f));
        if none(&[F::BuyerName]) {
            self.buyer_name = prior.buyer_name.clone();
        }
        if none(&[F::SellerName]) {
            self.seller_name = prior.seller_name.clone();
        }
        if none(&[F::Currency]) {
            self.currency = prior.currency;
        }
        if none(&[F::Remarks]) {
            self.remarks = prior.remarks.clone();
        }
        if none(&[F::TermDays]) {
            self.term_days = prior.term_days;
        }
        if none(&[F::TermDays, F::TermBasis]) {
            self.term_basis = prior.term_basis;
        }
        if none(&[F::TaxAmount, F::NetAmount, F::Amount]) && prior.total_fen == self.total_fen {
            self.tax_fen = prior.tax_fen;
            self.net_fen = prior.net_fen;
        }
        if none(&[F::InvoiceStatus]) {
            self.invoice_status = prior.invoice_status;
        }
        if none(&[F::AcceptanceStatus, F::AcceptedDate]) {
            self.acceptance_status = prior.acceptance_status;
            self.accepted_date = prior.accepted_date.clone();
        }
        if none(&[F::PaymentMethod]) {
            self.payment_method = prior.payment_method;
        }
        if none(&[F::OrderRefs]) {
            self.order_refs = prior.order_refs.clone();
        }
        if none(&[F::DeliveryRefs]) {
            self.delivery_refs = prior.delivery_refs.clone();
        }
        if none(&[F::InvoiceRefs, F::OriginalInvoiceNo]) && self.invoice_kind == prior.invoice_kind {
            self.invoice_refs = prior.invoice_refs.clone();
        }
    }

    /// `YYYY-MM` of the document date, the curated zone's month partition.
    pub fn month(&self) -> &str {
        self.doc_date.get(..7).unwrap_or("")
    }
}

/// The natural key of one party's statement of a document (see [`TradeRecord::natural_key`]).
pub fn natural_key(
    rt: RecordType,
    buyer_uscc: &str,
    seller_uscc: &str,
    invoice_code: &str,
    doc_no: &str,
    submitter_uscc: &str,
) -> String {
    let (issuer, counterparty) = match rt {
        RecordType::Order | RecordType::Payment => (buyer_uscc, seller_uscc),
        _ => (seller_uscc, buyer_uscc),
    };
    format!("{}|{issuer}|{counterparty}|{invoice_code}|{doc_no}|{submitter_uscc}", rt.code())
}

/// The invoice an invoice line belongs to, read from the line's row (its parties, code and number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceIdentity {
    pub buyer_uscc: Uscc,
    pub seller_uscc: Uscc,
    pub invoice_code: String,
    pub doc_no: String,
}

impl InvoiceIdentity {
    pub fn natural_key(&self, submitter_uscc: &str) -> String {
        natural_key(
            RecordType::Invoice,
            self.buyer_uscc.as_str(),
            self.seller_uscc.as_str(),
            &self.invoice_code,
            &self.doc_no,
            submitter_uscc,
        )
    }
}

/// Reads the identity of the invoice a line row belongs to, naming every field at fault.
pub fn invoice_identity(raw: &RawRecord, ctx: &Context) -> Result<InvoiceIdentity, Vec<FieldError>> {
    let mut v = Validator { raw, errors: Vec::new(), ctx };
    for field in [F::BuyerUscc, F::SellerUscc] {
        if raw.get(field).is_none() {
            v.errors.push(FieldError::new(
                Some(field),
                "field_required",
                format!("{} ({}) is required on every invoice line", field.label_en(), field.code()),
                format!("发票明细行必须填写“{}”", field.label_zh()),
            ));
        }
    }
    let number_field = invoice_number_field(raw);
    let doc_no = v.field(number_field, value::parse_doc_no);
    if raw.get(number_field).is_none() {
        v.errors.push(FieldError::new(
            Some(F::InvoiceNo),
            "field_required",
            "Invoice number (invoice_no or digital_invoice_no) is required on every invoice line",
            "发票明细行必须填写“发票号码”或“数电票号码”",
        ));
    }
    let code = v.field(F::InvoiceCode, |s| Ok(value::normalize_width(s))).unwrap_or_default();
    let buyer = v.uscc(F::BuyerUscc);
    let seller = v.uscc(F::SellerUscc);
    match (buyer, seller, doc_no) {
        (Some(buyer_uscc), Some(seller_uscc), Some(doc_no)) if v.errors.is_empty() => {
            Ok(InvoiceIdentity { buyer_uscc, seller_uscc, invoice_code: code, doc_no })
        }
        _ => Err(v.errors),
    }
}

/// Validates one row of a record type, reporting every field at fault, not only the first.
pub fn validate(rt: RecordType, raw: &RawRecord, ctx: &Context) -> Result<TradeRecord, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = Vec::new();
    for (field, presence) in rt.fields() {
        if presence == Presence::Required && raw.get(field).is_none() && !derivable(rt, field, raw) {
            errors.push(FieldError::new(
                Some(field),
                "field_required",
                format!("{} ({}) is required on every {} record", field.label_en(), field.code(), rt.code()),
                format!("{}记录必须填写“{}”", rt.label_zh(), field.label_zh()),
            ));
        }
    }
    let mut v = Validator { raw, errors, ctx };
    let record = v.build(rt);
    if v.errors.is_empty() { record.ok_or_else(Vec::new) } else { Err(v.errors) }
}

/// An invoice's total may be derived from its amount before tax and its tax, and its number may be
/// given as the fully digital invoice number alone (the tax service's exports leave 发票号码 empty).
fn derivable(rt: RecordType, field: Field, raw: &RawRecord) -> bool {
    rt == RecordType::Invoice
        && match field {
            F::TotalAmount => raw.get(F::NetAmount).is_some() && raw.get(F::TaxAmount).is_some(),
            F::InvoiceNo => raw.get(F::DigitalInvoiceNo).is_some(),
            _ => false,
        }
}

/// Which number names an invoice: with a legacy invoice code, the code and its 8-digit number; otherwise
/// the fully digital 20-digit number when given (nationally unique), else the invoice number column.
fn invoice_number_field(raw: &RawRecord) -> Field {
    if raw.get(F::InvoiceCode).is_none() && raw.get(F::DigitalInvoiceNo).is_some() {
        F::DigitalInvoiceNo
    } else {
        F::InvoiceNo
    }
}

struct Validator<'a> {
    raw: &'a RawRecord,
    errors: Vec<FieldError>,
    ctx: &'a Context,
}

impl Validator<'_> {
    fn field<T>(&mut self, field: Field, parse: impl FnOnce(&str) -> Result<T, ValueError>) -> Option<T> {
        let text = self.raw.get(field)?;
        match parse(text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(FieldError::of(field, e));
                None
            }
        }
    }

    fn uscc(&mut self, field: Field) -> Option<Uscc> {
        self.field(field, |s| {
            Uscc::parse(&value::normalize_width(s))
                .map_err(|e| ValueError::new("uscc_invalid", e.to_string(), e.message_zh()))
        })
    }

    fn text(&mut self, field: Field, max_chars: usize) -> Option<String> {
        self.field(field, |s| {
            if s.chars().count() > max_chars {
                Err(ValueError::new(
                    "text_too_long",
                    format!("longer than {max_chars} characters"),
                    format!("超过 {max_chars} 个字符"),
                ))
            } else {
                Ok(s.to_string())
            }
        })
    }

    fn date(&mut self, field: Field) -> Option<Date> {
        let today = self.ctx.today;
        self.field(field, |s| {
            let d = value::parse_date(s)?;
            if d > today {
                return Err(ValueError::new(
                    "date_in_future",
                    format!("{d} is after today ({today})"),
                    format!("日期 {d} 晚于今天（{today}）"),
                ));
            }
            Ok(d)
        })
    }

    fn labelled<T>(&mut self, field: Field, parse: fn(&str) -> Option<T>, allowed_zh: &str) -> Option<T> {
        let allowed_zh = allowed_zh.to_string();
        self.field(field, move |s| {
            parse(&value::normalize_width(s).to_lowercase()).ok_or_else(|| {
                ValueError::new(
                    "value_unknown",
                    format!("'{}' is not one of the allowed values", value::excerpt(s)),
                    format!("“{}”不是允许的取值（{allowed_zh}）", value::excerpt(s)),
                )
            })
        })
    }

    fn build(&mut self, rt: RecordType) -> Option<TradeRecord> {
        let buyer = self.uscc(F::BuyerUscc);
        let seller = self.uscc(F::SellerUscc);
        if let (Some(b), Some(s)) = (&buyer, &seller)
            && b == s
        {
            self.errors.push(FieldError::new(
                Some(F::SellerUscc),
                "same_party",
                "buyer and seller are the same organisation",
                "购方与销方为同一机构",
            ));
        }
        let buyer_name = self.text(F::BuyerName, PARTY_NAME_CHARS_MAX);
        let seller_name = self.text(F::SellerName, PARTY_NAME_CHARS_MAX);
        let currency = self.field(F::Currency, value::parse_currency).unwrap_or("CNY");
        let remarks = self.text(F::Remarks, REMARKS_CHARS_MAX);
        let key_field = if rt == RecordType::Invoice { invoice_number_field(self.raw) } else { rt.key_field() };
        let doc_no = self.field(key_field, value::parse_doc_no);
        let date = self.date(rt.date_field());
        let amounts = self.amounts(rt);
        let (term_days, term_basis) = self.term();
        let order_refs = self.field(F::OrderRefs, value::parse_refs).unwrap_or_default();
        let delivery_refs = self.field(F::DeliveryRefs, value::parse_refs).unwrap_or_default();
        let mut invoice_refs = self.field(F::InvoiceRefs, value::parse_refs).unwrap_or_default();
        let mut record = TradeRecord {
            record_type: rt,
            doc_no: doc_no.clone().unwrap_or_default(),
            invoice_code: String::new(),
            doc_date: date.map(|d| d.to_string()).unwrap_or_default(),
            buyer_uscc: buyer.clone()?,
            buyer_name,
            seller_uscc: seller.clone()?,
            seller_name,
            currency,
            total_fen: 0,
            tax_fen: None,
            net_fen: None,
            term_days,
            term_basis,
            invoice_kind: None,
            invoice_status: None,
            acceptance_status: None,
            accepted_date: None,
            payment_method: None,
            payee_account: None,
            order_refs,
            delivery_refs,
            invoice_refs: Vec::new(),
            remarks,
        };
        match rt {
            RecordType::Delivery => self.delivery(&mut record, date),
            RecordType::Invoice => self.invoice(&mut record, date, &mut invoice_refs),
            RecordType::Payment => {
                record.payment_method =
                    self.labelled(F::PaymentMethod, payment_method_from, "银行转账/商业汇票/数字债权凭证/其他");
                if record.payment_method.is_none() {
                    record.payment_method = Some(PaymentMethod::Transfer);
                }
                record.payee_account = self.field(F::PayeeAccount, value::parse_account_no);
            }
            _ => {}
        }
        record.invoice_refs = invoice_refs;
        let (total, tax, net) = amounts?;
        record.total_fen = total;
        record.tax_fen = tax;
        record.net_fen = net;
        self.sign_rules(&mut record);
        doc_no?;
        date?;
        Some(record)
    }

    /// Total, tax and amount before tax, with total = net + tax when all three are given.
    fn amounts(&mut self, rt: RecordType) -> Option<(i64, Option<i64>, Option<i64>)> {
        let total = self.field(F::TotalAmount, value::parse_amount_fen);
        let tax = self.field(F::TaxAmount, value::parse_amount_fen);
        let net = if rt == RecordType::Invoice { self.field(F::NetAmount, value::parse_amount_fen) } else { None };
        let total = match (total, net, tax) {
            (Some(t), Some(n), Some(x)) => {
                if n.checked_add(x) != Some(t) {
                    self.errors.push(FieldError::new(
                        Some(F::TotalAmount),
                        "amount_mismatch",
                        format!(
                            "total {} is not amount {} plus tax {}",
                            crate::Money::from_fen(t),
                            crate::Money::from_fen(n),
                            crate::Money::from_fen(x)
                        ),
                        format!(
                            "价税合计 {} 不等于金额 {} 加税额 {}",
                            crate::Money::from_fen(t),
                            crate::Money::from_fen(n),
                            crate::Money::from_fen(x)
                        ),
                    ));
                    return None;
                }
                t
            }
            (Some(t), _, _) => t,
            (None, Some(n), Some(x)) => n.checked_add(x)?,
            _ => return None,
        };
        if let Some(x) = tax
            && (x.signum() * total.signum() < 0 || x.abs() > total.abs())
        {
            self.errors.push(FieldError::new(
                Some(F::TaxAmount),
                "tax_out_of_range",
                "the tax must lie between zero and the total, with the same sign",
                "税额须介于零与价税合计之间，且符号一致",
            ));
            return None;
        }
        let net = net.or_else(|| tax.map(|x| total - x));
        Some((total, tax, net))
    }

    fn term(&mut self) -> (Option<i64>, Option<TermBasis>) {
        let parsed = self.field(F::TermDays, value::parse_term);
        let basis = self.labelled(F::TermBasis, TermBasis::from_phrase, "货到/验收/票到/月结");
        match parsed {
            Some((days, phrase_basis)) => (Some(days), basis.or(phrase_basis)),
            None => (None, basis),
        }
    }

    fn delivery(&mut self, record: &mut TradeRecord, delivered: Option<Date>) {
        let accepted = self.date(F::AcceptedDate);
        let status = self.labelled(F::AcceptanceStatus, acceptance_from, "已验收/部分验收/拒收/待验收");
        if let (Some(a), Some(d)) = (accepted, delivered)
            && a < d
        {
            self.errors.push(FieldError::new(
                Some(F::AcceptedDate),
                "accepted_before_delivery",
                format!("accepted on {a}, before the delivery on {d}"),
                format!("验收日期 {a} 早于发货日期 {d}"),
            ));
        }
        record.accepted_date = accepted.map(|d| d.to_string());
        record.acceptance_status = Some(match (status, accepted) {
            (Some(s), _) => s,
            (None, Some(_)) => AcceptanceStatus::Accepted,
            (None, None) => AcceptanceStatus::Pending,
        });
        if record.acceptance_status == Some(AcceptanceStatus::Accepted) && accepted.is_none() {
            self.errors.push(FieldError::new(
                Some(F::AcceptedDate),
                "accepted_date_required",
                "an accepted delivery needs its acceptance date",
                "已验收的发货须填写验收日期",
            ));
        }
    }

    fn invoice(&mut self, record: &mut TradeRecord, issued: Option<Date>, invoice_refs: &mut Vec<String>) {
        let code = self.field(F::InvoiceCode, |s| {
            let s = value::normalize_width(s);
            if value::is_scientific(&s) { value::parse_doc_no(&s) } else { Ok(s) }
        });
        record.invoice_code = code.clone().unwrap_or_default();
        if !record.doc_no.is_empty()
            && let Err(e) = value::check_invoice_number(&record.invoice_code, &record.doc_no, issued.map(|d| d.year()))
        {
            let field = if e.code == "invoice_code_format" { F::InvoiceCode } else { F::InvoiceNo };
            self.errors.push(FieldError::of(field, e));
        }
        let kind = self.labelled(F::InvoiceKind, invoice_kind_from, "蓝字/红字");
        record.invoice_status = self.labelled(F::InvoiceStatus, invoice_status_from, "正常/作废/红冲/部分红冲");
        let original = self.field(F::OriginalInvoiceNo, value::parse_doc_no).or_else(|| {
            // The tax service writes the reversed invoice into a red invoice's remarks only.
            if kind == Some(InvoiceKind::Red) {
                self.raw.get(F::Remarks).and_then(value::reversed_invoice_in)
            } else {
                None
            }
        });
        let kind = kind.unwrap_or(if original.is_some() { InvoiceKind::Red } else { InvoiceKind::Blue });
        record.invoice_kind = Some(kind);
        if kind == InvoiceKind::Red {
            match original {
                Some(o) => {
                    if !invoice_refs.contains(&o) {
                        invoice_refs.insert(0, o);
                    }
                }
                None => self.errors.push(FieldError::new(
                    Some(F::OriginalInvoiceNo),
                    "original_invoice_required",
                    "a red invoice must name the blue invoice it reverses",
                    "红字发票须填写对应的原蓝字发票号码",
                )),
            }
        }
    }

    /// Red invoices carry negative amounts (a positive amount on a red invoice is read as the reversed
    /// amount and negated); every other record is positive.
    fn sign_rules(&mut self, record: &mut TradeRecord) {
        if record.invoice_kind == Some(InvoiceKind::Red) {
            if record.total_fen > 0 {
                record.total_fen = -record.total_fen;
                record.tax_fen = record.tax_fen.map(|x| -x);
                record.net_fen = record.net_fen.map(|x| -x);
            }
            if record.total_fen == 0 {
                self.zero_amount();
            }
        } else if record.total_fen <= 0 {
            if record.total_fen == 0 {
                self.zero_amount();
            } else {
                self.errors.push(FieldError::new(
                    Some(F::TotalAmount),
                    "amount_negative",
                    format!(
                        "a {} cannot have a negative amount; reverse an invoice with a red invoice",
                        record.record_type.label_en()
                    ),
                    format!("{}金额不能为负数；冲销发票请开具红字发票", record.record_type.label_zh()),
                ));
            }
        }
    }

    fn zero_amount(&mut self) {
        self.errors.push(FieldError::new(Some(F::TotalAmount), "amount_zero", "the amount is zero", "金额为零"));
    }
}

fn acceptance_from(s: &str) -> Option<AcceptanceStatus> {
    AcceptanceStatus::parse(s).ok().or(match s {
        "已验收" | "验收合格" | "合格" | "已收货" | "是" | "y" | "yes" => Some(AcceptanceStatus::Accepted),
        "部分验收" | "部分合格" | "partial" => Some(AcceptanceStatus::Partial),
        "拒收" | "不合格" | "退货" => Some(AcceptanceStatus::Rejected),
        "待验收" | "未验收" | "否" | "n" | "no" => Some(AcceptanceStatus::Pending),
        _ => None,
    })
}

fn invoice_kind_from(s: &str) -> Option<InvoiceKind> {
    InvoiceKind::parse(s).ok().or(match s {
        "蓝字" | "蓝票" | "蓝字发票" | "正数" | "正数发票" => Some(InvoiceKind::Blue),
        "红字" | "红票" | "红字发票" | "负数" | "负数发票" | "红冲" => Some(InvoiceKind::Red),
        // 是否正数发票 (the tax service's exports): yes is blue, no is red.
        "是" | "y" | "yes" => Some(InvoiceKind::Blue),
        "否" | "n" | "no" => Some(InvoiceKind::Red),
        _ => None,
    })
}

fn invoice_status_from(s: &str) -> Option<InvoiceStatus> {
    InvoiceStatus::parse(s).ok().or(match s {
        "正常" | "有效" | "蓝字发票" | "正常发票" => Some(InvoiceStatus::Live),
        "作废" | "已作废" | "作废发票" => Some(InvoiceStatus::Voided),
        "红冲" | "已红冲" | "全额红冲" | "已全额红冲" | "已红冲-全额" | "全部红冲" => {
            Some(InvoiceStatus::RedFlushed)
        }
        "部分红冲" | "已部分红冲" | "已红冲-部分" => Some(InvoiceStatus::PartlyRedFlushed),
        _ => None,
    })
}

fn payment_method_from(s: &str) -> Option<PaymentMethod> {
    PaymentMethod::parse(s).ok().or(match s {
        "转账" | "银行转账" | "电汇" | "网银" | "汇款" => Some(PaymentMethod::Transfer),
        "票据" | "汇票" | "承兑汇票" | "银行承兑汇票" | "商业承兑汇票" | "商业汇票" | "供应链票据" => {
            Some(PaymentMethod::Bill)
        }
        "债权凭证" | "数字债权凭证" | "云信" | "金单" => Some(PaymentMethod::Commitment),
        "其他" | "其它" => Some(PaymentMethod::Other),
        _ => None,
    })
}

impl Field {
    /// How a value of this field is written, for the published standard and the templates.
    pub fn format_hint(self) -> (&'static str, &'static str) {
        use Field as F;
        match self {
            F::BuyerUscc | F::SellerUscc => {
                ("18-character unified social credit code (GB 32100-2015)", "18位统一社会信用代码（GB 32100-2015）")
            }
            F::OrderDate | F::DeliveryDate | F::AcceptedDate | F::IssueDate | F::PaymentDate | F::CreditNoteDate => (
                "date: YYYY-MM-DD (also YYYY/M/D, YYYYMMDD, 2026年11月5日, or an Excel date)",
                "日期：YYYY-MM-DD（也接受 YYYY/M/D、YYYYMMDD、2026年11月5日 或 Excel 日期）",
            ),
            F::Amount | F::NetAmount | F::TaxAmount | F::TotalAmount => (
                "yuan with at most two decimals; thousands separators allowed; red invoices negative",
                "以元为单位，最多两位小数，可含千分位；红字发票为负数",
            ),
            F::InvoiceCode => (
                "legacy VAT invoice code, 10 or 12 digits; empty for fully digital e-invoices",
                "增值税发票代码10位或12位；数电票留空",
            ),
            F::InvoiceNo => (
                "20 digits for a fully digital e-invoice, 8 digits with an invoice code",
                "数电票20位；有发票代码时为8位",
            ),
            F::InvoiceKind => ("blue (蓝字) or red (红字)", "蓝字 或 红字"),
            F::AcceptanceStatus => {
                ("accepted, partial, rejected or pending (已验收/部分验收/拒收/待验收)", "已验收/部分验收/拒收/待验收")
            }
            F::PaymentMethod => {
                ("transfer, bill, commitment or other (转账/汇票/债权凭证/其他)", "转账/汇票/债权凭证/其他")
            }
            F::TermDays => ("payment term in days, e.g. 60 or 月结60天", "账期天数，如 60 或 月结60天"),
            F::TermBasis => ("delivery, acceptance, invoice or month_end (货到/验收/票到/月结)", "货到/验收/票到/月结"),
            F::OrderRefs | F::DeliveryRefs | F::InvoiceRefs => {
                ("document numbers separated by commas", "多个单号以逗号分隔")
            }
            F::Currency => ("CNY (default)", "人民币 CNY（默认）"),
            F::PayeeAccount => ("bank account number, 6–32 digits", "银行账号，6–32位数字"),
            F::RecordType => ("order, delivery, invoice, payment or credit_note", "采购订单/发货/发票/付款/扣款"),
            _ => ("text", "文本"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context { today: jiff::civil::date(2026, 11, 26) }
    }

    fn raw(pairs: &[(Field, &str)]) -> RawRecord {
        let mut r = RawRecord::new();
        for (f, v) in pairs {
            r.set(*f, v);
        }
        r
    }

    fn uscc(n: u32) -> String {
        Uscc::with_check_char(&format!("91500112MA{n:07}")).unwrap().to_string()
    }

    proptest::proptest! {
        /// Any text in any field of any record type gives a record or named errors, never a panic, and an
        /// accepted record keeps the standard's invariants (positive amounts except red invoices; tax
        /// within the total).
        #[test]
        fn validation_never_panics_and_keeps_its_invariants(
            rt in 0usize..5,
            values in proptest::collection::vec((0usize..FIELD_COUNT, "\\PC{0,30}|[0-9.,-]{1,16}|2026-0[1-9]-[0-2][0-9]"), 0..20),
        ) {
            let rt = RecordType::ALL[rt];
            let mut raw = RawRecord::new();
            raw.set(Field::BuyerUscc, &uscc(1));
            raw.set(Field::SellerUscc, &uscc(2));
            for (f, v) in &values {
                raw.set(Field::ALL[*f], v);
            }
            match validate(rt, &raw, &ctx()) {
                Ok(rec) => {
                    if rec.invoice_kind != Some(InvoiceKind::Red) {
                        proptest::prop_assert!(rec.total_fen > 0);
                    }
                    if let Some(tax) = rec.tax_fen {
                        proptest::prop_assert!(tax.abs() <= rec.total_fen.abs());
                    }
                    proptest::prop_assert!(!rec.doc_no.is_empty());
                }
                Err(errors) => proptest::prop_assert!(!errors.is_empty()),
            }
        }
    }

    #[test]
    fn the_published_standard_names_every_field() {
        let doc = include_str!("../../../../docs/data-standard.md");
        for f in Field::ALL {
            assert!(doc.contains(&format!("`{}`", f.code())), "docs/data-standard.md lacks {}", f.code());
        }
        for rt in RecordType::ALL {
            assert!(doc.contains(&format!("`{}`", rt.code())), "docs/data-standard.md lacks {}", rt.code());
        }
    }

    #[test]
    fn a_red_invoice_reverses_its_blue_one_with_negative_amounts() {
        let r = raw(&[
            (Field::InvoiceNo, "26500000000000000002"),
            (Field::IssueDate, "2026-05-01"),
            (Field::BuyerUscc, &uscc(1)),
            (Field::SellerUscc, &uscc(2)),
            (Field::TotalAmount, "113.00"),
            (Field::TaxAmount, "13.00"),
            (Field::OriginalInvoiceNo, "26500000000000000001"),
        ]);
        let rec = validate(RecordType::Invoice, &r, &ctx()).unwrap();
        assert_eq!(rec.invoice_kind, Some(InvoiceKind::Red));
        assert_eq!((rec.total_fen, rec.tax_fen, rec.net_fen), (-11_300, Some(-1_300), Some(-10_000)));
        assert_eq!(rec.invoice_refs, vec!["26500000000000000001".to_string()]);
        let no_original = raw(&[
            (Field::InvoiceNo, "26500000000000000002"),
            (Field::IssueDate, "2026-05-01"),
            (Field::BuyerUscc, &uscc(1)),
            (Field::SellerUscc, &uscc(2)),
            (Field::TotalAmount, "-113.00"),
            (Field::InvoiceKind, "红字"),
        ]);
        let errs = validate(RecordType::Invoice, &no_original, &ctx()).unwrap_err();
        assert_eq!(errs[0].code, "original_invoice_required");
    }

    #[test]
    fn every_fault_in_a_row_is_reported_with_its_field() {
        let r = raw(&[
            (Field::OrderNo, "PO 1"),
            (Field::OrderDate, "2026-13-01"),
            (Field::BuyerUscc, "91500000X"),
            (Field::SellerUscc, &uscc(2)),
        ]);
        let errs = validate(RecordType::Order, &r, &ctx()).unwrap_err();
        let got: Vec<(Option<Field>, &str)> = errs.iter().map(|e| (e.field, e.code)).collect();
        assert!(got.contains(&(Some(Field::TotalAmount), "field_required")), "{got:?}");
        assert!(got.contains(&(Some(Field::BuyerUscc), "uscc_invalid")), "{got:?}");
        assert!(got.contains(&(Some(Field::OrderDate), "date_impossible")), "{got:?}");
        assert!(got.contains(&(Some(Field::OrderNo), "doc_no_invalid")), "{got:?}");
    }

    #[test]
    fn invoice_amounts_must_add_up_and_the_total_may_be_derived() {
        let base = [
            (Field::InvoiceNo, "26500000000000000003"),
            (Field::IssueDate, "2026-05-01"),
            (Field::BuyerUscc, uscc(1).leak() as &str),
            (Field::SellerUscc, uscc(2).leak() as &str),
        ];
        let mut r = raw(&base);
        r.set(Field::NetAmount, "100");
        r.set(Field::TaxAmount, "13");
        assert_eq!(validate(RecordType::Invoice, &r, &ctx()).unwrap().total_fen, 11_300);
        r.set(Field::TotalAmount, "114");
        assert_eq!(validate(RecordType::Invoice, &r, &ctx()).unwrap_err()[0].code, "amount_mismatch");
    }

    /// The tax service's export leaves 发票号码 empty for fully digital invoices, gives the status in
    /// words and the sign as 是否正数发票, and names a red invoice's blue one only in its remarks.
    #[test]
    fn the_tax_service_export_reads_number_status_and_sign() {
        let mut r = raw(&[
            (Field::DigitalInvoiceNo, "26500000000000000009"),
            (Field::IssueDate, "2026-05-01 10:11:12"),
            (Field::BuyerUscc, &uscc(1)),
            (Field::SellerUscc, &uscc(2)),
            (Field::NetAmount, "100"),
            (Field::TaxAmount, "13"),
            (Field::TotalAmount, "113"),
            (Field::InvoiceStatus, "作废"),
            (Field::InvoiceKind, "是"),
        ]);
        r.state(Field::InvoiceNo);
        let rec = validate(RecordType::Invoice, &r, &ctx()).unwrap();
        assert_eq!((rec.doc_no.as_str(), rec.doc_date.as_str()), ("26500000000000000009", "2026-05-01"));
        assert_eq!((rec.invoice_status, rec.invoice_kind), (Some(InvoiceStatus::Voided), Some(InvoiceKind::Blue)));
        r.set(Field::InvoiceKind, "否");
        r.set(Field::InvoiceStatus, "正常");
        r.set(Field::Remarks, "被红冲蓝字数电发票号码：26500000000000000001 红字发票信息确认单编号：1");
        let red = validate(RecordType::Invoice, &r, &ctx()).unwrap();
        assert_eq!(red.invoice_kind, Some(InvoiceKind::Red));
        assert_eq!(red.invoice_refs, vec!["26500000000000000001".to_string()]);
        assert_eq!(red.total_fen, -11_300);
    }

    /// A later statement that lacks a column keeps what the earlier one said; an empty cell under a
    /// present column clears it.
    #[test]
    fn what_a_row_does_not_state_is_kept() {
        let base = [
            (Field::DeliveryNo, "D-1"),
            (Field::DeliveryDate, "2026-05-10"),
            (Field::AcceptedDate, "2026-05-12"),
            (Field::BuyerUscc, uscc(1).leak() as &str),
            (Field::BuyerName, "甲公司"),
            (Field::SellerUscc, uscc(2).leak() as &str),
            (Field::SellerName, "乙公司"),
            (Field::TotalAmount, "10"),
            (Field::Remarks, "first"),
        ];
        let first = validate(RecordType::Delivery, &raw(&base), &ctx()).unwrap();
        let later = raw(&[
            (Field::DeliveryNo, "D-1"),
            (Field::DeliveryDate, "2026-05-10"),
            (Field::BuyerUscc, &uscc(1)),
            (Field::SellerUscc, &uscc(2)),
            (Field::TotalAmount, "10"),
        ]);
        let mut second = validate(RecordType::Delivery, &later, &ctx()).unwrap();
        assert_ne!(second, first, "validated alone, the later row would drop names and the acceptance");
        second.keep_unstated(&first, |f| later.is_stated(f));
        assert_eq!(second, first);
        let mut clearing = later.clone();
        clearing.set(Field::Remarks, "");
        let mut third = validate(RecordType::Delivery, &clearing, &ctx()).unwrap();
        third.keep_unstated(&first, |f| clearing.is_stated(f));
        assert_eq!(third.remarks, None);
        assert_eq!(third.seller_name.as_deref(), Some("乙公司"));
    }

    #[test]
    fn deliveries_need_their_acceptance_after_shipping() {
        let r = raw(&[
            (Field::DeliveryNo, "D-1"),
            (Field::DeliveryDate, "2026-05-10"),
            (Field::AcceptedDate, "2026-05-01"),
            (Field::BuyerUscc, &uscc(1)),
            (Field::SellerUscc, &uscc(2)),
            (Field::TotalAmount, "10"),
        ]);
        assert_eq!(validate(RecordType::Delivery, &r, &ctx()).unwrap_err()[0].code, "accepted_before_delivery");
    }
}
