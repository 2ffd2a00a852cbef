//! Receivables from verified trade: the due date from the payment term (the one rule for it), ageing, the SME
//! payment regulation's 60-day limit for large buyers, and statutory late interest (《保障中小企业款项支付条例》, 2025
//! revision, Art. 9 and 17; docs/domain-rules.md, "SME payment regulation"). Pure and exact: money is integer
//! fen, interest is computed in integers with half-away-from-zero rounding.

use jiff::Span;
use jiff::civil::Date;

use crate::labelled_enum;
use crate::trade::TermBasis;

/// A large enterprise pays an SME within this many days of delivery (Art. 9, 2025 revision).
pub const SME_PAYMENT_DAYS_MAX: i64 = 60;
/// Late interest when none was agreed: 0.05 % per day (Art. 17), in parts per ten thousand per day.
pub const DEFAULT_LATE_INTEREST_PER_10K_PER_DAY: i64 = 5;
/// The day count for an agreed annual rate: actual days over 365.
pub const DAYS_PER_YEAR: i64 = 365;

fn plus(d: Date, days: i64) -> Option<Date> {
    d.checked_add(Span::new().try_days(days).ok()?).ok()
}

/// The due date of a receivable: the term counted from its basis — delivery (the default), acceptance
/// (falling back to delivery when no acceptance date is known), the invoice, or the end of the month of
/// delivery (月结). `None` when the term or the basis's date is unknown.
pub fn due_date(
    basis: Option<TermBasis>,
    term_days: Option<i64>,
    delivered: Option<Date>,
    accepted: Option<Date>,
    invoiced: Option<Date>,
) -> Option<Date> {
    let term = term_days?;
    let start = match basis.unwrap_or(TermBasis::Delivery) {
        TermBasis::Delivery => delivered?,
        TermBasis::Acceptance => accepted.or(delivered)?,
        TermBasis::Invoice => invoiced?,
        TermBasis::MonthEnd => delivered?.last_of_month(),
    };
    plus(start, term)
}

labelled_enum!(
    /// How long a receivable has been overdue.
    AgeingBucket, "ageing" {
        NotDue => ("not_due", "未到期", "Not yet due"),
        Days1To30 => ("1_30", "逾期1–30天", "1–30 days overdue"),
        Days31To60 => ("31_60", "逾期31–60天", "31–60 days overdue"),
        Days61To90 => ("61_90", "逾期61–90天", "61–90 days overdue"),
        Days91To180 => ("91_180", "逾期91–180天", "91–180 days overdue"),
        Over180 => ("over_180", "逾期180天以上", "Over 180 days overdue"),
    }
);

/// Days past the due date on `today` (zero when not yet due).
pub fn overdue_days(due: Date, today: Date) -> i64 {
    if today <= due { 0 } else { i64::from(today.since(due).map(|s| s.get_days()).unwrap_or(0)) }
}

pub fn ageing(due: Date, today: Date) -> AgeingBucket {
    match overdue_days(due, today) {
        0 => AgeingBucket::NotDue,
        1..=30 => AgeingBucket::Days1To30,
        31..=60 => AgeingBucket::Days31To60,
        61..=90 => AgeingBucket::Days61To90,
        91..=180 => AgeingBucket::Days91To180,
        _ => AgeingBucket::Over180,
    }
}

/// A payment term that breaks the SME payment regulation: a large buyer paying an SME later than 60
/// days after delivery. Answers the days beyond the limit.
pub fn sme_term_breach(buyer_is_large: bool, seller_is_sme: bool, delivered: Date, due: Date) -> Option<i64> {
    if !(buyer_is_large && seller_is_sme) {
        return None;
    }
    let limit = plus(delivered, SME_PAYMENT_DAYS_MAX)?;
    (due > limit).then(|| i64::from(due.since(limit).map(|s| s.get_days()).unwrap_or(0)))
}

/// Divides with rounding half away from zero (the platform's one rounding rule for money).
fn div_round(numerator: i128, denominator: i128) -> i128 {
    let q = numerator / denominator;
    let r = numerator % denominator;
    if 2 * r.abs() >= denominator.abs() { q + numerator.signum() * denominator.signum() } else { q }
}

/// Statutory late interest on `principal_fen` overdue for `days`: at the agreed annual rate in basis
/// points (actual/365), or by default 0.05 % per day. Exact integer arithmetic, rounded once, half away
/// from zero, to the fen. An agreed rate may not be below the 1-year LPR; checking that is the caller's
/// (it needs the LPR at the contract's date).
pub fn late_interest_fen(principal_fen: i64, days: i64, agreed_annual_bp: Option<i64>) -> i64 {
    if principal_fen <= 0 || days <= 0 {
        return 0;
    }
    let (p, d) = (i128::from(principal_fen), i128::from(days));
    let interest = match agreed_annual_bp {
        Some(bp) => div_round(p * i128::from(bp.max(0)) * d, 10_000 * i128::from(DAYS_PER_YEAR)),
        None => div_round(p * i128::from(DEFAULT_LATE_INTEREST_PER_10K_PER_DAY) * d, 10_000),
    };
    i64::try_from(interest).unwrap_or(i64::MAX)
}

/// What is still owed on an invoice: invoiced less paid, credited and reversed, never below zero.
pub fn outstanding_fen(invoiced_fen: i64, paid_fen: i64, credited_fen: i64, reversed_fen: i64) -> i64 {
    (invoiced_fen - paid_fen - credited_fen - reversed_fen).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn the_due_date_counts_the_term_from_its_basis() {
        let (d, a, i) = (date(2026, 3, 10), date(2026, 3, 15), date(2026, 3, 20));
        assert_eq!(due_date(None, Some(60), Some(d), Some(a), Some(i)), Some(date(2026, 5, 9)));
        assert_eq!(due_date(Some(TermBasis::Acceptance), Some(30), Some(d), Some(a), Some(i)), Some(date(2026, 4, 14)));
        assert_eq!(due_date(Some(TermBasis::Acceptance), Some(30), Some(d), None, Some(i)), Some(date(2026, 4, 9)));
        assert_eq!(due_date(Some(TermBasis::Invoice), Some(30), Some(d), Some(a), Some(i)), Some(date(2026, 4, 19)));
        assert_eq!(due_date(Some(TermBasis::MonthEnd), Some(60), Some(d), Some(a), Some(i)), Some(date(2026, 5, 30)));
        assert_eq!(due_date(None, None, Some(d), None, None), None);
    }

    #[test]
    fn ageing_buckets_and_the_sme_rule() {
        let due = date(2026, 6, 1);
        assert_eq!(ageing(due, date(2026, 6, 1)), AgeingBucket::NotDue);
        assert_eq!(ageing(due, date(2026, 6, 2)), AgeingBucket::Days1To30);
        assert_eq!(ageing(due, date(2026, 8, 15)), AgeingBucket::Days61To90);
        assert_eq!(ageing(due, date(2027, 1, 1)), AgeingBucket::Over180);
        let delivered = date(2026, 3, 1);
        assert_eq!(sme_term_breach(true, true, delivered, date(2026, 4, 30)), None, "60 days is allowed");
        assert_eq!(sme_term_breach(true, true, delivered, date(2026, 5, 30)), Some(30), "90 days breaks it");
        assert_eq!(sme_term_breach(false, true, delivered, date(2026, 5, 30)), None, "an SME buyer is not bound");
        assert_eq!(sme_term_breach(true, false, delivered, date(2026, 5, 30)), None, "nor is a large seller protected");
    }

    #[test]
    fn late_interest_is_exact_and_rounded_once() {
        // ¥10,000.00 overdue 30 days at 0.05 %/day = ¥150.00.
        assert_eq!(late_interest_fen(1_000_000, 30, None), 15_000);
        // ¥10.10 for 1 day at 0.05 % = 0.505 fen, rounded to 1 fen.
        assert_eq!(late_interest_fen(1_010, 1, None), 1);
        assert_eq!(late_interest_fen(1_000, 1, None), 1, "0.5 fen rounds half away from zero");
        // An agreed 3.1 % a year (310 bp) on ¥1,000,000 for 73 days = ¥6,200.00.
        assert_eq!(late_interest_fen(100_000_000, 73, Some(310)), 620_000);
        assert_eq!(late_interest_fen(-5, 10, None), 0);
        assert_eq!(outstanding_fen(100, 30, 10, 0), 60);
        assert_eq!(outstanding_fen(100, 130, 0, 0), 0);
    }

    proptest! {
        #[test]
        fn interest_never_overflows_and_grows_with_time(p in 0i64..=i64::MAX / 4, d in 0i64..3650, bp in proptest::option::of(0i64..5_000)) {
            let a = late_interest_fen(p, d, bp);
            let b = late_interest_fen(p, d + 1, bp);
            prop_assert!(a >= 0 && b >= a);
        }
    }
}
