//! Spin plumbing shared by the pipeline-guard functions.
//!
//! A function component is one call: [`serve`] with its [`FunctionKind`]. This crate reads the
//! request and the function's Spin variables, hands both to the core, and carries out what the core
//! decides through Spin's key-value store and outbound HTTP. It decides nothing itself.
//!
//! # Map
//! - [`routes`]: which path and method does what.
//! - [`config`]: Spin variables → settings, secrets and CRM API access.
//! - [`body`]: reading a request body within the size limit.
//! - [`signed_url`]: the URL a signature is checked against (`public_base_url`, or Spin's own).
//! - [`kv`]: the core's `Store` over Spin's key-value store.
//! - [`database`]: the function's database (SQLite, or PostgreSQL when `database_url` is set)
//!   and the stores in it; `sqlite` and [`postgres`] are the core's `Database` over each,
//!   [`database_address`] checks `database_url` against `database_host`.
//! - [`clock`]: the core's `Clock`: elapsed time and waiting.
//! - [`crm_client`]: the core's `CrmClient` over Spin's outbound HTTP.
//! - [`report`]: gate-handoff's coaching report (JSON, or HTML with inline SVG).
//! - [`hygiene_report`]: flag-stale-deals' portfolio hygiene report (JSON, or HTML).
//! - [`review`]: score-lead's review queue (JSON, or HTML).
//! - [`rep_page`]: score-lead's page for each rep, through the signed link their notices carry,
//!   and their sharing choices; the links notices carry.
//! - [`enforcement`]: the mode a CRM's deliveries run in (enforce falls back to shadow while the
//!   CRM's portfolio hygiene is below the threshold).
//! - [`scheduled`]: routes a scheduler calls (the BDRs' weekly summaries).
//! - [`sweep`]: flag-stale-deals' sweep of every open deal, a page a call.
//! - [`respond`]: JSON and HTML answers, and errors as JSON with their status.

pub mod body;
pub mod calls;
pub mod clock;
pub mod config;
pub mod crm_client;
pub mod database;
pub mod database_address;
pub mod enforcement;
pub mod hygiene_report;
pub mod kv;
pub mod postgres;
pub mod rep_page;
pub mod report;
pub mod respond;
pub mod review;
pub mod routes;
pub mod scheduled;
pub mod signed_url;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod sweep;

pub use pipeline_guard_core::function::FunctionKind;
pub use routes::serve;
