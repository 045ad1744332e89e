//! What devctl tells people and how it exits: the printer, tables, failures and the exit codes.

pub mod exit_status;
pub mod failure;
pub mod printer;
pub mod table;
pub mod units;
