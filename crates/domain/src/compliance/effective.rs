//! The effective level of an asset (SPEC §8): the strictest of its own level and the levels
//! of what it `stores` or `contains`, however deep. Each handling rule takes the strictest
//! value any carried level gives it, and says which level and which asset it comes from.

use crate::classification::{Classification, DisposalRequirement, Handling};

/// A level an asset carries, and why: `"the asset itself"`, or the chain of assets through
/// which it holds it (`"what it stores: AST-000042 Payroll"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Carried<'a> {
    /// Where the level comes from, in words.
    pub because: String,
    /// The level.
    pub level: &'a Classification,
}

/// Where a handling rule's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The level's key.
    pub level: String,
    /// The level's name.
    pub name: String,
    /// The asset it comes through, in words.
    pub because: String,
}

/// The handling rules an asset is held to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// The most sensitive level it carries (by rank), if it carries any.
    pub level: Option<Source>,
    /// Whether devices holding it must be encrypted, and because of which level.
    pub encryption: Option<Source>,
    /// Whether it must be labelled, and because of which level.
    pub label: Option<Source>,
    /// Whether it may leave the premises.
    pub off_premises: Option<(Handling, Source)>,
    /// The minimum disposal method.
    pub disposal: Option<(DisposalRequirement, Source)>,
}

fn strictness(h: Handling) -> u8 {
    match h {
        Handling::Allowed => 0,
        Handling::ApprovalRequired => 1,
        Handling::Forbidden => 2,
    }
}

fn disposal_strictness(d: DisposalRequirement) -> u8 {
    match d {
        DisposalRequirement::Any => 0,
        DisposalRequirement::SecureErase => 1,
        DisposalRequirement::PhysicalDestruction => 2,
    }
}

fn source(c: &Carried) -> Source {
    Source {
        level: c.level.key.clone(),
        name: c.level.name.clone(),
        because: c.because.clone(),
    }
}

/// The effective handling of an asset carrying `carried` (its own level first). Ties go
/// to the higher rank, then to the level named first (the asset's own).
pub fn effective(carried: &[Carried]) -> Effective {
    // The first of the strictest: a later level must be stricter to take over.
    let strictest = |key: &dyn Fn(&Classification) -> (u8, i32)| {
        carried.iter().fold(None::<&Carried>, |best, c| match best {
            Some(b) if key(b.level) >= key(c.level) => Some(b),
            _ => Some(c),
        })
    };
    let level = strictest(&|l| (0, l.rank)).map(source);
    let encryption = strictest(&|l| (u8::from(l.encryption_required), l.rank))
        .filter(|c| c.level.encryption_required)
        .map(source);
    let label = strictest(&|l| (u8::from(l.label_required), l.rank))
        .filter(|c| c.level.label_required)
        .map(source);
    let off_premises = strictest(&|l| (strictness(l.off_premises), l.rank))
        .map(|c| (c.level.off_premises, source(c)));
    let disposal = strictest(&|l| (disposal_strictness(l.disposal_method), l.rank))
        .map(|c| (c.level.disposal_method, source(c)));
    Effective {
        level,
        encryption,
        label,
        off_premises,
        disposal,
    }
}

impl Source {
    /// "restricted (what it stores: AST-000042 Payroll)".
    pub fn describe(&self) -> String {
        if self.because == SELF {
            format!("its {} classification", self.name)
        } else {
            format!("the {} classification of {}", self.name, self.because)
        }
    }
}

/// What [`Carried::because`] says of the asset's own level.
pub const SELF: &str = "the asset itself";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classification::defaults;

    fn level<'a>(levels: &'a [Classification], key: &str) -> &'a Classification {
        levels
            .iter()
            .find(|l| l.key == key)
            .expect("a default level")
    }

    #[test]
    fn the_strictest_carried_level_rules_each_handling() {
        let levels = defaults(crate::now());
        let own = Carried {
            because: SELF.into(),
            level: level(&levels, "internal"),
        };
        let alone = effective(std::slice::from_ref(&own));
        assert_eq!(
            alone.level.as_ref().map(|s| s.level.as_str()),
            Some("internal")
        );
        assert!(alone.encryption.is_none());
        let held = Carried {
            because: "what it stores: AST-000042 Payroll".into(),
            level: level(&levels, "restricted"),
        };
        let e = effective(&[own, held]);
        let by = e.encryption.expect("restricted data asks for encryption");
        assert_eq!(by.level, "restricted");
        assert_eq!(by.because, "what it stores: AST-000042 Payroll");
        assert_eq!(
            e.disposal.map(|(d, _)| d),
            Some(level(&levels, "restricted").disposal_method)
        );
        assert_eq!(e.level.map(|s| s.level), Some("restricted".into()));
        assert!(e.off_premises.is_some());
    }

    #[test]
    fn nothing_carried_means_no_rules() {
        let e = effective(&[]);
        assert!(e.level.is_none() && e.encryption.is_none() && e.disposal.is_none());
    }
}
