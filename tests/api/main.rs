//! End-to-end tests of the `run-ledger` binary and its HTTP API.

mod audit;
mod bad_input;
mod binary;
mod clients;
mod console;
mod contract;
mod health;
mod helpers;
mod idempotency;
mod json_integrity;
mod keys;
mod live;
mod openapi;
mod queries;
mod rebuild;
mod request_tracing;
mod rules;
mod security;
mod transparency;

#[path = "../../crates/ledger-store/tests/support/independent.rs"]
mod independent;
