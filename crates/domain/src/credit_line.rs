//! Dedicated supply-chain credit lines: a bank grants a core — or a supplier — a
//! line; issuing a commitment or approving a financing occupies part of it and repayment releases it.
//! The one rule that matters: a line is never exceeded. The database enforces it with a conditional
//! update (`used + amount <= limit`), so concurrent requests cannot both pass; these are the pure checks
//! and the arithmetic, exact in fen.

use std::borrow::Cow;

use jiff::civil::Date;

use crate::labelled_enum;
use crate::refusal::Refusal;

/// The largest line the platform records: ¥100 billion, far above any single bank's exposure to one
/// chain, and far below where fen sums could overflow.
pub const LIMIT_FEN_MAX: i64 = 10_000_000_000_000;
/// A line runs for at most five years.
pub const TERM_DAYS_MAX: i64 = 5 * 366;
/// What an occupation or release names (a commitment, a loan), so that a retry is recognised.
pub const REFERENCE_CHARS_MAX: usize = 100;

labelled_enum!(
    /// Whom the line is for.
    LineKind, "kind" {
        CoreSupplyChain => ("core_supply_chain", "核心企业供应链专项授信", "Core's supply-chain line"),
        Supplier => ("supplier", "供应商授信", "Supplier's line"),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the limit must be positive and at most {LIMIT_FEN_MAX} fen")]
    LimitOutOfBounds,
    #[error("the line must end after it starts, within {TERM_DAYS_MAX} days")]
    TermOutOfBounds,
    #[error("amounts are positive, whole fen")]
    AmountNotPositive,
    #[error("{asked} fen asked, {available} fen available on the line")]
    Exceeded { asked: i64, available: i64 },
    #[error("the line is not in force on {0}")]
    NotInForce(Date),
    #[error("{asked} fen to release, {used} fen in use")]
    ReleaseExceedsUse { asked: i64, used: i64 },
}

impl Refusal for LineError {
    fn code(&self) -> &'static str {
        match self {
            LineError::LimitOutOfBounds => "limit_out_of_bounds",
            LineError::TermOutOfBounds => "term_out_of_bounds",
            LineError::AmountNotPositive => "amount_not_positive",
            LineError::Exceeded { .. } => "line_exceeded",
            LineError::NotInForce(_) => "line_not_in_force",
            LineError::ReleaseExceedsUse { .. } => "release_exceeds_use",
        }
    }

    /// A grant's refusals name the field at fault (a term that ends too early or too late names its end);
    /// an occupation's or a release's name the amount moved.
    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed(match self {
            LineError::LimitOutOfBounds => "limit_fen",
            LineError::TermOutOfBounds => "valid_until",
            LineError::AmountNotPositive
            | LineError::Exceeded { .. }
            | LineError::NotInForce(_)
            | LineError::ReleaseExceedsUse { .. } => "amount_fen",
        }))
    }

    fn zh(&self) -> String {
        match self {
            LineError::LimitOutOfBounds => "授信额度须为正数且不超过上限".to_string(),
            LineError::TermOutOfBounds => "授信期限须晚于起始日且不超过五年".to_string(),
            LineError::AmountNotPositive => "金额须为正数（分）".to_string(),
            LineError::Exceeded { asked, available } => format!("申请占用{asked}分，额度可用仅{available}分"),
            LineError::NotInForce(d) => format!("授信额度在{d}不在有效期内"),
            LineError::ReleaseExceedsUse { asked, used } => format!("释放{asked}分，超过已占用的{used}分"),
        }
    }
}

/// Checks a grant's limit and term.
pub fn check_grant(limit_fen: i64, valid_from: Date, valid_until: Date) -> Result<(), LineError> {
    if limit_fen <= 0 || limit_fen > LIMIT_FEN_MAX {
        return Err(LineError::LimitOutOfBounds);
    }
    let days = i64::from(valid_from.until(valid_until).map(|s| s.get_days()).unwrap_or(0));
    if valid_until <= valid_from || days > TERM_DAYS_MAX {
        return Err(LineError::TermOutOfBounds);
    }
    Ok(())
}

/// Whether `amount_fen` may be occupied on a line of `limit_fen` with `used_fen` in use, on `today`
/// within its term. The store repeats the comparison in its update, atomically.
pub fn check_occupy(
    limit_fen: i64,
    used_fen: i64,
    amount_fen: i64,
    today: Date,
    valid_from: Date,
    valid_until: Date,
) -> Result<(), LineError> {
    if amount_fen <= 0 {
        return Err(LineError::AmountNotPositive);
    }
    if today < valid_from || today > valid_until {
        return Err(LineError::NotInForce(today));
    }
    let available = limit_fen - used_fen;
    if amount_fen > available {
        return Err(LineError::Exceeded { asked: amount_fen, available });
    }
    Ok(())
}

/// Whether `amount_fen` may be released from `used_fen` in use.
pub fn check_release(used_fen: i64, amount_fen: i64) -> Result<(), LineError> {
    if amount_fen <= 0 {
        return Err(LineError::AmountNotPositive);
    }
    if amount_fen > used_fen {
        return Err(LineError::ReleaseExceedsUse { asked: amount_fen, used: used_fen });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn grants_occupations_and_releases_keep_within_the_line() {
        let (from, until) = (date(2026, 1, 1), date(2026, 12, 31));
        assert_eq!(check_grant(1, from, until), Ok(()));
        assert_eq!(check_grant(0, from, until), Err(LineError::LimitOutOfBounds));
        assert_eq!(check_grant(LIMIT_FEN_MAX + 1, from, until), Err(LineError::LimitOutOfBounds));
        assert_eq!(check_grant(1, until, from), Err(LineError::TermOutOfBounds));
        assert_eq!(check_grant(1, from, date(2032, 1, 1)), Err(LineError::TermOutOfBounds));
        let today = date(2026, 6, 1);
        assert_eq!(check_occupy(100, 40, 60, today, from, until), Ok(()));
        assert_eq!(
            check_occupy(100, 40, 61, today, from, until),
            Err(LineError::Exceeded { asked: 61, available: 60 })
        );
        assert_eq!(check_occupy(100, 0, 0, today, from, until), Err(LineError::AmountNotPositive));
        assert_eq!(
            check_occupy(100, 0, 1, date(2027, 1, 1), from, until),
            Err(LineError::NotInForce(date(2027, 1, 1)))
        );
        assert_eq!(check_release(40, 40), Ok(()));
        assert_eq!(check_release(40, 41), Err(LineError::ReleaseExceedsUse { asked: 41, used: 40 }));
    }

    proptest! {
        #[test]
        fn whatever_is_asked_the_line_is_never_exceeded(asks in proptest::collection::vec((any::<bool>(), 1i64..500), 1..100)) {
            let (from, until, today) = (date(2026, 1, 1), date(2026, 12, 31), date(2026, 6, 1));
            let limit = 1_000;
            let mut used = 0i64;
            for (occupy, amount) in asks {
                if occupy {
                    if check_occupy(limit, used, amount, today, from, until).is_ok() {
                        used += amount;
                    }
                } else if check_release(used, amount).is_ok() {
                    used -= amount;
                }
                prop_assert!((0..=limit).contains(&used));
            }
        }
    }
}
