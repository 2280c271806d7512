//! Internal units: an authority's own units for its staff only. They show on
//! that authority's landing page and nowhere in the public programme, so no
//! other authority and no course may list them.

use super::*;

/// Which units are internal, and to whom.
pub(super) struct InternalUnits {
    /// Unit index → owning authority index.
    owner: HashMap<usize, usize>,
    /// Authority index → its internal units, in site order.
    by_owner: HashMap<usize, Vec<usize>>,
    /// Authority ids by index, for messages.
    authority_ids: Vec<String>,
}

impl InternalUnits {
    /// From each unit's `internal_to`, in site order.
    pub(super) fn of(
        owners: impl Iterator<Item = Option<usize>>,
        authority_ids: &[String],
    ) -> InternalUnits {
        let mut owner = HashMap::new();
        let mut by_owner: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, o) in owners.enumerate() {
            if let Some(a) = o {
                owner.insert(i, a);
                by_owner.entry(a).or_default().push(i);
            }
        }
        InternalUnits {
            owner,
            by_owner,
            authority_ids: authority_ids.to_vec(),
        }
    }

    /// Reports each reference in `written` to another authority's internal
    /// unit (`allowed`: the authority whose file this is, if any).
    pub(super) fn check_refs<'a>(
        &self,
        f: &SourceFile,
        written: impl Iterator<Item = &'a content::Located<String>>,
        allowed: Option<usize>,
        unit_ids: &HashMap<&str, usize>,
        problems: &mut Vec<Problem>,
    ) {
        if self.owner.is_empty() {
            return;
        }
        for r in written {
            let Some(owner) = unit_ids
                .get(r.value.as_str())
                .and_then(|i| self.owner.get(i))
            else {
                continue;
            };
            if Some(*owner) == allowed {
                continue;
            }
            let owner_id = &self.authority_ids[*owner];
            problems.push(f.problem_at(
                r,
                ProblemKind::InvalidValue {
                    field: "einheiten",
                    message: format!(
                        "„{}“ ist eine interne Lerneinheit der Kommune „{owner_id}“ und erscheint nur auf deren Seite.",
                        r.value
                    ),
                },
            ));
        }
    }

    /// Adds the authority's own internal units to its landing page (after
    /// the ones its file lists).
    pub(super) fn attach(&self, authority_index: usize, authority: &mut Authority) {
        for u in self.by_owner.get(&authority_index).into_iter().flatten() {
            if !authority.units.contains(u) {
                authority.units.push(*u);
            }
        }
    }
}
