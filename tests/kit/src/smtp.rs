//! A real SMTP server on `127.0.0.1:0` that captures what it receives.
//!
//! It speaks enough of RFC 5321 for lettre and other clients: `EHLO`/`HELO`, `STARTTLS` (a
//! self-signed certificate for `localhost` and `127.0.0.1`, made by rcgen at start), implicit TLS,
//! `AUTH PLAIN` and `AUTH LOGIN` (any credentials are accepted and recorded), `MAIL FROM`,
//! `RCPT TO` (chosen recipients can be refused with 550), `DATA`, `RSET`, `NOOP` and `QUIT`.
//! The answer to a message can be held (captured, not yet acknowledged), to catch the sender in
//! the middle of its conversation. It counts the connections it accepted, and can close them all
//! (as a server closing idle clients does) or hang up right after a message, before its answer.
//! [`ParsedMail`] takes a captured message apart (headers, decoded text and HTML parts).
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! let server = verity_testkit::smtp::SmtpServer::builder().starttls().start().await;
//! // ... point the code under test at 127.0.0.1:server.port() ...
//! let mail = server.wait_for_mail(Duration::from_secs(5)).await.expect("no mail");
//! let link = verity_testkit::smtp::first_link(&mail.parse().text.unwrap());
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::gate::Gate;
use crate::serve::{self, Running};

/// Credentials a client authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpAuth {
    /// `PLAIN` or `LOGIN`.
    pub mechanism: String,
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// The `AUTH` commands a server received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthAttempts {
    /// All of them.
    pub total: usize,
    /// Those sent on an unencrypted session: the credentials crossed the network readable.
    pub in_clear: usize,
}

/// One message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMail {
    /// The `MAIL FROM` address.
    pub from: String,
    /// The accepted `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message as transferred (CRLF line ends, dots unstuffed, without the final `.`).
    pub data: String,
    /// Whether the session was encrypted (STARTTLS or implicit TLS).
    pub tls: bool,
    /// The credentials of the session, if it authenticated.
    pub auth: Option<SmtpAuth>,
}

impl CapturedMail {
    /// The message taken apart.
    pub fn parse(&self) -> ParsedMail {
        ParsedMail::parse(&self.data)
    }
}

/// Builds an [`SmtpServer`].
#[derive(Debug, Clone, Default)]
pub struct SmtpServerBuilder {
    starttls: bool,
    implicit_tls: bool,
    without_auth: bool,
    rejected: Vec<String>,
}

impl SmtpServerBuilder {
    /// Offers `STARTTLS` in the `EHLO` answer.
    pub fn starttls(mut self) -> Self {
        self.starttls = true;
        self
    }

    /// Leaves `AUTH` out of the `EHLO` answer (an `AUTH` command is still recorded and served).
    pub fn without_auth(mut self) -> Self {
        self.without_auth = true;
        self
    }

    /// Speaks TLS from the first byte (SMTPS).
    pub fn implicit_tls(mut self) -> Self {
        self.implicit_tls = true;
        self
    }

    /// Answers `550` to `RCPT TO` for this address (compared case-insensitively).
    pub fn reject_recipient(mut self, address: &str) -> Self {
        self.rejected.push(address.to_ascii_lowercase());
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(self) -> SmtpServer {
        let certified = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let tls = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let shared = Arc::new(Shared {
            acceptor: TlsAcceptor::from(Arc::new(tls)),
            options: self,
            state: state.clone(),
        });
        let running = Running::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // rustls writes the end of its handshake and the next reply separately; with
                // Nagle's algorithm on, the reply would wait for the client's delayed ACK
                // (40 ms), which a test or a benchmark would then take for the client's cost.
                let _ = stream.set_nodelay(true);
                let state = shared.state.clone();
                *serve::lock(&state.connections) += 1;
                // Held from before the session starts until its handle is stored, so whoever
                // has seen the session can close it.
                let mut open = serve::lock(&state.sessions);
                open.retain(|session| !session.is_finished());
                let shared = shared.clone();
                open.push(tokio::spawn(async move {
                    let _ = session(stream, shared).await;
                }));
            }
        });
        SmtpServer {
            addr,
            state,
            certificate_pem: certified.cert.pem(),
            running,
        }
    }
}

#[derive(Default)]
struct State {
    mails: Mutex<Vec<CapturedMail>>,
    auths: Mutex<Vec<SmtpAuth>>,
    /// One entry per `AUTH` command received, whatever came of it: whether the session was
    /// encrypted at the time.
    auth_attempts: Mutex<Vec<bool>>,
    taken: Mutex<usize>,
    /// Holds the answer to a received message (see [`SmtpServer::hold_replies_to_data`]).
    data_reply: Gate,
    /// Connections accepted so far.
    connections: Mutex<usize>,
    /// The sessions that may still be open.
    sessions: Mutex<Vec<JoinHandle<()>>>,
    /// Close the connection after the next message, without answering it.
    hang_up: AtomicBool,
}

struct Shared {
    acceptor: TlsAcceptor,
    options: SmtpServerBuilder,
    state: Arc<State>,
}

/// The running server; stops when dropped.
pub struct SmtpServer {
    addr: SocketAddr,
    state: Arc<State>,
    certificate_pem: String,
    running: Running,
}

impl SmtpServer {
    /// A builder: plain SMTP unless told otherwise.
    pub fn builder() -> SmtpServerBuilder {
        SmtpServerBuilder::default()
    }

    /// A plain SMTP server with default options.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The server's self-signed certificate, PEM, for clients that should trust it.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Every message accepted so far.
    pub fn received(&self) -> Vec<CapturedMail> {
        serve::lock(&self.state.mails).clone()
    }

    /// Every `AUTH` the server accepted, in order.
    pub fn auths(&self) -> Vec<SmtpAuth> {
        serve::lock(&self.state.auths).clone()
    }

    /// How many `AUTH` commands arrived (accepted or not), and how many of them in clear text.
    pub fn auth_attempts(&self) -> AuthAttempts {
        let attempts = serve::lock(&self.state.auth_attempts);
        AuthAttempts {
            total: attempts.len(),
            in_clear: attempts.iter().filter(|encrypted| !**encrypted).count(),
        }
    }

    /// The next message not yet returned by this method, waiting up to `timeout` for it.
    pub async fn wait_for_mail(&self, timeout: Duration) -> Option<CapturedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            {
                let mails = serve::lock(&self.state.mails);
                let mut taken = serve::lock(&self.state.taken);
                if let Some(mail) = mails.get(*taken) {
                    *taken += 1;
                    return Some(mail.clone());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// From now on, a message is captured when its `DATA` ends but its `250` waits until
    /// [`release_replies_to_data`](Self::release_replies_to_data): the sender is left in the
    /// middle of its conversation, not knowing whether the message went out.
    pub fn hold_replies_to_data(&self) {
        self.state.data_reply.close();
    }

    /// Answers the held messages and every later one at once.
    pub fn release_replies_to_data(&self) {
        self.state.data_reply.open();
    }

    /// Waits until at least `count` messages wait for their answer; panics after `timeout`.
    pub async fn wait_for_held_data(&self, count: usize, timeout: Duration) {
        self.state.data_reply.wait_for_held(count, timeout).await;
    }

    /// How many messages wait for their answer now.
    pub fn held_data(&self) -> usize {
        self.state.data_reply.held()
    }

    /// How many connections the server accepted so far.
    pub fn connections(&self) -> usize {
        *serve::lock(&self.state.connections)
    }

    /// Closes every open connection from the server's side, as a server dropping idle clients
    /// does; returns once they are closed. New connections are still accepted.
    pub async fn close_connections(&self) {
        let sessions = std::mem::take(&mut *serve::lock(&self.state.sessions));
        for session in sessions {
            session.abort();
            let _ = session.await;
        }
    }

    /// The next message is captured, then its connection is closed without an answer: the
    /// sender cannot know whether it was taken.
    pub fn hang_up_after_next_message(&self) {
        self.state.hang_up.store(true, Ordering::SeqCst);
    }

    /// Stops accepting connections (sessions already open finish on their own).
    pub fn stop(&self) {
        self.running.abort();
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Conn = BufReader<Box<dyn Io>>;

async fn reply(conn: &mut Conn, text: &str) -> std::io::Result<()> {
    conn.get_mut().write_all(text.as_bytes()).await?;
    conn.get_mut().flush().await
}

/// One line without its line end; `None` at end of stream.
async fn read_line(conn: &mut Conn) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    if conn.read_until(b'\n', &mut line).await? == 0 {
        return Ok(None);
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

fn decode64(text: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The address inside `<...>` after `MAIL FROM:` / `RCPT TO:`.
fn path_address(argument: &str) -> String {
    let inner = match (argument.find('<'), argument.find('>')) {
        (Some(open), Some(close)) if open < close => &argument[open + 1..close],
        _ => argument.split_whitespace().next().unwrap_or_default(),
    };
    inner.to_owned()
}

/// Runs an `AUTH` exchange; `None` (after answering 504) for an unknown mechanism.
async fn authenticate(conn: &mut Conn, argument: &str) -> std::io::Result<Option<SmtpAuth>> {
    let (mechanism, initial) = argument.split_once(' ').unwrap_or((argument, ""));
    let mechanism = mechanism.to_ascii_uppercase();
    let (username, password) = match mechanism.as_str() {
        "PLAIN" => {
            let response = if initial.is_empty() {
                reply(conn, "334 \r\n").await?;
                read_line(conn).await?.unwrap_or_default()
            } else {
                initial.to_owned()
            };
            let decoded = decode64(&response);
            let mut fields = decoded.split('\0').skip(1);
            (
                fields.next().unwrap_or_default().to_owned(),
                fields.next().unwrap_or_default().to_owned(),
            )
        }
        "LOGIN" => {
            let user = if initial.is_empty() {
                reply(conn, "334 VXNlcm5hbWU6\r\n").await?;
                read_line(conn).await?.unwrap_or_default()
            } else {
                initial.to_owned()
            };
            reply(conn, "334 UGFzc3dvcmQ6\r\n").await?;
            let pass = read_line(conn).await?.unwrap_or_default();
            (decode64(&user), decode64(&pass))
        }
        _ => {
            reply(conn, "504 5.5.4 unrecognised mechanism\r\n").await?;
            return Ok(None);
        }
    };
    Ok(Some(SmtpAuth {
        mechanism,
        username,
        password,
    }))
}

/// Reads a `DATA` body up to the lone `.`, unstuffing dots; `None` if the client hung up.
async fn read_data(conn: &mut Conn) -> std::io::Result<Option<String>> {
    let mut data = String::new();
    loop {
        let Some(line) = read_line(conn).await? else {
            return Ok(None);
        };
        if line == "." {
            return Ok(Some(data));
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
        data.push_str("\r\n");
    }
}

/// After `DATA`: reads the message, captures it and answers it (unless told to hang up).
/// `false` when the connection is to end.
async fn take_message(
    conn: &mut Conn,
    state: &State,
    (from, to): (String, Vec<String>),
    tls: bool,
    auth: &Option<SmtpAuth>,
) -> std::io::Result<bool> {
    reply(conn, "354 end data with <CR><LF>.<CR><LF>\r\n").await?;
    let Some(data) = read_data(conn).await? else {
        return Ok(false);
    };
    serve::lock(&state.mails).push(CapturedMail {
        from,
        to,
        data,
        tls,
        auth: auth.clone(),
    });
    if state.hang_up.swap(false, Ordering::SeqCst) {
        return Ok(false);
    }
    state.data_reply.pass().await;
    reply(conn, "250 2.0.0 queued\r\n").await?;
    Ok(true)
}

async fn session(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let mut tls = shared.options.implicit_tls;
    let io: Box<dyn Io> = if tls {
        Box::new(shared.acceptor.accept(stream).await?)
    } else {
        Box::new(stream)
    };
    let mut conn: Conn = BufReader::new(io);
    reply(&mut conn, "220 localhost verity-testkit SMTP ready\r\n").await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut auth: Option<SmtpAuth> = None;
    while let Some(line) = read_line(&mut conn).await? {
        let (verb, argument) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let argument = argument.trim();
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                let mut answer = String::from("250-localhost greets you\r\n");
                if shared.options.starttls && !tls {
                    answer.push_str("250-STARTTLS\r\n");
                }
                if !shared.options.without_auth {
                    answer.push_str("250-AUTH PLAIN LOGIN\r\n");
                }
                answer.push_str("250-8BITMIME\r\n250 SMTPUTF8\r\n");
                reply(&mut conn, &answer).await?;
            }
            "HELO" => reply(&mut conn, "250 localhost\r\n").await?,
            "STARTTLS" if shared.options.starttls && !tls => {
                reply(&mut conn, "220 2.0.0 ready to start TLS\r\n").await?;
                let plain = conn.into_inner();
                conn = BufReader::new(Box::new(shared.acceptor.accept(plain).await?));
                tls = true;
                from = None;
                to.clear();
                auth = None;
            }
            "AUTH" => {
                serve::lock(&shared.state.auth_attempts).push(tls);
                if let Some(credentials) = authenticate(&mut conn, argument).await? {
                    serve::lock(&shared.state.auths).push(credentials.clone());
                    auth = Some(credentials);
                    reply(&mut conn, "235 2.7.0 authenticated\r\n").await?;
                }
            }
            "MAIL" => {
                from = Some(path_address(argument));
                to.clear();
                reply(&mut conn, "250 2.1.0 ok\r\n").await?;
            }
            "RCPT" => {
                let address = path_address(argument);
                if from.is_none() {
                    reply(&mut conn, "503 5.5.1 MAIL first\r\n").await?;
                } else if shared
                    .options
                    .rejected
                    .contains(&address.to_ascii_lowercase())
                {
                    reply(&mut conn, "550 5.1.1 mailbox unavailable\r\n").await?;
                } else {
                    to.push(address);
                    reply(&mut conn, "250 2.1.5 ok\r\n").await?;
                }
            }
            "DATA" => {
                if from.is_none() || to.is_empty() {
                    reply(&mut conn, "503 5.5.1 no valid recipients\r\n").await?;
                    continue;
                }
                let envelope = (from.take().unwrap_or_default(), std::mem::take(&mut to));
                if !take_message(&mut conn, &shared.state, envelope, tls, &auth).await? {
                    return Ok(());
                }
            }
            "RSET" => {
                from = None;
                to.clear();
                reply(&mut conn, "250 2.0.0 ok\r\n").await?;
            }
            "NOOP" => reply(&mut conn, "250 2.0.0 ok\r\n").await?,
            "QUIT" => {
                reply(&mut conn, "221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => reply(&mut conn, "502 5.5.2 command not recognised\r\n").await?,
        }
    }
    Ok(())
}

/// A captured message taken apart: headers (unfolded, in order) and the first text and HTML
/// parts, decoded from quoted-printable or base64.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedMail {
    /// Every header of the message, name as written, value unfolded (still RFC 2047-encoded).
    pub headers: Vec<(String, String)>,
    /// The first `text/plain` part, decoded.
    pub text: Option<String>,
    /// The first `text/html` part, decoded.
    pub html: Option<String>,
    /// The `Content-Type` of every leaf part, in order.
    pub part_types: Vec<String>,
    /// The multipart boundaries, outermost first.
    pub boundaries: Vec<String>,
}

impl ParsedMail {
    /// Parses a message (CRLF or LF line ends).
    pub fn parse(data: &str) -> Self {
        let data = data.replace("\r\n", "\n");
        let mut parsed = Self::default();
        let (headers, body) = split_entity(&data);
        parsed.headers = headers.clone();
        parsed.walk(&headers, body, 0);
        parsed
    }

    /// The first value of a header (case-insensitive name), unfolded, not decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How many times a header occurs.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    /// A header's value with RFC 2047 encoded words decoded.
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        self.header(name).map(decode_encoded_words)
    }

    /// The decoded `Subject`.
    pub fn subject(&self) -> Option<String> {
        self.decoded_header("subject")
    }

    fn walk(&mut self, headers: &[(String, String)], body: &str, depth: usize) {
        let content_type = find(headers, "content-type")
            .unwrap_or("text/plain")
            .to_owned();
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if mime.starts_with("multipart/") && depth < 8 {
            let Some(boundary) = param(&content_type, "boundary") else {
                return;
            };
            self.boundaries.push(boundary.clone());
            for part in split_multipart(body, &boundary) {
                let (part_headers, part_body) = split_entity(&part);
                self.walk(&part_headers, part_body, depth + 1);
            }
            return;
        }
        self.part_types.push(content_type.clone());
        let encoding = find(headers, "content-transfer-encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let decoded = match encoding.as_str() {
            "quoted-printable" => String::from_utf8_lossy(&decode_qp(body)).into_owned(),
            "base64" => {
                let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                String::from_utf8_lossy(
                    &base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .unwrap_or_default(),
                )
                .into_owned()
            }
            _ => body.to_owned(),
        };
        let slot = match mime.as_str() {
            "text/plain" => &mut self.text,
            "text/html" => &mut self.html,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(decoded);
        }
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn split_entity(entity: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = match entity.find("\n\n") {
        Some(at) => (&entity[..at], &entity[at + 2..]),
        None => (entity, ""),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    (headers, body)
}

fn split_multipart(body: &str, boundary: &str) -> Vec<String> {
    let open = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in body.split('\n') {
        let trimmed = line.trim_end();
        if trimmed == open || trimmed == close {
            if let Some(lines) = current.take() {
                parts.push(lines.join("\n"));
            }
            if trimmed == close {
                break;
            }
            current = Some(Vec::new());
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    parts
}

fn decode_qp(body: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let lines: Vec<&str> = body.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_end_matches([' ', '\t', '\r']);
        let (content, soft) = match line.strip_suffix('=') {
            Some(content) => (content, true),
            None => (line, false),
        };
        let bytes = content.as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            let hex = (bytes[j] == b'=')
                .then(|| content.get(j + 1..j + 3))
                .flatten()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(byte) => {
                    out.push(byte);
                    j += 3;
                }
                None => {
                    out.push(bytes[j]);
                    j += 1;
                }
            }
        }
        if !soft && i + 1 < lines.len() {
            out.push(b'\n');
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (UTF-8, `B` or `Q`); white space between two of them is dropped.
pub fn decode_encoded_words(value: &str) -> String {
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, token) in value.split(' ').enumerate() {
        let decoded = token
            .strip_prefix("=?")
            .and_then(|t| t.strip_suffix("?="))
            .and_then(|t| {
                let mut pieces = t.splitn(3, '?');
                let _charset = pieces.next()?;
                let encoding = pieces.next()?;
                let text = pieces.next()?;
                let bytes = match encoding {
                    "B" | "b" => base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .ok()?,
                    "Q" | "q" => decode_qp(&text.replace('_', " ")),
                    _ => return None,
                };
                Some(String::from_utf8_lossy(&bytes).into_owned())
            });
        match decoded {
            Some(text) => {
                if i > 0 && !last_encoded {
                    out.push(' ');
                }
                out.push_str(&text);
                last_encoded = true;
            }
            None => {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(token);
                last_encoded = false;
            }
        }
    }
    out
}

/// The first `http://` or `https://` link in `text`, up to white space, a quote or `<`/`>`.
pub fn first_link(text: &str) -> Option<String> {
    let start = match (text.find("http://"), text.find("https://")) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => return None,
    };
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '<' | '>'))
        .collect();
    Some(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_decodes_nested_parts_and_encoded_subjects() {
        let data = "Subject: =?utf-8?b?w4ljb2xl?= =?utf-8?q?_d=C3=A9j=C3=A0?=\r\n\
                    Content-Type: multipart/alternative;\r\n boundary=\"b1\"\r\n\r\n\
                    --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\
                    Content-Transfer-Encoding: quoted-printable\r\n\r\nsee https://x.example/a?b=3D1 =\r\nnow\r\n\
                    --b1\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+aGk8L2I+\r\n--b1--\r\n";
        let mail = ParsedMail::parse(data);
        assert_eq!(mail.subject().as_deref(), Some("École déjà"));
        assert_eq!(
            mail.text.as_deref(),
            Some("see https://x.example/a?b=1 now")
        );
        assert_eq!(mail.html.as_deref(), Some("<b>hi</b>"));
        assert_eq!(mail.boundaries, vec!["b1".to_owned()]);
        assert_eq!(
            first_link(mail.text.as_deref().unwrap()).as_deref(),
            Some("https://x.example/a?b=1")
        );
    }
}
