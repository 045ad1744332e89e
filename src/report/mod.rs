//! What devctl tells people and how it exits: the printer, tables, failures and the exit codes,
//! and the devctl command lines hints name for the stack a run addresses.

pub mod command_line;
pub mod exit_status;
pub mod failure;
pub mod printer;
pub mod table;
pub mod text;
pub mod units;
