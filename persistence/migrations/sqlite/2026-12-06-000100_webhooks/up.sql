-- Webhook subscriptions, their deliveries (the outbox the workers send from) and the
-- dispatcher's position in the change log.

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    -- who made it and whose rights decide what it is told: `account` or `client`
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    url TEXT NOT NULL,
    -- JSON array of event types and patterns
    event_types TEXT NOT NULL,
    -- JSON array of structure ids; empty: every structure (staff only)
    structure_ids TEXT NOT NULL,
    description TEXT,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    -- the signing secret, sealed (AEAD: base64 of nonce and ciphertext)
    secret_sealed TEXT NOT NULL,
    -- the secret before the last rotation, signing beside the new one until then
    previous_secret_sealed TEXT,
    previous_secret_until TIMESTAMP,
    -- changes up to this number happened before it existed
    from_seq BIGINT NOT NULL,
    -- deliveries given up in a row
    failed_in_a_row BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE INDEX webhooks_owner_idx ON webhooks (owner_kind, owner_id, id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- `webhook-id`: the same for every attempt and replay of one event to one endpoint
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- deliveries of one key go out in `seq` order: `{object_type}:{object_id}` for
    -- changes; the delivery's own id for pings and replays
    object_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    -- the JSON body sent
    payload TEXT NOT NULL,
    -- `pending`, `delivered`, `failed`
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- a worker holds it until then; past it, another may take it
    claimed_until TIMESTAMP,
    last_status_code BIGINT,
    last_error TEXT,
    last_latency_ms BIGINT,
    last_attempt_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (webhook_id, object_key, seq);
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (webhook_id, id);

CREATE TABLE webhook_dispatch (
    name TEXT PRIMARY KEY,
    after_seq BIGINT NOT NULL
);

INSERT INTO webhook_dispatch (name, after_seq) VALUES ('changes', 0);
