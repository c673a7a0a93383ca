mod authorization;
mod contract;
mod errors;
mod limits;
