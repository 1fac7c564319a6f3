//! Whose account a delivery comes from, and the accounts a deployment serves.

use super::Secrets;
use crate::Error;

/// How a CRM names the account (portal, org, company) a delivery comes from.
#[derive(Debug, Clone, Copy)]
pub struct Tenant {
    /// The Spin variable listing the tenants served (comma-separated; empty serves any).
    pub variable: &'static str,
    /// What an id is, for an admin who listed a wrong one ("a HubSpot portal id (digits …)").
    pub described: &'static str,
    /// Whether an id is shaped like this CRM's tenant ids.
    pub is_valid: fn(&str) -> bool,
    /// The part of an id that identifies the tenant (a Salesforce id's first 15 characters).
    pub key: fn(&str) -> &str,
}

impl Tenant {
    /// Whether `id` is 1 to 20 digits (HubSpot portals, Pipedrive companies).
    pub fn is_number(id: &str) -> bool {
        (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
    }
}

/// The tenants a deployment serves, read from [`Tenant::variable`]: none listed serves any
/// (pinning off).
#[derive(Debug, Clone)]
pub struct Tenants {
    tenant: Tenant,
    allowed: Vec<String>,
}

impl Tenants {
    /// The tenants listed in `tenant`'s variable; an id of the wrong shape is a configuration
    /// error naming the variable.
    pub fn from_secrets(secrets: &Secrets, tenant: Tenant) -> Result<Tenants, Error> {
        let name = tenant.variable;
        let listed = secrets.get(name).map(String::as_str).unwrap_or_default();
        let mut allowed = Vec::new();
        for id in listed.split(',').map(str::trim).filter(|id| !id.is_empty()) {
            if !(tenant.is_valid)(id) {
                return Err(Error::Config(format!(
                    "variable `{name}` holds {id:?}, which is not {}",
                    tenant.described
                )));
            }
            allowed.push((tenant.key)(id).to_owned());
        }
        Ok(Tenants { tenant, allowed })
    }

    /// Whether the deployment is pinned to some tenants.
    pub fn is_pinned(&self) -> bool {
        !self.allowed.is_empty()
    }

    /// Refuse a delivery whose tenant (`found`, at `path` in the body) is not one served, or that
    /// names none while pinned.
    pub fn check(&self, path: impl Into<String>, found: Option<&str>) -> Result<(), Error> {
        let found = found.map(str::trim).filter(|id| !id.is_empty());
        match found {
            _ if !self.is_pinned() => Ok(()),
            Some(id) if self.allowed.iter().any(|a| a == (self.tenant.key)(id)) => Ok(()),
            _ => Err(Error::WrongTenant {
                path: path.into(),
                found: found.map(str::to_owned),
                variable: self.tenant.variable,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::{Adapter, hubspot::Hubspot, pipedrive::Pipedrive, salesforce::Salesforce};

    const PORTAL: Tenant = Hubspot::TENANT;
    const ORG: Tenant = Salesforce::TENANT;
    const COMPANY: Tenant = Pipedrive::TENANT;

    fn tenants(tenant: Tenant, listed: &str) -> Result<Tenants, Error> {
        let mut secrets = Secrets::new();
        secrets.insert(tenant.variable, listed.into());
        Tenants::from_secrets(&secrets, tenant)
    }

    #[test]
    fn every_pinnable_crm_states_its_tenant() {
        for tenant in [
            Hubspot::FACTS.tenant,
            Salesforce::FACTS.tenant,
            Pipedrive::FACTS.tenant,
        ] {
            assert!(tenant.is_some());
        }
    }

    #[test]
    fn an_empty_tenant_variable_serves_every_tenant() {
        for listed in ["", " , "] {
            let any = tenants(PORTAL, listed).unwrap();
            assert!(!any.is_pinned());
            assert!(any.check("portalId", Some("1")).is_ok());
            assert!(any.check("portalId", None).is_ok());
        }
        let unset = Tenants::from_secrets(&Secrets::new(), COMPANY).unwrap();
        assert!(!unset.is_pinned());
    }

    #[test]
    fn pinned_tenants_refuse_others_and_deliveries_naming_none_with_403() {
        let portals = tenants(PORTAL, "62515, 7001").unwrap();
        assert!(portals.check("[0].portalId", Some("7001")).is_ok());
        let err = portals.check("[2].portalId", Some("62516")).unwrap_err();
        assert_eq!((err.status(), err.code()), (403, "wrong_tenant"));
        assert!(err.to_string().contains("[2].portalId"), "{err}");
        let err = portals.check("portalId", None).unwrap_err();
        assert_eq!(err.status(), 403);
    }

    #[test]
    fn salesforce_org_ids_compare_on_their_first_fifteen_characters() {
        let org = tenants(ORG, "00D5g000004XyZaEAK").unwrap();
        assert!(org.check("OrganizationId", Some("00D5g000004XyZa")).is_ok());
        assert!(
            org.check("OrganizationId", Some("00D5g000004XyZaEAK"))
                .is_ok()
        );
        assert!(
            org.check("OrganizationId", Some("00D5g000004XyZb"))
                .is_err()
        );
        let short = tenants(ORG, "00D5g000004XyZa").unwrap();
        assert!(
            short
                .check("OrganizationId", Some("00D5g000004XyZaEAK"))
                .is_ok()
        );
        assert!(
            short
                .check("OrganizationId", Some("00d5g000004xyza"))
                .is_err(),
            "15-character ids are case-sensitive"
        );
    }

    #[test]
    fn a_tenant_id_of_the_wrong_shape_is_a_configuration_error() {
        for (tenant, listed) in [
            (PORTAL, "62515,acme"),
            (ORG, "00D5g"),
            (COMPANY, "acme-sales"),
        ] {
            let Err(Error::Config(message)) = tenants(tenant, listed) else {
                panic!("{listed:?} taken for {}", tenant.variable)
            };
            assert!(message.contains(tenant.variable), "{message}");
        }
    }
}
