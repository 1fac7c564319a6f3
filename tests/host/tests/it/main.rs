//! The test host's end-to-end tests: one test binary (one build, one link of wasmtime), a module
//! per area. `both_*` scenarios run on the test host and, where a Spin CLI is found, on real Spin
//! (their names hold `on_both_hosts`); `e2e*` only on the test host; `*_browser` in a real
//! headless browser; `imports`, `host_probe` and `spin_nodes` check the test host keeps Spin's
//! semantics; `spinkube` checks the SpinKube manifests.
//!
//! Shared helpers: [`util`] (fixtures, signed requests, the fake CRM's answers), [`both`] (running
//! a scenario on every host), [`browser`] (driving Chromium).

mod both;
mod browser;
mod paths;
mod util;

mod both_bounds;
mod both_calls;
mod both_delivery;
mod both_gate;
mod both_handoff_loop;
mod both_portfolio;
mod both_rep_page;
mod both_signatures;
mod both_sweep;
mod both_tenants;
mod e2e;
mod e2e_delivery;
mod e2e_hubspot;
mod e2e_hygiene_browser;
mod e2e_pipedrive;
mod e2e_rep_browser;
mod e2e_report_browser;
mod e2e_salesforce;
mod host_probe;
mod imports;
mod spin_nodes;
mod spinkube;
