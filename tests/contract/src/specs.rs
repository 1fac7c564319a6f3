//! [`Contracts`]: every vendor's description, loaded once per process from
//! `tests/contract/node_modules`, and the check of a call against its vendor's.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::allowed;
use crate::error::{LoadError, Violation};
use crate::operation::{Api, Call, check_among};
use crate::salesforce::{self, fields::StandardFields};
use crate::{openapi, pipedrive_sdk};

/// A CRM whose API the contract knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// HubSpot (`/crm/v3/…`, `/crm/v4/…`).
    Hubspot,
    /// Pipedrive (`/api/v1/…`, `/api/v2/…`).
    Pipedrive,
    /// Salesforce (`/services/data/vXX.X/…`).
    Salesforce,
}

impl Vendor {
    /// The vendor whose API `path` belongs to; `None` for another (the generic CRM's
    /// `<base path>/records/…`, whatever its base path, `/api/v2` included), which has no
    /// published description to check against.
    pub fn of_path(path: &str) -> Option<Vendor> {
        let route = path.split('?').next().unwrap_or(path);
        if route.split('/').any(|segment| segment == "records") {
            None
        } else if path.starts_with("/crm/") {
            Some(Vendor::Hubspot)
        } else if path.starts_with("/api/v1/") || path.starts_with("/api/v2/") {
            Some(Vendor::Pipedrive)
        } else if path.starts_with("/services/data/") {
            Some(Vendor::Salesforce)
        } else {
            None
        }
    }
}

/// The vendors' API descriptions.
#[derive(Debug)]
pub struct Contracts {
    /// HubSpot's, when installed.
    hubspot: Option<Vec<Api>>,
    /// Pipedrive's v1 and v2, when installed.
    pipedrive: Option<Vec<Api>>,
    salesforce: StandardFields,
}

/// Where `npm ci --prefix tests/contract` puts the packages.
fn node_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules")
}

/// The HubSpot documents checked: CRM objects (every object type), associations v4, owners.
const HUBSPOT: &[&str] = &[
    "hubspot_crm_objects.oas.json",
    "hubspot_crm_crm_associations.oas.json",
    "hubspot_crm_owners.oas.json",
];

impl Contracts {
    /// Loads the descriptions under `node_modules`; a vendor whose package is missing is left
    /// out, unless `required`.
    pub fn load(node_modules: &Path, required: bool) -> Result<Contracts, LoadError> {
        let hubspot_dir = node_modules.join("@opensdks/sdk-hubspot");
        let pipedrive_v1 = node_modules.join("@opensdks/sdk-pipedrive/pipedrive.oas.json");
        let pipedrive_v2 = node_modules.join("pipedrive");
        let missing: Vec<String> = [&hubspot_dir, &pipedrive_v1, &pipedrive_v2]
            .into_iter()
            .filter(|path| !path.exists())
            .map(|path| path.display().to_string())
            .collect();
        if required && !missing.is_empty() {
            return Err(LoadError::Missing(missing.join(", ")));
        }
        if !missing.is_empty() {
            eprintln!(
                "SKIPPED the HubSpot and Pipedrive contract checks: missing {} (npm ci --prefix tests/contract); Salesforce is still checked",
                missing.join(", ")
            );
        }
        let hubspot = if hubspot_dir.exists() {
            Some(
                HUBSPOT
                    .iter()
                    .map(|file| openapi::load(&hubspot_dir.join(file), None))
                    .collect::<Result<_, _>>()?,
            )
        } else {
            None
        };
        let pipedrive = if pipedrive_v1.exists() && pipedrive_v2.exists() {
            Some(vec![
                openapi::load(&pipedrive_v1, Some("/api/v1"))?,
                pipedrive_sdk::load(&pipedrive_v2, "/api/v2")?,
            ])
        } else {
            None
        };
        Ok(Contracts {
            hubspot,
            pipedrive,
            salesforce: StandardFields::table(),
        })
    }

    /// Checks `call` against its vendor's description (found from its path); a call to no
    /// known vendor, or to one whose description is not installed, passes.
    pub fn check(&self, call: &Call) -> Result<(), Violation> {
        let result = match Vendor::of_path(call.path()) {
            Some(Vendor::Hubspot) => self
                .hubspot
                .as_ref()
                .map_or(Ok(()), |apis| check_among(apis, "HubSpot", call)),
            Some(Vendor::Pipedrive) => self
                .pipedrive
                .as_ref()
                .map_or(Ok(()), |apis| check_among(apis, "Pipedrive", call)),
            Some(Vendor::Salesforce) => salesforce::check(&self.salesforce, call),
            None => Ok(()),
        };
        result.or_else(|violation| {
            if allowed::allows(&violation) {
                Ok(())
            } else {
                Err(violation)
            }
        })
    }

    /// The Salesforce standard-fields table.
    pub(crate) fn salesforce(&self) -> &StandardFields {
        &self.salesforce
    }
}

/// The descriptions, loaded on first use (from `tests/contract/node_modules`, as
/// `PIPELINE_GUARD_CONTRACT` asks) and shared by every later check in the process.
pub fn contracts() -> Result<&'static Contracts, &'static LoadError> {
    static CONTRACTS: OnceLock<Result<Contracts, LoadError>> = OnceLock::new();
    CONTRACTS
        .get_or_init(|| {
            let required = std::env::var("PIPELINE_GUARD_CONTRACT").is_ok_and(|v| v == "required");
            Contracts::load(&node_modules(), required)
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generic_crms_records_are_no_vendors_whatever_their_base_path() {
        assert_eq!(Vendor::of_path("/records/deals/D-1"), None);
        assert_eq!(Vendor::of_path("/api/v2/records/leads/L-501"), None);
        assert_eq!(Vendor::of_path("/api/v2/records/deals?status=open"), None);
        assert_eq!(
            Vendor::of_path("/api/v2/deals?ids=102"),
            Some(Vendor::Pipedrive)
        );
        assert_eq!(Vendor::of_path("/crm/v3/owners/1"), Some(Vendor::Hubspot));
    }

    #[test]
    fn missing_specs_fail_when_required_and_skip_only_hubspot_and_pipedrive_otherwise() {
        let nowhere = Path::new("/nonexistent/node_modules");
        assert!(matches!(
            Contracts::load(nowhere, true),
            Err(LoadError::Missing(_))
        ));
        let contracts = Contracts::load(nowhere, false).expect("skipped");
        let hubspot = Call {
            method: "GET",
            path_and_query: "/crm/v3/nowhere",
            body: None,
            answer: None,
        };
        assert_eq!(contracts.check(&hubspot), Ok(()));
        let salesforce = Call {
            method: "DELETE",
            path_and_query: "/services/data/v65.0/query",
            body: None,
            answer: None,
        };
        assert!(contracts.check(&salesforce).is_err());
    }
}
