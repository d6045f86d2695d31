//! The `file` connector (Verity only): writes each message to a file instead of sending it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use verity_application::ports::driven::{
    EmailMessage, Notification, NotificationConnector, NotifyError, SmsMessage,
};

use crate::error::{DeliveryFailure, chain};
use crate::template::{MAX_SUBJECT_CHARS, one_line};
use crate::{ConfigError, SenderIdentity, redact};

const KEY_DIRECTORY: &str = "connectors.file.directory";

/// `threepid.medium.<medium>.connectors.file` (Verity only).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FileConfig {
    /// `directory`: where messages are written, created if missing (mode 0700). Default
    /// `data/outbox`, relative to the working directory.
    pub directory: PathBuf,
}

impl Default for FileConfig {
    fn default() -> Self {
        Self {
            directory: PathBuf::from("data/outbox"),
        }
    }
}

/// Writes every message to its own file, for trying Verity out without an SMTP server or a Twilio
/// account: the sample configuration uses it, and the validation link is then read from the file.
///
/// An email becomes a readable `.eml` (headers, then the text and HTML parts unencoded, split by
/// a random boundary) that mail clients also open; an SMS becomes a `.txt`. Files are named by
/// UTC time plus a random suffix, created with mode 0600 (they hold live validation tokens), and
/// never overwritten. The info log line names the file, never the token or the full recipient.
#[derive(Debug, Clone)]
pub struct FileConnector {
    directory: PathBuf,
    identity: SenderIdentity,
}

impl FileConnector {
    /// Builds the connector, creating the directory. `identity` fills the `From` line of emails.
    ///
    /// # Errors
    /// [`ConfigError::Path`] when the directory cannot be created.
    pub fn new(config: &FileConfig, identity: &SenderIdentity) -> Result<Self, ConfigError> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&config.directory)
            .map_err(|source| ConfigError::Path {
                key: KEY_DIRECTORY,
                path: config.directory.clone(),
                source,
            })?;
        Ok(Self {
            directory: config.directory.clone(),
            identity: identity.clone(),
        })
    }

    /// The directory messages are written to.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    fn email(&self, email: &EmailMessage, date: &str) -> String {
        let mut out = String::new();
        let from = self.identity.from.trim();
        let name = one_line(self.identity.name.trim(), 200);
        let _ = writeln!(out, "Date: {date}");
        match (from.is_empty(), name.is_empty()) {
            (true, _) => {}
            (false, true) => {
                let _ = writeln!(out, "From: {}", one_line(from, 254));
            }
            (false, false) => {
                let _ = writeln!(
                    out,
                    "From: \"{}\" <{}>",
                    name.replace(['"', '\\'], ""),
                    one_line(from, 254)
                );
            }
        }
        let _ = writeln!(out, "To: {}", email.to);
        let _ = writeln!(
            out,
            "Subject: {}",
            one_line(&email.subject, MAX_SUBJECT_CHARS)
        );
        out.push_str("MIME-Version: 1.0\n");
        let part = |out: &mut String, kind: &str, body: &str| {
            let _ = write!(
                out,
                "Content-Type: text/{kind}; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n{body}"
            );
            if !body.ends_with('\n') {
                out.push('\n');
            }
        };
        match &email.html {
            None => part(&mut out, "plain", &email.text),
            Some(html) => {
                let boundary = format!("verity-{:032x}", rand::random::<u128>());
                let _ = write!(
                    out,
                    "Content-Type: multipart/alternative; boundary=\"{boundary}\"\n\n--{boundary}\n"
                );
                part(&mut out, "plain", &email.text);
                let _ = writeln!(out, "--{boundary}");
                part(&mut out, "html", html);
                let _ = writeln!(out, "--{boundary}--");
            }
        }
        out
    }

    fn sms(sms: &SmsMessage, date: &str) -> String {
        format!("Date: {date}\nTo: +{}\n\n{}\n", sms.to, sms.text)
    }
}

#[async_trait]
impl NotificationConnector for FileConnector {
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let time = Utc::from_unix(now.as_secs());
        let (content, extension) = match notification {
            Notification::Email(email) => (self.email(email, &time.rfc2822()), "eml"),
            Notification::Sms(sms) => (Self::sms(sms, &time.rfc2822()), "txt"),
        };
        let name = format!(
            "{}.{:03}Z-{:08x}.{extension}",
            time.compact(),
            now.subsec_millis(),
            rand::random::<u32>()
        );
        let path = self.directory.join(name);
        let medium = redact::medium(notification);
        if let Err(error) = write_new(&path, content.as_bytes()).await {
            tracing::warn!(
                medium,
                path = %path.display(),
                error = %chain(&error),
                "message not written"
            );
            return Err(DeliveryFailure::unavailable(format!(
                "cannot write {}: {error}",
                path.display()
            )));
        }
        tracing::info!(
            recipient = %redact::recipient(notification),
            "message for {medium} written to {}",
            path.display()
        );
        Ok(())
    }
}

async fn write_new(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(content).await?;
    file.sync_all().await
}

/// A UTC date and time (the domain's calendar), as file names and `Date:` lines write it.
struct Utc(verity_domain::UtcTime);

impl std::ops::Deref for Utc {
    type Target = verity_domain::UtcTime;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Utc {
    fn from_unix(seconds: u64) -> Self {
        Self(verity_domain::UtcTime::from_unix(seconds))
    }

    /// `20261128T101502`
    fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `Sat, 28 Nov 2026 10:15:02 +0000`
    fn rfc2822(&self) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = MONTHS
            .get(self.month.saturating_sub(1) as usize)
            .unwrap_or(&"Jan");
        format!(
            "{}, {} {month} {} {:02}:{:02}:{:02} +0000",
            DAYS.get(self.weekday).unwrap_or(&"Thu"),
            self.day,
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_become_utc_dates() {
        let t = Utc::from_unix(1_795_860_902); // 2026-11-28 10:15:02 UTC
        assert_eq!(t.compact(), "20261128T101502");
        assert_eq!(t.rfc2822(), "Sat, 28 Nov 2026 10:15:02 +0000");
        assert_eq!(Utc::from_unix(951_782_400).compact(), "20000229T000000");
        assert_eq!(
            Utc::from_unix(0).rfc2822(),
            "Thu, 1 Jan 1970 00:00:00 +0000"
        );
    }
}
