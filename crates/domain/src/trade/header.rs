//! Matching a sheet's column headers to the standard's fields, by Chinese or English name, and finding
//! which record type a sheet holds. Headers are compared after normalisation (full-width to ASCII, case,
//! spaces, punctuation and the "required" star removed, a trailing unit "元"/"yuan" dropped), and a
//! template header such as "发票号码/invoice_no" matches through either half.

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
            "买方统一社会信用代码",
            "采购方统一社会信用代码",
            "付款方统一社会信用代码",
            "buyeruscc",
            "buyertaxid",
            "buyercreditcode",
        ],
        F::BuyerName => &["购方名称", "购买方名称", "买方名称", "采购方名称", "付款方名称", "buyername", "buyer"],
        F::SellerUscc => &[
            "销方统一社会信用代码",
            "销售方统一社会信用代码",
            "销方纳税人识别号",
            "销售方纳税人识别号",
            "销方税号",
            "销售方税号",
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
        F::OrderNo => &["订单号", "订单编号", "采购订单号", "采购订单编号", "po号", "orderno", "ordernumber", "pono"],
        F::OrderDate => &["订单日期", "下单日期", "采购日期", "orderdate"],
        F::DeliveryNo => &["发货单号", "送货单号", "交货单号", "入库单号", "收货单号", "deliveryno", "deliverynumber"],
        F::DeliveryDate => &["发货日期", "送货日期", "交货日期", "到货日期", "deliverydate"],
        F::AcceptedDate => &["验收日期", "收货日期", "入库日期", "accepteddate", "acceptancedate"],
        F::AcceptanceStatus => &["验收状态", "验收结果", "acceptancestatus"],
        F::InvoiceCode => &["发票代码", "invoicecode", "fpdm"],
        F::InvoiceNo => &["发票号码", "发票号", "数电票号码", "全电发票号码", "invoiceno", "invoicenumber", "fphm"],
        F::IssueDate => &["开票日期", "发票日期", "issuedate", "invoicedate", "kprq"],
        F::InvoiceKind => &["红蓝字标识", "红蓝字", "发票性质", "蓝字红字", "invoicekind"],
        F::OriginalInvoiceNo => {
            &["原蓝字发票号码", "原发票号码", "对应蓝字发票号码", "被红冲发票号码", "originalinvoiceno"]
        }
        F::PaymentNo => {
            &["付款流水号", "交易流水号", "银行流水号", "付款单号", "回单编号", "paymentno", "transactionno"]
        }
        F::PaymentDate => &["付款日期", "交易日期", "支付日期", "paymentdate"],
        F::PaymentMethod => &["付款方式", "支付方式", "paymentmethod"],
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
}

impl HeaderMap {
    pub fn matched(&self) -> usize {
        self.columns.iter().filter(|c| c.is_some()).count()
    }

    pub fn has(&self, field: Field) -> bool {
        self.columns.contains(&Some(field))
    }
}

/// Maps a header row; blank headers are ignored silently.
pub fn map_headers(headers: &[String]) -> HeaderMap {
    let mut columns = Vec::with_capacity(headers.len());
    let mut unknown = Vec::new();
    let mut duplicates = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if h.trim().is_empty() {
            columns.push(None);
            continue;
        }
        match match_header(h) {
            Some(f) if columns.contains(&Some(f)) => {
                duplicates.push((i, h.clone(), f));
                columns.push(None);
            }
            Some(f) => columns.push(Some(f)),
            None => {
                unknown.push((i, h.clone()));
                columns.push(None);
            }
        }
    }
    HeaderMap { columns, unknown, duplicates }
}

/// Whether a row looks like a header row: it names at least two fields, one of them a document number
/// or the record type.
pub fn is_header_row(cells: &[String]) -> bool {
    let map = map_headers(cells);
    let keyed =
        [Field::RecordType, Field::OrderNo, Field::DeliveryNo, Field::InvoiceNo, Field::PaymentNo, Field::CreditNoteNo]
            .iter()
            .any(|f| map.has(*f));
    keyed && map.matched() >= 2
}

/// The record type of a sheet from its columns: the most specific document number present wins (a
/// payment sheet often lists the invoices it pays; an invoice sheet the orders it covers).
pub fn infer_type(map: &HeaderMap) -> Option<RecordType> {
    [
        (Field::PaymentNo, RecordType::Payment),
        (Field::CreditNoteNo, RecordType::CreditNote),
        (Field::InvoiceNo, RecordType::Invoice),
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
