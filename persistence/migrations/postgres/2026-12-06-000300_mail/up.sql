-- Mail: each account's language and whether its email was verified; single-use email
-- verification tokens (their SHA-256 only); and the outbox of mails, each enqueued in
-- the transaction of the write that caused it, its body sealed (AEAD) by the server.

-- `fr` or `en`: the language of the mails the account receives
ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'fr';
ALTER TABLE accounts ADD COLUMN email_verified_at TIMESTAMP;

CREATE TABLE email_verifications (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX email_verifications_account_idx ON email_verifications (account_id);

CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    -- `email_verification`, `password_reset`, `dossier_transition`, `dossier_message`,
    -- `dossier_submitted`
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- nonce and ciphertext of the body, sealed with the server's key, the id as
    -- associated data: a token link never lies in clear here
    body BYTEA NOT NULL,
    -- `pending`, `sent` or `failed`
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- a worker's lease: until then no other claims it; a killed worker's lease expires
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);

-- What the workers look for: pending mails by when they are due
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);
