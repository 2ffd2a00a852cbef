//! Matching a sheet's column headers to the standard's fields, by Chinese or English name, and finding
//! which record type a sheet holds. Headers are compared after normalisation (full-width to ASCII, case,
//! spaces, punctuation and the "required" star removed, a trailing unit "元"/"yuan" dropped), and a
//! template header such as "发票号码/invoice_no" matches through either half.

use super::line::{self, LineField};
use super::value::normalize_width;
use super::{Field, RecordType};

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

/// Maps a header row; blank headers are ignored silently.
pub fn map_headers(headers: &[String]) -> HeaderMap {
    let mut map = HeaderMap {
        columns: Vec::with_capacity(headers.len()),
        unknown: Vec::new(),
        duplicates: Vec::new(),
        generic_doc_no: None,
        generic_doc_date: None,
        lines: Vec::new(),
    };
    for (i, h) in headers.iter().enumerate() {
        if h.trim().is_empty() {
            map.columns.push(None);
            continue;
        }
        match match_header(h) {
            Some(f) if map.columns.contains(&Some(f)) => {
                map.duplicates.push((i, h.clone(), f));
                map.columns.push(None);
            }
            Some(f) => map.columns.push(Some(f)),
            None => {
                map.columns.push(None);
                if let Some(l) = line::match_line_header(h) {
                    map.lines.push((i, l));
                } else if is_generic_doc_no(h) && map.generic_doc_no.is_none() {
                    map.generic_doc_no = Some(i);
                } else if is_generic_doc_date(h) && map.generic_doc_date.is_none() {
                    map.generic_doc_date = Some(i);
                } else if !is_recognised_unused(h) {
                    map.unknown.push((i, h.clone()));
                }
            }
        }
    }
    map
}

/// Whether a row looks like a header row: it names at least two fields, one of them a document number
/// or the record type.
pub fn is_header_row(cells: &[String]) -> bool {
    let map = map_headers(cells);
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
