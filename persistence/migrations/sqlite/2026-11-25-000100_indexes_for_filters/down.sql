CREATE INDEX accounts_listing_idx ON accounts (id);
DROP INDEX accounts_agency_role_idx;
DROP INDEX accounts_status_idx;
DROP INDEX audit_events_action_idx;
DROP INDEX api_clients_created_by_idx;
DROP INDEX join_requests_account_idx;
DROP INDEX refresh_tokens_account_idx;
