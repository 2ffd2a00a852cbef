//! Loans: the money a bank advanced on an approved application, its interest and fees,
//! how a repayment is applied, and when it is overdue. Exact in fen.
//!
//! Day count and rounding, as Chinese banks quote RMB loans: an annual rate in basis points, a 360-day
//! year (日利率 = 年利率 ÷ 360), actual days elapsed (ACT/360); every amount is rounded half up to the fen
//! once, at the end, from an exact integer product. Fees are charged once, on the advance. A repayment
//! pays accrued interest first, then principal.

use jiff::civil::Date;

use crate::labelled_enum;

labelled_enum!(
    /// Whether a loan still has principal to repay.
    LoanState, "loan_state" {
        Outstanding => ("outstanding", "未结清", "Outstanding"),
        Repaid => ("repaid", "已结清", "Repaid"),
    }
);

/// The days of the year the annual rate is divided by.
pub const DAY_COUNT_BASIS: i64 = 360;
/// An annual rate above this (36 %, the judicial ceiling for lending) is refused as a typing error.
pub const RATE_BP_MAX: i64 = 3_600;
/// A loan runs at most this many days.
pub const TERM_DAYS_MAX: i64 = 3 * 365;

/// `numerator / denominator` rounded half up, for non-negative values.
fn div_half_up(numerator: i128, denominator: i128) -> i64 {
    if denominator <= 0 {
        return 0;
    }
    let q = (numerator * 2 + denominator) / (denominator * 2);
    i64::try_from(q).unwrap_or(i64::MAX)
}

/// Interest on `principal_fen` at `rate_bp` a year for `days` days, ACT/360, half up.
pub fn interest_fen(principal_fen: i64, rate_bp: i64, days: i64) -> i64 {
    if principal_fen <= 0 || rate_bp <= 0 || days <= 0 {
        return 0;
    }
    div_half_up(
        i128::from(principal_fen) * i128::from(rate_bp) * i128::from(days),
        10_000 * i128::from(DAY_COUNT_BASIS),
    )
}

/// The one-off fee on an advance: `fee_bp` of it plus a fixed fee, half up.
pub fn fee_fen(advance_fen: i64, fee_bp: i64, fee_fixed_fen: i64) -> i64 {
    div_half_up(i128::from(advance_fen.max(0)) * i128::from(fee_bp.max(0)), 10_000).saturating_add(fee_fixed_fen.max(0))
}

/// Days from `from` to `to` (zero when `to` is not after `from`).
pub fn days_between(from: Date, to: Date) -> i64 {
    if to <= from {
        return 0;
    }
    i64::from(from.until(to).map(|s| s.get_days()).unwrap_or(0))
}

/// How a repayment is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub interest_fen: i64,
    pub principal_fen: i64,
    /// What is left over once the loan is repaid (returned to the payer, never kept).
    pub excess_fen: i64,
}

/// Applies `amount_fen` to the interest due, then to the principal outstanding.
pub fn allocate(amount_fen: i64, interest_due_fen: i64, principal_outstanding_fen: i64) -> Allocation {
    let amount = amount_fen.max(0);
    let interest = amount.min(interest_due_fen.max(0));
    let principal = (amount - interest).min(principal_outstanding_fen.max(0));
    Allocation { interest_fen: interest, principal_fen: principal, excess_fen: amount - interest - principal }
}

/// Days past maturity on `today` while principal is outstanding; zero otherwise.
pub fn overdue_days(maturity: Date, today: Date, principal_outstanding_fen: i64) -> i64 {
    if principal_outstanding_fen <= 0 { 0 } else { days_between(maturity, today) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn interest_is_act_360_rounded_half_up_once() {
        // ¥1,000,000 at 4.35 % for 90 days: 1e8 fen × 435 × 90 / 3.6e6 = 1,087,500 fen exactly.
        assert_eq!(interest_fen(100_000_000, 435, 90), 1_087_500);
        // ¥100.01 at 3.65 % a year: 1.014… fen a day → 1; 101.40… fen for 100 days → 101.
        assert_eq!(interest_fen(10_001, 365, 1), 1);
        assert_eq!(interest_fen(10_001, 365, 100), 101);
        // Exactly half a fen rounds up: 1,800,000 fen at 1 bp for one day is 0.5 fen.
        assert_eq!(interest_fen(1_800_000, 1, 1), 1);
        assert_eq!(interest_fen(1_799_999, 1, 1), 0);
        assert_eq!(interest_fen(0, 435, 90), 0);
        assert_eq!(interest_fen(100, -5, 90), 0);
    }

    #[test]
    fn fees_and_repayments_are_exact() {
        assert_eq!(fee_fen(10_000_000, 50, 20_000), 70_000);
        assert_eq!(allocate(1_000, 300, 500), Allocation { interest_fen: 300, principal_fen: 500, excess_fen: 200 });
        assert_eq!(allocate(200, 300, 500), Allocation { interest_fen: 200, principal_fen: 0, excess_fen: 0 });
        assert_eq!(overdue_days(date(2027, 1, 1), date(2027, 1, 11), 1), 10);
        assert_eq!(overdue_days(date(2027, 1, 1), date(2027, 1, 11), 0), 0);
        assert_eq!(days_between(date(2026, 12, 1), date(2027, 3, 1)), 90);
    }

    proptest! {
        #[test]
        fn a_repayment_is_split_without_losing_a_fen(amount in 0i64..1_000_000_000, interest in 0i64..10_000_000, principal in 0i64..1_000_000_000) {
            let a = allocate(amount, interest, principal);
            prop_assert_eq!(a.interest_fen + a.principal_fen + a.excess_fen, amount);
            prop_assert!(a.interest_fen <= interest && a.principal_fen <= principal && a.excess_fen >= 0);
        }

        #[test]
        fn interest_grows_with_days_and_never_overflows(p in 0i64..i64::MAX / 4, r in 0i64..RATE_BP_MAX, d in 0i64..TERM_DAYS_MAX) {
            prop_assert!(interest_fen(p, r, d) <= interest_fen(p, r, d + 1));
        }
    }
}
