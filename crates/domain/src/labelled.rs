//! Enums that travel as stable snake_case codes (in the database, the API and forms) and show as
//! Chinese or English labels in the console. One macro so that every such enum parses the same way.

use std::borrow::Cow;

use crate::refusal::Refusal;

/// An unknown code for an enum field; names the field, the value and the allowed codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: unknown value '{value}'; expected one of {allowed}")]
pub struct UnknownCode {
    pub field: &'static str,
    pub value: String,
    pub allowed: String,
}

impl Refusal for UnknownCode {
    fn code(&self) -> &'static str {
        "unknown_value"
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed(self.field))
    }

    fn zh(&self) -> String {
        format!("{}：未知取值“{}”，可选值为 {}", self.field, self.value, self.allowed)
    }
}

#[macro_export]
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($variant:ident => ($code:literal, $zh:literal, $en:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            pub fn label(self, lang_en: bool) -> &'static str {
                if lang_en { self.label_en() } else { self.label_zh() }
            }

            pub fn parse(value: &str) -> Result<$name, $crate::labelled::UnknownCode> {
                match value.trim() {
                    $($code => Ok($name::$variant),)+
                    other => Err($crate::labelled::UnknownCode {
                        field: $field,
                        value: other.chars().take(64).collect(),
                        allowed: [$($code),+].join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
