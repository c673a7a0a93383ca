CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    -- as typed, for display
    email TEXT NOT NULL,
    -- lower case: accounts are found and kept unique case-insensitively
    email_normalized TEXT NOT NULL,
    display_name TEXT NOT NULL,
    -- argon2id PHC string; never returned, never logged
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    agency_role TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE UNIQUE INDEX accounts_email_key ON accounts (email_normalized);

CREATE TABLE memberships (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, structure_id)
);

CREATE INDEX memberships_structure_idx ON memberships (structure_id, account_id);

-- Refresh tokens, stored as SHA-256 of the opaque token. Each use rotates the token
-- within its family; reusing a spent one revokes the whole family.
CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
