//! KPIs (SPEC §8): each check's tally, and the same summed per control and per framework.

use serde::Serialize;

use super::crosswalk::{Framework, Reference, ISO27001};

/// How many subjects passed, failed, were excepted, or were outside a check's population.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Tally {
    /// Passing.
    pub pass: i64,
    /// Failing.
    pub fail: i64,
    /// Failing, set aside by an approved exception: counted apart, never as a pass.
    pub excepted: i64,
    /// Outside the population.
    pub not_applicable: i64,
}

impl Tally {
    /// `pass / (pass + fail)`; none when nothing was measured.
    pub fn pass_rate(&self) -> Option<f64> {
        let measured = self.pass + self.fail;
        (measured > 0).then(|| self.pass as f64 / measured as f64)
    }

    /// The sum of two tallies.
    pub fn plus(self, o: Tally) -> Tally {
        Tally {
            pass: self.pass + o.pass,
            fail: self.fail + o.fail,
            excepted: self.excepted + o.excepted,
            not_applicable: self.not_applicable + o.not_applicable,
        }
    }
}

wire_enum! {
    /// Where a control or reference stands: every mapped check passes (or has nothing to
    /// measure), one fails, or no check evidences it and it is assessed by hand.
    ControlStatus { Pass = "pass", Fail = "fail", Manual = "manual" }
}

/// A reference's roll-up over the checks that evidence it.
#[derive(Clone, Debug, PartialEq)]
pub struct Rollup {
    /// The checks summed, by id.
    pub checks: Vec<&'static str>,
    /// Their tallies summed.
    pub tally: Tally,
    /// Pass, fail or manual.
    pub status: ControlStatus,
}

/// Sums the tallies of `checks` (`tally_of` answers a check's tally).
pub fn roll_up(checks: Vec<&'static str>, tally_of: &dyn Fn(&str) -> Tally) -> Rollup {
    let tally = checks
        .iter()
        .fold(Tally::default(), |t, c| t.plus(tally_of(c)));
    let status = if checks.is_empty() {
        ControlStatus::Manual
    } else if tally.fail > 0 {
        ControlStatus::Fail
    } else {
        ControlStatus::Pass
    };
    Rollup {
        checks,
        tally,
        status,
    }
}

/// The checks mapped to `r`, as `'static` ids.
pub fn mapped_checks(r: &Reference) -> Vec<&'static str> {
    r.mappings
        .iter()
        .filter_map(|m| super::check(&m.check).map(|c| c.id))
        .collect()
}

/// The roll-up of a whole framework: every check mapped to any of its references, each
/// counted once; `manual` when none is.
pub fn framework_rollup(f: &Framework, tally_of: &dyn Fn(&str) -> Tally) -> Rollup {
    let mut checks: Vec<&'static str> = Vec::new();
    for r in &f.references {
        for c in mapped_checks(r) {
            if !checks.contains(&c) {
                checks.push(c);
            }
        }
    }
    roll_up(checks, tally_of)
}

/// The ISO/IEC 27001 controls, each rolled up.
pub fn control_rollups(tally_of: &dyn Fn(&str) -> Tally) -> Vec<(&'static Reference, Rollup)> {
    super::crosswalk::framework(ISO27001)
        .map(|f| {
            f.references
                .iter()
                .map(|r| (r, roll_up(mapped_checks(r), tally_of)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_rate_leaves_out_excepted_and_not_applicable() {
        let t = Tally {
            pass: 3,
            fail: 1,
            excepted: 5,
            not_applicable: 100,
        };
        assert_eq!(t.pass_rate(), Some(0.75));
        assert_eq!(Tally::default().pass_rate(), None);
    }

    #[test]
    fn controls_sum_their_checks_and_unmapped_ones_are_manual() {
        let tally_of = |c: &str| match c {
            "custody_returned" => Tally {
                pass: 4,
                fail: 1,
                ..Tally::default()
            },
            "leaver_returned" => Tally {
                pass: 2,
                excepted: 1,
                ..Tally::default()
            },
            _ => Tally {
                pass: 1,
                ..Tally::default()
            },
        };
        let controls = control_rollups(&tally_of);
        let (_, a511) = controls
            .iter()
            .find(|(r, _)| r.id == "A.5.11")
            .expect("A.5.11");
        assert_eq!(a511.tally.pass, 6);
        assert_eq!(a511.tally.fail, 1);
        assert_eq!(a511.tally.excepted, 1);
        assert_eq!(a511.status, ControlStatus::Fail);
        let (_, a514) = controls
            .iter()
            .find(|(r, _)| r.id == "A.5.14")
            .expect("A.5.14");
        assert_eq!(a514.status, ControlStatus::Manual);
        let (_, a512) = controls
            .iter()
            .find(|(r, _)| r.id == "A.5.12")
            .expect("A.5.12");
        assert_eq!(a512.status, ControlStatus::Pass);
    }
}
