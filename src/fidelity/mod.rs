//! Fidelity mode: the pure transform of the iteration stack into the shipped one, entering
//! the fidelity stack (the generated compose file every later command addresses), and the
//! checks on a running fidelity stack.

pub mod check;
pub mod entry;
pub mod stack;
pub mod transform;
