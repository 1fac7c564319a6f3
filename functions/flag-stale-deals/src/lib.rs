//! flag-stale-deals: Flags deals rotting in a stage, overdue close dates and missing fields, and reports CRM hygiene.
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
    serve(FunctionKind::FlagStaleDeals, request).await
}
