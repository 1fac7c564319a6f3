//! Which CRM a thing belongs to: an identifier and nothing else.
//!
//! Gate, handoffs, ledger, portfolio and sweep name a CRM without knowing how it is spoken to;
//! they import this leaf, never [`crate::crm`]'s adapters. What a CRM is like (its variables,
//! credentials, field names, timeouts, tenants) is its adapter's ([`crate::crm::Facts`]).

/// The CRMs pipeline-guard speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crm {
    /// The generic JSON webhook format, for any other CRM or a workflow tool.
    Generic,
    /// HubSpot's Webhooks API and CRM v3 objects API.
    Hubspot,
    /// Pipedrive's webhooks v2 and API v2.
    Pipedrive,
    /// Salesforce's outbound messages and Flow callouts, and its REST API.
    Salesforce,
}

impl Crm {
    /// Every supported CRM.
    pub const ALL: &'static [Crm] = &[Crm::Generic, Crm::Hubspot, Crm::Pipedrive, Crm::Salesforce];

    /// The CRM's route segment (`/score-lead/generic`), and its name in stores and reports.
    pub fn name(self) -> &'static str {
        match self {
            Crm::Generic => "generic",
            Crm::Hubspot => "hubspot",
            Crm::Pipedrive => "pipedrive",
            Crm::Salesforce => "salesforce",
        }
    }

    /// The CRM as people name it (`HubSpot`; `the generic CRM`).
    pub fn label(self) -> &'static str {
        match self {
            Crm::Generic => "the generic CRM",
            Crm::Hubspot => "HubSpot",
            Crm::Pipedrive => "Pipedrive",
            Crm::Salesforce => "Salesforce",
        }
    }

    /// The CRM whose route segment this is.
    pub fn from_name(name: &str) -> Option<Crm> {
        Crm::ALL.iter().copied().find(|crm| crm.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::Crm;

    #[test]
    fn every_crm_is_found_by_its_route_name() {
        for crm in Crm::ALL {
            assert_eq!(Crm::from_name(crm.name()), Some(*crm));
        }
        assert_eq!(Crm::from_name("HubSpot"), None);
    }
}
