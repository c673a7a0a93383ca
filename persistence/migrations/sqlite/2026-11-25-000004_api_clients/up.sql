-- Partner systems and scripts: they act for given structures with given scopes.
CREATE TABLE api_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- argon2id PHC string of the secret; the secret itself is shown once
    secret_hash TEXT NOT NULL,
    -- space-separated, as OAuth 2.0 writes scopes
    scopes TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE api_client_structures (
    client_id TEXT NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, structure_id)
);

CREATE INDEX api_client_structures_structure_idx ON api_client_structures (structure_id, client_id);
