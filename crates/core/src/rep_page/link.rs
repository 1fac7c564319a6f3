//! The signed link to a rep's own page: `GET /score-lead/me?crm=…&rep=…&expires=…&sig=…`.
//!
//! The link is the rep's only credential: no login, no cookie. Its `sig` is HMAC-SHA256, keyed
//! by the `rep_link_secret` variable, over the CRM, the rep's CRM user id and the expiry
//! ([`VALIDITY`] after the notice that carries it): whoever changes any of the three, or signs
//! with another secret, gets a link that is refused, compared in constant time. Every notice to
//! a rep carries a fresh one ([`RepLinks::add_to`]), so a rep who reads their notices always
//! holds a valid link.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use crate::{Error, crm_id::Crm, secret::Secret, writeback::WriteBack};

/// How long a link opens the page after the notice that carries it.
pub const VALIDITY: Duration = Duration::days(14);

/// The page's route.
pub const PATH: &str = "/score-lead/me";

/// The variable holding the key links are signed with.
pub const SECRET_VARIABLE: &str = "rep_link_secret";

/// What the signature covers, versioned so that another format can never verify as this one.
fn message(crm: Crm, rep: &str, expires: i64) -> String {
    format!(
        "pipeline-guard rep page v1\n{}\n{rep}\n{expires}",
        crm.name()
    )
}

fn mac(secret: &Secret, crm: Crm, rep: &str, expires: i64) -> Hmac<Sha256> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(message(crm, rep, expires).as_bytes());
    mac
}

/// The key links are signed and checked with, and where the page is served.
#[derive(Debug, Clone, PartialEq)]
pub struct RepLinks {
    secret: Secret,
    base: String,
}

impl RepLinks {
    /// Links signed with `secret` to the page under `base` (`https://hooks.example.com`, the
    /// scheme and host reps reach the functions at; a trailing slash is dropped).
    pub fn new(secret: Secret, base: &str) -> RepLinks {
        RepLinks {
            secret,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The page's query for `rep` of `crm`, valid [`VALIDITY`] from `now`.
    pub fn query(&self, crm: Crm, rep: &str, now: OffsetDateTime) -> String {
        let expires = (now + VALIDITY).unix_timestamp();
        let sig = hex::encode(mac(&self.secret, crm, rep, expires).finalize().into_bytes());
        form_urlencoded::Serializer::new(String::new())
            .append_pair("crm", crm.name())
            .append_pair("rep", rep)
            .append_pair("expires", &expires.to_string())
            .append_pair("sig", &sig)
            .finish()
    }

    /// The whole link for `rep` of `crm`, valid [`VALIDITY`] from `now`.
    pub fn url(&self, crm: Crm, rep: &str, now: OffsetDateTime) -> String {
        format!("{}{PATH}?{}", self.base, self.query(crm, rep, now))
    }

    /// Add the link to every notice of `write_back` addressed to a person (a note or task whose
    /// `to` is a CRM user): the one place a notice gets it, signed at `now`, so each new notice
    /// carries a renewed link.
    pub fn add_to(&self, crm: Crm, write_back: &mut WriteBack, now: OffsetDateTime) {
        for notice in &mut write_back.notices {
            if let Some(rep) = notice.to.as_deref().filter(|rep| !rep.trim().is_empty()) {
                let url = self.url(crm, rep, now);
                notice.body.push_str(&format!(
                    "\n\nYour own coaching page (for you alone until you share it; this link \
                     works for 14 days): {url}"
                ));
            }
        }
    }

    /// The rep a link's `query` opens the page of at `now`: refused with
    /// [`Error::RepLinkRefused`], which names nobody, when a part is missing, the link expired,
    /// or its signature does not cover what it says.
    pub fn verify(&self, query: Option<&str>, now: OffsetDateTime) -> Result<RepLink, Error> {
        let (mut crm, mut rep, mut expires, mut sig) = (None, None, None, None);
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let slot = match key.as_ref() {
                "crm" => &mut crm,
                "rep" => &mut rep,
                "expires" => &mut expires,
                "sig" => &mut sig,
                _ => continue,
            };
            // A part given twice could be read one way here and another elsewhere.
            if slot.replace(value.into_owned()).is_some() {
                return Err(Error::RepLinkRefused);
            }
        }
        let (Some(crm), Some(rep), Some(expires), Some(sig)) = (crm, rep, expires, sig) else {
            return Err(Error::RepLinkRefused);
        };
        let crm = Crm::from_name(&crm).ok_or(Error::RepLinkRefused)?;
        let expires: i64 = expires.parse().map_err(|_| Error::RepLinkRefused)?;
        let signature = hex::decode(&sig).map_err(|_| Error::RepLinkRefused)?;
        mac(&self.secret, crm, &rep, expires)
            .verify_slice(&signature)
            .map_err(|_| Error::RepLinkRefused)?;
        let expires =
            OffsetDateTime::from_unix_timestamp(expires).map_err(|_| Error::RepLinkRefused)?;
        if now >= expires || rep.trim().is_empty() {
            return Err(Error::RepLinkRefused);
        }
        Ok(RepLink {
            crm,
            rep,
            expires,
            token: sig,
        })
    }
}

/// A verified link: whose page it opens, until when.
#[derive(Debug, Clone, PartialEq)]
pub struct RepLink {
    /// The rep's CRM.
    pub crm: Crm,
    /// The rep's CRM user id.
    pub rep: String,
    /// When the link stops working.
    pub expires: OffsetDateTime,
    /// Its signature: what the page's form posts back, so that only a holder of the link can
    /// change what is shared.
    pub token: String,
}

impl RepLink {
    /// Whether `presented` (a form's token) is this link's, compared in constant time.
    pub fn carries(&self, presented: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(self.token.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writeback::{Notice, Priority};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

    fn links() -> RepLinks {
        RepLinks::new(Secret::new("rep-link-secret"), "https://hooks.example.com/")
    }

    fn with(query: &str, key: &str, value: &str) -> String {
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| {
                let v = if k == key {
                    value.to_owned()
                } else {
                    v.into_owned()
                };
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn a_link_opens_its_rep_s_page_for_14_days() {
        let query = links().query(Crm::Hubspot, "u-42", NOW);
        let link = links()
            .verify(Some(&query), NOW + Duration::days(13))
            .unwrap();
        assert_eq!((link.crm, link.rep.as_str()), (Crm::Hubspot, "u-42"));
        assert_eq!(link.expires, NOW + VALIDITY);
        assert!(
            link.carries(Some(&link.token)) && !link.carries(Some("00")) && !link.carries(None)
        );
        assert_eq!(
            links().verify(Some(&query), NOW + VALIDITY),
            Err(Error::RepLinkRefused),
            "expired"
        );
        assert!(
            links().url(Crm::Hubspot, "u-42", NOW).starts_with(
                "https://hooks.example.com/score-lead/me?crm=hubspot&rep=u-42&expires="
            )
        );
    }

    #[test]
    fn an_altered_or_foreign_link_is_refused() {
        let query = links().query(Crm::Pipedrive, "7", NOW);
        let later = NOW + Duration::hours(1);
        let expires = (NOW + VALIDITY).unix_timestamp();
        for forged in [
            with(&query, "crm", "hubspot"),
            with(&query, "rep", "8"),
            with(&query, "rep", "7 "),
            with(&query, "expires", &(expires + 86_400).to_string()),
            with(&query, "sig", &"0".repeat(64)),
            with(&query, "sig", "not hex"),
            RepLinks::new(Secret::new("another secret"), "https://hooks.example.com").query(
                Crm::Pipedrive,
                "7",
                NOW,
            ),
            format!("{query}&rep=8"),
            query.replace("&sig=", "&signature="),
            String::new(),
        ] {
            assert_eq!(
                links().verify(Some(&forged), later),
                Err(Error::RepLinkRefused),
                "{forged}"
            );
        }
        assert_eq!(links().verify(None, later), Err(Error::RepLinkRefused));
        let refused = Error::RepLinkRefused;
        assert_eq!(refused.status(), 401);
        assert!(!refused.to_string().contains('7'), "{refused}");
    }

    #[test]
    fn every_notice_to_a_person_carries_a_link_renewed_at_each_notice() {
        let mut write_back =
            WriteBack::personal_task("u-3".into(), "Week", "Body", Priority::Normal);
        write_back
            .notices
            .push(Notice::note(None, "For the record", "No one"));
        links().add_to(Crm::Salesforce, &mut write_back, NOW);
        let body = &write_back.notices[0].body;
        assert!(body.starts_with("Body\n\nYour own coaching page"), "{body}");
        let url = body.rsplit(' ').next().unwrap();
        let query = url.split_once('?').unwrap().1;
        let link = links().verify(Some(query), NOW).unwrap();
        assert_eq!((link.crm, link.rep.as_str()), (Crm::Salesforce, "u-3"));
        assert_eq!(
            write_back.notices[1].body, "No one",
            "a note to nobody has no link"
        );
        let later = NOW + Duration::days(10);
        let mut next = WriteBack::personal_task("u-3".into(), "Week", "Body", Priority::Normal);
        links().add_to(Crm::Salesforce, &mut next, later);
        let renewed = next.notices[0].body.rsplit(' ').next().unwrap().to_owned();
        let renewed = links()
            .verify(
                renewed.split_once('?').map(|(_, q)| q),
                later + Duration::days(13),
            )
            .unwrap();
        assert_eq!(renewed.expires, later + VALIDITY);
    }
}
