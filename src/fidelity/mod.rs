//! Fidelity mode: the pure transform of the iteration stack into the shipped one, and the checks on a running fidelity stack.

pub mod check;
pub mod transform;
