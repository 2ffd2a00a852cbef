//! The designated mailbox (定点邮箱): e-mail addresses as the platform stores them, the designated
//! address of an organisation, and the outcome recorded on each receipt.

use std::borrow::Cow;

use crate::labelled_enum;
use crate::limits::MAIL_ADDRESS_CHARS_MAX;
use crate::refusal::Refusal;

/// A mail address, trimmed and lower-cased (`local@domain`). Lower-casing the local part is not what
/// RFC 5321 promises, but every mail system our users meet treats it so, and one spelling per address
/// keeps the sender registry unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the address is empty")]
    Empty,
    #[error("the address has {found} characters; at most {max} are allowed")]
    TooLong { found: usize, max: usize },
    #[error("the address must look like name@example.com")]
    Shape,
}

impl AddressError {
    /// The explanation alone, as `Display` gives it in English; the refusal names the field before it.
    pub fn message_zh(&self) -> String {
        match self {
            AddressError::Empty => "邮箱地址不能为空".to_string(),
            AddressError::TooLong { found, max } => format!("邮箱地址长度为{found}个字符，最多允许{max}个"),
            AddressError::Shape => "邮箱地址格式应为 name@example.com".to_string(),
        }
    }
}

/// A mail address is asked for in one place, the sender registry's `address`; the refusal names it before
/// the explanation, in both languages.
impl Refusal for AddressError {
    fn code(&self) -> &'static str {
        "invalid_mail_address"
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed("address"))
    }

    fn en(&self) -> String {
        format!("address: {self}")
    }

    fn zh(&self) -> String {
        format!("address：{}", self.message_zh())
    }
}

/// Why a registered sender's message yielded no files to submit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("The message has {found} attachments; at most {max} are processed per message")]
    TooMany { found: usize, max: usize },
    #[error("The message's attachments cannot be read: {0}")]
    Unreadable(String),
}

impl Refusal for AttachmentError {
    fn code(&self) -> &'static str {
        match self {
            AttachmentError::TooMany { .. } => "mailbox_too_many_attachments",
            AttachmentError::Unreadable(_) => "mailbox_unreadable_message",
        }
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed("attachments"))
    }

    fn zh(&self) -> String {
        match self {
            AttachmentError::TooMany { found, max } => format!("邮件有{found}个附件，每封邮件最多处理{max}个"),
            AttachmentError::Unreadable(why) => format!("无法读取邮件附件：{why}"),
        }
    }
}

impl MailAddress {
    /// Parses `a@b.cn`, also written `<a@b.cn>`. Refuses spaces, control characters, quotes, a missing
    /// or repeated `@`, and a domain without a dot.
    pub fn parse(input: &str) -> Result<MailAddress, AddressError> {
        let s = input.trim();
        let s = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')).unwrap_or(s).trim();
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        let found = s.chars().count();
        if found > MAIL_ADDRESS_CHARS_MAX {
            return Err(AddressError::TooLong { found, max: MAIL_ADDRESS_CHARS_MAX });
        }
        let (local, domain) = s.split_once('@').ok_or(AddressError::Shape)?;
        let bad = |c: char| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"@".contains(c);
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.chars().any(bad) || !domain_ok {
            return Err(AddressError::Shape);
        }
        Ok(MailAddress(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(l, _)| l)
    }

    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }
}

impl std::fmt::Display for MailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The designated address of the organisation with credit code `uscc` at `mail_domain`: the code in
/// lower case, so that it is stable, unique and readable on the phone.
pub fn designated_address(uscc: &str, mail_domain: &str) -> String {
    format!("{}@{}", uscc.trim().to_lowercase(), mail_domain.trim().to_lowercase())
}

/// The credit code a designated local part stands for (upper case, as codes are stored), when the
/// address is at `mail_domain`; `None` for any other domain.
pub fn uscc_of_designated(address: &MailAddress, mail_domain: &str) -> Option<String> {
    if !address.domain().eq_ignore_ascii_case(mail_domain.trim()) {
        return None;
    }
    let local = address.local_part();
    (local.len() == 18 && local.chars().all(|c| c.is_ascii_alphanumeric())).then(|| local.to_uppercase())
}

labelled_enum!(
    /// What became of one received message, as its receipt records it.
    ReceiptOutcome, "outcome" {
        Accepted => ("accepted", "已全部接收", "Accepted"),
        PartiallyAccepted => ("partially_accepted", "部分接收", "Partially accepted"),
        Rejected => ("rejected", "未接收", "Rejected"),
        NoAttachment => ("mailbox_no_attachment", "邮件无附件", "No attachment"),
        TooManyAttachments => ("mailbox_too_many_attachments", "附件过多", "Too many attachments"),
        SenderUnknown => ("mailbox_sender_unknown", "发件人未登记", "Sender not registered"),
    }
);

impl ReceiptOutcome {
    /// Whether the platform answers the sender by mail. An unregistered sender never gets mail from us:
    /// its address may be forged, and answering it would send our mail to a stranger (backscatter).
    pub fn may_reply(self) -> bool {
        self != ReceiptOutcome::SenderUnknown
    }

    /// The outcome of a processed submission from its counts.
    pub fn from_counts(accepted: u64, rejected: u64, unchanged: u64) -> ReceiptOutcome {
        match (accepted + unchanged > 0, rejected > 0) {
            (true, false) => ReceiptOutcome::Accepted,
            (true, true) => ReceiptOutcome::PartiallyAccepted,
            (false, _) => ReceiptOutcome::Rejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_lower_cased_and_checked() {
        assert_eq!(MailAddress::parse(" <Zhang.San@Example.CN> ").unwrap().as_str(), "zhang.san@example.cn");
        assert_eq!(MailAddress::parse("a@b").unwrap_err(), AddressError::Shape);
        assert_eq!(MailAddress::parse("a b@c.cn").unwrap_err(), AddressError::Shape);
        assert_eq!(MailAddress::parse("a@@c.cn").unwrap_err(), AddressError::Shape);
        assert_eq!(MailAddress::parse("@c.cn").unwrap_err(), AddressError::Shape);
        assert_eq!(MailAddress::parse("a@c..cn").unwrap_err(), AddressError::Shape);
        assert_eq!(MailAddress::parse("").unwrap_err(), AddressError::Empty);
        let long = format!("{}@example.cn", "a".repeat(250));
        assert!(matches!(MailAddress::parse(&long), Err(AddressError::TooLong { .. })));
        assert_eq!(MailAddress::parse("财务@例子.中国").unwrap().domain(), "例子.中国");
    }

    #[test]
    fn a_designated_address_maps_back_to_its_credit_code_only_at_our_domain() {
        let a = designated_address("91500112MA0000017L", "Lake.Example.CN");
        assert_eq!(a, "91500112ma0000017l@lake.example.cn");
        let parsed = MailAddress::parse(&a).unwrap();
        assert_eq!(uscc_of_designated(&parsed, "lake.example.cn").as_deref(), Some("91500112MA0000017L"));
        assert_eq!(uscc_of_designated(&parsed, "other.example.cn"), None);
        let short = MailAddress::parse("finance@lake.example.cn").unwrap();
        assert_eq!(uscc_of_designated(&short, "lake.example.cn"), None);
    }

    #[test]
    fn outcomes_follow_the_counts_and_strangers_get_no_reply() {
        assert_eq!(ReceiptOutcome::from_counts(3, 0, 0), ReceiptOutcome::Accepted);
        assert_eq!(ReceiptOutcome::from_counts(0, 0, 2), ReceiptOutcome::Accepted);
        assert_eq!(ReceiptOutcome::from_counts(3, 1, 0), ReceiptOutcome::PartiallyAccepted);
        assert_eq!(ReceiptOutcome::from_counts(0, 4, 0), ReceiptOutcome::Rejected);
        assert_eq!(ReceiptOutcome::from_counts(0, 0, 0), ReceiptOutcome::Rejected);
        assert!(!ReceiptOutcome::SenderUnknown.may_reply());
        assert!(ReceiptOutcome::Rejected.may_reply());
    }
}
