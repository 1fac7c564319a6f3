//! Each rep's own coaching page, reached through a signed link every notice to the rep carries,
//! and what the rep chooses to share with their manager.
//!
//! - [`link`]: the link (HMAC over the CRM, the rep and an expiry), added to every notice to a
//!   person, and checked in constant time.
//! - [`card`]: a record's latest scorecard as its owner reads it; [`kept`]: the cards and the
//!   sweep's stale deals, kept per owner for the page.
//! - [`page`]: the page as data (JSON), gathered from what the database keeps; [`html`]: the
//!   same page for a phone, with the sharing form.
//! - [`sharing`]: what each rep shares, section by section; the managers' views read it through
//!   the rollout rule ([`crate::playbook::rollout::Rollout::per_rep`]).

pub mod card;
pub mod html;
pub mod kept;
pub mod link;
pub mod page;
pub mod sharing;
#[cfg(test)]
mod tests;
