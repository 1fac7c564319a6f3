//! Checks every CRM call the tests make, and every answer the fakes give, against the vendor's
//! own API description, and the incoming webhook fixtures against the vendors' documented
//! payloads. A call outside the description fails naming the operation and the field.
//!
//! | Vendor | Description | Module |
//! |---|---|---|
//! | HubSpot | CRM objects v3, associations v4, owners v3: OpenAPI from npm `@opensdks/sdk-hubspot` | `openapi` |
//! | Pipedrive v1 | OpenAPI from npm `@opensdks/sdk-pipedrive` | `openapi` |
//! | Pipedrive v2 | the models and request builders of npm `pipedrive` | `pipedrive_sdk`, `typescript` |
//! | Salesforce | REST resources, SOQL, and `salesforce/standard-fields.tsv` | `salesforce` |
//!
//! The npm packages are fetched by `npm ci --prefix tests/contract` (never copied into the
//! repository). Without them HubSpot and Pipedrive are skipped, loudly, unless
//! `PIPELINE_GUARD_CONTRACT=required` makes that a failure; Salesforce needs nothing fetched.
//! Known gaps in a description, documented by the vendor elsewhere, are in `allowed.tsv`.
//!
//! ```
//! use pipeline_guard_contract::{Call, contracts};
//!
//! let contracts = contracts().expect("readable specs");
//! let call = Call {
//!     method: "GET",
//!     path_and_query: "/services/data/v65.0/query?q=SELECT+Id+FROM+Opportunity",
//!     body: None,
//!     answer: None,
//! };
//! contracts.check(&call).expect("within Salesforce's REST API");
//! ```

#![deny(missing_docs)]

mod allowed;
mod error;
mod openapi;
mod operation;
mod pipedrive_sdk;
mod salesforce;
mod shape;
mod specs;
mod typescript;
pub mod webhooks;

pub use error::{LoadError, Violation, ViolationKind};
pub use operation::Call;
pub use specs::{Contracts, Vendor, contracts};
