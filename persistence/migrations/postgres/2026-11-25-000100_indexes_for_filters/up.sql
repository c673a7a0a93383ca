-- An index for every column a query filters on, leading the index; nothing that
-- duplicates another index.

-- Sign-ins of an account: revoked on reset, disable and erase, listed in the export.
CREATE INDEX refresh_tokens_account_idx ON refresh_tokens (account_id, created_at);
-- Requests to join made by an account: the export and erasure.
CREATE INDEX join_requests_account_idx ON join_requests (account_id);
-- API clients made by an account: revoked on erasure.
CREATE INDEX api_clients_created_by_idx ON api_clients (created_by);
-- The audit log filtered by action, newest first.
CREATE INDEX audit_events_action_idx ON audit_events (action, id);
-- Accounts listed by status or agency role, in id order.
CREATE INDEX accounts_status_idx ON accounts (status, id);
CREATE INDEX accounts_agency_role_idx ON accounts (agency_role, id);

-- Duplicated the primary key's own index.
DROP INDEX accounts_listing_idx;
