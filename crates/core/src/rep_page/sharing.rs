//! What each rep shares with their manager, section by section: the rep's choice, made on their
//! own page, kept in the database, in force at the next report and withdrawn as easily.
//!
//! Before the team's unlock ([`crate::playbook::rollout`]) a manager's view shows a rep's rows
//! only for the sections that rep shares; after it, every rep's. Sections without a manager's
//! view (the scorecards of open deals, the calls) are never shown to anyone but the rep.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    Error,
    crm_id::Crm,
    ports::{Database, SqlValue},
    statement::{columns, text},
};

/// The statement that creates the table: one row per rep and section shared.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS pg_rep_sharing (
    crm TEXT NOT NULL,
    rep TEXT NOT NULL,
    section TEXT NOT NULL,
    shared_at INTEGER NOT NULL,
    PRIMARY KEY (crm, rep, section)
)";

/// A part of the rep's page a manager's view has rows for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The rep's handoffs and the AEs' verdicts: the coaching report's row per BDR.
    Handoffs,
    /// The hygiene of the rep's deals: the hygiene report's row per owner.
    Hygiene,
}

impl Section {
    /// Every section a rep can share.
    pub const ALL: [Section; 2] = [Section::Handoffs, Section::Hygiene];

    /// Its name in the database and in the page's form.
    pub fn key(self) -> &'static str {
        match self {
            Section::Handoffs => "handoffs",
            Section::Hygiene => "hygiene",
        }
    }

    /// What sharing it shows, in the rep's words.
    pub fn label(self) -> &'static str {
        match self {
            Section::Handoffs => {
                "My handoffs and the AEs' verdicts (my row in the coaching report)"
            }
            Section::Hygiene => "My deals' hygiene (my row in the hygiene report)",
        }
    }

    /// The section named `key`.
    pub fn from_key(key: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// The reps who share one section, as `(crm, rep)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sharers(BTreeSet<(String, String)>);

impl Sharers {
    /// Nobody shares (a view with no database of choices: the CLI's audit).
    pub fn nobody() -> Sharers {
        Sharers::default()
    }

    /// Whether `rep` of `crm` shares.
    pub fn include(&self, crm: &str, rep: &str) -> bool {
        self.0.contains(&(crm.to_owned(), rep.to_owned()))
    }
}

impl FromIterator<(String, String)> for Sharers {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Sharers {
        Sharers(iter.into_iter().collect())
    }
}

/// Make `sections` exactly what `rep` of `crm` shares from `now`: the others are withdrawn.
pub async fn choose(
    db: &impl Database,
    crm: Crm,
    rep: &str,
    sections: &[Section],
    now: OffsetDateTime,
) -> Result<(), Error> {
    for section in Section::ALL {
        let params = vec![crm.name().into(), rep.into(), section.key().into()];
        if sections.contains(&section) {
            let mut params = params;
            params.push(now.unix_timestamp().into());
            db.execute(
                "INSERT INTO pg_rep_sharing (crm, rep, section, shared_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (crm, rep, section) DO NOTHING",
                params,
            )
            .await?;
        } else {
            db.execute(
                "DELETE FROM pg_rep_sharing WHERE crm = ? AND rep = ? AND section = ?",
                params,
            )
            .await?;
        }
    }
    Ok(())
}

/// The sections `rep` of `crm` shares, in [`Section::ALL`] order.
pub async fn shared_by(db: &impl Database, crm: Crm, rep: &str) -> Result<Vec<Section>, Error> {
    let rows = db
        .execute(
            "SELECT section FROM pg_rep_sharing WHERE crm = ? AND rep = ?",
            vec![crm.name().into(), rep.into()],
        )
        .await?;
    let keys: Vec<String> = rows
        .into_iter()
        .map(|row| columns::<1>(row).and_then(|[key]| text(&key)))
        .collect::<Result<_, _>>()?;
    Ok(Section::ALL
        .into_iter()
        .filter(|s| keys.iter().any(|k| k == s.key()))
        .collect())
}

/// The reps who share `section`.
pub async fn sharers(db: &impl Database, section: Section) -> Result<Sharers, Error> {
    let rows = db
        .execute(
            "SELECT crm, rep FROM pg_rep_sharing WHERE section = ?",
            vec![SqlValue::from(section.key())],
        )
        .await?;
    rows.into_iter()
        .map(|row| {
            let [crm, rep] = columns(row)?;
            Ok((text(&crm)?, text(&rep)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use time::macros::datetime;

    use super::*;
    use crate::test_sqlite::Sqlite;

    #[test]
    fn a_rep_shares_what_they_choose_and_withdraws_it_at_once() {
        let db = Sqlite::in_memory();
        block_on(db.execute(SCHEMA, Vec::new())).unwrap();
        let now = datetime!(2026-12-07 10:00 UTC);
        block_on(choose(&db, Crm::Hubspot, "u-1", &[Section::Handoffs], now)).unwrap();
        block_on(choose(&db, Crm::Hubspot, "u-1", &[Section::Handoffs], now)).unwrap();
        block_on(choose(&db, Crm::Pipedrive, "u-1", &Section::ALL, now)).unwrap();
        assert_eq!(
            block_on(shared_by(&db, Crm::Hubspot, "u-1")).unwrap(),
            [Section::Handoffs]
        );
        let handoffs = block_on(sharers(&db, Section::Handoffs)).unwrap();
        assert!(handoffs.include("hubspot", "u-1") && handoffs.include("pipedrive", "u-1"));
        assert!(!handoffs.include("hubspot", "u-2"));
        let hygiene = block_on(sharers(&db, Section::Hygiene)).unwrap();
        assert!(
            !hygiene.include("hubspot", "u-1"),
            "another CRM's choice is its own"
        );
        block_on(choose(&db, Crm::Pipedrive, "u-1", &[Section::Hygiene], now)).unwrap();
        assert!(
            !block_on(sharers(&db, Section::Handoffs))
                .unwrap()
                .include("pipedrive", "u-1")
        );
        block_on(choose(&db, Crm::Pipedrive, "u-1", &[], now)).unwrap();
        assert!(
            block_on(shared_by(&db, Crm::Pipedrive, "u-1"))
                .unwrap()
                .is_empty()
        );
    }
}
