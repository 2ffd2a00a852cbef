//! The designated mailbox (channel 3): the senders API, the SMTP receiver spoken to with real SMTP
//! (lettre, plain and STARTTLS, and raw commands for the protocol's corners), and Maildir pick-up.

use lettre::address::Envelope;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use lianrong_app::Actor;
use lianrong_app::mailbox::MAIL_DOMAIN_DEFAULT;
use lianrong_mail::smtp::SmtpLimits;
use lianrong_mail::{MailOptions, Running};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::common::{PASSWORD, TestApp, assert_problem, code, spawn_app};

/// The registered sender of the core enterprise in these tests.
pub const SENDER: &str = "finance@core-corp.cn";

/// The designated address of the organisation with credit code `code(n)`.
pub fn designated(n: u32) -> String {
    format!("{}@{MAIL_DOMAIN_DEFAULT}", code(n).to_lowercase())
}

/// Starts the mail side of `t` with `adjust` applied to the options (SMTP on a free port by default).
pub async fn start_mail(t: &TestApp, adjust: impl FnOnce(&mut MailOptions)) -> Running {
    let mut opts = MailOptions::new(MAIL_DOMAIN_DEFAULT);
    opts.smtp = Some("127.0.0.1:0".parse().unwrap());
    adjust(&mut opts);
    lianrong_mail::start(t.app.clone(), opts).await.expect("mail side starts")
}

/// A core enterprise `n` with admin `login` and [`SENDER`] registered.
pub async fn core_with_sender(t: &TestApp, n: u32, login: &str) -> String {
    let org_id = t.org_with_admin(n, "core", login).await;
    lianrong_app::mailbox::add_sender(&t.app, &Actor::system("system"), Some(&org_id), SENDER).await.unwrap();
    org_id
}

pub fn plain_client(port: u16) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(port).build()
}

/// A message with one attachment, as a mail program would write it.
pub fn message_with_attachment(from: &str, to: &str, file_name: &str, content: &[u8]) -> Vec<u8> {
    use lettre::message::{Attachment, MultiPart, SinglePart, header::ContentType};
    let m = lettre::Message::builder()
        .from(from.parse().unwrap())
        .to(to.parse().unwrap())
        .subject("本月贸易数据 trade data")
        .multipart(MultiPart::mixed().singlepart(SinglePart::plain("请查收。".to_string())).singlepart(
            Attachment::new(file_name.to_string()).body(content.to_vec(), ContentType::parse("text/csv").unwrap()),
        ))
        .unwrap();
    m.formatted()
}

pub async fn send_raw(
    client: &AsyncSmtpTransport<Tokio1Executor>,
    envelope_from: &str,
    to: &str,
    raw: &[u8],
) -> Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error> {
    let envelope = Envelope::new(Some(envelope_from.parse().unwrap()), vec![to.parse().unwrap()]).unwrap();
    client.send_raw(&envelope, raw).await
}

pub async fn receipts(t: &TestApp, org_id: &str) -> Vec<lianrong_store::mailbox::ReceiptRecord> {
    let page = lianrong_app::mailbox::list_receipts(
        &t.app,
        &Actor::system("system"),
        Some(org_id),
        lianrong_domain::page::PageRequest::first(),
    )
    .await
    .unwrap();
    page.items
}

/// A raw SMTP conversation, for what a well-behaved client never sends.
struct Raw {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    async fn connect(port: u16) -> (Raw, String) {
        let (r, w) = TcpStream::connect(("127.0.0.1", port)).await.unwrap().into_split();
        let mut raw = Raw { r: BufReader::new(r), w };
        let greeting = raw.reply().await;
        (raw, greeting)
    }

    /// One reply, all its lines.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            if self.r.read_line(&mut line).await.unwrap() == 0 {
                return all;
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return all;
            }
        }
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.w.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
        self.reply().await
    }
}

#[tokio::test]
async fn senders_are_registered_listed_and_removed_by_the_org_admin_only() {
    let t = spawn_app().await;
    let org_id = t.org_with_admin(300, "core", "m.admin").await;
    lianrong_app::user::create(
        &t.app,
        &Actor::system("system"),
        lianrong_app::user::NewUser {
            org_id: org_id.clone(),
            login: "m.clerk".into(),
            display_name: "出纳".into(),
            password: PASSWORD.into(),
            roles: vec!["finance_staff".into()],
        },
    )
    .await
    .unwrap();
    let admin = t.login("m.admin", PASSWORD).await;

    let (s, mailbox) = admin.get("/api/v1/mailbox").await;
    assert_eq!(s, StatusCode::OK, "{mailbox}");
    assert_eq!(mailbox["address"], designated(300));
    assert_eq!(mailbox["senders"], 0);

    // Idempotency-Key: a retried registration answers the first answer again.
    let add = |address: &str| {
        admin
            .http
            .post(format!("{}/api/v1/mailbox/senders", t.base_url))
            .header("x-csrf-token", admin.csrf.clone().unwrap())
            .header("idempotency-key", format!("add-{address}"))
            .json(&json!({"address": address}))
    };
    let first = add(" Finance@Core-Corp.CN ").send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["address"], SENDER, "stored lower-cased and trimmed");
    assert_eq!(first["created_by"], "m.admin");
    let again = add(" Finance@Core-Corp.CN ").send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");

    let (s, body) = admin.post("/api/v1/mailbox/senders", json!({"address": SENDER})).await;
    assert_problem(s, &body, StatusCode::CONFLICT, "mailbox_sender_exists");
    let (s, body) = admin.post("/api/v1/mailbox/senders", json!({"address": "not an address"})).await;
    assert_problem(s, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_mail_address");
    assert_eq!(body["field"], "address");
    for n in 0..3 {
        let (s, _) = admin.post("/api/v1/mailbox/senders", json!({"address": format!("clerk{n}@core-corp.cn")})).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, page) = admin.get("/api/v1/mailbox/senders?page_size=2&page=2").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["total"], 4);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][1]["address"], SENDER, "sorted by address");

    // Finance staff read the mailbox but do not manage its senders.
    let clerk = t.login("m.clerk", PASSWORD).await;
    assert_eq!(clerk.get("/api/v1/mailbox/senders").await.0, StatusCode::OK);
    assert_eq!(clerk.get("/api/v1/mailbox/receipts").await.0, StatusCode::OK);
    let (s, body) = clerk.post("/api/v1/mailbox/senders", json!({"address": "x@y.cn"})).await;
    assert_problem(s, &body, StatusCode::FORBIDDEN, "forbidden");

    let r = admin.send(Method::DELETE, "/api/v1/mailbox/senders/clerk0@core-corp.cn", None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = admin.send(Method::DELETE, "/api/v1/mailbox/senders/clerk0@core-corp.cn", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.get("/api/v1/mailbox").await.1["senders"], 3);

    // The operator's staff open any enterprise's mailbox, by id or credit code; a bank has none.
    let op = t.login("op.admin", PASSWORD).await;
    assert_eq!(op.get(&format!("/api/v1/mailbox?org_id={}", code(300))).await.1["org_id"], org_id.as_str());
    let (s, _) = op.post("/api/v1/mailbox/senders", json!({"address": "help@core-corp.cn", "org_id": org_id})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, body) = op.get("/api/v1/mailbox").await;
    assert_problem(s, &body, StatusCode::UNPROCESSABLE_ENTITY, "no_mailbox");
    t.org_with_admin(301, "bank", "m.bank").await;
    let (s, body) = t.login("m.bank", PASSWORD).await.get("/api/v1/mailbox").await;
    assert_problem(s, &body, StatusCode::FORBIDDEN, "forbidden");

    // The console page shows the address and the registered senders.
    let html = admin.http.get(format!("{}/mailbox", t.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&designated(300)), "address on the console page");
    assert!(html.contains(SENDER));
}

#[tokio::test]
async fn smtp_refuses_unknown_recipients_at_rcpt_and_unknown_senders_after_data() {
    let t = spawn_app().await;
    let org_id = core_with_sender(&t, 310, "s.admin").await;
    let mail = start_mail(&t, |_| {}).await;
    let client = plain_client(mail.smtp_addr.unwrap().port());

    // Not a designated address: refused at RCPT with 550 5.1.1.
    let raw = message_with_attachment(SENDER, "nobody@lianrong.localhost", "a.csv", b"x\r\n");
    let err = send_raw(&client, SENDER, "nobody@lianrong.localhost", &raw).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert!(err.to_string().contains("no such designated mailbox"), "{err}");
    assert_eq!(err.status().map(|c| c.to_string()).as_deref(), Some("550"));
    // Another domain, or a designated-looking address of a bank, is refused the same way.
    t.org_with_admin(311, "bank", "s.bank").await;
    let err = send_raw(&client, SENDER, &designated(311), &raw).await.unwrap_err();
    assert!(err.to_string().contains("no such designated mailbox"), "{err}");
    assert!(receipts(&t, &org_id).await.is_empty(), "nothing reached the enterprise");

    // A stranger: the message is kept as a refused submission, answered 550 with the reason, not parsed.
    let to = designated(310);
    let raw = message_with_attachment("stranger@evil.cn", &to, "a.csv", b"x\r\n");
    let err = send_raw(&client, "stranger@evil.cn", &to, &raw).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert!(err.to_string().contains("stranger@evil.cn is not a registered sender"), "{err}");
    // A registered envelope sender with a stranger in From: is refused too: both must be registered.
    let raw = message_with_attachment("stranger@evil.cn", &to, "a.csv", b"x\r\n");
    let err = send_raw(&client, SENDER, &to, &raw).await.unwrap_err();
    assert!(err.to_string().contains("stranger@evil.cn is not a registered sender"), "{err}");

    let list = receipts(&t, &org_id).await;
    assert_eq!(list.len(), 2);
    let admin = t.login("s.admin", PASSWORD).await;
    for r in &list {
        assert_eq!(r.outcome.code(), "mailbox_sender_unknown");
        assert!(!r.mailed, "strangers are never answered");
        assert!(r.summary_zh.contains("不是"), "{}", r.summary_zh);
        // The raw message is kept as a refused submission, and nothing of it was parsed.
        let id = r.submission_id.clone().expect("refused submission");
        let (s, sub) = admin.get(&format!("/api/v1/submissions/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{sub}");
        assert_eq!(sub["status"], "refused");
        assert_eq!(sub["channel"], "mailbox");
        assert_eq!(sub["error_code"], "mailbox_sender_unknown");
        assert_eq!(sub["rows_total"], 0);
        let kept = admin.send(Method::GET, &format!("/api/v1/submissions/{id}/raw"), None).await.bytes().await.unwrap();
        assert!(kept.starts_with(b"From: stranger@evil.cn") || kept.windows(16).any(|w| w == b"stranger@evil.cn"));
    }
    // The refusals are in the enterprise's audit trail, acted by the mailbox.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_event WHERE action = 'mailbox.receive' AND outcome = 'refused' AND actor_org_id = $1",
    )
    .bind(&org_id)
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 2);
    mail.stop().await;
}

#[tokio::test]
async fn smtp_protocol_limits_are_enforced() {
    let t = spawn_app().await;
    core_with_sender(&t, 320, "p.admin").await;
    let limits = SmtpLimits {
        message_bytes_max: 4096,
        recipients_max: 2,
        errors_per_session_max: 8,
        command_line_bytes_max: 256,
        ..SmtpLimits::default()
    };
    let mail = start_mail(&t, |o| o.limits = limits).await;
    let port = mail.smtp_addr.unwrap().port();
    let (mut c, greeting) = Raw::connect(port).await;
    assert!(greeting.starts_with("220 lianrong.localhost"), "{greeting}");
    assert!(c.cmd("MAIL FROM:<a@b.cn>").await.starts_with("503"), "EHLO first");
    let ehlo = c.cmd("EHLO client.example.cn").await;
    assert!(ehlo.contains("250-SIZE 4096"), "{ehlo}");
    assert!(!ehlo.contains("STARTTLS"), "no certificate, no STARTTLS: {ehlo}");
    assert!(c.cmd("RCPT TO:<x@y.cn>").await.starts_with("503"), "MAIL first");
    assert!(c.cmd("DATA").await.starts_with("503"), "MAIL first");
    assert!(c.cmd("STARTTLS").await.starts_with("502"));
    let long = format!("NOOP {}", "x".repeat(300));
    assert!(c.cmd(&long).await.starts_with("500 5.5.6"), "line too long");
    assert!(c.cmd("NOOP").await.starts_with("250"), "the session goes on after a long line");
    let big = c.cmd(&format!("MAIL FROM:<{SENDER}> SIZE=5000")).await;
    assert!(big.starts_with("552 5.3.4"), "declared size over the limit: {big}");
    assert!(c.cmd(&format!("MAIL FROM:<{SENDER}> SIZE=100 BODY=8BITMIME")).await.starts_with("250"));
    assert!(c.cmd(&format!("MAIL FROM:<{SENDER}>")).await.starts_with("503"), "nested MAIL");
    assert!(c.cmd("RCPT TO:<nobody@lianrong.localhost>").await.starts_with("550 5.1.1"));
    assert!(c.cmd(&format!("RCPT TO:<{}>", designated(320))).await.starts_with("250"));
    assert!(c.cmd(&format!("RCPT TO:<{}>", designated(320).to_uppercase())).await.starts_with("250"));
    assert!(c.cmd(&format!("RCPT TO:<{}>", designated(320))).await.starts_with("452 4.5.3"), "too many");
    assert!(c.cmd("DATA").await.starts_with("354"));
    // Over the hard cap while streaming: read to the end, then refused.
    let line = format!("{}\r\n", "a".repeat(70));
    for _ in 0..100 {
        c.w.write_all(line.as_bytes()).await.unwrap();
    }
    assert!(c.cmd(".").await.starts_with("552 5.3.4"), "message too big");
    assert!(c.cmd("RSET").await.starts_with("250"));
    assert!(c.cmd("VRFY x").await.starts_with("252"));
    assert!(c.cmd("QUIT").await.starts_with("221"));

    // Too many bad commands end the session.
    let (mut c, _) = Raw::connect(port).await;
    let mut last = String::new();
    for _ in 0..8 {
        last = c.cmd("BOGUS").await;
    }
    assert!(last.starts_with("421"), "{last}");
    assert_eq!(c.reply().await, "", "closed");

    // A whole transaction in raw commands, with a dot-stuffed line: a stranger is refused after DATA.
    let (mut c, _) = Raw::connect(port).await;
    c.cmd("HELO client.example.cn").await;
    c.cmd("MAIL FROM:<stranger@evil.cn>").await;
    c.cmd(&format!("RCPT TO:<{}>", designated(320))).await;
    c.cmd("DATA").await;
    c.w.write_all(b"From: stranger@evil.cn\r\nSubject: ..dots\r\n\r\n..leading dot\r\n").await.unwrap();
    let answer = c.cmd(".").await;
    assert!(answer.starts_with("550 5.7.1"), "{answer}");
    mail.stop().await;
}

/// A self-signed certificate for `localhost`, made in the test.
fn self_signed() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (cert.cert.pem(), cert.signing_key.serialize_pem())
}

#[tokio::test]
async fn starttls_with_a_self_signed_certificate() {
    let t = spawn_app().await;
    let org_id = core_with_sender(&t, 330, "t.admin").await;
    let (cert_pem, key_pem) = self_signed();
    let tls = lianrong_mail::tls::server_config(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
    let mail = start_mail(&t, |o| o.tls = Some(tls)).await;
    let port = mail.smtp_addr.unwrap().port();

    let (mut c, _) = Raw::connect(port).await;
    let ehlo = c.cmd("EHLO client.example.cn").await;
    assert!(ehlo.contains("250 STARTTLS") || ehlo.contains("250-STARTTLS"), "{ehlo}");
    assert!(c.cmd("STARTTLS now").await.starts_with("501"), "no parameters");

    let params = TlsParameters::builder("localhost".to_string())
        .add_root_certificate(Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build_rustls()
        .unwrap();
    let client = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .tls(Tls::Required(params))
        .build();
    assert!(client.test_connection().await.unwrap(), "TLS session established");
    // Through TLS, the whole transaction works: a stranger is refused after DATA with the reason.
    let to = designated(330);
    let raw = message_with_attachment("stranger@evil.cn", &to, "a.csv", b"x\r\n");
    let err = send_raw(&client, "stranger@evil.cn", &to, &raw).await.unwrap_err();
    assert!(err.to_string().contains("not a registered sender"), "{err}");
    assert_eq!(receipts(&t, &org_id).await.len(), 1);

    // A client that does not trust the certificate cannot complete the handshake.
    let untrusting: AsyncSmtpTransport<Tokio1Executor> =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(port)
            .tls(Tls::Required(TlsParameters::builder("localhost".to_string()).build_rustls().unwrap()))
            .build();
    assert!(untrusting.test_connection().await.is_err());
    mail.stop().await;
}

#[tokio::test]
async fn the_receiver_caps_concurrent_sessions() {
    let t = spawn_app().await;
    let mail = start_mail(&t, |o| o.limits.sessions_max = 2).await;
    let port = mail.smtp_addr.unwrap().port();
    let (_a, ga) = Raw::connect(port).await;
    let (_b, gb) = Raw::connect(port).await;
    let (_c, gc) = Raw::connect(port).await;
    assert!(ga.starts_with("220") && gb.starts_with("220"));
    assert!(gc.starts_with("421 4.3.2"), "{gc}");
    mail.stop().await;
}

fn maildir_message(name: &str, from: &str, to: &str) -> (String, Vec<u8>) {
    let raw = format!(
        "Return-Path: <{from}>\r\nDelivered-To: {to}\r\nFrom: {from}\r\nTo: {to}\r\nSubject: {name}\r\n\
         Message-ID: <{name}@example.cn>\r\n\r\nhello\r\n"
    );
    (format!("1700000000.{name}.host"), raw.into_bytes())
}

#[tokio::test]
async fn maildir_pickup_claims_each_message_once_and_sets_aside_failures() {
    let t = spawn_app().await;
    let org_id = core_with_sender(&t, 340, "d.admin").await;
    let dir = std::env::temp_dir().join(format!("lianrong-maildir-{}", uuid::Uuid::now_v7().simple()));
    lianrong_mail::maildir::prepare(&dir).await.unwrap();
    let to = designated(340);
    let messages = [
        maildir_message("stranger", "stranger@evil.cn", &to),
        maildir_message("nowhere", SENDER, "nobody@lianrong.localhost"),
        maildir_message("stranger2", "other@evil.cn", &to),
    ];
    for (name, raw) in &messages {
        std::fs::write(dir.join("new").join(name), raw).unwrap();
    }
    let ctx = lianrong_mail::MailContext { app: t.app.clone(), mail_domain: MAIL_DOMAIN_DEFAULT.into(), relay: None };
    // Two instances poll the same folder at once; each message is taken by exactly one of them.
    let (a, b) = tokio::join!(lianrong_mail::maildir::pass(&ctx, &dir), lianrong_mail::maildir::pass(&ctx, &dir));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.failed + b.failed, 3, "{a:?} {b:?}");
    assert_eq!(std::fs::read_dir(dir.join("new")).unwrap().count(), 0);
    let failed = lianrong_mail::maildir::failed_dir(&dir);
    for (name, raw) in &messages {
        assert_eq!(&std::fs::read(failed.join(name)).unwrap(), raw, "kept byte for byte");
    }
    let reason = std::fs::read_to_string(failed.join(format!("{}.reason.txt", messages[0].0))).unwrap();
    assert!(reason.starts_with("mailbox_sender_unknown"), "{reason}");
    let reason = std::fs::read_to_string(failed.join(format!("{}.reason.txt", messages[1].0))).unwrap();
    assert!(reason.starts_with("mailbox_unknown_recipient"), "{reason}");
    assert_eq!(receipts(&t, &org_id).await.len(), 2, "one receipt per refused stranger, none twice");
    let again = lianrong_mail::maildir::pass(&ctx, &dir).await.unwrap();
    assert_eq!(again, lianrong_mail::maildir::Pass::default(), "nothing left to take");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tiny SMTP sink standing in for the relay: accepts every message and passes on (recipients, data).
pub async fn smtp_sink() -> (u16, tokio::sync::mpsc::UnboundedReceiver<(Vec<String>, String)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 sink\r\n").await.unwrap();
                let mut rcpts = Vec::new();
                let mut line = String::new();
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("RCPT TO:") {
                        rcpts.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                    }
                    if upper.starts_with("DATA") {
                        w.write_all(b"354 go on\r\n").await.unwrap();
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            r.read_line(&mut l).await.unwrap();
                            if l == ".\r\n" {
                                break;
                            }
                            data.push_str(&l);
                        }
                        let _ = tx.send((std::mem::take(&mut rcpts), data));
                    } else if upper.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else if upper.starts_with("EHLO") {
                        w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.unwrap();
                        line.clear();
                        continue;
                    }
                    w.write_all(b"250 ok\r\n").await.unwrap();
                    line.clear();
                }
            });
        }
    });
    (port, rx)
}

/// Decodes the body of a lettre-built receipt (plain text; quoted-printable or base64 when not ASCII).
pub fn receipt_text(data: &str) -> String {
    let msg = mail_parser::MessageParser::new().parse(data.as_bytes()).unwrap();
    msg.body_text(0).unwrap().to_string()
}

#[tokio::test]
async fn a_registered_sender_is_answered_through_the_relay_and_automatic_mail_is_not() {
    let t = spawn_app().await;
    let org_id = core_with_sender(&t, 350, "r.admin").await;
    let (sink, mut inbox) = smtp_sink().await;
    let relay =
        lianrong_mail::relay::Relay::from_url(&format!("smtp://127.0.0.1:{sink}"), MAIL_DOMAIN_DEFAULT).unwrap();
    let mail = start_mail(&t, |o| o.relay = Some(std::sync::Arc::new(relay))).await;
    let client = plain_client(mail.smtp_addr.unwrap().port());
    let to = designated(350);

    // An automatic message (an out-of-office reply) is recorded but never answered.
    let auto =
        format!("From: {SENDER}\r\nTo: {to}\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\naway\r\n");
    send_raw(&client, SENDER, &to, auto.as_bytes()).await.unwrap();
    // A message without an attachment: accepted by SMTP, refused as content, answered with a receipt.
    let plain = format!(
        "From: {SENDER}\r\nTo: {to}\r\nSubject: =?UTF-8?B?5pys5pyI5pWw5o2u?=\r\nMessage-ID: <q1@core-corp.cn>\r\n\r\nforgot it\r\n"
    );
    let answer = send_raw(&client, SENDER, &to, plain.as_bytes()).await.unwrap();
    assert!(answer.is_positive(), "{answer:?}");

    let (rcpts, data) = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv()).await.unwrap().unwrap();
    assert_eq!(rcpts, vec![SENDER.to_string()]);
    assert!(data.contains("Auto-Submitted: auto-replied"), "{data}");
    assert!(data.contains("In-Reply-To: <q1@core-corp.cn>"), "{data}");
    let text = receipt_text(&data);
    assert!(text.contains("本月数据") && text.contains("邮件没有附件") && text.contains("no attachment"), "{text}");

    let mut mailed = false;
    for _ in 0..50 {
        let list = receipts(&t, &org_id).await;
        assert_eq!(list.len(), 2);
        let answered = list.iter().find(|r| r.subject == "本月数据").unwrap();
        assert_eq!(answered.outcome.code(), "mailbox_no_attachment");
        if answered.mailed {
            mailed = true;
            let auto = list.iter().find(|r| r.subject == "Out of office").unwrap();
            assert!(!auto.mailed, "automatic mail is not answered");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(mailed, "the receipt is marked mailed once the relay took it");
    assert!(inbox.try_recv().is_err(), "exactly one receipt was mailed");
    mail.stop().await;
}

/// Invoices from supplier `seller` to core `buyer`: three good rows and one with an impossible date.
/// `series` (one digit) keeps the 20-digit e-invoice numbers of different files apart.
pub fn invoices_csv(buyer: &str, seller: &str, series: u8) -> String {
    let mut csv = "购方统一社会信用代码,销方统一社会信用代码,发票号码,开票日期,价税合计\r\n".to_string();
    for (n, date, amount) in [(1, "2026-10-01", "1000.00"), (2, "2026-10-02", "2350.50"), (3, "2026-10-03", "88.00")] {
        csv.push_str(&format!("{buyer},{seller},2650000000000000{series}{n:03},{date},{amount}\r\n"));
    }
    csv.push_str(&format!("{buyer},{seller},2650000000000000{series}004,2026-13-45,5.00\r\n"));
    csv
}

/// A mail as a finance desk's program writes it, with one CSV attachment and a line starting with a dot.
fn trade_mail(from: &str, to: &str, message_id: &str, csv: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: =?UTF-8?B?5Y2B5pyI5Y+R56Wo?=\r\nMessage-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n.a line that starts with a dot\r\n\
         --b1\r\nContent-Type: text/csv; charset=utf-8\r\n\
         Content-Disposition: attachment; filename*=UTF-8''%E5%8D%81%E6%9C%88%E5%8F%91%E7%A5%A8.csv\r\n\r\n{csv}\
         --b1--\r\n"
    )
    .into_bytes()
}

/// The same file through the upload channel (a multipart body written by hand).
async fn upload(api: &crate::common::Api, name: &str, content: &str) -> Value {
    let boundary = "lianrong-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    let resp = api
        .http
        .post(format!("{}/api/v1/submissions/upload", api.base))
        .header("x-csrf-token", api.csrf.clone().unwrap())
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let report: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{report}");
    report
}

#[tokio::test]
async fn a_mailed_csv_becomes_a_submission_like_an_upload_with_a_receipt_mailed_back() {
    let t = spawn_app().await;
    let org_id = core_with_sender(&t, 360, "e.admin").await;
    t.org_with_admin(361, "supplier", "e.supplier").await;
    let (buyer, seller) = (code(360), code(361));
    let (sink, mut inbox) = smtp_sink().await;
    let relay =
        lianrong_mail::relay::Relay::from_url(&format!("smtp://127.0.0.1:{sink}"), MAIL_DOMAIN_DEFAULT).unwrap();
    let mail = start_mail(&t, |o| o.relay = Some(std::sync::Arc::new(relay))).await;
    let client = plain_client(mail.smtp_addr.unwrap().port());
    let admin = t.login("e.admin", PASSWORD).await;

    let uploaded = upload(&admin, "invoices.csv", &invoices_csv(&buyer, &seller, 1)).await;
    assert_eq!(uploaded["accepted"], 3, "{uploaded}");

    let to = designated(360);
    let raw = trade_mail(SENDER, &to, "e2e@core-corp.cn", &invoices_csv(&buyer, &seller, 2));
    let answer = send_raw(&client, SENDER, &to, &raw).await.unwrap();
    assert!(answer.is_positive(), "{answer:?}");

    let list = receipts(&t, &org_id).await;
    assert_eq!(list.len(), 1);
    let receipt = &list[0];
    assert_eq!(receipt.outcome.code(), "partially_accepted");
    assert_eq!(receipt.subject, "十月发票");
    let id = receipt.submission_id.clone().expect("the receipt names its submission");
    let (s, sub) = admin.get(&format!("/api/v1/submissions/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{sub}");
    assert_eq!(sub["channel"], "mailbox");
    assert_eq!(sub["accepted"], uploaded["accepted"], "the same rows are accepted as through the upload channel");
    assert_eq!(sub["rejected"], uploaded["rejected"]);
    assert_eq!(sub["media_type"], "message/rfc822");
    assert!(sub["source"].as_str().unwrap().contains(SENDER), "{sub}");
    // The whole message is kept byte for byte, dot-stuffing undone. lettre always ends DATA with
    // CRLF.CRLF, so a message that already ended with CRLF arrives with one more empty line.
    let kept = admin.send(Method::GET, &format!("/api/v1/submissions/{id}/raw"), None).await.bytes().await.unwrap();
    assert_eq!(&kept[..], &[&raw[..], b"\r\n"].concat()[..]);

    // The receipt reached the sender, listing the rejected row with its field and both languages.
    let (rcpts, data) = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv()).await.unwrap().unwrap();
    assert_eq!(rcpts, vec![SENDER.to_string()]);
    let text = receipt_text(&data);
    assert!(text.contains("3 rows accepted, 1 rejected"), "{text}");
    assert!(text.contains("十月发票.csv") && text.contains("issue_date"), "{text}");
    let row_error = &uploaded["row_errors"][0];
    assert_eq!(row_error["field"], "issue_date", "{uploaded}");
    assert!(text.contains(row_error["message_zh"].as_str().unwrap()), "{text}");
    assert!(text.contains(row_error["message_en"].as_str().unwrap()), "{text}");
    for _ in 0..50 {
        if receipts(&t, &org_id).await[0].mailed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(receipts(&t, &org_id).await[0].mailed, "marked mailed");
    let html = admin.http.get(format!("{}/mailbox/receipts", t.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&id) && html.contains("十月发票"), "the receipt is on the console page");

    // Maildir pick-up takes the same kind of message into the same pipeline and flags it seen.
    let dir = std::env::temp_dir().join(format!("lianrong-maildir-{}", uuid::Uuid::now_v7().simple()));
    lianrong_mail::maildir::prepare(&dir).await.unwrap();
    let mut dropped = format!("Return-Path: <{SENDER}>\r\nDelivered-To: {to}\r\n").into_bytes();
    dropped.extend(trade_mail(SENDER, &to, "drop@core-corp.cn", &invoices_csv(&buyer, &seller, 3)));
    std::fs::write(dir.join("new").join("1700000001.d1.host"), &dropped).unwrap();
    let ctx = lianrong_mail::MailContext { app: t.app.clone(), mail_domain: MAIL_DOMAIN_DEFAULT.into(), relay: None };
    let pass = lianrong_mail::maildir::pass(&ctx, &dir).await.unwrap();
    assert_eq!(pass.accepted, 1, "{pass:?}");
    assert_eq!(std::fs::read(dir.join("cur").join("1700000001.d1.host:2,S")).unwrap(), dropped);
    let list = receipts(&t, &org_id).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].outcome.code(), "partially_accepted");
    let _ = std::fs::remove_dir_all(&dir);
    mail.stop().await;
}
