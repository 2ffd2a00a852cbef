//! An invoice's lines (货物或应税劳务明细): what was sold, how much of it and at what price and tax
//! rate, as the tax service's invoice exports list them one row per line, with the invoice's number and
//! parties repeated on every row. Lines belong to one party's statement of the invoice; they are kept
//! so goods can be compared with deliveries, and a set of lines is checked against its invoice's amounts.

use super::value::{self, ValueError, normalize_width};
use super::{Field, FieldError, RawRecord};
use crate::labelled_enum;
use crate::limits::{LINE_QUANTITY_CHARS_MAX, LINE_TEXT_CHARS_MAX};

labelled_enum!(
    /// The columns of a line that are not fields of an invoice.
    LineField, "line_field" {
        GoodsName => ("goods_name", "货物或应税劳务名称", "Goods or service"),
        Specification => ("specification", "规格型号", "Specification"),
        Unit => ("unit", "单位", "Unit"),
        Quantity => ("quantity", "数量", "Quantity"),
        UnitPrice => ("unit_price", "单价", "Unit price"),
        TaxRate => ("tax_rate", "税率", "Tax rate"),
        TaxClassCode => ("tax_class_code", "税收分类编码", "Tax classification code"),
    }
);

impl LineField {
    /// Other names a line column is known by (the tax service's exports, ERP invoice details).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            LineField::GoodsName => &[
                "货物或应税劳务名称",
                "货物或应税劳务、服务名称",
                "项目名称",
                "商品名称",
                "货物名称",
                "物料名称",
                "goodsname",
            ],
            LineField::Specification => &["规格型号", "规格", "型号", "specification"],
            LineField::Unit => &["单位", "计量单位", "unit"],
            LineField::Quantity => &["数量", "quantity", "qty"],
            LineField::UnitPrice => &["单价", "不含税单价", "unitprice", "price"],
            LineField::TaxRate => &["税率", "征收率", "税率征收率", "taxrate"],
            LineField::TaxClassCode => &["税收分类编码", "商品和服务税收分类编码", "税收编码", "taxclasscode"],
        }
    }
}

/// The line column a header names, if any.
pub fn match_line_header(header: &str) -> Option<LineField> {
    let h: String = normalize_width(header).to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
    if h.is_empty() {
        return None;
    }
    LineField::ALL.iter().copied().find(|f| {
        f.aliases().iter().any(|a| a.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect::<String>() == h)
    })
}

/// One line as validated. Quantity and unit price stay decimal text (prices carry up to 15 decimals on
/// invoices and are never summed); amounts are fen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvoiceLine {
    pub goods_name: String,
    pub specification: Option<String>,
    pub unit: Option<String>,
    pub quantity: Option<String>,
    pub unit_price: Option<String>,
    /// The amount before tax (金额), in fen; negative on a red invoice.
    pub net_fen: i64,
    pub tax_fen: Option<i64>,
    /// As printed: "13%", "0.13" is read as "13%", "免税", "不征税".
    pub tax_rate: Option<String>,
    pub tax_class_code: Option<String>,
}

/// A line's cells by line column, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawLine {
    values: Vec<Option<String>>,
}

impl RawLine {
    pub fn new() -> RawLine {
        RawLine { values: vec![None; LineField::ALL.len()] }
    }

    pub fn set(&mut self, field: LineField, text: &str) {
        let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
        if let Some(slot) = self.values.get_mut(field as usize)
            && !trimmed.is_empty()
        {
            *slot = Some(trimmed.to_string());
        }
    }

    pub fn get(&self, field: LineField) -> Option<&str> {
        self.values.get(field as usize).and_then(|v| v.as_deref())
    }
}

fn line_error(field: LineField, e: ValueError) -> FieldError {
    FieldError::new(
        None,
        e.code,
        format!("{}: {}", field.label_en(), e.en),
        format!("“{}”：{}", field.label_zh(), e.zh),
    )
}

fn text(field: LineField, raw: &RawLine, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = raw.get(field)?;
    if v.chars().count() > LINE_TEXT_CHARS_MAX {
        errors.push(line_error(
            field,
            ValueError::new(
                "text_too_long",
                format!("longer than {LINE_TEXT_CHARS_MAX} characters"),
                format!("超过 {LINE_TEXT_CHARS_MAX} 个字符"),
            ),
        ));
        return None;
    }
    Some(v.to_string())
}

/// A decimal number as text ("1,200.5" → "1200.5"), refused when it is not one.
fn decimal(field: LineField, raw: &RawLine, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = raw.get(field)?;
    let cleaned: String = normalize_width(v).chars().filter(|c| !matches!(c, ',' | '¥' | '￥' | ' ')).collect();
    let body = cleaned.strip_prefix('-').unwrap_or(&cleaned);
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    let ok = !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.chars().all(|c| c.is_ascii_digit())
        && cleaned.len() <= LINE_QUANTITY_CHARS_MAX;
    if !ok {
        errors.push(line_error(
            field,
            ValueError::new(
                "number_invalid",
                format!("'{}' is not a number", value::excerpt(v)),
                format!("“{}”不是数字", value::excerpt(v)),
            ),
        ));
        return None;
    }
    Some(cleaned.trim_end_matches('.').to_string())
}

/// "13%", "13", "0.13" and "１３％" all read as "13%"; words such as 免税 or 不征税 stay as written.
fn tax_rate(raw: &RawLine) -> Option<String> {
    let v = normalize_width(raw.get(LineField::TaxRate)?);
    let number = v.trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(n) if v.ends_with('%') || n >= 1.0 => Some(format!("{}%", trim_number(n))),
        Ok(n) => Some(format!("{}%", trim_number(n * 100.0))),
        Err(_) => Some(v.chars().take(LINE_TEXT_CHARS_MAX).collect()),
    }
}

fn trim_number(n: f64) -> String {
    let rounded = (n * 1000.0).round() / 1000.0;
    let text = format!("{rounded:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Validates one line. `raw` carries the row's invoice fields (read as on an invoice: 金额 is the amount
/// before tax); only the line's own amounts are read from it here.
pub fn validate_line(raw: &RawRecord, line: &RawLine) -> Result<InvoiceLine, Vec<FieldError>> {
    let mut errors = Vec::new();
    let goods_name = text(LineField::GoodsName, line, &mut errors);
    if goods_name.is_none() && errors.is_empty() {
        errors.push(FieldError::new(
            None,
            "field_required",
            "Goods or service (goods_name) is required on every invoice line",
            "发票明细行必须填写“货物或应税劳务名称”",
        ));
    }
    let amount = |field: Field, errors: &mut Vec<FieldError>| -> Option<i64> {
        let v = raw.get(field)?;
        match value::parse_amount_fen(v) {
            Ok(fen) => Some(fen),
            Err(e) => {
                errors.push(FieldError::new(Some(field), e.code, e.en, e.zh));
                None
            }
        }
    };
    let net = amount(Field::NetAmount, &mut errors);
    let tax = amount(Field::TaxAmount, &mut errors);
    let total = amount(Field::TotalAmount, &mut errors);
    let net = match (net, tax, total) {
        (Some(n), _, _) => Some(n),
        (None, Some(x), Some(t)) => t.checked_sub(x),
        _ => None,
    };
    if net.is_none() && errors.is_empty() {
        errors.push(FieldError::new(
            Some(Field::NetAmount),
            "field_required",
            "Amount excluding tax (net_amount) is required on every invoice line",
            "发票明细行必须填写“金额”",
        ));
    }
    let line = InvoiceLine {
        goods_name: goods_name.unwrap_or_default(),
        specification: text(LineField::Specification, line, &mut errors),
        unit: text(LineField::Unit, line, &mut errors),
        quantity: decimal(LineField::Quantity, line, &mut errors),
        unit_price: decimal(LineField::UnitPrice, line, &mut errors),
        net_fen: net.unwrap_or_default(),
        tax_fen: tax,
        tax_rate: tax_rate(line),
        tax_class_code: text(LineField::TaxClassCode, line, &mut errors),
    };
    if errors.is_empty() { Ok(line) } else { Err(errors) }
}

/// The sum of lines' amounts before tax, for comparison with the invoice's; `None` on overflow.
pub fn net_sum_fen(lines: &[InvoiceLine]) -> Option<i64> {
    lines.iter().try_fold(0i64, |acc, l| acc.checked_add(l.net_fen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tax_service_line_headers_are_recognised() {
        assert_eq!(match_line_header("货物或应税劳务名称"), Some(LineField::GoodsName));
        assert_eq!(match_line_header("规格型号"), Some(LineField::Specification));
        assert_eq!(match_line_header("税率"), Some(LineField::TaxRate));
        assert_eq!(match_line_header("税收分类编码"), Some(LineField::TaxClassCode));
        assert_eq!(match_line_header("发票号码"), None);
    }

    #[test]
    fn a_line_reads_amounts_rates_and_decimals() {
        let mut raw = RawRecord::new();
        raw.set(Field::NetAmount, "1,000.00");
        raw.set(Field::TaxAmount, "130");
        let mut line = RawLine::new();
        line.set(LineField::GoodsName, "*钢材*热轧板");
        line.set(LineField::Quantity, "2.5");
        line.set(LineField::UnitPrice, "400.000000");
        line.set(LineField::TaxRate, "0.13");
        let l = validate_line(&raw, &line).unwrap();
        assert_eq!((l.net_fen, l.tax_fen), (100_000, Some(13_000)));
        assert_eq!(l.tax_rate.as_deref(), Some("13%"));
        assert_eq!(l.quantity.as_deref(), Some("2.5"));
        line.set(LineField::Quantity, "two");
        assert_eq!(validate_line(&raw, &line).unwrap_err()[0].code, "number_invalid");
    }

    #[test]
    fn rates_in_every_spelling_read_alike() {
        for (given, read) in [("13%", "13%"), ("13", "13%"), ("0.06", "6%"), ("１３％", "13%"), ("免税", "免税")]
        {
            let mut line = RawLine::new();
            line.set(LineField::TaxRate, given);
            assert_eq!(tax_rate(&line).as_deref(), Some(read), "{given}");
        }
    }
}
