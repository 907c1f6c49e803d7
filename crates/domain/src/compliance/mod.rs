//! Compliance measurement (SPEC §8): the checks run over the register, what they read,
//! their outcomes, the effective level, the crosswalk to other frameworks and the KPIs.
//!
//! Each check is a pure function over one subject (an asset, a person, a policy document,
//! an exception, an offboarding case) and the few facts around it that the application
//! gathers. Whether an exception sets a failing outcome aside is decided apart
//! ([`crate::exception::PolicyException::covers_check`]): an excepted outcome is counted
//! apart, never as a pass.

mod checks;
pub mod crosswalk;
pub mod effective;
pub mod kpi;

pub use checks::*;

wire_enum! {
    /// How much a failing check matters.
    Severity { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
}

wire_enum! {
    /// What a check is about.
    SubjectType {
        Asset = "asset", Person = "person", Policy = "policy", Exception = "exception",
        Offboarding = "offboarding",
    }
}

wire_enum! {
    /// Where a finding is: failing, failing but set aside by an exception, or passing again.
    FindingStatus { Open = "open", Excepted = "excepted", Resolved = "resolved" }
}

/// The outcome of one check for one subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The subject is outside the check's population.
    NotApplicable,
    /// The subject meets the check.
    Pass,
    /// The subject fails it: what is wrong, in words.
    Fail(String),
}

impl Outcome {
    /// A failure saying `why`.
    pub fn fail(why: impl Into<String>) -> Self {
        Outcome::Fail(why.into())
    }

    /// Passes when `ok`, fails saying `why` otherwise.
    pub fn unless(ok: bool, why: impl FnOnce() -> String) -> Self {
        if ok {
            Outcome::Pass
        } else {
            Outcome::Fail(why())
        }
    }
}

/// An outcome with exceptions applied: what a finding records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Outside the population.
    NotApplicable,
    /// Passing.
    Pass,
    /// Failing: what is wrong.
    Fail(String),
    /// Failing, set aside by the approved exception `by`: counted apart, never as a pass.
    Excepted {
        /// What is wrong.
        message: String,
        /// The exception that sets it aside.
        by: uuid::Uuid,
    },
}

impl Outcome {
    /// The verdict, given the exception (if any) that covers this check and subject.
    pub fn verdict(self, covered_by: Option<uuid::Uuid>) -> Verdict {
        match (self, covered_by) {
            (Outcome::NotApplicable, _) => Verdict::NotApplicable,
            (Outcome::Pass, _) => Verdict::Pass,
            (Outcome::Fail(message), Some(by)) => Verdict::Excepted { message, by },
            (Outcome::Fail(m), None) => Verdict::Fail(m),
        }
    }
}

/// The approved, unexpired exception among `exceptions` that sets check `check_id` aside
/// for asset `asset` on `today`.
pub fn excepting(
    exceptions: &[crate::exception::PolicyException],
    check_id: &str,
    asset: uuid::Uuid,
    today: chrono::NaiveDate,
) -> Option<uuid::Uuid> {
    exceptions
        .iter()
        .find(|x| x.covers_check(check_id, asset, today))
        .map(|x| x.id)
}

#[cfg(test)]
mod tests;
