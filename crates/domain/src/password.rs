//! The password policy. Hashing (argon2id) is I/O-free but slow, so it lives in `app`; the rule lives here.

use std::borrow::Cow;

use crate::limits::{PASSWORD_CHARS_MAX, PASSWORD_CHARS_MIN};
use crate::refusal::Refusal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password has {found} characters; at least {min} are required")]
    TooShort { found: usize, min: usize },
    #[error("the password has {found} characters; at most {max} are allowed")]
    TooLong { found: usize, max: usize },
    #[error("the password must mix at least three of: lower case, upper case, digits, symbols")]
    TooSimple,
    #[error("the password must not contain the login name")]
    ContainsLogin,
}

/// Every weakness is one refusal to the caller, `weak_password`; the message says which.
impl Refusal for WeakPassword {
    fn code(&self) -> &'static str {
        "weak_password"
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed("password"))
    }

    fn zh(&self) -> String {
        match self {
            WeakPassword::TooShort { found, min } => format!("密码为{found}个字符，至少需要{min}个"),
            WeakPassword::TooLong { found, max } => format!("密码为{found}个字符，最多允许{max}个"),
            WeakPassword::TooSimple => "密码须包含小写字母、大写字母、数字、符号中的至少三类".to_string(),
            WeakPassword::ContainsLogin => "密码不得包含登录名".to_string(),
        }
    }
}

pub fn check(password: &str, login: &str) -> Result<(), WeakPassword> {
    let found = password.chars().count();
    if found < PASSWORD_CHARS_MIN {
        return Err(WeakPassword::TooShort { found, min: PASSWORD_CHARS_MIN });
    }
    if found > PASSWORD_CHARS_MAX {
        return Err(WeakPassword::TooLong { found, max: PASSWORD_CHARS_MAX });
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|&&b| b).count() < 3 {
        return Err(WeakPassword::TooSimple);
    }
    let login = login.trim().to_lowercase();
    if login.len() >= 3 && password.to_lowercase().contains(&login) {
        return Err(WeakPassword::ContainsLogin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check("Lianrong#2026", "alice").is_ok());
        assert_eq!(check("short1A", "x"), Err(WeakPassword::TooShort { found: 7, min: 10 }));
        assert_eq!(check("alllowercaseletters", "x"), Err(WeakPassword::TooSimple));
        assert_eq!(check("Alice#2026xx", "alice"), Err(WeakPassword::ContainsLogin));
    }
}
