//! Money is exact: an integer number of fen (0.01 yuan), never floating point.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// `¥1,234.56`, the way Chinese finance staff read amounts.
    pub fn display_yuan(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let yuan = abs / 100;
        let fen = abs % 100;
        format!("{sign}¥{}.{fen:02}", group_thousands(yuan))
    }

    /// Large amounts as 万元 / 亿元 with two decimals, truncated toward zero (display only).
    pub fn display_wan(self) -> String {
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        const WAN_FEN: u64 = 10_000 * 100;
        const YI_FEN: u64 = 100_000_000 * 100;
        if abs >= YI_FEN {
            format!("{sign}{}.{:02}亿元", group_thousands(abs / YI_FEN), abs % YI_FEN / (YI_FEN / 100))
        } else if abs >= WAN_FEN {
            format!("{sign}{}.{:02}万元", group_thousands(abs / WAN_FEN), abs % WAN_FEN / (WAN_FEN / 100))
        } else {
            self.display_yuan()
        }
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_yuan())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_yuan_and_wan() {
        assert_eq!(Money::from_fen(123_456).display_yuan(), "¥1,234.56");
        assert_eq!(Money::from_fen(-5).display_yuan(), "-¥0.05");
        assert_eq!(Money::from_fen(0).display_yuan(), "¥0.00");
        assert_eq!(Money::from_fen(1_234_567_800).display_wan(), "1,234.56万元");
        assert_eq!(Money::from_fen(2_500_000_000_000).display_wan(), "250.00亿元");
        assert_eq!(Money::from_fen(i64::MIN).checked_sub(Money::from_fen(1)), None);
    }
}
