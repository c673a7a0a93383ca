pub mod operations;
pub mod structures;
