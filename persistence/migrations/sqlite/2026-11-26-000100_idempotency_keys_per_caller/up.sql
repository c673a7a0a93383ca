-- Keys are now filed per caller and recorded in the transaction of their write, with the
-- answer. Rows of the former scheme can never match again, and some held an API
-- client's secret in clear or a key stranded without its answer: forget them all.
DELETE FROM idempotency_keys;
