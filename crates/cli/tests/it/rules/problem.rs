//! The API's whole problem document (RFC 9457) for a refusal, so that one test per capability pins its
//! error shape: type, title, status, code, field, detail and the message in both languages.

use reqwest::StatusCode;
use serde_json::{Value, json};

/// A refusal as the API must answer it.
pub struct Problem<'a> {
    pub status: StatusCode,
    pub code: &'a str,
    pub field: Option<&'a str>,
    /// The English message, which is also the document's `detail`.
    pub en: &'a str,
    pub zh: &'a str,
    /// The record a conflict is with, when the refusal names one.
    pub reference: Option<&'a str>,
}

impl Problem<'_> {
    /// The document, every member of it.
    pub fn document(&self) -> Value {
        let mut doc = json!({
            "type": format!("urn:lianrong:problem:{}", self.code),
            "title": self.status.canonical_reason(),
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.en,
            "message_en": self.en,
            "message_zh": self.zh,
        });
        if let Some(field) = self.field {
            doc["field"] = json!(field);
        }
        if let Some(reference) = self.reference {
            doc["reference"] = json!(reference);
        }
        doc
    }

    /// Asserts that the API answered `status` with exactly this document.
    #[track_caller]
    pub fn assert_answered(&self, status: StatusCode, body: &Value) {
        assert_eq!((status, body), (self.status, &self.document()));
    }
}
