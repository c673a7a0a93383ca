//! Configuration: `OES_*` environment variables (a `.env` file is read first), each with
//! a default that runs the server with no setup at all.

use clap::{Args, ValueEnum};
use secrecy::SecretString;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database: `sqlite://PATH` (embedded, the default) or `postgres://…`. A secret:
    /// it may hold a password (logs show it through `persistence::db::redact`).
    #[arg(
        long,
        env = "OES_DATABASE_URL",
        default_value = "sqlite://data/oes.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: SecretString,
    /// Address and port to listen on.
    #[arg(
        long,
        env = "OES_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,
    /// Largest number of pooled database connections.
    #[arg(
        long,
        env = "OES_DATABASE_POOL_SIZE",
        default_value_t = 8,
        global = true
    )]
    pub pool_size: u32,
    /// Seconds a request waits for a pooled database connection before it fails with a
    /// 503.
    #[arg(
        long,
        env = "OES_DATABASE_POOL_TIMEOUT_SECS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    pub pool_timeout_secs: u64,
    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "OES_WORKERS", global = true)]
    pub workers: Option<usize>,
    /// Log filter, in `tracing` syntax (`info`, `oes=debug,info`…).
    #[arg(long, env = "OES_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log lines for people (`human`) or for log collectors (`json`).
    #[arg(
        long,
        env = "OES_LOG_FORMAT",
        value_enum,
        default_value = "human",
        global = true
    )]
    pub log_format: LogFormat,
    /// Origins allowed by CORS, comma-separated; `*` for any; empty for none.
    #[arg(long, env = "OES_CORS_ORIGINS", default_value = "", global = true)]
    pub cors_origins: String,
    /// Folder for files the server keeps (the generated JWT secret).
    #[arg(long, env = "OES_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: std::path::PathBuf,
    /// Secret that signs access tokens (HS256), at least 32 characters; every instance
    /// must share it. Unset: one is generated into the data folder.
    #[arg(long, env = "OES_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<SecretString>,
    /// An EC P-256 private key (PKCS#8 PEM file): tokens are then signed ES256 with a
    /// `kid`, and `/.well-known/jwks.json` publishes the public key. Replaces the secret.
    #[arg(long, env = "OES_JWT_PRIVATE_KEY_FILE", global = true)]
    pub jwt_private_key_file: Option<std::path::PathBuf>,
    /// `kid` of that key (default: derived from the public key).
    #[arg(long, env = "OES_JWT_KEY_ID", global = true)]
    pub jwt_key_id: Option<String>,
    /// `iss` and `aud` of access tokens.
    #[arg(long, env = "OES_JWT_ISSUER", default_value = "oes-api", global = true)]
    pub jwt_issuer: String,
    /// Lifetime of access tokens, in seconds.
    #[arg(
        long,
        env = "OES_ACCESS_TOKEN_TTL",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl: u64,
    /// Lifetime of refresh tokens, in seconds.
    #[arg(
        long,
        env = "OES_REFRESH_TOKEN_TTL",
        default_value_t = 2_592_000,
        global = true
    )]
    pub refresh_token_ttl: u64,
    /// Token requests a minute from one IP address (0: no limit).
    #[arg(
        long,
        env = "OES_SIGN_IN_LIMIT_PER_IP",
        default_value_t = 30,
        global = true
    )]
    pub sign_in_limit_per_ip: u32,
    /// Token requests a minute for one account or API client (0: no limit).
    #[arg(
        long,
        env = "OES_SIGN_IN_LIMIT_PER_ACCOUNT",
        default_value_t = 10,
        global = true
    )]
    pub sign_in_limit_per_account: u32,
    /// Sign-ups (`POST /v1/accounts`) a minute from one IP address (0: no limit).
    #[arg(
        long,
        env = "OES_SIGN_UP_LIMIT_PER_IP",
        default_value_t = 10,
        global = true
    )]
    pub sign_up_limit_per_ip: u32,
    /// Password reset redemptions (`POST /v1/auth/password-reset`) a minute from one IP
    /// address (0: no limit).
    #[arg(
        long,
        env = "OES_PASSWORD_RESET_LIMIT_PER_IP",
        default_value_t = 10,
        global = true
    )]
    pub password_reset_limit_per_ip: u32,
    /// Requests a minute from one signed-in account or API client (0: no limit).
    #[arg(
        long,
        env = "OES_RATE_LIMIT_PER_CALLER",
        default_value_t = 6000,
        global = true
    )]
    pub rate_limit_per_caller: u32,
    /// Largest request body, in bytes.
    #[arg(
        long,
        env = "OES_BODY_LIMIT",
        default_value_t = 1_048_576,
        global = true
    )]
    pub body_limit: usize,
    /// Largest body of a sync batch (`POST /v1/sync/performances/batch`, up to 1,000
    /// performances), in bytes.
    #[arg(
        long,
        env = "OES_BATCH_BODY_LIMIT",
        default_value_t = 8_388_608,
        global = true
    )]
    pub batch_body_limit: usize,
    /// The agency's official name, as its awarded grants are published (SCDL
    /// `nomAttribuant`).
    #[arg(
        long,
        env = "OES_AGENCY_NAME",
        default_value = "Occitanie en scène",
        global = true
    )]
    pub agency_name: String,
    /// The agency's SIRET, as its awarded grants are published (SCDL `idAttribuant`).
    /// The default is a placeholder that passes the checksum: set the real one in
    /// production.
    #[arg(
        long,
        env = "OES_AGENCY_SIRET",
        default_value = DEFAULT_AGENCY_SIRET,
        global = true
    )]
    pub agency_siret: String,
    /// Largest file uploaded to a dossier (`POST /v1/dossiers/{id}/documents`), in
    /// bytes: 413 beyond, refused while it streams in.
    #[arg(
        long,
        env = "OES_UPLOAD_LIMIT_BYTES",
        default_value_t = 20_971_520,
        global = true
    )]
    pub upload_limit_bytes: usize,
    /// Where dossier documents are stored: unset, the `documents` folder of the data
    /// folder; `s3://BUCKET` for S3-compatible storage (credentials and region from the
    /// `AWS_*` variables).
    #[arg(long, env = "OES_STORAGE_URL", global = true)]
    pub storage_url: Option<String>,
    /// Endpoint of S3-compatible storage other than AWS (`http://127.0.0.1:9000`…);
    /// plain `http://` is allowed for it.
    #[arg(long, env = "OES_STORAGE_ENDPOINT", global = true)]
    pub storage_endpoint: Option<String>,
    /// Key that encrypts what is stored but must not be readable in the database
    /// (webhook secrets, mail bodies holding a link with a token): base64 of 32 random
    /// bytes (`openssl rand -base64 32`), shared by every instance. Unset: one is
    /// generated into the data folder.
    #[arg(
        long,
        env = "OES_ENCRYPTION_KEY",
        hide_env_values = true,
        global = true
    )]
    pub encryption_key: Option<SecretString>,
    /// Development only: let webhooks use `http://` URLs and reach loopback, private and
    /// other reserved addresses.
    #[arg(
        long,
        env = "OES_WEBHOOK_ALLOW_INSECURE",
        default_value_t = false,
        global = true
    )]
    pub webhook_allow_insecure: bool,
    /// Webhook delivery workers run by `oes serve` (and `oes worker`); 0: `oes serve`
    /// delivers nothing (run `oes worker` beside it).
    #[arg(long, env = "OES_WEBHOOK_WORKERS", default_value_t = 2, global = true)]
    pub webhook_workers: usize,
    /// Seconds to connect to a webhook endpoint.
    #[arg(
        long,
        env = "OES_WEBHOOK_CONNECT_TIMEOUT_SECS",
        default_value_t = 5,
        global = true
    )]
    pub webhook_connect_timeout_secs: u64,
    /// Seconds for a whole webhook request, answer included.
    #[arg(
        long,
        env = "OES_WEBHOOK_TIMEOUT_SECS",
        default_value_t = 15,
        global = true
    )]
    pub webhook_timeout_secs: u64,
    /// Milliseconds before the first retry of a failed delivery; the next ones wait
    /// 4, 20, 60, 120, 240, 480, 960 and 960 times as long (about a day in all).
    #[arg(
        long,
        env = "OES_WEBHOOK_RETRY_BASE_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub webhook_retry_base_ms: u64,
    /// Seconds a worker holds a delivery it claimed; a worker that died leaves it to be
    /// claimed again after that (keep it above the request time-out).
    #[arg(
        long,
        env = "OES_WEBHOOK_LEASE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub webhook_lease_secs: u64,
    /// Milliseconds between polls of the change log and of due deliveries when idle.
    #[arg(
        long,
        env = "OES_WEBHOOK_POLL_MS",
        default_value_t = 250,
        global = true
    )]
    pub webhook_poll_ms: u64,
    /// SMTP server for mails: `smtp://host:port` (STARTTLS with `?tls=required`),
    /// `smtps://user:password@host` (TLS). Unset: mails are written as `.eml` files into
    /// the `mail` folder of the data folder.
    #[arg(long, env = "OES_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<SecretString>,
    /// The sender of mails.
    #[arg(
        long,
        env = "OES_MAIL_FROM",
        default_value = "Occitanie en scène <no-reply@oes.example>",
        global = true
    )]
    pub mail_from: String,
    /// Base URL of the front end that opens the links mailed to people
    /// (`{OES_PUBLIC_URL}/email-verification?token=…`, `/password-reset?token=…`).
    #[arg(
        long,
        env = "OES_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub public_url: String,
    /// How often the mail worker looks for mails to send, in milliseconds.
    #[arg(
        long,
        env = "OES_MAIL_POLL_INTERVAL_MS",
        default_value_t = 2_000,
        global = true
    )]
    pub mail_poll_interval_ms: u64,
    /// The wait before the first retry of a mail that could not be sent, in
    /// milliseconds; each retry waits twice the last (with jitter), 12 attempts in all.
    #[arg(
        long,
        env = "OES_MAIL_RETRY_BASE_MS",
        default_value_t = 60_000,
        global = true
    )]
    pub mail_retry_base_ms: u64,
}

/// A placeholder SIRET (it passes the Luhn checksum) until `OES_AGENCY_SIRET` is set.
pub const DEFAULT_AGENCY_SIRET: &str = "00000000000000";

impl Settings {
    /// Settings for a given database with every other value at its default.
    pub fn for_database(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned().into(),
            bind: "127.0.0.1:0".into(),
            pool_size: 8,
            // A test machine may run hundreds of servers and databases at once: under
            // such a load, opening a PostgreSQL connection has taken more than 5 s.
            pool_timeout_secs: 60,
            workers: Some(1),
            log: "warn".into(),
            log_format: LogFormat::Human,
            cors_origins: String::new(),
            body_limit: 1_048_576,
            batch_body_limit: 8_388_608,
            upload_limit_bytes: 20_971_520,
            storage_url: None,
            storage_endpoint: None,
            encryption_key: Some(
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    secrecy::ExposeSecret::expose_secret(&crate::auth::secrets::random_key(32)),
                )
                .into(),
            ),
            webhook_allow_insecure: false,
            webhook_workers: 2,
            webhook_connect_timeout_secs: 5,
            webhook_timeout_secs: 15,
            webhook_retry_base_ms: 30_000,
            webhook_lease_secs: 60,
            webhook_poll_ms: 250,
            data_dir: std::env::temp_dir(),
            jwt_secret: Some(crate::auth::secrets::random_secret()),
            jwt_private_key_file: None,
            jwt_key_id: None,
            jwt_issuer: "oes-api".into(),
            access_token_ttl: 900,
            refresh_token_ttl: 2_592_000,
            // Tests sign in far more often than people do; the limits have their own test.
            sign_in_limit_per_ip: 0,
            sign_in_limit_per_account: 0,
            sign_up_limit_per_ip: 0,
            password_reset_limit_per_ip: 0,
            rate_limit_per_caller: 0,
            agency_name: "Occitanie en scène".into(),
            agency_siret: DEFAULT_AGENCY_SIRET.into(),
            smtp_url: None,
            mail_from: "Occitanie en scène <no-reply@oes.example>".into(),
            public_url: "http://127.0.0.1:8080".into(),
            // Tests wait for mails: look often, retry soon.
            mail_poll_interval_ms: 100,
            mail_retry_base_ms: 200,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_the_settings_shows_no_secret() {
        let mut settings =
            Settings::for_database("postgres://oes:db-password-4f7a@db.example:5432/oes");
        settings.jwt_secret = Some("jwt-secret-0123456789abcdef0123456789".into());
        let printed = format!("{settings:?} {settings:#?}");
        assert!(!printed.contains("db-password-4f7a"), "{printed}");
        assert!(!printed.contains("jwt-secret-0123"), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
    }

    #[test]
    fn secrets_are_read_from_the_environment_names_of_the_readme() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            settings: Settings,
        }
        use clap::Parser;
        use secrecy::ExposeSecret;
        let cli = Cli::try_parse_from([
            "oes",
            "--database-url",
            "postgres://oes:pw@db/oes",
            "--jwt-secret",
            "a-secret-of-at-least-thirty-two-characters",
        ])
        .unwrap();
        assert_eq!(
            cli.settings.database_url.expose_secret(),
            "postgres://oes:pw@db/oes"
        );
        assert_eq!(
            cli.settings.jwt_secret.unwrap().expose_secret(),
            "a-secret-of-at-least-thirty-two-characters"
        );
    }
}
