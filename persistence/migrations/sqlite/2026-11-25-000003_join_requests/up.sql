-- An account asking to join a structure; an owner or staff accepts or declines it.
CREATE TABLE join_requests (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    message TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (structure_id, account_id)
);
