-- An owner invites an email to join a structure with a role; the person whose account
-- has that email accepts or declines. Answered or cancelled invitations are deleted
-- (the audit log keeps what happened); expired ones are no longer shown or answerable.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    -- lower case, as accounts.email_normalized, which it is matched against when read:
    -- an account signed up after the invitation finds it too
    email_normalized TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- One invitation per email and structure: inviting again replaces it.
CREATE UNIQUE INDEX invitations_structure_email_key ON invitations (structure_id, email_normalized);
CREATE INDEX invitations_email_idx ON invitations (email_normalized, expires_at);
