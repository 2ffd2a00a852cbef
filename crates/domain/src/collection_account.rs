//! Fixed repayment accounts (回款账户确定): the bank account a receivable's debtor must pay into. This module
//! holds the pure rules: what a valid account number is, its normalised form (the same the data lake gives
//! every payment's payee account, so their keyed digests — `app::secret::AccountDigest` — compare), how it
//! is masked, and whose consent a change needs.
//!
//! Why no Luhn check: personal bank cards (16–19 digits) carry a Luhn check digit, but the settlement
//! accounts of companies (对公结算账户) that receivables are paid into do not. Each bank numbers them its own
//! way, from 9 digits at some city and rural banks to 20 and more at the large ones, often without any
//! check digit a third party could verify. Requiring Luhn would refuse most real corporate accounts, so the
//! rule is digits only within generous bounds; the account is then proved in use by the payments that
//! arrive in it (four-flow verification flags payments made elsewhere).

use std::borrow::Cow;

use crate::labelled_enum;
use crate::limits::{ACCOUNT_NO_DIGITS_MAX, ACCOUNT_NO_DIGITS_MIN, BANK_NAME_CHARS_MAX, PARTY_NAME_CHARS_MAX};
use crate::refusal::Refusal;
use crate::trade::value::normalize_width;

labelled_enum!(
    /// Where a request to change a receivable's fixed account stands.
    ChangeStatus, "change_status" {
        Pending => ("pending", "待同意", "Awaiting consent"),
        Applied => ("applied", "已生效", "Applied"),
        Withdrawn => ("withdrawn", "已撤回", "Withdrawn"),
        Refused => ("refused", "已拒绝", "Refused"),
    }
);

/// Why an account was refused: the field at fault, a stable code and the message in both languages. The
/// messages never repeat the number typed, so that refusals can be logged and audited without it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {en}")]
pub struct AccountError {
    pub field: &'static str,
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

impl Refusal for AccountError {
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

fn err(field: &'static str, code: &'static str, en: String, zh: String) -> AccountError {
    AccountError { field, code, en, zh }
}

/// An account number as the lake normalises a payee account: full-width characters made ASCII, then spaces
/// and hyphens dropped (as `trade::value::parse_account_no` does), so that the same account typed either
/// way has the same digest.
pub fn normalise_account_no(input: &str) -> String {
    normalize_width(input).chars().filter(|c| !matches!(c, ' ' | '-')).collect()
}

/// The last four digits, the only part of an account shown (masked) once it is stored.
pub fn last4(normalised: &str) -> String {
    let n = normalised.chars().count();
    normalised.chars().skip(n.saturating_sub(4)).collect()
}

/// How an account is shown: `**** 1234`.
pub fn masked(last4: &str) -> String {
    format!("**** {last4}")
}

/// A validated account: the normalised number with its last four digits, and the names. Its digest is
/// keyed by the platform (`app::secret::AccountDigest`), so it is not computed here.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub number: String,
    pub last4: String,
    pub bank_name: String,
    pub holder_name: String,
}

impl std::fmt::Debug for Account {
    /// Never prints the number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("last4", &self.last4)
            .field("bank_name", &self.bank_name)
            .field("holder_name", &self.holder_name)
            .finish_non_exhaustive()
    }
}

/// Validates the account number (`account_no`), the bank (`bank_name`, 开户行) and the account holder's
/// name (`holder_name`, 户名).
pub fn validate(account_no: &str, bank_name: &str, holder_name: &str) -> Result<Account, AccountError> {
    let number = normalise_account_no(account_no);
    if number.is_empty() {
        return Err(err(
            "account_no",
            "account_no_required",
            "account_no: the account number is required".into(),
            "account_no：请填写回款账号".into(),
        ));
    }
    if !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(err(
            "account_no",
            "account_no_not_digits",
            "account_no: a bank account number has digits only (spaces and hyphens are ignored)".into(),
            "account_no：银行账号只能由数字组成（空格和连字符会被忽略）".into(),
        ));
    }
    let digits = number.len();
    if digits < ACCOUNT_NO_DIGITS_MIN {
        return Err(err(
            "account_no",
            "account_no_too_short",
            format!("account_no: {digits} digits is too short for a bank account (at least {ACCOUNT_NO_DIGITS_MIN})"),
            format!("account_no：银行账号仅{digits}位，过短（至少{ACCOUNT_NO_DIGITS_MIN}位）"),
        ));
    }
    if digits > ACCOUNT_NO_DIGITS_MAX {
        return Err(err(
            "account_no",
            "account_no_too_long",
            format!("account_no: {digits} digits is too long for a bank account (at most {ACCOUNT_NO_DIGITS_MAX})"),
            format!("account_no：银行账号为{digits}位，过长（至多{ACCOUNT_NO_DIGITS_MAX}位）"),
        ));
    }
    let bank_name = name("bank_name", "开户行", bank_name, BANK_NAME_CHARS_MAX)?;
    let holder_name = name("holder_name", "户名", holder_name, PARTY_NAME_CHARS_MAX)?;
    Ok(Account { last4: last4(&number), number, bank_name, holder_name })
}

fn name(field: &'static str, zh_name: &str, input: &str, max: usize) -> Result<String, AccountError> {
    let s = normalize_width(input);
    let s = s.trim();
    if s.is_empty() {
        return Err(err(field, "name_required", format!("{field}: required"), format!("{field}：请填写{zh_name}")));
    }
    let n = s.chars().count();
    if n > max {
        return Err(err(
            field,
            "name_too_long",
            format!("{field}: {n} characters; at most {max} are allowed"),
            format!("{field}：{zh_name}为{n}个字符，最多允许{max}个"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(err(
            field,
            "name_control_character",
            format!("{field}: contains a control character"),
            format!("{field}：{zh_name}含有控制字符"),
        ));
    }
    Ok(s.to_string())
}

/// The organisations whose consent changes a receivable's fixed account: its creditor, its debtor and,
/// once the receivable is financed, the financier. Sorted and without repeats (a bank that is also the
/// creditor consents once).
pub fn required_consenters(creditor_org_id: &str, debtor_org_id: &str, financier_org_id: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = [Some(creditor_org_id), Some(debtor_org_id), financier_org_id]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether every required organisation has consented.
pub fn all_consented(required: &[String], consented: &[String]) -> bool {
    required.iter().all(|r| consented.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_normalised_like_the_lake_normalises_payee_accounts() {
        for input in ["6222 0202 0011 2233 445", "6222-0202-0011-2233-445", "６２２２０２０２００１１２２３３４４５"]
        {
            let a = validate(input, "中国工商银行重庆分行", "重庆某某供应链有限公司").unwrap();
            assert_eq!(a.number, "6222020200112233445");
            // The lake's own parser gives the same string, so the digests agree.
            assert_eq!(crate::trade::value::parse_account_no(input).unwrap(), a.number);
            assert_eq!(a.last4, "3445");
        }
        assert_eq!(masked("3445"), "**** 3445");
        assert!(!format!("{:?}", validate("123456789012", "b", "h").unwrap()).contains("123456789012"));
    }

    #[test]
    fn bad_accounts_name_the_field_and_never_echo_the_number() {
        let code = |no: &str, bank: &str, holder: &str| {
            let e = validate(no, bank, holder).unwrap_err();
            assert!(!e.en.contains(no.trim()) || no.trim().is_empty(), "{e:?}");
            (e.field, e.code)
        };
        assert_eq!(code("", "b", "h"), ("account_no", "account_no_required"));
        assert_eq!(code("62220202ABC12233", "b", "h"), ("account_no", "account_no_not_digits"));
        assert_eq!(code("6222.0202.0011", "b", "h"), ("account_no", "account_no_not_digits"));
        assert_eq!(code("12345678", "b", "h"), ("account_no", "account_no_too_short"));
        assert_eq!(code(&"1".repeat(ACCOUNT_NO_DIGITS_MAX + 1), "b", "h"), ("account_no", "account_no_too_long"));
        assert_eq!(code("123456789", " ", "h"), ("bank_name", "name_required"));
        assert_eq!(code("123456789", &"行".repeat(BANK_NAME_CHARS_MAX + 1), "h"), ("bank_name", "name_too_long"));
        assert_eq!(code("123456789", "b", ""), ("holder_name", "name_required"));
        assert_eq!(code("123456789", "b", "a\u{7}b"), ("holder_name", "name_control_character"));
        // The bounds themselves pass: nine digits, and thirty.
        assert!(validate("123456789", "b", "h").is_ok());
        assert!(validate(&"9".repeat(ACCOUNT_NO_DIGITS_MAX), "b", "h").is_ok());
        // A corporate account without a Luhn check digit passes (Luhn is not required).
        assert!(validate("31050161393600000123", "中国建设银行上海分行", "上海某某有限公司").is_ok());
    }

    #[test]
    fn consent_is_needed_from_creditor_debtor_and_financier() {
        assert_eq!(required_consenters("c", "d", None), vec!["c", "d"]);
        assert_eq!(required_consenters("c", "d", Some("b")), vec!["b", "c", "d"]);
        assert_eq!(required_consenters("c", "d", Some("c")), vec!["c", "d"]);
        let req = required_consenters("c", "d", Some("b"));
        assert!(!all_consented(&req, &["c".into(), "d".into()]));
        assert!(all_consented(&req, &["d".into(), "b".into(), "c".into()]));
    }
}
