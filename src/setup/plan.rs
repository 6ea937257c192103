//! What setup does, as steps: each names the resource, the call that changes it (or none) and
//! why. `--dry-run` prints the same steps without making the calls, so the plan and the run
//! can never disagree.

use std::fmt;

/// What a step does to its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// It exists as it should: no call.
    Unchanged,
    /// Created by the call.
    Create,
    /// Changed by the call; the text says what had drifted.
    Update(String),
    /// Removed by the call.
    Delete,
    /// Checked, nothing to call (a local check such as doctor); the text says what was found.
    Check(String),
}

/// One step: the resource, the call (`service Operation`, or a local command), the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub resource: String,
    pub call: String,
    pub action: Action,
}

impl Step {
    pub fn new(resource: impl Into<String>, call: impl Into<String>, action: Action) -> Step {
        Step {
            resource: resource.into(),
            call: call.into(),
            action,
        }
    }

    /// Whether the step changes something.
    pub fn changes(&self) -> bool {
        matches!(
            self.action,
            Action::Create | Action::Update(_) | Action::Delete
        )
    }

    /// The line printed for it; `dry_run` puts the changing ones in the conditional.
    pub fn line(&self, dry_run: bool) -> String {
        let verb = |done: &'static str, would: &'static str| if dry_run { would } else { done };
        match &self.action {
            Action::Unchanged => format!("unchanged {}", self.resource),
            Action::Create => format!(
                "{} {} ({})",
                verb("created", "would create"),
                self.resource,
                self.call
            ),
            Action::Update(why) => format!(
                "{} {}: {why} ({})",
                verb("updated", "would update"),
                self.resource,
                self.call
            ),
            Action::Delete => format!(
                "{} {} ({})",
                verb("deleted", "would delete"),
                self.resource,
                self.call
            ),
            Action::Check(found) => format!("checked {}: {found} ({})", self.resource, self.call),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line(false))
    }
}

/// The last line: how many steps changed something.
pub fn summary(steps: &[Step], dry_run: bool, delete: bool) -> String {
    let changed = steps.iter().filter(|s| s.changes()).count();
    match (changed, dry_run) {
        (0, _) if delete => "nothing to delete".to_string(),
        (0, _) => "no changes: everything is in place".to_string(),
        (n, true) => format!("dry run: {n} change(s) would be made; nothing was changed"),
        (n, false) => format!("{n} change(s) made"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_say_what_and_why() {
        let create = Step::new(
            "trust anchor \"dev\"",
            "rolesanywhere CreateTrustAnchor",
            Action::Create,
        );
        assert_eq!(
            create.line(false),
            "created trust anchor \"dev\" (rolesanywhere CreateTrustAnchor)"
        );
        assert_eq!(
            create.line(true),
            "would create trust anchor \"dev\" (rolesanywhere CreateTrustAnchor)"
        );
        let update = Step::new(
            "role dev",
            "iam UpdateAssumeRolePolicy",
            Action::Update("the trust policy differs".into()),
        );
        assert_eq!(
            update.line(false),
            "updated role dev: the trust policy differs (iam UpdateAssumeRolePolicy)"
        );
        let same = Step::new("role dev", "iam GetRole", Action::Unchanged);
        assert_eq!(same.line(true), "unchanged role dev");
        assert!(!same.changes());
        assert_eq!(
            summary(std::slice::from_ref(&same), false, false),
            "no changes: everything is in place"
        );
        assert_eq!(
            summary(&[same, create, update], true, false),
            "dry run: 2 change(s) would be made; nothing was changed"
        );
        assert_eq!(summary(&[], false, true), "nothing to delete");
    }
}
