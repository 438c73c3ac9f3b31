//! Namespaced presets.
