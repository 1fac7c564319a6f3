//! gate-handoff: Blocks BDR→AE handoffs below the scorecard threshold and hands validated deals to the AE with the whole scorecard.
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
    serve(FunctionKind::GateHandoff, request).await
}
