//! Every decision about destroying data: the classifier, the compose commands it guards, the
//! deletion plan, confirmation, checkout ownership, the audit log, the guarded step that ties
//! them together, and restore through the same checks.

pub mod audit_log;
pub mod checkout_owner;
pub mod classifier;
pub mod confirmation;
pub mod deletion_plan;
pub mod passthrough;
pub mod recreation;
pub mod restore_step;
pub mod step;
