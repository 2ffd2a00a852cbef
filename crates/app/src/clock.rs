//! The business date: the one clock by which every business rule is judged (due dates, ageing, overdue
//! days, maturities, consent expiry, credit-line validity, working days, registration years).
//!
//! Two kinds of time run through the platform and are kept apart on purpose:
//! - **instants** (`now_ms`, epoch milliseconds) say when something happened: audit records, log leaves,
//!   session and API-key lifetimes, throttling. They always follow the wall clock, because a session's
//!   safety must not depend on a setting.
//! - **business dates** (`YYYY-MM-DD` in Asia/Shanghai) say on which day a rule is applied. A server
//!   follows the wall clock; the demo and the tests may *pin* the date (so the same world is built, and
//!   the same answers given, on any day the suite runs) and *shift* it (to reach a maturity without
//!   waiting for it).
//!
//! An instant becomes a business date through [`BusinessClock::date_at`], which adds the same offset the
//! clock currently applies, so that "submitted today" and "decided today" agree with `today()` whether or
//! not the date is pinned.

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::civil::Date;

/// The business date's source: the wall clock in Asia/Shanghai, or a pinned date, plus a shift in days.
#[derive(Debug, Default)]
pub struct BusinessClock {
    /// A fixed business date (demo, tests); `None` follows the wall clock.
    pinned: Option<Date>,
    /// Days added on top (negative goes back); only the demo and tests move it.
    shift_days: AtomicI64,
}

impl BusinessClock {
    /// The wall clock, as a server runs.
    pub fn wall() -> BusinessClock {
        BusinessClock::default()
    }

    /// A clock that stays on `date` (plus any later shift), whatever the wall clock says.
    pub fn pinned(date: Date) -> BusinessClock {
        BusinessClock { pinned: Some(date), shift_days: AtomicI64::new(0) }
    }

    /// The pinned date, if any (for the demo's banner and the tests' logs).
    pub fn pinned_date(&self) -> Option<Date> {
        self.pinned
    }

    /// Today's business date.
    pub fn today(&self) -> Date {
        let base = self.pinned.unwrap_or_else(|| calendar_date(now_ms()));
        plus_days(base, self.shift_days.load(Ordering::Relaxed))
    }

    /// The business date on which an instant falls: its calendar date in Asia/Shanghai moved by the
    /// distance between the business date and the wall clock's date right now.
    pub fn date_at(&self, at_ms: i64) -> Date {
        let offset = days_between(calendar_date(now_ms()), self.today());
        plus_days(calendar_date(at_ms), offset)
    }

    /// Moves the business date by `days` (negative goes back).
    pub fn shift(&self, days: i64) {
        self.shift_days.fetch_add(days, Ordering::Relaxed);
    }
}

/// Reads a business date from text such as `LIANRONG_BUSINESS_DATE` (`YYYY-MM-DD`), with a message in
/// both languages when it is not one.
pub fn parse_business_date(text: &str) -> Result<Date, String> {
    let text = text.trim();
    // Exactly YYYY-MM-DD: a date typed another way is more likely a mistake than a wish.
    Date::strptime("%Y-%m-%d", text)
        .ok()
        .filter(|d| text.len() == 10 && (2000..=2099).contains(&d.year()))
        .ok_or_else(|| format!("业务日期“{text}”不是 YYYY-MM-DD 格式的有效日期（2000–2099年） / the business date '{text}' is not a valid YYYY-MM-DD date between 2000 and 2099"))
}

/// Milliseconds since the Unix epoch (UTC): the wall clock of instants.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The calendar date of an instant in Asia/Shanghai, by the wall clock (no pin, no shift). Business
/// rules use [`BusinessClock::today`] and [`BusinessClock::date_at`] instead.
pub fn calendar_date(at_ms: i64) -> Date {
    zoned(at_ms).date()
}

/// An instant in Asia/Shanghai (UTC+8 when the time-zone database is missing).
pub fn zoned(at_ms: i64) -> jiff::ZonedDateTime {
    let ts = jiff::Timestamp::from_millisecond(at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let tz =
        jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(8)));
    ts.to_zoned_datetime(tz)
}

/// `date` moved by `days`, saturating at the ends of the calendar.
pub fn plus_days(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days)).unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

/// Calendar days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    i64::from(from.until(to).map(|s| s.get_days()).unwrap_or(0))
}

/// A date the platform itself wrote (`YYYY-MM-DD`) in a row the store still hands over as text: one it
/// cannot read is corruption, answered as an internal error (and logged), never replaced by a default.
pub(crate) fn stored_date(column: &str, text: &str) -> crate::error::AppResult<Date> {
    Date::strptime("%Y-%m-%d", text).map_err(|_| {
        tracing::error!(column, value = text, "a stored date does not parse");
        crate::error::AppError::internal()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_pinned_clock_stays_and_shifts() {
        let clock = BusinessClock::pinned(date(2028, 2, 28));
        assert_eq!(clock.today(), date(2028, 2, 28));
        clock.shift(1);
        assert_eq!(clock.today(), date(2028, 2, 29), "leap day");
        clock.shift(1);
        assert_eq!(clock.today(), date(2028, 3, 1));
        clock.shift(-2);
        assert_eq!(clock.today(), date(2028, 2, 28));
    }

    #[test]
    fn an_instant_now_falls_on_today() {
        let clock = BusinessClock::pinned(date(2027, 12, 31));
        assert_eq!(clock.date_at(now_ms()), date(2027, 12, 31));
        assert_eq!(clock.date_at(now_ms() - 24 * 3_600_000), date(2027, 12, 30));
        let wall = BusinessClock::wall();
        assert_eq!(wall.date_at(now_ms()), wall.today());
    }

    #[test]
    fn business_dates_are_read_strictly() {
        assert_eq!(parse_business_date(" 2027-01-31 "), Ok(date(2027, 1, 31)));
        for bad in ["2027-02-29", "2027-13-01", "31/01/2027", "", "1999-12-31", "2027-1-31"] {
            assert!(parse_business_date(bad).is_err(), "{bad}");
        }
    }
}
