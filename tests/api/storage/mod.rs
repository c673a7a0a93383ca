mod changes;
mod demo;
mod idempotency;
mod indexes;
mod migrations;
mod reference;
