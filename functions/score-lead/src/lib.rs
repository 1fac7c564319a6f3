//! score-lead: Scores leads and deals against the team's playbook and writes the score back to the CRM.
//!
//! The component only wires Spin's HTTP trigger to the shared plumbing; every rule lives in
//! `pipeline-guard-core`.

use pipeline_guard_edge::{FunctionKind, serve};
use spin_sdk::{
    http::{Request, Response},
    http_service,
};

#[http_service]
async fn handle(request: Request) -> Response<String> {
    serve(FunctionKind::ScoreLead, request).await
}
