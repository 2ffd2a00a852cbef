//! Bounded, trimmed free text: names, reasons and notes. Every such input has a named limit.

use std::borrow::Cow;

use crate::refusal::Refusal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} has {found} characters; at most {max} are allowed")]
    TooLong { field: &'static str, found: usize, max: usize },
    #[error("{field} contains a control character")]
    Control { field: &'static str },
}

/// Every text refusal is `invalid_text`, naming the field it concerns.
impl Refusal for TextError {
    fn code(&self) -> &'static str {
        "invalid_text"
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        match self {
            TextError::Empty { field } | TextError::TooLong { field, .. } | TextError::Control { field } => {
                Some(Cow::Borrowed(field))
            }
        }
    }

    fn zh(&self) -> String {
        match self {
            TextError::Empty { field } => format!("{field} 不能为空"),
            TextError::TooLong { field, found, max } => format!("{field} 长度为{found}个字符，最多允许{max}个"),
            TextError::Control { field } => format!("{field} 含有控制字符"),
        }
    }
}

/// Trims `input` and checks it is non-empty, at most `max_chars` characters and free of control characters.
pub fn bounded(field: &'static str, input: &str, max_chars: usize) -> Result<String, TextError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(TextError::Empty { field });
    }
    let found = s.chars().count();
    if found > max_chars {
        return Err(TextError::TooLong { field, found, max: max_chars });
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(TextError::Control { field });
    }
    Ok(s.to_string())
}

/// Like [`bounded`], but an empty input is allowed and gives `None`.
pub fn optional(field: &'static str, input: Option<&str>, max_chars: usize) -> Result<Option<String>, TextError> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => bounded(field, s, max_chars).map(Some),
    }
}
