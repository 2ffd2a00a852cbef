//! The SMTP receiver: the subset of RFC 5321 a final-delivery mailbox needs — EHLO/HELO, STARTTLS
//! (RFC 3207, when a certificate is configured), MAIL FROM with `SIZE` (RFC 1870), RCPT TO, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT — on tokio, with a named limit on everything a peer controls.
//!
//! Recipients are checked at RCPT: only designated addresses are accepted (550 5.1.1 otherwise). The
//! sender is judged after DATA by `app::mailbox::receive`; a stranger's message is kept and answered 550.
//! No AUTH: who may send is decided by the registry of senders, not by a password.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lianrong_app::ErrorKind;
use lianrong_app::mailbox::{self, Recipient};
use lianrong_domain::limits;
use rustls::ServerConfig;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::deliver::{MailContext, Verdict, deliver};

/// The receiver's limits; defaults are `domain::limits::SMTP_*` (tests lower some).
#[derive(Debug, Clone)]
pub struct SmtpLimits {
    pub message_bytes_max: usize,
    pub command_line_bytes_max: usize,
    pub data_line_bytes_max: usize,
    pub command_timeout_ms: u64,
    pub recipients_max: usize,
    pub sessions_max: usize,
    pub errors_per_session_max: usize,
    pub messages_per_session_max: usize,
}

impl Default for SmtpLimits {
    fn default() -> Self {
        SmtpLimits {
            message_bytes_max: limits::SMTP_MESSAGE_BYTES_MAX,
            command_line_bytes_max: limits::SMTP_COMMAND_LINE_BYTES_MAX,
            data_line_bytes_max: limits::SMTP_DATA_LINE_BYTES_MAX,
            command_timeout_ms: limits::SMTP_COMMAND_TIMEOUT_MS,
            recipients_max: limits::SMTP_RECIPIENTS_MAX,
            sessions_max: limits::SMTP_SESSIONS_MAX,
            errors_per_session_max: limits::SMTP_ERRORS_PER_SESSION_MAX,
            messages_per_session_max: limits::SMTP_MESSAGES_PER_SESSION_MAX,
        }
    }
}

#[derive(Clone, Default)]
pub struct SmtpConfig {
    /// The name in the greeting and EHLO answer; by default the mail domain.
    pub hostname: Option<String>,
    /// Offers STARTTLS when set.
    pub tls: Option<Arc<ServerConfig>>,
    pub limits: SmtpLimits,
}

struct Shared {
    ctx: MailContext,
    hostname: String,
    acceptor: Option<TlsAcceptor>,
    limits: SmtpLimits,
}

/// Serves SMTP on `listener` until `shutdown` resolves. Sessions past the limit are told to come back
/// later (421) and closed.
pub async fn serve(
    listener: TcpListener,
    ctx: MailContext,
    config: SmtpConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        hostname: config.hostname.clone().unwrap_or_else(|| ctx.mail_domain.clone()),
        acceptor: config.tls.clone().map(TlsAcceptor::from),
        limits: config.limits.clone(),
        ctx,
    });
    let sessions = Arc::new(Semaphore::new(shared.limits.sessions_max));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let shared = shared.clone();
                    let permit = sessions.clone().try_acquire_owned();
                    tokio::spawn(async move {
                        match permit {
                            Ok(_permit) => session(stream, peer, shared).await,
                            Err(_) => too_busy(stream, &shared.hostname).await,
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "SMTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

async fn too_busy(mut stream: TcpStream, hostname: &str) {
    let line = format!("421 4.3.2 {hostname} too many sessions, try again later\r\n");
    let _ = stream.write_all(line.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// What a session loop ended with.
enum End<S> {
    Closed,
    /// The peer asked for STARTTLS and was told to go ahead: the stream is handed back for the handshake.
    StartTls(BufReader<S>),
}

async fn session(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    tracing::debug!(%peer, "SMTP session");
    let mut io = BufReader::new(stream);
    let greeting = format!("220 {} ESMTP Lianrong designated mailbox\r\n", shared.hostname);
    if reply(&mut io, &greeting).await.is_err() {
        return;
    }
    let reader = match Session::new(&shared, false).run(io).await {
        End::Closed => return,
        End::StartTls(reader) => reader,
    };
    // Anything the client sent after STARTTLS before the handshake would be read as if it were inside
    // TLS (the "STARTTLS command injection" of CVE-2011-0411): refuse such a client outright.
    if !reader.buffer().is_empty() {
        tracing::warn!(%peer, "data pipelined after STARTTLS; closing");
        return;
    }
    let Some(acceptor) = shared.acceptor.clone() else {
        return;
    };
    let timeout = Duration::from_millis(shared.limits.command_timeout_ms);
    match tokio::time::timeout(timeout, acceptor.accept(reader.into_inner())).await {
        Ok(Ok(tls)) => {
            // RFC 3207: after the handshake the session starts afresh; the client greets again.
            let _ = Session::new(&shared, true).run(BufReader::new(tls)).await;
        }
        Ok(Err(e)) => tracing::info!(%peer, error = %e, "STARTTLS handshake failed"),
        Err(_) => tracing::info!(%peer, "STARTTLS handshake timed out"),
    }
}

/// One session's state (RFC 5321 §4.1.4: the transaction is the MAIL…DATA sequence).
struct Session<'a> {
    shared: &'a Shared,
    tls: bool,
    greeted: bool,
    from: Option<String>,
    recipients: Vec<Recipient>,
    /// Accepted RCPT commands (two addresses of one organisation count twice here, once in `recipients`).
    accepted_rcpts: usize,
    errors: usize,
    messages: usize,
}

/// A line as read: its bytes (line ending included), or why there is none.
enum Line {
    Text(Vec<u8>),
    TooLong,
    /// A line longer than any limit would tolerate: the peer is not speaking SMTP.
    Flood,
    Eof,
}

/// Reads up to and including `\n`. A line past `max` bytes is read to its end and reported `TooLong`;
/// one past `flood` bytes is abandoned (`Flood`), so a peer cannot keep the session busy forever.
async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R, max: usize, flood: usize) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut seen = 0usize;
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            return Ok(Line::Eof);
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let n = chunk.len();
        seen += n;
        if seen <= max {
            line.extend_from_slice(chunk);
        }
        r.consume(n);
        if done {
            return Ok(if seen <= max { Line::Text(line) } else { Line::TooLong });
        }
        if seen > flood {
            return Ok(Line::Flood);
        }
    }
}

async fn reply<W: AsyncWrite + Unpin>(w: &mut W, text: &str) -> std::io::Result<()> {
    w.write_all(text.as_bytes()).await?;
    w.flush().await
}

/// Text from elsewhere (an error message) made safe for one reply line: printable ASCII, bounded.
fn reply_text(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).take(400).collect()
}

/// The address in `<…>` after `FROM:` / `TO:`, and the parameters after it. Source routes
/// (`<@a,@b:user@c>`) are reduced to the mailbox, as RFC 5321 §3.3 allows.
fn parse_path<'l>(args: &'l str, keyword: &str) -> Option<(String, Vec<&'l str>)> {
    let head = args.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = args[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let close = rest.find('>')?;
    let mut path = &rest[..close];
    if path.starts_with('@') {
        path = path.split_once(':').map_or("", |(_, mailbox)| mailbox);
    }
    Some((path.trim().to_string(), rest[close + 1..].split_whitespace().collect()))
}

impl<'a> Session<'a> {
    fn new(shared: &'a Shared, tls: bool) -> Session<'a> {
        Session {
            shared,
            tls,
            greeted: false,
            from: None,
            recipients: Vec::new(),
            accepted_rcpts: 0,
            errors: 0,
            messages: 0,
        }
    }

    fn reset(&mut self) {
        self.from = None;
        self.recipients.clear();
        self.accepted_rcpts = 0;
    }

    fn host(&self) -> &str {
        &self.shared.hostname
    }

    async fn run<S: AsyncRead + AsyncWrite + Unpin>(mut self, mut io: BufReader<S>) -> End<S> {
        let limits = &self.shared.limits;
        let timeout = Duration::from_millis(limits.command_timeout_ms);
        loop {
            let read = read_line(&mut io, limits.command_line_bytes_max, 16 * limits.command_line_bytes_max);
            let line = match tokio::time::timeout(timeout, read).await {
                Err(_) => {
                    let _ =
                        reply(&mut io, &format!("421 4.4.2 {} timeout, closing the session\r\n", self.host())).await;
                    return End::Closed;
                }
                Ok(Err(_) | Ok(Line::Eof)) => return End::Closed,
                Ok(Ok(Line::Flood)) => {
                    let _ = reply(&mut io, "500 5.5.6 Line too long; closing the session\r\n").await;
                    return End::Closed;
                }
                Ok(Ok(Line::TooLong)) => {
                    let text = format!("500 5.5.6 Line too long (at most {} bytes)\r\n", limits.command_line_bytes_max);
                    if self.error(&mut io, &text).await.is_err() {
                        return End::Closed;
                    }
                    continue;
                }
                Ok(Ok(Line::Text(bytes))) => bytes,
            };
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            let (verb, args) = text.split_once(' ').unwrap_or((text, ""));
            let verb = verb.to_ascii_uppercase();
            let step = match verb.as_str() {
                "EHLO" | "HELO" => self.hello(&mut io, &verb, args.trim()).await,
                "STARTTLS" => match self.starttls(&mut io, args.trim()).await {
                    Ok(true) => return End::StartTls(io),
                    Ok(false) => Ok(()),
                    Err(e) => Err(e),
                },
                "MAIL" => self.mail(&mut io, args).await,
                "RCPT" => self.rcpt(&mut io, args).await,
                "DATA" => self.data(&mut io).await,
                "RSET" => {
                    self.reset();
                    reply(&mut io, "250 2.0.0 OK\r\n").await.map_err(Stop::Io)
                }
                "NOOP" => reply(&mut io, "250 2.0.0 OK\r\n").await.map_err(Stop::Io),
                "VRFY" => reply(&mut io, "252 2.5.0 Cannot VRFY; send the message and it will be tried\r\n")
                    .await
                    .map_err(Stop::Io),
                "QUIT" => {
                    let _ = reply(&mut io, &format!("221 2.0.0 {} closing\r\n", self.host())).await;
                    return End::Closed;
                }
                "AUTH" => {
                    self.error(&mut io, "502 5.5.1 AUTH not offered: senders are registered by address\r\n").await
                }
                _ => self.error(&mut io, "500 5.5.2 Command not recognised\r\n").await,
            };
            if step.is_err() {
                return End::Closed;
            }
        }
    }

    /// Answers a bad command; past the limit of bad commands, hangs up.
    async fn error<W: AsyncWrite + Unpin>(&mut self, w: &mut W, text: &str) -> Result<(), Stop> {
        self.errors += 1;
        if self.errors >= self.shared.limits.errors_per_session_max {
            let _ = reply(w, &format!("421 4.7.0 {} too many errors, closing the session\r\n", self.host())).await;
            return Err(Stop::Closed);
        }
        reply(w, text).await.map_err(Stop::Io)
    }

    async fn hello<W: AsyncWrite + Unpin>(&mut self, w: &mut W, verb: &str, domain: &str) -> Result<(), Stop> {
        if domain.is_empty() {
            return self.error(w, &format!("501 5.5.4 {verb} needs the client's domain\r\n")).await;
        }
        self.reset();
        self.greeted = true;
        let host = self.host().to_string();
        if verb == "HELO" {
            return reply(w, &format!("250 {host}\r\n")).await.map_err(Stop::Io);
        }
        let mut lines = vec![
            host,
            format!("SIZE {}", self.shared.limits.message_bytes_max),
            "8BITMIME".to_string(),
            "SMTPUTF8".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
        ];
        if self.shared.acceptor.is_some() && !self.tls {
            lines.push("STARTTLS".to_string());
        }
        let last = lines.len() - 1;
        let text: String =
            lines.iter().enumerate().map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' })).collect();
        reply(w, &text).await.map_err(Stop::Io)
    }

    /// `Ok(true)`: the peer may start the handshake now.
    async fn starttls<W: AsyncWrite + Unpin>(&mut self, w: &mut W, args: &str) -> Result<bool, Stop> {
        if self.shared.acceptor.is_none() {
            self.error(w, "502 5.5.1 STARTTLS not offered here\r\n").await?;
            return Ok(false);
        }
        if self.tls {
            self.error(w, "503 5.5.1 TLS already active\r\n").await?;
            return Ok(false);
        }
        if !args.is_empty() {
            self.error(w, "501 5.5.4 STARTTLS takes no parameters\r\n").await?;
            return Ok(false);
        }
        reply(w, "220 2.0.0 Ready to start TLS\r\n").await.map_err(Stop::Io)?;
        Ok(true)
    }

    async fn mail<W: AsyncWrite + Unpin>(&mut self, w: &mut W, args: &str) -> Result<(), Stop> {
        if !self.greeted {
            return self.error(w, "503 5.5.1 Say EHLO first\r\n").await;
        }
        if self.from.is_some() {
            return self.error(w, "503 5.5.1 Sender already given; RSET to start again\r\n").await;
        }
        if self.messages >= self.shared.limits.messages_per_session_max {
            let _ = reply(w, "421 4.7.0 Too many messages in one session; reconnect\r\n").await;
            return Err(Stop::Closed);
        }
        let Some((path, params)) = parse_path(args, "FROM:") else {
            return self.error(w, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n").await;
        };
        for param in params {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match key.to_ascii_uppercase().as_str() {
                "SIZE" => {
                    let max = self.shared.limits.message_bytes_max;
                    match value.parse::<u64>() {
                        Ok(size) if size > max as u64 => {
                            let text = format!("552 5.3.4 Message size exceeds the limit of {max} bytes\r\n");
                            return reply(w, &text).await.map_err(Stop::Io);
                        }
                        Ok(_) => {}
                        Err(_) => return self.error(w, "501 5.5.4 SIZE needs a number\r\n").await,
                    }
                }
                "BODY" | "SMTPUTF8" => {}
                _ => return self.error(w, "555 5.5.4 Unsupported MAIL parameter\r\n").await,
            }
        }
        if path.chars().count() > limits::MAIL_ADDRESS_CHARS_MAX {
            return self.error(w, "501 5.1.7 Sender address too long\r\n").await;
        }
        self.from = Some(path);
        reply(w, "250 2.1.0 Sender OK\r\n").await.map_err(Stop::Io)
    }

    async fn rcpt<W: AsyncWrite + Unpin>(&mut self, w: &mut W, args: &str) -> Result<(), Stop> {
        if self.from.is_none() {
            return self.error(w, "503 5.5.1 Need MAIL before RCPT\r\n").await;
        }
        let Some((path, params)) = parse_path(args, "TO:") else {
            return self.error(w, "501 5.5.4 Syntax: RCPT TO:<address>\r\n").await;
        };
        if !params.is_empty() {
            return self.error(w, "555 5.5.4 Unsupported RCPT parameter\r\n").await;
        }
        if self.accepted_rcpts >= self.shared.limits.recipients_max {
            return reply(w, "452 4.5.3 Too many recipients\r\n").await.map_err(Stop::Io);
        }
        let ctx = &self.shared.ctx;
        match mailbox::resolve_recipient(&ctx.app, &path, &ctx.mail_domain).await {
            Ok(to) => {
                self.accepted_rcpts += 1;
                // Two addresses of one organisation still make one submission.
                if !self.recipients.iter().any(|r| r.org_id == to.org_id) {
                    self.recipients.push(to);
                }
                reply(w, "250 2.1.5 Recipient OK\r\n").await.map_err(Stop::Io)
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                let text = format!(
                    "550 5.1.1 <{}>: no such designated mailbox here; each organisation's address is shown on its console Mailbox page\r\n",
                    reply_text(&path)
                );
                self.error(w, &text).await
            }
            Err(e) => {
                tracing::error!(error = %e, "recipient look-up failed");
                reply(w, "451 4.3.0 Temporary failure; try again later\r\n").await.map_err(Stop::Io)
            }
        }
    }

    async fn data<S: AsyncRead + AsyncWrite + Unpin>(&mut self, io: &mut BufReader<S>) -> Result<(), Stop> {
        if self.from.is_none() {
            return self.error(io, "503 5.5.1 Need MAIL before DATA\r\n").await;
        }
        if self.recipients.is_empty() {
            return self.error(io, "554 5.5.1 No valid recipients\r\n").await;
        }
        reply(io, "354 End data with <CR><LF>.<CR><LF>\r\n").await.map_err(Stop::Io)?;
        let body = read_data(io, &self.shared.limits).await?;
        self.messages += 1;
        let from = self.from.take().unwrap_or_default();
        let recipients = std::mem::take(&mut self.recipients);
        self.accepted_rcpts = 0;
        let text = match body {
            Body::TooBig => {
                format!("552 5.3.4 Message exceeds the limit of {} bytes\r\n", self.shared.limits.message_bytes_max)
            }
            Body::LineTooLong => {
                format!("554 5.6.0 A line is longer than {} bytes\r\n", self.shared.limits.data_line_bytes_max)
            }
            Body::Complete(raw) => match deliver(&self.shared.ctx, &from, &recipients, raw).await {
                Verdict::Accepted(receipts) => {
                    format!("250 2.0.0 Message accepted, receipt {}\r\n", receipts.join(","))
                }
                Verdict::Refused(reason) => format!("550 5.7.1 {}\r\n", reply_text(&reason)),
                Verdict::Unavailable => "451 4.3.0 Temporary failure; try again later\r\n".to_string(),
            },
        };
        reply(io, &text).await.map_err(Stop::Io)
    }
}

/// Reads DATA up to the lone dot, undoing dot-stuffing (RFC 5321 §4.5.2). A message past the size
/// limit is read to its end and dropped; a peer that sends far more than that is cut off.
async fn read_data<R: AsyncBufRead + Unpin>(r: &mut R, limits: &SmtpLimits) -> Result<Body, Stop> {
    let timeout = Duration::from_millis(limits.command_timeout_ms);
    let mut message = Vec::new();
    let (mut total, mut too_big, mut too_long) = (0usize, false, false);
    loop {
        let read = read_line(r, limits.data_line_bytes_max, limits.message_bytes_max);
        let line = match tokio::time::timeout(timeout, read).await {
            Err(_) | Ok(Err(_) | Ok(Line::Eof) | Ok(Line::Flood)) => return Err(Stop::Closed),
            Ok(Ok(Line::TooLong)) => {
                too_long = true;
                continue;
            }
            Ok(Ok(Line::Text(line))) => line,
        };
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        total += line.len();
        if total > limits.message_bytes_max.saturating_mul(2) {
            return Err(Stop::Closed);
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        if !too_big && message.len() + unstuffed.len() > limits.message_bytes_max {
            too_big = true;
            message = Vec::new();
        }
        if !too_big {
            message.extend_from_slice(unstuffed);
        }
    }
    Ok(if too_big {
        Body::TooBig
    } else if too_long {
        Body::LineTooLong
    } else {
        Body::Complete(message)
    })
}

enum Body {
    Complete(Vec<u8>),
    TooBig,
    LineTooLong,
}

/// Why a session ends early.
enum Stop {
    Io(#[allow(dead_code)] std::io::Error),
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_parsed_with_their_parameters() {
        let (p, params) = parse_path("FROM:<A@b.cn> SIZE=100 BODY=8BITMIME", "FROM:").unwrap();
        assert_eq!(p, "A@b.cn");
        assert_eq!(params, vec!["SIZE=100", "BODY=8BITMIME"]);
        assert_eq!(parse_path("from: <>", "FROM:").unwrap().0, "");
        assert_eq!(parse_path("TO:<@relay.cn,@x.cn:u@d.cn>", "TO:").unwrap().0, "u@d.cn");
        assert!(parse_path("TO:u@d.cn", "TO:").is_none());
        assert!(parse_path("FROM<u@d.cn>", "FROM:").is_none());
    }

    #[tokio::test]
    async fn lines_are_capped_and_floods_cut_off() {
        let input: &[u8] = b"short\r\nthis line is too long\r\nok\r\n";
        let mut r = BufReader::with_capacity(4, input);
        assert!(matches!(read_line(&mut r, 10, 100).await.unwrap(), Line::Text(l) if l == b"short\r\n"));
        assert!(matches!(read_line(&mut r, 10, 100).await.unwrap(), Line::TooLong));
        assert!(matches!(read_line(&mut r, 10, 100).await.unwrap(), Line::Text(l) if l == b"ok\r\n"));
        assert!(matches!(read_line(&mut r, 10, 100).await.unwrap(), Line::Eof));
        let flood = vec![b'x'; 1000];
        let mut r = BufReader::with_capacity(16, &flood[..]);
        assert!(matches!(read_line(&mut r, 10, 100).await.unwrap(), Line::Flood));
    }

    #[tokio::test]
    async fn data_is_unstuffed_and_capped() {
        let limits = SmtpLimits { message_bytes_max: 64, data_line_bytes_max: 20, ..SmtpLimits::default() };
        let mut r = BufReader::new(&b"Subject: x\r\n\r\n..leading dot\r\n.\r\nNOOP\r\n"[..]);
        let Ok(Body::Complete(m)) = read_data(&mut r, &limits).await else { panic!("complete") };
        assert_eq!(m, b"Subject: x\r\n\r\n.leading dot\r\n");
        let mut rest = String::new();
        r.read_line(&mut rest).await.unwrap();
        assert_eq!(rest, "NOOP\r\n", "reading stops at the lone dot");
        let big = format!("{}.\r\n", "0123456789\r\n".repeat(10));
        assert!(matches!(read_data(&mut BufReader::new(big.as_bytes()), &limits).await, Ok(Body::TooBig)));
        let long = format!("{}\r\n.\r\n", "x".repeat(30));
        assert!(matches!(read_data(&mut BufReader::new(long.as_bytes()), &limits).await, Ok(Body::LineTooLong)));
        assert!(matches!(read_data(&mut BufReader::new(&b"no end\r\n"[..]), &limits).await, Err(Stop::Closed)));
    }

    #[test]
    fn reply_text_is_one_printable_line() {
        assert_eq!(reply_text("a\r\nb 发"), "a??b ?");
    }
}
