DROP TABLE refresh_tokens;
DROP TABLE memberships;
DROP TABLE accounts;
