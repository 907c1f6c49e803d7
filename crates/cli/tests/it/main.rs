//! End-to-end tests: the API over real HTTP on a random port, and the `custodian` binary
//! as a process, each on SQLite and on PostgreSQL.

mod api_assets;
mod api_reference;
mod as_at;
mod auth;
mod browser;
mod cases;
mod cli;
mod common;
mod compliance;
mod evidence;
mod jobs;
mod ops;
mod pages;
mod reports;
mod sso;
mod stocktake;
mod webdriver;
mod workflows;
