//! Floor
