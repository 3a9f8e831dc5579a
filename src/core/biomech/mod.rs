//! Biomechanics.
