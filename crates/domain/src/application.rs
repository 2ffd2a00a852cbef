//! Financing applications (融资申请): what a supplier finances, the automatic pre-check a
//! bank's officer sees before reading anything, the four-eyes rule, and the bank's service time in
//! working days. Pure rules; the app gathers the facts.

use jiff::civil::{Date, Weekday};

use crate::labelled_enum;
use crate::product::{Ineligibility, ProductKind};

/// Banks one application may go to at once (as on the central bank's platform, several may be chosen).
pub const OFFERS_MAX: usize = 5;
/// Receivables one application may name.
pub const INVOICES_MAX: usize = 100;
/// A decision above this amount needs a second approver (¥1,000,000).
pub const SECOND_APPROVAL_ABOVE_FEN: i64 = 100_000_000;
/// The city's service goal: a decision within ten working days of the application.
pub const SERVICE_GOAL_WORKING_DAYS: i64 = 10;
/// A decision's reason, and an application's purpose.
pub const REASON_CHARS_MAX: usize = 500;

labelled_enum!(
    /// What is financed.
    Subject, "subject" {
        Receivables => ("receivables", "应收账款", "Receivables"),
        CommitmentPart => ("commitment_part", "债权凭证份额", "Payment-commitment part"),
        Order => ("order", "订单", "Purchase order"),
    }
);

labelled_enum!(
    /// Whether an application still has an offer open.
    ApplicationState, "application_state" {
        Open => ("open", "进行中", "Open"),
        Withdrawn => ("withdrawn", "已撤回", "Withdrawn"),
        Closed => ("closed", "已结束", "Closed"),
    }
);

labelled_enum!(
    /// Where one bank's offer of an application stands.
    OfferState, "offer_state" {
        PrecheckFailed => ("precheck_failed", "预审未通过", "Failed the pre-check"),
        PendingReview => ("pending_review", "待审查", "Awaiting review"),
        AwaitingSecond => ("awaiting_second", "待复核审批", "Awaiting the second approver"),
        Approved => ("approved", "已批准", "Approved"),
        Rejected => ("rejected", "已拒绝", "Rejected"),
        Disbursed => ("disbursed", "已放款", "Disbursed"),
        Closed => ("closed", "已关闭", "Closed"),
    }
);

impl OfferState {
    /// Still open for a decision or a payout.
    pub fn is_open(self) -> bool {
        matches!(self, OfferState::PendingReview | OfferState::AwaitingSecond | OfferState::Approved)
    }
}

/// The product kinds that finance a subject.
pub fn kind_fits(kind: ProductKind, subject: Subject) -> bool {
    match subject {
        Subject::Receivables => matches!(
            kind,
            ProductKind::ReceivableFinancing
                | ProductKind::FactoringWithRecourse
                | ProductKind::FactoringWithoutRecourse
                | ProductKind::ReverseFactoring
                | ProductKind::DataOnlyCredit
        ),
        Subject::CommitmentPart => kind == ProductKind::CommitmentDiscount,
        Subject::Order => kind == ProductKind::OrderFinancing,
    }
}

/// One finding of the pre-check. A blocking one stops the offer before a person looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: String,
    pub blocking: bool,
    pub zh: String,
    pub en: String,
}

impl Finding {
    fn block(code: &str, zh: String, en: String) -> Finding {
        Finding { code: code.into(), blocking: true, zh, en }
    }

    fn warn(code: &str, zh: String, en: String) -> Finding {
        Finding { code: code.into(), blocking: false, zh, en }
    }
}

/// What the pre-check judges, gathered by the app for one bank's product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecheckFacts {
    pub subject: Subject,
    pub product_kind: ProductKind,
    pub product_published: bool,
    /// The product's own eligibility rules (chain, tier, evidence, amount, term).
    pub ineligibility: Vec<Ineligibility>,
    /// Invoices whose four flows are not all verified.
    pub unverified: Vec<String>,
    /// Invoices whose debtor takes longer than the SME payment regulation allows (days beyond 60).
    pub sme_breaches: Vec<(String, i64)>,
    pub amount_fen: i64,
    /// What the subject supports at the product's advance ratio.
    pub advance_limit_fen: i64,
}

/// The pre-check: each rule names what it found. Registration (double financing) is refused before an
/// application exists, so it never reaches a bank.
pub fn precheck(f: &PrecheckFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    if !f.product_published {
        out.push(Finding::block(
            "product_not_published",
            "该产品未发布或已下架".into(),
            "The product is not published".into(),
        ));
    }
    if !kind_fits(f.product_kind, f.subject) {
        out.push(Finding::block(
            "product_kind_mismatch",
            format!("{}不适用于{}", f.product_kind.label_zh(), f.subject.label_zh()),
            format!("A {} product does not finance {}", f.product_kind.label_en(), f.subject.label_en()),
        ));
    }
    for i in &f.ineligibility {
        out.push(Finding::block(i.code(), i.message_zh(), i.message_en()));
    }
    if !f.unverified.is_empty() {
        out.push(Finding::block(
            "not_verified",
            format!("发票 {} 未通过四流核验", f.unverified.join("、")),
            format!("Invoice(s) {} are not four-flow verified", f.unverified.join(", ")),
        ));
    }
    if f.amount_fen > f.advance_limit_fen {
        out.push(Finding::block(
            "above_advance_limit",
            format!("申请{}分，超过按融资比例可融资的{}分", f.amount_fen, f.advance_limit_fen),
            format!("{} fen asked; the advance ratio allows {} fen", f.amount_fen, f.advance_limit_fen),
        ));
    }
    for (invoice, days) in &f.sme_breaches {
        out.push(Finding::warn(
            "sme_payment_term",
            format!("发票 {invoice} 的账期超出《保障中小企业款项支付条例》60天上限{days}天"),
            format!("Invoice {invoice}: the debtor's term exceeds the SME payment regulation's 60 days by {days}"),
        ));
    }
    out
}

/// Working days from `from` to `to` (Monday to Friday, the first day not counted): the unit of the
/// city's service goal. Public holidays are not modelled; the figure is then an upper bound.
pub fn working_days(from: Date, to: Date) -> i64 {
    if to <= from {
        return 0;
    }
    let mut n = 0;
    let mut d = from;
    while d < to {
        d = match d.tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
        if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
            n += 1;
        }
    }
    n
}

/// Whether a decision of `amount_fen` needs a second approver.
pub fn needs_second_approver(amount_fen: i64) -> bool {
    amount_fen > SECOND_APPROVAL_ABOVE_FEN
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn facts() -> PrecheckFacts {
        PrecheckFacts {
            subject: Subject::Receivables,
            product_kind: ProductKind::ReceivableFinancing,
            product_published: true,
            ineligibility: Vec::new(),
            unverified: Vec::new(),
            sme_breaches: Vec::new(),
            amount_fen: 80,
            advance_limit_fen: 80,
        }
    }

    #[test]
    fn a_clean_application_passes_and_each_rule_names_its_finding() {
        assert!(precheck(&facts()).is_empty());
        let f = PrecheckFacts {
            product_published: false,
            subject: Subject::CommitmentPart,
            unverified: vec!["INV1".into()],
            amount_fen: 81,
            sme_breaches: vec![("INV2".into(), 30)],
            ..facts()
        };
        let codes: Vec<(String, bool)> = precheck(&f).into_iter().map(|x| (x.code, x.blocking)).collect();
        assert_eq!(
            codes,
            vec![
                ("product_not_published".into(), true),
                ("product_kind_mismatch".into(), true),
                ("not_verified".into(), true),
                ("above_advance_limit".into(), true),
                ("sme_payment_term".into(), false),
            ]
        );
    }

    #[test]
    fn working_days_skip_weekends() {
        // Monday 2026-11-23 to the next Monday: five working days.
        assert_eq!(working_days(date(2026, 11, 23), date(2026, 11, 30)), 5);
        assert_eq!(working_days(date(2026, 11, 27), date(2026, 11, 30)), 1, "Friday to Monday");
        assert_eq!(working_days(date(2026, 11, 30), date(2026, 11, 30)), 0);
        assert_eq!(working_days(date(2026, 11, 30), date(2026, 11, 23)), 0);
    }

    #[test]
    fn large_decisions_need_two_people() {
        assert!(!needs_second_approver(SECOND_APPROVAL_ABOVE_FEN));
        assert!(needs_second_approver(SECOND_APPROVAL_ABOVE_FEN + 1));
    }
}
