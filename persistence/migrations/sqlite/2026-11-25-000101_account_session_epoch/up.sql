-- Bumped whenever every sign-in of the account must end (a password reset). Access
-- tokens carry the epoch they were issued in; one from an older epoch is refused.
ALTER TABLE accounts ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
