//! Parsers for the cell values of the data standard: amounts in yuan, dates, document numbers, invoice
//! numbers, payment terms and lists of references. Each takes text as a spreadsheet or an ERP produced
//! it and either returns the canonical value or a [`ValueError`] with a stable code and a message in
//! Chinese and English. None of them panics, whatever the input.

use jiff::civil::Date;

use crate::labelled_enum;
use crate::limits::{
    DOC_NO_CHARS_MAX, REFS_PER_FIELD_MAX, TERM_DAYS_MAX, TRADE_AMOUNT_FEN_MAX, TRADE_DATE_YEAR_MAX, TRADE_DATE_YEAR_MIN,
};

/// Why one value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

impl ValueError {
    pub fn new(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> ValueError {
        ValueError { code, en: en.into(), zh: zh.into() }
    }
}

/// Shows at most 40 characters of the offending input in a message, so a huge cell cannot flood a report.
pub fn excerpt(input: &str) -> String {
    let mut out: String = input.chars().take(40).collect();
    if input.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Turns full-width digits, letters and punctuation (as typed with a Chinese input method) into ASCII and
/// drops surrounding whitespace, including the ideographic space.
pub fn normalize_width(input: &str) -> String {
    input
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}')
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// The blue invoice a red one reverses, as the tax service writes it into the red invoice's remarks
/// ("被红冲蓝字数电发票号码：26…", "对应正数发票代码:…号码:…"): the digits after the last "号码".
pub fn reversed_invoice_in(remarks: &str) -> Option<String> {
    let text = normalize_width(remarks);
    let (_, after) = text.rsplit_once("号码")?;
    let digits: String =
        after.trim_start_matches([':', ' ', '：']).chars().take_while(|c| c.is_ascii_digit()).collect();
    (8..=20).contains(&digits.len()).then_some(digits)
}

/// True when a spreadsheet turned a long number into scientific notation ("9.15E+17"), which loses digits.
fn looks_scientific(s: &str) -> bool {
    let upper = s.to_ascii_uppercase();
    match upper.split_once('E') {
        Some((mantissa, exp)) => {
            !mantissa.is_empty()
                && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
                && mantissa.chars().any(|c| c.is_ascii_digit())
                && exp.trim_start_matches(['+', '-']).chars().all(|c| c.is_ascii_digit())
                && !exp.trim_start_matches(['+', '-']).is_empty()
        }
        None => false,
    }
}

fn scientific_error() -> ValueError {
    ValueError::new(
        "scientific_notation",
        "the spreadsheet shows this number in scientific notation and its digits are lost; format the column as text and export again",
        "该字段被表格软件显示为科学计数法，数字已丢失；请将该列设为文本格式后重新导出",
    )
}

/// Parses an amount in yuan ("1,234.56", "¥1234.5", "１２３４", "-100", "1.2E+07") into fen. At most two
/// decimals (trailing zeros beyond are fine); the magnitude is bounded by [`TRADE_AMOUNT_FEN_MAX`].
pub fn parse_amount_fen(input: &str) -> Result<i64, ValueError> {
    let s = normalize_width(input);
    let mut s: String = s.chars().filter(|c| !matches!(c, ',' | '，' | ' ' | '¥' | '￥' | '\u{a0}' | '\'')).collect();
    for prefix in ["RMB", "CNY", "rmb", "cny"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_string();
        }
    }
    if let Some(rest) = s.strip_suffix('元') {
        s = rest.to_string();
    }
    let bad = || {
        ValueError::new(
            "amount_invalid",
            format!("'{}' is not an amount in yuan (e.g. 1234.56)", excerpt(input)),
            format!("“{}”不是以元为单位的金额（例如 1234.56）", excerpt(input)),
        )
    };
    if s.is_empty() {
        return Err(bad());
    }
    let (negative, body) = if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        (true, inner.to_string())
    } else if let Some(rest) = s.strip_prefix('-') {
        (true, rest.to_string())
    } else if let Some(rest) = s.strip_prefix('+') {
        (false, rest.to_string())
    } else {
        (false, s.clone())
    };
    let (mantissa, exponent) = if looks_scientific(&body) {
        let upper = body.to_ascii_uppercase();
        let (m, e) = upper.split_once('E').ok_or_else(bad)?;
        let e: i32 = e.parse().map_err(|_| bad())?;
        (m.to_string(), e)
    } else {
        (body, 0)
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (mantissa.clone(), String::new()),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    // Shift the decimal point by the exponent on the digit string, so that no floating point is involved.
    let digits = format!("{int_part}{frac_part}");
    let point = int_part.len() as i64 + i64::from(exponent);
    if !(-40..=40).contains(&point) {
        return Err(too_large(input));
    }
    let (int_digits, frac_digits) = if point <= 0 {
        (String::new(), format!("{}{}", "0".repeat((-point) as usize), digits))
    } else if point as usize >= digits.len() {
        (format!("{}{}", digits, "0".repeat(point as usize - digits.len())), String::new())
    } else {
        (digits[..point as usize].to_string(), digits[point as usize..].to_string())
    };
    let frac_trimmed = frac_digits.trim_end_matches('0');
    if frac_trimmed.len() > 2 {
        return Err(ValueError::new(
            "amount_precision",
            format!("'{}' has more than two decimals; amounts are in yuan to the fen", excerpt(input)),
            format!("“{}”超过两位小数；金额以元为单位，精确到分", excerpt(input)),
        ));
    }
    let int_trimmed = int_digits.trim_start_matches('0');
    if int_trimmed.len() > 15 {
        return Err(too_large(input));
    }
    let yuan: i64 = if int_trimmed.is_empty() { 0 } else { int_trimmed.parse().map_err(|_| too_large(input))? };
    let mut cents = format!("{frac_trimmed:0<2}");
    cents.truncate(2);
    let cents: i64 = cents.parse().map_err(|_| bad())?;
    let fen = yuan.checked_mul(100).and_then(|v| v.checked_add(cents)).ok_or_else(|| too_large(input))?;
    if fen > TRADE_AMOUNT_FEN_MAX {
        return Err(too_large(input));
    }
    Ok(if negative { -fen } else { fen })
}

fn too_large(input: &str) -> ValueError {
    ValueError::new(
        "amount_too_large",
        format!(
            "'{}' is beyond the largest amount one record may carry ({} yuan)",
            excerpt(input),
            TRADE_AMOUNT_FEN_MAX / 100
        ),
        format!("“{}”超过单条记录允许的最大金额（{} 元）", excerpt(input), TRADE_AMOUNT_FEN_MAX / 100),
    )
}

/// Days from 1899-12-30 (Excel's day zero, which absorbs its 1900 leap-year bug for dates after
/// 1900-03-01) to 1970-01-01.
const EXCEL_EPOCH_OFFSET_DAYS: i64 = 25_569;

/// Parses a business date: "2026-11-05", "2026/11/5", "2026.11.05", "20261105", "2026年11月5日", with an
/// optional time after it, or an Excel serial day number (e.g. 46331). Years outside
/// [`TRADE_DATE_YEAR_MIN`]..=[`TRADE_DATE_YEAR_MAX`] are refused as implausible.
pub fn parse_date(input: &str) -> Result<Date, ValueError> {
    let s = normalize_width(input);
    let bad = || {
        ValueError::new(
            "date_invalid",
            format!("'{}' is not a date (use YYYY-MM-DD)", excerpt(input)),
            format!("“{}”不是有效日期（请使用 YYYY-MM-DD 格式）", excerpt(input)),
        )
    };
    if s.is_empty() {
        return Err(bad());
    }
    // An Excel serial number, possibly with a fraction of a day for the time.
    let whole = s.split_once('.').map(|(w, f)| if f.chars().all(|c| c.is_ascii_digit()) { w } else { "" });
    let serial_text = whole.unwrap_or(&s);
    if !serial_text.is_empty() && serial_text.len() <= 6 && serial_text.chars().all(|c| c.is_ascii_digit()) {
        let serial: i64 = serial_text.parse().map_err(|_| bad())?;
        return date_from_excel_serial(serial).ok_or_else(|| implausible(input));
    }
    let date_part = s.split([' ', 'T']).next().unwrap_or("");
    let cleaned = if date_part.len() == 8 && date_part.chars().all(|c| c.is_ascii_digit()) {
        format!("{}-{}-{}", &date_part[0..4], &date_part[4..6], &date_part[6..8])
    } else {
        date_part.replace(['年', '月'], "-").replace('日', "")
    };
    let parts: Vec<&str> = cleaned.split(['-', '/', '.']).collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let (y, m, d) = (parts[0], parts[1], parts[2]);
    let num = |t: &str, max_len: usize| -> Result<i16, ValueError> {
        if t.is_empty() || t.len() > max_len || !t.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        t.parse::<i16>().map_err(|_| bad())
    };
    let (year, month, day) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
    if y.len() != 4 {
        return Err(bad());
    }
    let date = Date::new(year, month as i8, day as i8).map_err(|_| {
        ValueError::new(
            "date_impossible",
            format!("'{}' is not a day of the calendar", excerpt(input)),
            format!("“{}”不是日历上存在的日期", excerpt(input)),
        )
    })?;
    if !(TRADE_DATE_YEAR_MIN..=TRADE_DATE_YEAR_MAX).contains(&date.year()) {
        return Err(implausible(input));
    }
    Ok(date)
}

fn implausible(input: &str) -> ValueError {
    ValueError::new(
        "date_out_of_range",
        format!("'{}' is outside the plausible years {TRADE_DATE_YEAR_MIN}–{TRADE_DATE_YEAR_MAX}", excerpt(input)),
        format!("“{}”不在合理年份范围（{TRADE_DATE_YEAR_MIN}–{TRADE_DATE_YEAR_MAX}）内", excerpt(input)),
    )
}

/// The date of an Excel serial day number, if it falls within the plausible years.
pub fn date_from_excel_serial(serial: i64) -> Option<Date> {
    let unix_days = serial.checked_sub(EXCEL_EPOCH_OFFSET_DAYS)?;
    let date = Date::new(1970, 1, 1).ok()?.checked_add(jiff::Span::new().try_days(unix_days).ok()?).ok()?;
    (TRADE_DATE_YEAR_MIN..=TRADE_DATE_YEAR_MAX).contains(&date.year()).then_some(date)
}

/// A document number (order, delivery, payment…): printable, no spaces inside, at most
/// [`DOC_NO_CHARS_MAX`] characters. Full-width characters become ASCII.
pub fn parse_doc_no(input: &str) -> Result<String, ValueError> {
    let s = normalize_width(input);
    if looks_scientific(&s) {
        return Err(scientific_error());
    }
    if s.is_empty() {
        return Err(ValueError::new("doc_no_empty", "the document number is empty", "单据编号为空"));
    }
    if s.chars().count() > DOC_NO_CHARS_MAX {
        return Err(ValueError::new(
            "doc_no_too_long",
            format!("the document number is longer than {DOC_NO_CHARS_MAX} characters"),
            format!("单据编号超过 {DOC_NO_CHARS_MAX} 个字符"),
        ));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ValueError::new(
            "doc_no_invalid",
            format!("'{}' contains spaces or control characters", excerpt(&s)),
            format!("“{}”含有空格或控制字符", excerpt(&s)),
        ));
    }
    Ok(s)
}

/// Checks an invoice's code and number (docs/domain-rules.md, "Invoice codes and numbers"): a fully digital
/// e-invoice (数电票) has no code and a 20-digit number whose first two digits are the year of issue; a legacy
/// VAT invoice has a 10- or 12-digit code and an 8-digit number.
pub fn check_invoice_number(code: &str, number: &str, issue_year: Option<i16>) -> Result<(), ValueError> {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if code.is_empty() {
        if number.len() != 20 || !digits(number) {
            return Err(ValueError::new(
                "invoice_no_format",
                format!(
                    "'{}' is not a fully digital e-invoice number (20 digits); a legacy VAT invoice needs its 10- or 12-digit invoice code as well",
                    excerpt(number)
                ),
                format!("“{}”不是数电票号码（20位数字）；增值税发票还需填写10位或12位发票代码", excerpt(number)),
            ));
        }
        if let Some(year) = issue_year {
            let yy = &number[0..2];
            if yy != format!("{:02}", year.rem_euclid(100)) {
                return Err(ValueError::new(
                    "invoice_no_year_mismatch",
                    format!("the e-invoice number starts with '{yy}', but the issue date is in {year}"),
                    format!("数电票号码前两位为“{yy}”，与开票年份 {year} 不符"),
                ));
            }
        }
        Ok(())
    } else {
        if !(digits(code) && (code.len() == 10 || code.len() == 12)) {
            return Err(ValueError::new(
                "invoice_code_format",
                format!("'{}' is not a VAT invoice code (10 or 12 digits)", excerpt(code)),
                format!("“{}”不是增值税发票代码（10位或12位数字）", excerpt(code)),
            ));
        }
        if !(digits(number) && number.len() == 8) {
            return Err(ValueError::new(
                "invoice_no_format",
                format!("'{}' is not a VAT invoice number (8 digits)", excerpt(number)),
                format!("“{}”不是增值税发票号码（8位数字）", excerpt(number)),
            ));
        }
        Ok(())
    }
}

labelled_enum!(
    /// From which event a payment term counts its days.
    TermBasis, "term_basis" {
        Delivery => ("delivery", "货到起算", "From delivery"),
        Acceptance => ("acceptance", "验收起算", "From acceptance"),
        Invoice => ("invoice", "票到起算", "From invoice"),
        MonthEnd => ("month_end", "月结", "From month end"),
    }
);

impl TermBasis {
    /// Reads the basis from a Chinese or English phrase ("票到60天", "月结", "acceptance").
    pub fn from_phrase(input: &str) -> Option<TermBasis> {
        let s = normalize_width(input).to_lowercase();
        if let Ok(basis) = TermBasis::parse(&s) {
            return Some(basis);
        }
        if s.contains("月结") || s.contains("month") {
            Some(TermBasis::MonthEnd)
        } else if s.contains("票到") || s.contains("开票") || s.contains("invoice") {
            Some(TermBasis::Invoice)
        } else if s.contains("验收") || s.contains("accept") {
            Some(TermBasis::Acceptance)
        } else if s.contains("货到") || s.contains("到货") || s.contains("发货") || s.contains("deliver") {
            Some(TermBasis::Delivery)
        } else {
            None
        }
    }
}

/// Reads a payment term in days: "60", "60天", "月结60天", "票到30天付款"; "货到付款"/"现款" mean 0.
/// Returns the days and, when the phrase says so, the basis.
pub fn parse_term(input: &str) -> Result<(i64, Option<TermBasis>), ValueError> {
    let s = normalize_width(input);
    let basis = TermBasis::from_phrase(&s);
    let digits: String = s.chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        if s.contains("货到付款") || s.contains("现款") || s.contains("款到发货") || s.eq_ignore_ascii_case("cash")
        {
            return Ok((0, Some(TermBasis::Delivery)));
        }
        return Err(ValueError::new(
            "term_invalid",
            format!("'{}' is not a payment term in days (e.g. 60 or 月结60天)", excerpt(input)),
            format!("“{}”不是以天计的账期（例如 60 或 月结60天）", excerpt(input)),
        ));
    }
    let days: i64 = digits.parse().unwrap_or(i64::MAX);
    if days > TERM_DAYS_MAX {
        return Err(ValueError::new(
            "term_too_long",
            format!("a payment term of {} days is beyond {TERM_DAYS_MAX} days", excerpt(&digits)),
            format!("账期 {} 天超过上限 {TERM_DAYS_MAX} 天", excerpt(&digits)),
        ));
    }
    Ok((days, basis))
}

/// Splits a list of document numbers separated by commas, semicolons, the Chinese enumeration comma,
/// slashes or whitespace; each must be a valid document number; duplicates are dropped; at most
/// [`REFS_PER_FIELD_MAX`] entries.
pub fn parse_refs(input: &str) -> Result<Vec<String>, ValueError> {
    let s = normalize_width(input);
    let mut out: Vec<String> = Vec::new();
    for part in s.split([',', ';', '、', '，', '；', '/', '|', ' ', '\n', '\r', '\t']) {
        if part.is_empty() {
            continue;
        }
        let no = parse_doc_no(part)?;
        if !out.contains(&no) {
            out.push(no);
        }
        if out.len() > REFS_PER_FIELD_MAX {
            return Err(ValueError::new(
                "refs_too_many",
                format!("more than {REFS_PER_FIELD_MAX} references in one cell"),
                format!("一个单元格内的关联单号超过 {REFS_PER_FIELD_MAX} 个"),
            ));
        }
    }
    Ok(out)
}

/// A bank account number: 6 to 32 digits once spaces and dashes are removed (Chinese account numbers
/// are 12 to 19 digits for cards and up to about 25 for corporate accounts).
pub fn parse_account_no(input: &str) -> Result<String, ValueError> {
    let s: String = normalize_width(input).chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if looks_scientific(&s) {
        return Err(scientific_error());
    }
    if !(6..=32).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(ValueError::new(
            "account_no_invalid",
            format!("'{}' is not a bank account number (6–32 digits)", excerpt(input)),
            format!("“{}”不是银行账号（6–32位数字）", excerpt(input)),
        ));
    }
    Ok(s)
}

/// The currency of the record: v1 of the standard carries renminbi only.
pub fn parse_currency(input: &str) -> Result<&'static str, ValueError> {
    let s = normalize_width(input).to_uppercase();
    match s.as_str() {
        "" | "CNY" | "RMB" | "人民币" | "元" | "¥" | "￥" => Ok("CNY"),
        _ => Err(ValueError::new(
            "currency_unsupported",
            format!("currency '{}' is not supported; version 1 of the data standard carries CNY only", excerpt(input)),
            format!("不支持币种“{}”；数据标准第1版仅支持人民币（CNY）", excerpt(input)),
        )),
    }
}

/// Whether a spreadsheet cell holds a scientific-notation rendering of what should be a long code.
pub fn is_scientific(input: &str) -> bool {
    looks_scientific(&normalize_width(input))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_as_spreadsheets_write_them() {
        assert_eq!(parse_amount_fen("1,234.56"), Ok(123_456));
        assert_eq!(parse_amount_fen(" ¥1234.5 "), Ok(123_450));
        assert_eq!(parse_amount_fen("１２３４"), Ok(123_400));
        assert_eq!(parse_amount_fen("-100"), Ok(-10_000));
        assert_eq!(parse_amount_fen("(100.00)"), Ok(-10_000));
        assert_eq!(parse_amount_fen("1.2E+07"), Ok(1_200_000_000));
        assert_eq!(parse_amount_fen("12.3400"), Ok(1_234));
        assert_eq!(parse_amount_fen(".5"), Ok(50));
        assert_eq!(parse_amount_fen("1000元"), Ok(100_000));
        assert_eq!(parse_amount_fen("12.345").unwrap_err().code, "amount_precision");
        assert_eq!(parse_amount_fen("abc").unwrap_err().code, "amount_invalid");
        assert_eq!(parse_amount_fen("").unwrap_err().code, "amount_invalid");
        assert_eq!(parse_amount_fen("1e300").unwrap_err().code, "amount_too_large");
        assert_eq!(parse_amount_fen("99999999999999999999").unwrap_err().code, "amount_too_large");
    }

    #[test]
    fn dates_in_the_forms_people_type() {
        let d = Date::new(2026, 11, 5).unwrap();
        for s in ["2026-11-05", "2026/11/5", "2026.11.05", "20261105", "2026年11月5日", "2026-11-05 13:45:00", "46331"]
        {
            assert_eq!(parse_date(s), Ok(d), "{s}");
        }
        assert_eq!(parse_date("46331.5"), Ok(d));
        assert_eq!(parse_date("2026-02-30").unwrap_err().code, "date_impossible");
        assert_eq!(parse_date("1850-01-01").unwrap_err().code, "date_out_of_range");
        assert_eq!(parse_date("12").unwrap_err().code, "date_out_of_range");
        assert_eq!(parse_date("tomorrow").unwrap_err().code, "date_invalid");
    }

    #[test]
    fn invoice_numbers_follow_the_tax_formats() {
        assert!(check_invoice_number("", "26502000000000012345", Some(2026)).is_ok());
        assert_eq!(
            check_invoice_number("", "25502000000000012345", Some(2026)).unwrap_err().code,
            "invoice_no_year_mismatch"
        );
        assert_eq!(check_invoice_number("", "12345678", Some(2026)).unwrap_err().code, "invoice_no_format");
        assert!(check_invoice_number("5000231130", "00012345", None).is_ok());
        assert!(check_invoice_number("050002300111", "00012345", None).is_ok());
        assert_eq!(check_invoice_number("50002", "00012345", None).unwrap_err().code, "invoice_code_format");
    }

    #[test]
    fn long_codes_mangled_by_excel_are_named() {
        assert_eq!(parse_doc_no("2.65E+19").unwrap_err().code, "scientific_notation");
        assert_eq!(parse_account_no("6.22E+18").unwrap_err().code, "scientific_notation");
        assert_eq!(parse_doc_no("PO-2026-0001"), Ok("PO-2026-0001".into()));
    }

    #[test]
    fn terms_and_refs() {
        assert_eq!(parse_term("月结60天"), Ok((60, Some(TermBasis::MonthEnd))));
        assert_eq!(parse_term("票到30天付款"), Ok((30, Some(TermBasis::Invoice))));
        assert_eq!(parse_term("90"), Ok((90, None)));
        assert_eq!(parse_term("货到付款"), Ok((0, Some(TermBasis::Delivery))));
        assert_eq!(parse_term("99999").unwrap_err().code, "term_too_long");
        assert_eq!(parse_refs("PO1, PO2；PO1、PO3"), Ok(vec!["PO1".into(), "PO2".into(), "PO3".into()]));
    }

    proptest! {
        #[test]
        fn amount_round_trips(fen in -TRADE_AMOUNT_FEN_MAX..=TRADE_AMOUNT_FEN_MAX) {
            let text = crate::Money::from_fen(fen.abs()).display_yuan();
            let signed = if fen < 0 { format!("-{text}") } else { text };
            prop_assert_eq!(parse_amount_fen(&signed), Ok(fen));
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,60}") {
            let _ = parse_amount_fen(&s);
            let _ = parse_date(&s);
            let _ = parse_doc_no(&s);
            let _ = parse_term(&s);
            let _ = parse_refs(&s);
            let _ = parse_account_no(&s);
            let _ = check_invoice_number(&s, &s, Some(2026));
        }
    }
}
