mod authorization;
mod contract;
mod errors;
mod idempotency;
mod limits;
