//! Codes as the reader sees them: a stored code (a channel, a record type, a status) in the reader's
//! language, and a dash for what is absent. Several pages show the same codes, so the labels live here,
//! below all of them, rather than in one page that the others would import.

use lianrong_domain::submission::Channel;
use lianrong_domain::trade::RecordType;

/// A code in the reader's language, found by `parse` and named by `label`; a code it does not know is
/// shown as it is.
pub fn label_of<T: Copy>(code: &str, parse: impl Fn(&str) -> Option<T>, label: impl Fn(T) -> &'static str) -> String {
    parse(code).map_or_else(|| code.to_string(), |v| label(v).to_string())
}

/// A submission channel (`api`, `upload`, `mailbox`) in the reader's language.
pub fn channel_label(code: &str, lang_en: bool) -> String {
    label_of(code, |c| Channel::parse(c).ok(), |c| c.label(lang_en))
}

/// A record type (`invoice`, `order` …) in the reader's language.
pub fn record_type_label(code: &str, lang_en: bool) -> String {
    label_of(code, |c| RecordType::parse(c).ok(), |c| c.label(lang_en))
}

/// The text, or a dash when there is none.
pub fn or_dash(s: Option<&str>) -> String {
    s.filter(|v| !v.is_empty()).map_or_else(|| "—".to_string(), str::to_string)
}
