//! Project files (RON). Filled in by the studio issue; the core keeps the format versioned.
