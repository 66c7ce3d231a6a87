//! A GreenLake API simulator (axum) following `glp-api.md`, for tests, benchmarks, `--demo`
//! and `glp-console simulate`. Must not be imported by `glp/`.
