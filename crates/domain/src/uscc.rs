//! The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters whose last one is a check
//! character over the first 17 (docs/domain-rules.md, "Unified social credit code"). A few real early codes
//! fail the check; they are admitted only through an explicit exception list kept by the operator, never
//! silently.

use std::borrow::Cow;
use std::fmt;

use crate::refusal::Refusal;

/// The 31 characters a code may use; a character's value is its index (I, O, Z, S and V are excluded).
pub const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17: 3^i mod 31.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
pub const USCC_LEN: usize = 18;

/// A parsed, check-verified (or explicitly excepted) unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

/// What is wrong with a candidate code; each variant names the position or part at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("the code has {found} characters; a unified social credit code has exactly 18")]
    Length { found: usize },
    #[error("character {position} ('{ch}') is not allowed; only 0-9 and A-Y without I, O, Z, S, V are used")]
    Character { position: usize, ch: char },
    #[error(
        "characters 3-8 must be the 6-digit administrative division code; character {position} ('{ch}') is not a digit"
    )]
    Region { position: usize, ch: char },
    #[error("the check character is '{found}' but the first 17 characters give '{expected}'")]
    Check { expected: char, found: char },
}

impl UsccError {
    /// The same explanation for Chinese readers.
    pub fn message_zh(&self) -> String {
        match self {
            UsccError::Length { found } => format!("统一社会信用代码应为18位，实际为{found}位"),
            UsccError::Character { position, ch } => {
                format!("第{position}位字符“{ch}”不合法（仅允许数字和除I、O、Z、S、V以外的大写字母）")
            }
            UsccError::Region { position, ch } => {
                format!("第3-8位应为6位行政区划码，第{position}位“{ch}”不是数字")
            }
            UsccError::Check { expected, found } => {
                format!("校验码为“{found}”，按前17位计算应为“{expected}”")
            }
        }
    }
}

/// A code given as an organisation's `uscc`: the explanation after a sentence saying the code is invalid.
impl Refusal for UsccError {
    fn code(&self) -> &'static str {
        "invalid_uscc"
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed("uscc"))
    }

    fn en(&self) -> String {
        format!("Invalid unified social credit code: {self}")
    }

    fn zh(&self) -> String {
        format!("统一社会信用代码无效：{}", self.message_zh())
    }
}

/// Trims white space and the ideographic space, and maps full-width digits and letters (U+FF10–U+FF5A)
/// to ASCII.
fn ascii_width(input: &str) -> String {
    input
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}')
        .chars()
        .map(|c| match c {
            '\u{ff10}'..='\u{ff19}' | '\u{ff21}'..='\u{ff3a}' | '\u{ff41}'..='\u{ff5a}' => {
                char::from_u32(c as u32 - 0xfee0).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

fn char_value(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The check character for 17 characters that are already known to be in the charset.
fn check_char(first17: &[u8]) -> char {
    debug_assert_eq!(first17.len(), 17);
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(&c, w)| char_value(c).unwrap_or(0) * w).sum();
    let c18 = (31 - sum % 31) % 31;
    CHARSET[c18 as usize] as char
}

impl Uscc {
    /// Parses and verifies a code. Surrounding white space (the ideographic space too) is trimmed, full-width
    /// digits and letters typed with a Chinese input method become ASCII and lower case letters are
    /// raised, because codes are copied from PDFs, spreadsheets and IME input; nothing else is forgiven.
    pub fn parse(input: &str) -> Result<Uscc, UsccError> {
        let candidate = Self::parse_format(input)?;
        let bytes = candidate.0.as_bytes();
        let expected = check_char(&bytes[..17]);
        let found = bytes[17] as char;
        if expected != found {
            return Err(UsccError::Check { expected, found });
        }
        Ok(candidate)
    }

    /// Checks only the format (length, characters, region digits), not the check character. Used for
    /// codes on the operator's exception list of real early codes that fail the check.
    pub fn parse_format(input: &str) -> Result<Uscc, UsccError> {
        let s = ascii_width(input).to_ascii_uppercase();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != USCC_LEN {
            return Err(UsccError::Length { found: chars.len() });
        }
        for (i, &ch) in chars.iter().enumerate() {
            let position = i + 1;
            if (3..=8).contains(&position) {
                if !ch.is_ascii_digit() {
                    return Err(UsccError::Region { position, ch });
                }
            } else if !ch.is_ascii() || char_value(ch as u8).is_none() {
                return Err(UsccError::Character { position, ch });
            }
        }
        Ok(Uscc(s))
    }

    /// Whether the code's check character verifies (false only for excepted legacy codes).
    pub fn check_verifies(&self) -> bool {
        let b = self.0.as_bytes();
        check_char(&b[..17]) == b[17] as char
    }

    /// Builds a valid code from its first 17 characters by appending the check character; `None` when
    /// the 17 characters are not a valid prefix. Used by the demo world and tests.
    pub fn with_check_char(first17: &str) -> Option<Uscc> {
        let probe = format!("{first17}0");
        let parsed = Self::parse_format(&probe).ok()?;
        let b = parsed.0.as_bytes();
        let c = check_char(&b[..17]);
        Some(Uscc(format!("{}{}", &parsed.0[..17], c)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative division code (positions 3–8).
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Uscc {
    type Error = UsccError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Uscc::parse(&value)
    }
}

impl From<Uscc> for String {
    fn from(value: Uscc) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn synthetic_vectors_verify() {
        for code in ["91500000MA5U000A5N", "91110000100000000R", "12100000000000000F"] {
            assert_eq!(Uscc::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn full_width_input_is_read_as_ascii() {
        assert_eq!(
            Uscc::parse("\u{3000}９１５０００００ＭＡ５Ｕ０００Ａ５Ｎ ").unwrap().as_str(),
            "91500000MA5U000A5N"
        );
        assert_eq!(Uscc::parse("９１５０００００ｍａ５ｕ０００ａ５ｎ").unwrap().as_str(), "91500000MA5U000A5N");
    }

    #[test]
    fn legacy_fujian_codes_fail_the_check_with_the_computed_character() {
        for (code, expected) in [("91350100M0001TGQXM", '1'), ("91350211M0000XUF46", 'R'), ("91350203M0001FUE2P", 'J')]
        {
            match Uscc::parse(code) {
                Err(UsccError::Check { expected: e, .. }) => assert_eq!(e, expected),
                other => panic!("{code}: {other:?}"),
            }
            let legacy = Uscc::parse_format(code).unwrap();
            assert!(!legacy.check_verifies());
        }
    }

    #[test]
    fn errors_name_what_is_wrong() {
        assert_eq!(Uscc::parse("9150000"), Err(UsccError::Length { found: 7 }));
        assert_eq!(Uscc::parse("91500000MA5U000I5N"), Err(UsccError::Character { position: 16, ch: 'I' }));
        assert_eq!(Uscc::parse("9150A000MA5U000A5N"), Err(UsccError::Region { position: 5, ch: 'A' }));
        assert!(Uscc::parse("91500000MA5U000A5X").unwrap_err().message_zh().contains("校验码"));
        assert_eq!(Uscc::parse(" 91500000ma5u000a5n ").unwrap().as_str(), "91500000MA5U000A5N");
        assert!(Uscc::parse("９1500000MA5U000A5N").is_ok(), "a full-width digit among ASCII ones is normalised");
    }

    proptest! {
        #[test]
        fn any_prefix_gets_a_verifying_check_char(
            head in proptest::collection::vec(0usize..31, 2),
            region in "[0-9]{6}",
            body in proptest::collection::vec(0usize..31, 9),
            pos in 0usize..18,
        ) {
            let c = |i: &usize| CHARSET[*i] as char;
            let first17: String = head.iter().map(c).chain(region.chars()).chain(body.iter().map(c)).collect();
            let code = Uscc::with_check_char(&first17).unwrap();
            prop_assert!(Uscc::parse(code.as_str()).is_ok());
            // Changing any one character of a valid code must be detected.
            let mut bytes = code.as_str().as_bytes().to_vec();
            let old = bytes[pos];
            let replacement = CHARSET.iter().copied().find(|&x| x != old && (!(2..=7).contains(&pos) || x.is_ascii_digit())).unwrap();
            bytes[pos] = replacement;
            prop_assert!(Uscc::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Uscc::parse(&s);
        }
    }
}
