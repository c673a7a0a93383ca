//! Grants: programmes (dispositifs d'aide) and their rules, calls (appels à
//! candidatures), dossiers (dossiers de demande d'aide) from draft to payment.
//!
//! Everything here is pure: the rules are data a programme carries, evaluated by
//! functions that take what the database knows (the dossier's performances, what is
//! already approved this year, what is left of the envelope) as plain input.

pub mod dossier;

pub use dossier::{
    DossierAction, DossierActor, DossierStatus, TRANSITIONS, TransitionContext, TransitionError,
    editable_by_applicant, transition,
};
