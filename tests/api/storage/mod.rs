mod idempotency;
mod migrations;
mod reference;
