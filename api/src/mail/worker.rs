//! The mail worker: claims due mails from the outbox, sends them outside any
//! transaction, and records each outcome. Runs inside `oes serve` and as `oes worker`;
//! any number of them share one database (see `persistence::mail`).
//!
//! A mail is sent at least once: a worker killed after sending and before recording
//! leaves a lease that expires, and the mail goes again (with the same `Message-ID`, so
//! that a receiving system can drop the duplicate). A temporary failure (the server is
//! down, answers 4xx, times out) is retried with exponential backoff and jitter over
//! about a day; a permanent refusal (5xx) fails the mail at once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use lettre::message::Body;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use persistence::mail::ClaimedMail;
use persistence::{PersistenceError, Pool};
use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::crypto::SealingKey;

/// Mails claimed at once.
const BATCH: i64 = 20;
/// How long a claim holds: longer than any send may take (connect and command
/// timeouts), so that a live worker never loses its mail to another.
const LEASE: TimeDelta = TimeDelta::minutes(5);
/// Time limit on each SMTP connection and command.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Sent mails are kept this long (for operators), then deleted.
const KEEP_SENT: TimeDelta = TimeDelta::days(7);

/// Where mails go.
#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// No SMTP configured: `.eml` files in this folder (mode 0600).
    Folder(PathBuf),
}

/// Why a mail did not go.
enum Failure {
    /// Try again later.
    Temporary(String),
    /// Never going to work.
    Permanent(String),
}

#[derive(Clone)]
pub struct Worker {
    pool: Pool,
    key: SealingKey,
    transport: Transport,
    from: lettre::message::Mailbox,
    poll: Duration,
    retry_base: TimeDelta,
}

impl Worker {
    pub fn new(pool: Pool, key: SealingKey, settings: &Settings) -> Result<Self, String> {
        let transport = match &settings.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| format!("OES_SMTP_URL: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => {
                let folder = settings.data_dir.join("mail");
                create_private_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
                tracing::info!(
                    folder = %folder.display(),
                    "OES_SMTP_URL is not set: mails are written into this folder"
                );
                Transport::Folder(folder)
            }
        };
        let from = settings
            .mail_from
            .parse()
            .map_err(|e| format!("OES_MAIL_FROM: {e}"))?;
        Ok(Self {
            pool,
            key,
            transport,
            from,
            poll: Duration::from_millis(settings.mail_poll_interval_ms.max(10)),
            retry_base: TimeDelta::milliseconds(settings.mail_retry_base_ms.max(1) as i64),
        })
    }

    /// Sends mails until the runtime stops.
    pub async fn run(self) {
        let mut purged = Instant::now();
        loop {
            match self.round().await {
                // A full batch: more may be waiting.
                Ok(claimed) if claimed as i64 >= BATCH => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "mail worker"),
            }
            if purged.elapsed() > Duration::from_secs(3600) {
                purged = Instant::now();
                let cutoff = chrono::Utc::now() - KEEP_SENT;
                if let Err(error) = self
                    .blocking(move |conn| persistence::mail::purge_sent(conn, cutoff))
                    .await
                {
                    tracing::warn!(%error, "mail worker: purging sent mails");
                }
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Claims due mails and sends each; how many were claimed.
    pub async fn round(&self) -> Result<usize, PersistenceError> {
        let claimed = self
            .blocking(|conn| {
                let now = chrono::Utc::now();
                if !persistence::mail::any_due(conn, now)? {
                    return Ok(Vec::new());
                }
                persistence::mail::claim(conn, now, LEASE, BATCH)
            })
            .await?;
        let count = claimed.len();
        for mail in claimed {
            let id = mail.id.clone();
            let attempts = u32::try_from(mail.attempts).unwrap_or(u32::MAX);
            let outcome = self.send(mail).await;
            let retry_base = self.retry_base;
            self.blocking(move |conn| match outcome {
                Ok(()) => persistence::mail::mark_sent(conn, &id),
                Err(Failure::Permanent(error)) => {
                    tracing::warn!(mail = %id, %error, "mail refused: given up");
                    persistence::mail::mark_failed(conn, &id, &error)
                }
                Err(Failure::Temporary(error)) => {
                    match domain::mail::retry_delay(attempts, retry_base, rand::random::<f64>()) {
                        Some(wait) => {
                            tracing::info!(mail = %id, attempts, %error, "mail not sent: will retry");
                            persistence::mail::retry_at(conn, &id, chrono::Utc::now() + wait, &error)
                        }
                        None => {
                            tracing::warn!(mail = %id, attempts, %error, "mail not sent: out of attempts");
                            persistence::mail::mark_failed(conn, &id, &error)
                        }
                    }
                }
            })
            .await?;
        }
        Ok(count)
    }

    async fn send(&self, mail: ClaimedMail) -> Result<(), Failure> {
        let body = self
            .key
            .open(&mail.sealed_body, mail.id.as_bytes())
            .map_err(|e| Failure::Permanent(format!("body: {e}")))
            .and_then(|bytes| {
                String::from_utf8(bytes).map_err(|e| Failure::Permanent(format!("body: {e}")))
            })?;
        let body = eight_bit(&body);
        let recipient = mail
            .recipient
            .parse()
            .map_err(|e| Failure::Permanent(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(recipient)
            .subject(mail.subject)
            .message_id(Some(format!("<{}@oes.example>", mail.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| Failure::Permanent(format!("message: {e}")))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    Failure::Permanent(e.to_string())
                } else {
                    Failure::Temporary(e.to_string())
                }
            }),
            Transport::Folder(folder) => {
                let path = folder.join(format!("{}.eml", mail.id));
                let bytes = message.formatted();
                let written = {
                    let path = path.clone();
                    tokio::task::spawn_blocking(move || write_private(&path, &bytes))
                        .await
                        .map_err(|e| Failure::Temporary(e.to_string()))?
                };
                written.map_err(|e| Failure::Temporary(format!("{}: {e}", path.display())))?;
                // Never the body: it may hold a link with a token.
                tracing::info!(mail = %mail.id, kind = %mail.kind, path = %path.display(), "mail written (no SMTP server configured)");
                Ok(())
            }
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut persistence::DbConnection) -> Result<T, PersistenceError>
        + Send
        + 'static,
    ) -> Result<T, PersistenceError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(PersistenceError::from)?;
            work(&mut conn)
        })
        .await
        .map_err(|e| PersistenceError::Unavailable(format!("mail worker task: {e}")))?
    }
}

/// The body as written, in 8bit with CRLF line endings, so that a link stays whole
/// and readable (in an `.eml` file too): lettre would pick quoted-printable for any line
/// of 76 characters or more, cutting links in two. A line beyond SMTP's 998 bytes
/// (never in the templates) lets lettre choose.
fn eight_bit(body: &str) -> Body {
    let crlf = body.replace("\r\n", "\n").replace('\n', "\r\n");
    if crlf.split("\r\n").all(|line| line.len() <= 998) && !crlf.contains('\0') {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(body.to_owned())
    }
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
