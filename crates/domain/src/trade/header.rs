//! Matching a sheet's column headers to the standard's fields, by Chinese or English name, and finding
//! which record type a sheet holds. Headers are compared after normalisation (full-width to ASCII, case,
//! spaces, punctuation and the "required" star removed, a trailing unit "元"/"yuan" dropped), and a
//! template header such as "发票号码/invoice_no" matches through either half.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::line::{self, LineField};
use super::value::normalize_width;
use super::{Field, RecordType};
use crate::limits::{COLUMN_HEADER_CHARS_MAX, COLUMN_MAPPINGS_PER_ORG_MAX};
use crate::refusal::Refusal;

/// Other names each field is known by in ERP exports and hand-made sheets (normalised forms are compared,
/// so case, spaces and punctuation do not matter).
pub fn aliases(field: Field) -> &'static [&'static str] {
    use Field as F;
    match field {
        F::RecordType => &["记录类型", "单据类型", "数据类型", "recordtype", "type"],
        F::BuyerUscc => &[
            "购方统一社会信用代码",
            "购买方统一社会信用代码",
            "购方纳税人识别号",
            "购买方纳税人识别号",
            "购方税号",
            "购买方税号",
            "购方识别号",
            "购买方识别号",
            "客户税号",
            "客户统一社会信用代码",
            "买方统一社会信用代码",
            "采购方统一社会信用代码",
            "付款方统一社会信用代码",
            "buyeruscc",
            "buyertaxid",
            "buyercreditcode",
        ],
        F::BuyerName => {
            &["购方名称", "购买方名称", "买方名称", "采购方名称", "付款方名称", "客户名称", "buyername", "buyer"]
        }
        F::SellerUscc => &[
            "销方统一社会信用代码",
            "销售方统一社会信用代码",
            "销方纳税人识别号",
            "销售方纳税人识别号",
            "销方税号",
            "销售方税号",
            "销方识别号",
            "销售方识别号",
            "供应商税号",
            "卖方统一社会信用代码",
            "供应商统一社会信用代码",
            "收款方统一社会信用代码",
            "selleruscc",
            "sellertaxid",
            "sellercreditcode",
        ],
        F::SellerName => {
            &["销方名称", "销售方名称", "卖方名称", "供应商名称", "收款方名称", "sellername", "seller", "supplier"]
        }
        // ERP exports: 金蝶 and 用友 name orders 采购订单号/订单编号; SAP's Chinese interface calls a purchase
        // order 采购凭证 and a goods receipt 物料凭证.
        F::OrderNo => &[
            "订单号",
            "订单编号",
            "采购订单号",
            "采购订单编号",
            "采购凭证",
            "采购凭证号",
            "po号",
            "orderno",
            "ordernumber",
            "pono",
        ],
        F::OrderDate => &["订单日期", "下单日期", "采购日期", "orderdate"],
        F::DeliveryNo => &[
            "发货单号",
            "送货单号",
            "交货单号",
            "入库单号",
            "收货单号",
            "到货单号",
            "收料单号",
            "物料凭证",
            "物料凭证号",
            "deliveryno",
            "deliverynumber",
        ],
        F::DeliveryDate => &["发货日期", "送货日期", "交货日期", "到货日期", "deliverydate"],
        F::AcceptedDate => &["验收日期", "收货日期", "入库日期", "accepteddate", "acceptancedate"],
        F::AcceptanceStatus => &["验收状态", "验收结果", "acceptancestatus"],
        F::InvoiceCode => &["发票代码", "invoicecode", "fpdm"],
        F::InvoiceNo => &["发票号码", "发票号", "invoiceno", "invoicenumber", "fphm"],
        F::DigitalInvoiceNo => {
            &["数电票号码", "数电发票号码", "全电发票号码", "全电票号码", "digitalinvoiceno", "sdfphm"]
        }
        F::IssueDate => &["开票日期", "发票日期", "issuedate", "invoicedate", "kprq"],
        F::InvoiceKind => &["红蓝字标识", "红蓝字", "发票性质", "蓝字红字", "是否正数发票", "invoicekind"],
        F::InvoiceStatus => &["发票状态", "invoicestatus", "fpzt"],
        F::OriginalInvoiceNo => {
            &["原蓝字发票号码", "原发票号码", "对应蓝字发票号码", "被红冲发票号码", "originalinvoiceno"]
        }
        F::PaymentNo => &[
            "付款流水号",
            "交易流水号",
            "银行流水号",
            "付款单号",
            "付款单编号",
            "回单编号",
            "paymentno",
            "transactionno",
        ],
        F::PaymentDate => &["付款日期", "交易日期", "支付日期", "paymentdate"],
        F::PaymentMethod => &["付款方式", "支付方式", "结算方式", "paymentmethod"],
        F::PayeeAccount => &["收款账号", "收款账户", "收款银行账号", "payeeaccount"],
        F::CreditNoteNo => &["扣款单号", "折让单号", "贷项通知单号", "creditnoteno"],
        F::CreditNoteDate => &["扣款日期", "折让日期", "creditnotedate"],
        F::Amount => &["金额", "amount"],
        F::NetAmount => &["不含税金额", "金额不含税", "netamount", "amountexcltax"],
        F::TaxAmount => &["税额", "税金", "taxamount", "tax", "se"],
        F::TotalAmount => &[
            "价税合计",
            "含税金额",
            "金额含税",
            "订单金额",
            "发货金额",
            "送货金额",
            "付款金额",
            "扣款金额",
            "折让金额",
            "总金额",
            "实付金额",
            "付款金额本位币",
            "totalamount",
            "total",
            "jshj",
        ],
        F::Currency => &["币种", "币别", "currency"],
        F::TermDays => &["账期天数", "账期", "付款期限", "付款账期", "termdays", "paymentterm", "paymenttermdays"],
        F::TermBasis => &["账期起算", "起算方式", "付款条件", "termbasis", "paymentterms"],
        F::OrderRefs => &["关联订单号", "对应订单号", "orderrefs", "relatedorders"],
        F::DeliveryRefs => &["关联发货单号", "对应发货单号", "关联送货单号", "deliveryrefs", "relateddeliveries"],
        F::InvoiceRefs => &["关联发票号码", "对应发票号码", "核销发票号码", "invoicerefs", "relatedinvoices"],
        F::Remarks => &["备注", "说明", "remarks", "memo", "note"],
    }
}

/// Columns that ERP exports name the document number or date of the sheet's own record type with one
/// generic word (金蝶's 单据编号 and 业务日期, 用友's 单据日期, SAP's 凭证日期 and 过账日期): they read as the
/// record type's own number and date once the type is known from the sheet.
pub const GENERIC_DOC_NO: &[&str] = &["单据编号", "单据号", "单号", "documentno"];
pub const GENERIC_DOC_DATE: &[&str] = &["单据日期", "业务日期", "凭证日期", "过账日期", "日期", "documentdate"];

/// Columns of the tax service's invoice exports and of ERP exports that the platform recognises but does
/// not keep (row numbers, the issuing channel, the clerk): left out without a warning.
pub const RECOGNISED_UNUSED: &[&str] =
    &["序号", "发票来源", "发票票种", "发票风险等级", "开票人", "特定业务类型", "制单人", "审核人", "单据状态", "行号"];

fn is_one_of(header: &str, names: &[&str]) -> bool {
    let h = normalize_header(header);
    !h.is_empty() && names.iter().any(|n| normalize_plain(n) == h)
}

/// Whether a header is a generic document number column (see [`GENERIC_DOC_NO`]).
pub fn is_generic_doc_no(header: &str) -> bool {
    is_one_of(header, GENERIC_DOC_NO)
}

/// Whether a header is a generic document date column (see [`GENERIC_DOC_DATE`]).
pub fn is_generic_doc_date(header: &str) -> bool {
    is_one_of(header, GENERIC_DOC_DATE)
}

/// Whether a header names a column the platform recognises but does not keep.
pub fn is_recognised_unused(header: &str) -> bool {
    is_one_of(header, RECOGNISED_UNUSED)
}

/// Lower-case, ASCII-width, letters and digits only, with a trailing unit removed.
pub fn normalize_header(input: &str) -> String {
    let s: String = normalize_width(input).to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
    for unit in ["yuan", "cny", "rmb", "元", "天", "days"] {
        if let Some(rest) = s.strip_suffix(unit)
            && !rest.is_empty()
            && lookup(rest).is_some()
        {
            return rest.to_string();
        }
    }
    s
}

fn lookup(normalized: &str) -> Option<Field> {
    Field::ALL.iter().copied().find(|f| {
        normalize_plain(f.code()) == normalized
            || normalize_plain(f.label_zh()) == normalized
            || aliases(*f).iter().any(|a| normalize_plain(a) == normalized)
    })
}

fn normalize_plain(s: &str) -> String {
    s.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The field a header names, if any. "发票号码/invoice_no" and "发票号码 (invoice_no)" match through
/// either half; a header in 万元 does not match an amount field (its values would be off by 10,000).
pub fn match_header(header: &str) -> Option<Field> {
    let text = normalize_width(header);
    if text.contains("万元") {
        return None;
    }
    if let Some(f) = lookup(&normalize_header(&text)) {
        return Some(f);
    }
    text.split(['/', '|', '\n', '(', ')', '（', '）'])
        .map(normalize_header)
        .filter(|p| !p.is_empty())
        .find_map(|p| lookup(&p))
}

/// What an organisation has said one of its column headers means: a field of the standard, a column of
/// an invoice's lines, or nothing to keep. It overrides the standard's recognition for that organisation's
/// files only, through every channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnMeaning {
    Field(Field),
    Line(LineField),
    Ignore,
}

impl ColumnMeaning {
    /// The code stored and sent: a field's code, a line column's code, or `ignore`.
    pub fn code(self) -> &'static str {
        match self {
            ColumnMeaning::Field(f) => f.code(),
            ColumnMeaning::Line(l) => l.code(),
            ColumnMeaning::Ignore => "ignore",
        }
    }

    pub fn parse(code: &str) -> Option<ColumnMeaning> {
        if code == "ignore" {
            return Some(ColumnMeaning::Ignore);
        }
        Field::parse(code)
            .map(ColumnMeaning::Field)
            .ok()
            .or_else(|| LineField::parse(code).ok().map(ColumnMeaning::Line))
    }

    pub fn label(self, lang_en: bool) -> &'static str {
        match self {
            ColumnMeaning::Field(f) => f.label(lang_en),
            ColumnMeaning::Line(l) => l.label(lang_en),
            ColumnMeaning::Ignore => {
                if lang_en {
                    "Not kept"
                } else {
                    "不报送"
                }
            }
        }
    }

    /// Every meaning a column can be given, fields first, for choosing one.
    pub fn all() -> Vec<ColumnMeaning> {
        Field::ALL
            .iter()
            .copied()
            .map(ColumnMeaning::Field)
            .chain(LineField::ALL.iter().copied().map(ColumnMeaning::Line))
            .chain([ColumnMeaning::Ignore])
            .collect()
    }
}

/// Why a header cannot be given a meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("the header has no letters or digits")]
    HeaderEmpty,
    #[error("a header is at most {COLUMN_HEADER_CHARS_MAX} characters")]
    HeaderTooLong,
    #[error(
        "An organisation keeps at most {COLUMN_MAPPINGS_PER_ORG_MAX} column meanings; return some to the standard first"
    )]
    TooMany,
}

/// A header's refusals concern the `header` of one entry in a list of changes; whoever holds the list says
/// which entry. A full mapping concerns the organisation's meanings as a whole.
impl Refusal for MappingError {
    fn code(&self) -> &'static str {
        match self {
            MappingError::HeaderEmpty | MappingError::HeaderTooLong => "column_header_invalid",
            MappingError::TooMany => "column_mappings_full",
        }
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        match self {
            MappingError::HeaderEmpty | MappingError::HeaderTooLong => Some(Cow::Borrowed("header")),
            MappingError::TooMany => None,
        }
    }

    fn zh(&self) -> String {
        match self {
            MappingError::HeaderEmpty => "表头中没有文字或数字".to_string(),
            MappingError::HeaderTooLong => format!("表头最多 {COLUMN_HEADER_CHARS_MAX} 个字符"),
            MappingError::TooMany => {
                format!("每个机构最多保存 {COLUMN_MAPPINGS_PER_ORG_MAX} 个列映射，请先将不用的恢复为按标准识别")
            }
        }
    }
}

/// The key a header is remembered by: its text after width, case, spaces and punctuation are normalised,
/// so "客户 编码" and "客户编码" are one header.
pub fn header_key(header: &str) -> String {
    normalize_plain(&normalize_width(header))
}

/// An organisation's own column meanings, by header key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMapping {
    by_key: BTreeMap<String, ColumnMeaning>,
}

impl ColumnMapping {
    pub fn new() -> ColumnMapping {
        ColumnMapping::default()
    }

    /// Remembers a header's meaning, replacing an earlier one for the same header.
    pub fn insert(&mut self, header: &str, meaning: ColumnMeaning) -> Result<(), MappingError> {
        let key = checked_key(header)?;
        if !self.by_key.contains_key(&key) && self.by_key.len() >= COLUMN_MAPPINGS_PER_ORG_MAX {
            return Err(MappingError::TooMany);
        }
        self.by_key.insert(key, meaning);
        Ok(())
    }

    pub fn meaning(&self, header: &str) -> Option<ColumnMeaning> {
        if self.by_key.is_empty() {
            return None;
        }
        self.by_key.get(&header_key(header)).copied()
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// A header's key, refusing one that is empty once normalised or longer than the limit.
pub fn checked_key(header: &str) -> Result<String, MappingError> {
    if header.chars().count() > COLUMN_HEADER_CHARS_MAX {
        return Err(MappingError::HeaderTooLong);
    }
    let key = header_key(header);
    if key.is_empty() {
        return Err(MappingError::HeaderEmpty);
    }
    Ok(key)
}

/// How a column came to be read as it was, shown to the submitter in a file's preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnOrigin {
    /// The header cell is empty.
    Blank,
    /// The standard's name or one of its aliases.
    Standard,
    /// The organisation's own mapping.
    Organisation,
    /// A generic document number or date column, given the sheet's record type's field.
    Generic,
    /// A column the platform knows but does not keep (序号, 开票人).
    Unused,
    /// A header the platform does not know: ignored with a warning.
    Unknown,
    /// A second column for a field already read from an earlier column: ignored with a warning.
    Duplicate,
}

impl ColumnOrigin {
    pub fn code(self) -> &'static str {
        match self {
            ColumnOrigin::Blank => "blank",
            ColumnOrigin::Standard => "standard",
            ColumnOrigin::Organisation => "organisation",
            ColumnOrigin::Generic => "generic",
            ColumnOrigin::Unused => "unused",
            ColumnOrigin::Unknown => "unknown",
            ColumnOrigin::Duplicate => "duplicate",
        }
    }

    pub fn label(self, lang_en: bool) -> &'static str {
        let (zh, en) = match self {
            ColumnOrigin::Blank => ("空表头", "Blank header"),
            ColumnOrigin::Standard => ("按数据标准识别", "Standard name"),
            ColumnOrigin::Organisation => ("按本机构设定", "Our mapping"),
            ColumnOrigin::Generic => ("通用单号/日期列", "Generic number or date"),
            ColumnOrigin::Unused => ("已知列，不报送", "Known, not kept"),
            ColumnOrigin::Unknown => ("未识别，将忽略", "Not recognised, ignored"),
            ColumnOrigin::Duplicate => ("重复列，将忽略", "Repeated, ignored"),
        };
        if lang_en { en } else { zh }
    }
}

/// How a sheet's columns map onto fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// For each column, the field it carries (None for unknown or ignored columns).
    pub columns: Vec<Option<Field>>,
    /// Headers of columns that match no field, reported to the submitter but not fatal.
    pub unknown: Vec<(usize, String)>,
    /// Headers that name a field already named by an earlier column (the later one is ignored).
    pub duplicates: Vec<(usize, String, Field)>,
    /// Generic document number and date columns, resolved by [`HeaderMap::resolve_generic`].
    pub generic_doc_no: Option<usize>,
    pub generic_doc_date: Option<usize>,
    /// Columns of an invoice's line items (goods, quantity, unit price, tax rate).
    pub lines: Vec<(usize, LineField)>,
    /// For each column, how its reading was decided.
    pub origins: Vec<ColumnOrigin>,
}

impl HeaderMap {
    pub fn matched(&self) -> usize {
        self.columns.iter().filter(|c| c.is_some()).count()
    }

    pub fn has(&self, field: Field) -> bool {
        self.columns.contains(&Some(field))
    }

    /// Whether the sheet lists invoice lines (one row per goods line, as the tax service's 信息汇总表 and
    /// 明细 sheets do) rather than invoices.
    pub fn is_invoice_lines(&self) -> bool {
        let has_line = |f| self.lines.iter().any(|(_, l)| *l == f);
        (self.has(Field::InvoiceNo) || self.has(Field::DigitalInvoiceNo))
            && has_line(LineField::GoodsName)
            && (has_line(LineField::Quantity) || has_line(LineField::UnitPrice) || has_line(LineField::TaxRate))
    }

    /// What a column is read as, once the sheet's record type has resolved its generic columns.
    pub fn meaning_of(&self, column: usize) -> Option<ColumnMeaning> {
        if let Some(Some(f)) = self.columns.get(column) {
            return Some(ColumnMeaning::Field(*f));
        }
        self.lines.iter().find(|(i, _)| *i == column).map(|(_, l)| ColumnMeaning::Line(*l))
    }

    /// Gives the generic number and date columns the record type's own number and date fields, unless
    /// the sheet names those explicitly.
    pub fn resolve_generic(&mut self, rt: RecordType) {
        for (index, field) in [(self.generic_doc_no, rt.key_field()), (self.generic_doc_date, rt.date_field())] {
            if let Some(i) = index
                && !self.has(field)
                && let Some(slot) = self.columns.get_mut(i)
            {
                *slot = Some(field);
            }
        }
    }
}

/// Maps a header row by the standard's names; blank headers are ignored silently.
pub fn map_headers(headers: &[String]) -> HeaderMap {
    map_headers_with(headers, &ColumnMapping::default())
}

/// Maps a header row, an organisation's own meanings first, then the standard's names.
pub fn map_headers_with(headers: &[String], mapping: &ColumnMapping) -> HeaderMap {
    let mut map = HeaderMap {
        columns: Vec::with_capacity(headers.len()),
        unknown: Vec::new(),
        duplicates: Vec::new(),
        generic_doc_no: None,
        generic_doc_date: None,
        lines: Vec::new(),
        origins: Vec::with_capacity(headers.len()),
    };
    for (i, h) in headers.iter().enumerate() {
        let origin = map_column(&mut map, i, h, mapping);
        map.origins.push(origin);
    }
    map
}

/// Reads one column into the map (pushing exactly one entry onto `columns`) and answers how.
fn map_column(map: &mut HeaderMap, i: usize, h: &str, mapping: &ColumnMapping) -> ColumnOrigin {
    if h.trim().is_empty() {
        map.columns.push(None);
        return ColumnOrigin::Blank;
    }
    let (found, origin) = match mapping.meaning(h) {
        Some(ColumnMeaning::Ignore) => {
            map.columns.push(None);
            return ColumnOrigin::Organisation;
        }
        Some(ColumnMeaning::Line(l)) => {
            map.columns.push(None);
            map.lines.push((i, l));
            return ColumnOrigin::Organisation;
        }
        Some(ColumnMeaning::Field(f)) => (Some(f), ColumnOrigin::Organisation),
        None => (match_header(h), ColumnOrigin::Standard),
    };
    match found {
        Some(f) if map.columns.contains(&Some(f)) => {
            map.duplicates.push((i, h.to_string(), f));
            map.columns.push(None);
            ColumnOrigin::Duplicate
        }
        Some(f) => {
            map.columns.push(Some(f));
            origin
        }
        None => {
            map.columns.push(None);
            if let Some(l) = line::match_line_header(h) {
                map.lines.push((i, l));
                ColumnOrigin::Standard
            } else if is_generic_doc_no(h) && map.generic_doc_no.is_none() {
                map.generic_doc_no = Some(i);
                ColumnOrigin::Generic
            } else if is_generic_doc_date(h) && map.generic_doc_date.is_none() {
                map.generic_doc_date = Some(i);
                ColumnOrigin::Generic
            } else if is_recognised_unused(h) {
                ColumnOrigin::Unused
            } else {
                map.unknown.push((i, h.to_string()));
                ColumnOrigin::Unknown
            }
        }
    }
}

/// Whether a row looks like a header row: it names at least two fields, one of them a document number
/// or the record type.
pub fn is_header_row(cells: &[String]) -> bool {
    is_header_row_with(cells, &ColumnMapping::default())
}

/// Whether a row looks like a header row once the organisation's own meanings are applied.
pub fn is_header_row_with(cells: &[String], mapping: &ColumnMapping) -> bool {
    let map = map_headers_with(cells, mapping);
    let keyed = [
        Field::RecordType,
        Field::OrderNo,
        Field::DeliveryNo,
        Field::InvoiceNo,
        Field::DigitalInvoiceNo,
        Field::PaymentNo,
        Field::CreditNoteNo,
    ]
    .iter()
    .any(|f| map.has(*f))
        || map.generic_doc_no.is_some();
    keyed && map.matched() >= 2
}

/// The record type of a sheet from its columns: the most specific document number present wins (a
/// payment sheet often lists the invoices it pays; an invoice sheet the orders it covers).
pub fn infer_type(map: &HeaderMap) -> Option<RecordType> {
    [
        (Field::PaymentNo, RecordType::Payment),
        (Field::CreditNoteNo, RecordType::CreditNote),
        (Field::InvoiceNo, RecordType::Invoice),
        (Field::DigitalInvoiceNo, RecordType::Invoice),
        (Field::DeliveryNo, RecordType::Delivery),
        (Field::OrderNo, RecordType::Order),
    ]
    .iter()
    .find(|(f, _)| map.has(*f))
    .map(|(_, rt)| *rt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_match_in_chinese_english_and_template_form() {
        assert_eq!(match_header("发票号码"), Some(Field::InvoiceNo));
        assert_eq!(match_header("Invoice No."), Some(Field::InvoiceNo));
        assert_eq!(match_header("*价税合计（元）"), Some(Field::TotalAmount));
        assert_eq!(match_header("发票号码/invoice_no"), Some(Field::InvoiceNo));
        assert_eq!(match_header("购买方纳税人识别号"), Some(Field::BuyerUscc));
        assert_eq!(match_header("ＴＯＴＡＬ"), Some(Field::TotalAmount));
        assert_eq!(match_header("账期(天)"), Some(Field::TermDays));
        assert_eq!(match_header("金额（万元）"), None);
        assert_eq!(match_header("颜色"), None);
    }

    #[test]
    fn every_alias_maps_back_to_its_field() {
        for f in Field::ALL {
            for a in aliases(*f) {
                assert_eq!(match_header(a), Some(*f), "{a}");
            }
            assert_eq!(match_header(f.code()), Some(*f));
            assert_eq!(match_header(f.label_zh()), Some(*f));
        }
    }

    proptest::proptest! {
        #[test]
        fn header_matching_never_panics(cells in proptest::collection::vec("\\PC{0,24}", 0..30)) {
            let map = map_headers(&cells);
            proptest::prop_assert_eq!(map.columns.len(), cells.len());
            let _ = infer_type(&map);
            let _ = is_header_row(&cells);
        }
    }

    #[test]
    fn an_organisations_meanings_come_before_the_standards_names() {
        let mut mine = ColumnMapping::new();
        mine.insert("客户 编码", ColumnMeaning::Field(Field::BuyerUscc)).unwrap();
        mine.insert("单号", ColumnMeaning::Field(Field::OrderNo)).unwrap();
        mine.insert("金额", ColumnMeaning::Ignore).unwrap();
        mine.insert("品名", ColumnMeaning::Line(LineField::GoodsName)).unwrap();
        let headers = row(&["单号", "客户编码", "金额", "价税合计", "品名", "颜色", ""]);
        assert!(!is_header_row(&row(&["单号", "客户编码"])));
        assert!(is_header_row_with(&row(&["单号", "客户编码"]), &mine));
        let m = map_headers_with(&headers, &mine);
        assert_eq!(m.columns[..4], [Some(Field::OrderNo), Some(Field::BuyerUscc), None, Some(Field::TotalAmount)]);
        assert_eq!(m.lines, vec![(4, LineField::GoodsName)]);
        assert_eq!(m.unknown, vec![(5, "颜色".to_string())]);
        assert_eq!(
            m.origins,
            vec![
                ColumnOrigin::Organisation,
                ColumnOrigin::Organisation,
                ColumnOrigin::Organisation,
                ColumnOrigin::Standard,
                ColumnOrigin::Organisation,
                ColumnOrigin::Unknown,
                ColumnOrigin::Blank,
            ]
        );
        assert_eq!(m.meaning_of(4), Some(ColumnMeaning::Line(LineField::GoodsName)));
        assert_eq!(checked_key("—— "), Err(MappingError::HeaderEmpty));
        assert_eq!(checked_key(&"长".repeat(COLUMN_HEADER_CHARS_MAX + 1)), Err(MappingError::HeaderTooLong));
    }

    #[test]
    fn every_meaning_reads_back_from_its_code() {
        let all = ColumnMeaning::all();
        for m in &all {
            assert_eq!(ColumnMeaning::parse(m.code()), Some(*m), "{} is one meaning only", m.code());
        }
        let codes: std::collections::HashSet<_> = all.iter().map(|m| m.code()).collect();
        assert_eq!(codes.len(), all.len(), "no field and line column share a code");
    }

    #[test]
    fn sheet_types_are_inferred_from_their_key_columns() {
        let m = map_headers(&row(&["付款流水号", "发票号码", "付款金额", "颜色"]));
        assert_eq!(infer_type(&m), Some(RecordType::Payment));
        assert_eq!(m.unknown, vec![(3, "颜色".to_string())]);
        let m = map_headers(&row(&["发票号码", "订单号", "发货单号"]));
        assert_eq!(infer_type(&m), Some(RecordType::Invoice));
        assert!(is_header_row(&row(&["订单号", "订单日期"])));
        assert!(!is_header_row(&row(&["2026年11月订单明细"])));
    }
}
