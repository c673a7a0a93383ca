DROP INDEX accounts_listing_idx;
DROP TABLE password_resets;
