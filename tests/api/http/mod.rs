mod authorization;
mod client_contract;
mod contract;
mod errors;
mod idempotency;
mod limits;
