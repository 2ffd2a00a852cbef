//! The MIME walk (mail-parser 0.11): the few headers the mailbox checks, and the attachments it submits.
//! Attachments keep their original bytes — a CSV written in GBK stays GBK — so the submission pipeline
//! decodes a mailed file exactly as it decodes an uploaded one.

use lianrong_app::mailbox::{Attachment, AttachmentError};
use lianrong_domain::limits::ATTACHMENTS_PER_MESSAGE_MAX;
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType};

/// The headers the mailbox needs before deciding whether to look further.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    pub from: Option<String>,
    pub subject: String,
    pub message_id: String,
    /// `Return-Path`, as Maildir deliveries record the envelope sender.
    pub return_path: Option<String>,
    /// Addresses the message was delivered to: `Delivered-To`, `X-Original-To`, then `To` and `Cc`.
    pub recipients: Vec<String>,
    /// `Auto-Submitted` other than `no` (RFC 3834): an automatic message, never answered.
    pub auto_submitted: bool,
}

/// Reads the headers only; the body is not parsed.
pub fn headers(raw: &[u8]) -> Headers {
    let Some(msg) = MessageParser::new().parse_headers(raw) else {
        return Headers::default();
    };
    let first =
        |a: Option<&mail_parser::Address<'_>>| a.and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_string);
    let mut recipients: Vec<String> = Vec::new();
    for name in ["Delivered-To", "X-Original-To"] {
        for (header, value) in msg.headers_raw() {
            if header.eq_ignore_ascii_case(name) {
                recipients.push(value.trim().to_string());
            }
        }
    }
    for a in msg.to().into_iter().chain(msg.cc()) {
        recipients.extend(a.iter().filter_map(|a| a.address()).map(str::to_string));
    }
    let auto_submitted =
        msg.header_raw("Auto-Submitted").is_some_and(|v| !v.trim().to_ascii_lowercase().starts_with("no"));
    Headers {
        from: first(msg.from()),
        subject: msg.subject().unwrap_or_default().to_string(),
        message_id: msg.message_id().unwrap_or_default().to_string(),
        return_path: msg.return_address().map(str::to_string).filter(|s| !s.is_empty()),
        recipients,
        auto_submitted,
    }
}

/// The named attachments of a message and of the messages attached to it (one level down). Parts
/// without a file name (inline images, signatures, the text body) are not files to submit.
pub fn attachments(raw: &[u8]) -> Result<Vec<Attachment>, AttachmentError> {
    let msg =
        MessageParser::new().parse(raw).ok_or_else(|| AttachmentError::Unreadable("not a MIME message".to_string()))?;
    let mut files = Vec::new();
    for part in msg.attachments() {
        match part.message() {
            Some(nested) => {
                for inner in nested.attachments() {
                    take(nested, inner, &mut files)?;
                }
            }
            None => take(&msg, part, &mut files)?,
        }
    }
    Ok(files)
}

fn take(msg: &Message<'_>, part: &MessagePart<'_>, files: &mut Vec<Attachment>) -> Result<(), AttachmentError> {
    let Some(name) = part.attachment_name().map(clean_name).filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    if part.is_message() || part.is_multipart() {
        return Ok(());
    }
    if files.len() >= ATTACHMENTS_PER_MESSAGE_MAX {
        let found = files.len() + 1;
        return Err(AttachmentError::TooMany { found, max: ATTACHMENTS_PER_MESSAGE_MAX });
    }
    files.push(Attachment { name, bytes: original_bytes(msg, part) });
    Ok(())
}

/// The part's bytes as the sender's program wrote them. mail-parser converts text parts to UTF-8 — and
/// replaces what it cannot decode when no charset is named — so text parts are decoded again here from
/// the raw message, undoing only the transfer encoding.
fn original_bytes(msg: &Message<'_>, part: &MessagePart<'_>) -> Vec<u8> {
    if !matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
        return part.contents().to_vec();
    }
    let raw = msg.raw_message();
    let start = part.raw_body_offset() as usize;
    let end = (part.raw_end_offset() as usize).min(raw.len());
    let Some(body) = raw.get(start..end) else {
        return part.contents().to_vec();
    };
    let decoded = match part.encoding {
        Encoding::Base64 => base64_decode(body),
        Encoding::QuotedPrintable => quoted_printable_decode(body),
        Encoding::None => Some(body.to_vec()),
    };
    decoded.unwrap_or_else(|| part.contents().to_vec())
}

/// A file name without any folder part a sender's program may have left in it.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(parts: &str) -> Vec<u8> {
        format!(
            "From: =?UTF-8?B?5byg5LiJ?= <Zhang@Example.cn>\r\nTo: 91500112ma0000017l@lake.example.cn\r\n\
             Subject: =?UTF-8?B?5pys5pyI5Y+R56Wo?=\r\nMessage-ID: <m1@example.cn>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n{parts}"
        )
        .into_bytes()
    }

    #[test]
    fn headers_give_sender_subject_and_recipients() {
        let h = headers(&mail("--b1--\r\n"));
        assert_eq!(h.from.as_deref(), Some("Zhang@Example.cn"));
        assert_eq!(h.subject, "本月发票");
        assert_eq!(h.message_id, "m1@example.cn");
        assert_eq!(h.recipients, vec!["91500112ma0000017l@lake.example.cn".to_string()]);
        assert!(!h.auto_submitted);
    }

    #[test]
    fn attachments_keep_their_bytes_and_decoded_chinese_names() {
        // "发票,金额\n" in GBK, sent as text/csv without a charset (as Excel users do).
        let gbk: &[u8] = &[0xB7, 0xA2, 0xC6, 0xB1, b',', 0xBD, 0xF0, 0xB6, 0xEE, b'\n'];
        let b64 = |b: &[u8]| {
            use std::fmt::Write;
            // A tiny base64 encoder keeps the test free of another dependency.
            const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut s = String::new();
            for c in b.chunks(3) {
                let n = (u32::from(c[0]) << 16)
                    | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                    | u32::from(*c.get(2).unwrap_or(&0));
                for i in 0..4 {
                    if i <= c.len() {
                        let _ = write!(s, "{}", T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                    } else {
                        s.push('=');
                    }
                }
            }
            s
        };
        let body = format!(
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n请查收\r\n\
             --b1\r\nContent-Type: text/csv\r\nContent-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.csv\r\n\r\n{}\r\n\
             --b1\r\nContent-Type: application/zip; name=\"=?GBK?B?u+PX3A==?=.zip\"\r\n\
             Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment\r\n\r\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n\
             --b1\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n\
             --b1\r\nContent-Type: message/rfc822\r\n\r\n\
             From: a@b.cn\r\nSubject: fwd\r\nContent-Type: multipart/mixed; boundary=\"b2\"\r\n\r\n\
             --b2\r\nContent-Type: text/csv; name=\"inner.csv\"\r\nContent-Disposition: attachment; filename=\"C:\\\\exports\\\\inner.csv\"\r\n\r\na,b\r\n1,2\r\n--b2--\r\n\
             --b1--\r\n",
            b64(gbk)
        );
        let files = attachments(&mail(&body)).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec!["发票.csv", "汇总.zip", "inner.csv"]);
        assert_eq!(files[0].bytes, gbk, "GBK bytes survive untouched");
        assert_eq!(&files[1].bytes[..4], b"PK\x05\x06");
        assert!(files[2].bytes.starts_with(b"a,b\r\n1,2"), "{:?}", String::from_utf8_lossy(&files[2].bytes));
    }

    #[test]
    fn too_many_attachments_is_a_named_error() {
        let part = "--b1\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"x.csv\"\r\n\r\na\r\n";
        let body = format!("{}--b1--\r\n", part.repeat(ATTACHMENTS_PER_MESSAGE_MAX + 1));
        assert_eq!(
            attachments(&mail(&body)),
            Err(AttachmentError::TooMany { found: ATTACHMENTS_PER_MESSAGE_MAX + 1, max: ATTACHMENTS_PER_MESSAGE_MAX })
        );
    }

    #[test]
    fn automatic_replies_are_recognised() {
        let raw = b"From: a@b.cn\r\nAuto-Submitted: auto-replied\r\nSubject: x\r\n\r\nhi\r\n";
        assert!(headers(raw).auto_submitted);
        let raw = b"From: a@b.cn\r\nAuto-Submitted: no\r\nSubject: x\r\n\r\nhi\r\n";
        assert!(!headers(raw).auto_submitted);
    }
}
