//! File key loaders (placeholder until implemented).
