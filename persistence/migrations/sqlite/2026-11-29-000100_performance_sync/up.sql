-- Partner sync: the performances an API client keeps here by its own ids. An external
-- id is unique for its client only (two clients may use the same one); a performance
-- has at most one. Deleting the performance, by whatever route, frees its external id.
CREATE TABLE performance_external_ids (
    client_id TEXT NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    performance_id TEXT NOT NULL UNIQUE REFERENCES performances (id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, external_id)
);
