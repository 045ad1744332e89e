//! Every decision about destroying data: the classifier, the deletion plan, confirmation, checkout ownership, the audit log, and the guarded step that ties them together.

pub mod audit_log;
pub mod checkout_owner;
pub mod classifier;
pub mod confirmation;
pub mod deletion_plan;
pub mod step;
