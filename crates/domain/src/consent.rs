//! Data authorisation (数据授权): an organisation that owns trade data — mostly a supplier — lets
//! one bank use named categories of it, for a stated purpose, until a date. Derived figures come first
//! (receivables, verified totals); raw records are a category of their own that must be ticked. The
//! owner revokes at any time; a consent past its date is expired. These are the pure rules: which
//! categories exist, how long a consent may run, and what state it is in on a given day.

use std::borrow::Cow;

use jiff::civil::Date;

use crate::labelled_enum;
use crate::refusal::Refusal;

/// Why the bank may use the data (e.g. 应收账款融资申请审查).
pub const PURPOSE_CHARS_MAX: usize = 200;
/// A financing application's id, when the consent is given for one.
pub const APPLICATION_ID_CHARS_MAX: usize = 64;
/// A consent runs at most twelve months from the day it is given; renewing is a new consent.
pub const VALID_MONTHS_MAX: i8 = 12;

labelled_enum!(
    /// What a consent covers. Receivables and trade totals are figures the platform derives; raw
    /// records are the owner's trade rows themselves; the reference score is the rating model's.
    Category, "category" {
        Receivables => ("receivables", "应收账款明细", "Receivables"),
        TradeTotals => ("trade_totals", "经核验的交易汇总", "Verified trade totals"),
        RawRecords => ("raw_records", "原始交易记录", "Raw trade records"),
        ReferenceScore => ("reference_score", "参考评分", "Reference score"),
    }
);

labelled_enum!(
    /// A consent's state on a given day; `expired` is derived from its date, never stored.
    ConsentState, "state" {
        Granted => ("granted", "有效", "Granted"),
        Revoked => ("revoked", "已撤销", "Revoked"),
        Expired => ("expired", "已过期", "Expired"),
    }
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("tick at least one category of data")]
    NoCategory,
    #[error("a consent must end after today ({today})")]
    EndsTooSoon { today: Date },
    #[error("a consent runs at most {VALID_MONTHS_MAX} months, until {latest} at the latest")]
    EndsTooLate { latest: Date },
}

impl Refusal for ConsentError {
    fn code(&self) -> &'static str {
        match self {
            ConsentError::NoCategory => "no_category",
            ConsentError::EndsTooSoon { .. } => "valid_until_too_soon",
            ConsentError::EndsTooLate { .. } => "valid_until_too_late",
        }
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed(match self {
            ConsentError::NoCategory => "categories",
            _ => "valid_until",
        }))
    }

    fn zh(&self) -> String {
        match self {
            ConsentError::NoCategory => "请至少选择一类授权数据".into(),
            ConsentError::EndsTooSoon { today } => format!("授权截止日须晚于今天（{today}）"),
            ConsentError::EndsTooLate { latest } => {
                format!("授权期限最长{VALID_MONTHS_MAX}个月，截止日最晚为{latest}")
            }
        }
    }
}

/// The last day a consent given on `today` may run to.
pub fn latest_valid_until(today: Date) -> Date {
    today.checked_add(jiff::Span::new().months(VALID_MONTHS_MAX)).unwrap_or(today)
}

/// Checks a consent's end date: after today, at most [`VALID_MONTHS_MAX`] months ahead.
pub fn check_valid_until(valid_until: Date, today: Date) -> Result<(), ConsentError> {
    if valid_until <= today {
        return Err(ConsentError::EndsTooSoon { today });
    }
    let latest = latest_valid_until(today);
    if valid_until > latest {
        return Err(ConsentError::EndsTooLate { latest });
    }
    Ok(())
}

/// The categories as a sorted set without duplicates; at least one.
pub fn check_categories(categories: &[Category]) -> Result<Vec<Category>, ConsentError> {
    let mut out = categories.to_vec();
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(ConsentError::NoCategory);
    }
    Ok(out)
}

/// A consent's state on `today`: revoked stays revoked; otherwise it is in force through its
/// `valid_until` day and expired after it.
pub fn state_on(revoked: bool, valid_until: Date, today: Date) -> ConsentState {
    if revoked {
        ConsentState::Revoked
    } else if today > valid_until {
        ConsentState::Expired
    } else {
        ConsentState::Granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_consent_runs_from_tomorrow_to_a_year_ahead() {
        let today = date(2026, 3, 15);
        assert_eq!(check_valid_until(date(2026, 3, 16), today), Ok(()));
        assert_eq!(check_valid_until(date(2027, 3, 15), today), Ok(()));
        assert_eq!(check_valid_until(date(2026, 3, 15), today), Err(ConsentError::EndsTooSoon { today }));
        assert_eq!(
            check_valid_until(date(2027, 3, 16), today),
            Err(ConsentError::EndsTooLate { latest: date(2027, 3, 15) })
        );
        // A year from a leap day ends on the last day of February.
        assert_eq!(latest_valid_until(date(2028, 2, 29)), date(2029, 2, 28));
        let e = check_valid_until(date(2030, 1, 1), today).unwrap_err();
        assert_eq!((e.field().as_deref(), e.code()), (Some("valid_until"), "valid_until_too_late"));
        assert!(e.zh().contains("2027-03-15"));
    }

    #[test]
    fn categories_are_a_set_of_at_least_one() {
        use Category::*;
        assert_eq!(check_categories(&[RawRecords, Receivables, RawRecords]), Ok(vec![Receivables, RawRecords]));
        assert_eq!(check_categories(&[]), Err(ConsentError::NoCategory));
        assert_eq!(Category::parse("trade_totals"), Ok(TradeTotals));
        assert!(Category::parse("everything").is_err());
    }

    #[test]
    fn revoked_wins_and_expiry_follows_the_date() {
        let until = date(2026, 6, 30);
        assert_eq!(state_on(false, until, date(2026, 6, 30)), ConsentState::Granted);
        assert_eq!(state_on(false, until, date(2026, 7, 1)), ConsentState::Expired);
        assert_eq!(state_on(true, until, date(2026, 1, 1)), ConsentState::Revoked);
        assert_eq!(state_on(true, until, date(2027, 1, 1)), ConsentState::Revoked);
    }
}
