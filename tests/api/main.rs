//! End-to-end tests of the `run-ledger` binary and its HTTP API.

mod binary;
mod health;
mod helpers;
