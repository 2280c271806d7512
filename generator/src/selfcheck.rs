//! The Soll-Ist competence self-check: the gap per competence area between a
//! role profile (target) and a person's self-rating (actual), and the
//! learning path that closes the gaps with the least total workload.
//!
//! Content model only, no rendering. Both the no-JavaScript result page and
//! the JSON answer of the form backend call [`plan`], so they cannot differ.
//!
//! ## Model
//! A unit "raises" an area to a level: after taking it, the person is at
//! least at that level there. A gap in area `a` is closed by any unit that
//! raises `a` to the target or higher. Taking a unit means taking its
//! prerequisites first (transitively) – except prerequisites the person
//! already masters: a prerequisite whose every raised level is at or below
//! the self-rating is treated as done and left out (with its own
//! prerequisites).
//!
//! ## Search
//! Choosing units is a weighted set cover with shared prerequisite costs, so
//! [`plan`] searches exactly: branch and bound over "which unit closes the
//! next open area" (the open area with the fewest candidates first), where a
//! branch adds the unit together with its missing prerequisites. The bound is
//! the cost so far plus, over all open areas, the largest cheapest extra cost
//! of closing that area alone. Sets already seen are skipped.
//! Worst case `O(c^g)` nodes for `g` open areas with at most `c` candidates
//! each; the sample (8 areas, ≤ 6 candidates per area level) needs a few
//! hundred nodes. For large catalogues the search stops after
//! [`NODE_LIMIT`] nodes and returns the best path found so far, never worse
//! than the greedy start solution (cheapest extra workload per newly closed
//! area), marked `exact: false`.
//!
//! ## Order of preference
//! Least total workload; at equal workload more units the person's authority
//! selected; then the set whose sorted unit ids come first. The path lists
//! prerequisites before the units that need them; otherwise lower levels
//! first, then by id.

use crate::model::Site;
use std::collections::{BTreeSet, HashSet};

/// Search nodes before the exact search gives up and keeps its best answer.
pub const NODE_LIMIT: usize = 200_000;

/// A unit as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanUnit {
    pub id: String,
    /// Workload in hundredths of an hour (exact comparisons, no float ties).
    pub workload: u64,
    /// (area index, level reached).
    pub raises: Vec<(usize, u8)>,
    /// Unit indices to take first.
    pub prerequisites: Vec<usize>,
}

impl PlanUnit {
    pub fn raise(&self, area: usize) -> u8 {
        self.raises
            .iter()
            .filter(|(a, _)| *a == area)
            .map(|(_, l)| *l)
            .max()
            .unwrap_or(0)
    }
}

/// All units and the number of competence areas.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub area_count: usize,
    pub units: Vec<PlanUnit>,
}

impl Catalog {
    pub fn from_site(site: &Site) -> Catalog {
        Catalog {
            area_count: site.competence_areas.len(),
            units: site
                .units
                .iter()
                .map(|u| PlanUnit {
                    id: u.id.clone(),
                    workload: hundredths(u.workload_hours),
                    // An internal unit is never recommended to the public.
                    raises: if u.is_public() {
                        u.raises.clone()
                    } else {
                        Vec::new()
                    },
                    prerequisites: u.prerequisites.clone(),
                })
                .collect(),
        }
    }
}

/// Hours as hundredths of an hour.
pub fn hundredths(hours: f64) -> u64 {
    (hours * 100.0).round().max(0.0) as u64
}

/// What the person told us (nothing of it is stored).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// Target level per area (from the role profile).
    pub targets: Vec<u8>,
    /// Self-rating per area.
    pub ratings: Vec<u8>,
    /// Units the person's authority selected (preferred at equal workload).
    pub preferred: Vec<usize>,
}

/// Target and actual level of one area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub area: usize,
    pub target: u8,
    pub rating: u8,
}

impl Gap {
    pub fn size(&self) -> u8 {
        self.target.saturating_sub(self.rating)
    }
}

/// An area whose target no unit reaches: the path goes as far as `reachable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable {
    pub area: usize,
    pub target: u8,
    pub reachable: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// One entry per area, in area order.
    pub gaps: Vec<Gap>,
    /// Unit indices in the order to take them.
    pub path: Vec<usize>,
    /// Total workload of the path in hundredths of an hour.
    pub workload: u64,
    /// Areas that cannot be closed to their target with the catalogue.
    pub unreachable: Vec<Unreachable>,
    /// False when the search hit [`NODE_LIMIT`] (the path is then the best
    /// found, not necessarily the least workload).
    pub exact: bool,
}

/// Level per area after taking `units`.
fn levels_after(catalog: &Catalog, ratings: &[u8], units: &BTreeSet<usize>) -> Vec<u8> {
    let mut levels: Vec<u8> = (0..catalog.area_count)
        .map(|a| ratings.get(a).copied().unwrap_or(0))
        .collect();
    for &u in units {
        for &(a, l) in &catalog.units[u].raises {
            if a < levels.len() && l > levels[a] {
                levels[a] = l;
            }
        }
    }
    levels
}

struct Search<'a> {
    catalog: &'a Catalog,
    ratings: &'a [u8],
    /// Level each area must reach (0 = nothing to do).
    need: Vec<u8>,
    /// Per unit: the unit plus its missing prerequisites.
    closure: Vec<BTreeSet<usize>>,
    /// Per area with a need: the units that close it.
    candidates: Vec<Vec<usize>>,
    preferred: HashSet<usize>,
    best: Option<(Key, BTreeSet<usize>)>,
    seen: HashSet<Vec<usize>>,
    nodes: usize,
    exhausted: bool,
}

/// Ordering of complete answers: smaller is better.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    workload: u64,
    /// More preferred units is better, so stored negated.
    not_preferred: i64,
    ids: Vec<String>,
}

impl Search<'_> {
    fn cost(&self, set: &BTreeSet<usize>) -> u64 {
        set.iter().map(|u| self.catalog.units[*u].workload).sum()
    }

    fn key(&self, set: &BTreeSet<usize>) -> Key {
        let mut ids: Vec<String> = set
            .iter()
            .map(|u| self.catalog.units[*u].id.clone())
            .collect();
        ids.sort();
        Key {
            workload: self.cost(set),
            not_preferred: -(set.iter().filter(|u| self.preferred.contains(u)).count() as i64),
            ids,
        }
    }

    fn open_areas(&self, set: &BTreeSet<usize>) -> Vec<usize> {
        let levels = levels_after(self.catalog, self.ratings, set);
        (0..self.need.len())
            .filter(|a| self.need[*a] > 0 && levels[*a] < self.need[*a])
            .collect()
    }

    fn extra_cost(&self, set: &BTreeSet<usize>, unit: usize) -> u64 {
        self.closure[unit]
            .iter()
            .filter(|u| !set.contains(u))
            .map(|u| self.catalog.units[*u].workload)
            .sum()
    }

    fn offer(&mut self, set: &BTreeSet<usize>) {
        let key = self.key(set);
        if self.best.as_ref().is_none_or(|(k, _)| key < *k) {
            self.best = Some((key, set.clone()));
        }
    }

    /// Cheapest extra workload per newly closed area, until all are closed.
    fn greedy(&mut self) {
        let mut set = BTreeSet::new();
        loop {
            let open = self.open_areas(&set);
            if open.is_empty() {
                break;
            }
            let mut choice: Option<(u64, usize, String, usize)> = None; // (cost, closed, id, unit)
            for &a in &open {
                for &u in &self.candidates[a] {
                    let mut next = set.clone();
                    next.extend(self.closure[u].iter().copied());
                    let closed = open.len() - self.open_areas(&next).len();
                    let cost = self.extra_cost(&set, u);
                    let id = self.catalog.units[u].id.clone();
                    let better = match &choice {
                        None => true,
                        // cost / closed < best_cost / best_closed, then by id
                        Some((bc, bn, bid, _)) => {
                            let (l, r) = (cost * *bn as u64, *bc * closed as u64);
                            l < r || (l == r && id < *bid)
                        }
                    };
                    if better {
                        choice = Some((cost, closed, id, u));
                    }
                }
            }
            let Some((_, _, _, u)) = choice else { break };
            set.extend(self.closure[u].iter().copied());
        }
        self.offer(&set);
    }

    fn branch(&mut self, set: BTreeSet<usize>) {
        if self.nodes >= NODE_LIMIT {
            self.exhausted = true;
            return;
        }
        self.nodes += 1;
        if !self.seen.insert(set.iter().copied().collect()) {
            return;
        }
        let open = self.open_areas(&set);
        let cost = self.cost(&set);
        if open.is_empty() {
            self.offer(&set);
            return;
        }
        // Lower bound: every open area still costs at least its cheapest closer.
        let bound = open
            .iter()
            .map(|a| {
                self.candidates[*a]
                    .iter()
                    .map(|u| self.extra_cost(&set, *u))
                    .min()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0);
        if let Some((best, _)) = &self.best {
            if cost + bound > best.workload {
                return;
            }
        }
        let area = *open
            .iter()
            .min_by_key(|a| (self.candidates[**a].len(), **a))
            .expect("open is not empty");
        let mut options: Vec<(u64, String, usize)> = self.candidates[area]
            .iter()
            .map(|u| {
                (
                    self.extra_cost(&set, *u),
                    self.catalog.units[*u].id.clone(),
                    *u,
                )
            })
            .collect();
        options.sort();
        for (_, _, u) in options {
            let mut next = set.clone();
            next.extend(self.closure[u].iter().copied());
            self.branch(next);
        }
    }
}

/// The unit plus its prerequisites (transitively) that the person does not
/// master yet. Safe on cyclic input (the model rejects cycles anyway).
fn closure_of(catalog: &Catalog, done: &[bool], unit: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let mut stack = vec![unit];
    while let Some(u) = stack.pop() {
        if !out.insert(u) {
            continue;
        }
        for &p in &catalog.units[u].prerequisites {
            if p < catalog.units.len() && !done[p] {
                stack.push(p);
            }
        }
    }
    out
}

/// Gaps and the learning path for one request. See the module docs.
pub fn plan(catalog: &Catalog, request: &Request) -> Plan {
    let n = catalog.area_count;
    let level = |v: &[u8], a: usize| v.get(a).copied().unwrap_or(0);
    let gaps: Vec<Gap> = (0..n)
        .map(|a| Gap {
            area: a,
            target: level(&request.targets, a),
            rating: level(&request.ratings, a),
        })
        .collect();
    let reachable: Vec<u8> = (0..n)
        .map(|a| catalog.units.iter().map(|u| u.raise(a)).max().unwrap_or(0))
        .collect();
    let mut unreachable = Vec::new();
    let need: Vec<u8> = gaps
        .iter()
        .map(|g| {
            if g.size() == 0 {
                return 0;
            }
            if g.target > reachable[g.area] {
                unreachable.push(Unreachable {
                    area: g.area,
                    target: g.target,
                    reachable: reachable[g.area],
                });
                // Go as far as the catalogue allows.
                return if reachable[g.area] > g.rating {
                    reachable[g.area]
                } else {
                    0
                };
            }
            g.target
        })
        .collect();
    let done: Vec<bool> = catalog
        .units
        .iter()
        .map(|u| {
            !u.raises.is_empty()
                && u.raises
                    .iter()
                    .all(|(a, l)| level(&request.ratings, *a) >= *l)
        })
        .collect();
    let closure: Vec<BTreeSet<usize>> = (0..catalog.units.len())
        .map(|u| closure_of(catalog, &done, u))
        .collect();
    let candidates: Vec<Vec<usize>> = (0..n)
        .map(|a| {
            if need[a] == 0 {
                return Vec::new();
            }
            (0..catalog.units.len())
                .filter(|u| catalog.units[*u].raise(a) >= need[a])
                .collect()
        })
        .collect();
    let mut search = Search {
        catalog,
        ratings: &request.ratings,
        need,
        closure,
        candidates,
        preferred: request.preferred.iter().copied().collect(),
        best: None,
        seen: HashSet::new(),
        nodes: 0,
        exhausted: false,
    };
    search.greedy();
    search.branch(BTreeSet::new());
    let exact = !search.exhausted;
    let chosen = search.best.map(|(_, s)| s).unwrap_or_default();
    let path = order(catalog, &chosen);
    Plan {
        gaps,
        workload: path.iter().map(|u| catalog.units[*u].workload).sum(),
        path,
        unreachable,
        exact,
    }
}

/// Prerequisites first (within the chosen set); among units that are ready,
/// the one with the lowest highest raised level, then by id.
fn order(catalog: &Catalog, chosen: &BTreeSet<usize>) -> Vec<usize> {
    let mut left: Vec<usize> = chosen.iter().copied().collect();
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let ready = |u: &usize| {
            catalog.units[*u]
                .prerequisites
                .iter()
                .all(|p| !chosen.contains(p) || out.contains(p))
        };
        let pick = left
            .iter()
            .copied()
            .filter(ready)
            .min_by(|a, b| {
                let key = |u: usize| {
                    let top = catalog.units[u].raises.iter().map(|r| r.1).max();
                    (top.unwrap_or(0), &catalog.units[u].id)
                };
                key(*a).cmp(&key(*b))
            })
            // Only on cyclic input: take the rest in id order.
            .unwrap_or(left[0]);
        out.push(pick);
        left.retain(|u| *u != pick);
    }
    out
}

/// The answers of the self-check form, resolved against the site.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub profile: usize,
    pub ratings: Vec<u8>,
    pub authority: Option<usize>,
}

/// Runs the self-check on the site's catalogue.
pub fn plan_for_site(site: &Site, answers: &Answers) -> Plan {
    let preferred = answers
        .authority
        .map(|a| site.authorities[a].units.clone())
        .unwrap_or_default();
    plan(
        &Catalog::from_site(site),
        &Request {
            targets: site.role_profiles[answers.profile].targets.clone(),
            ratings: answers.ratings.clone(),
            preferred,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (id, hours, raises, prerequisites by id)
    type Spec<'a> = (&'a str, f64, &'a [(usize, u8)], &'a [&'a str]);

    fn catalog(area_count: usize, specs: &[Spec]) -> Catalog {
        let index = |id: &str| specs.iter().position(|s| s.0 == id).unwrap();
        Catalog {
            area_count,
            units: specs
                .iter()
                .map(|(id, h, raises, pre)| PlanUnit {
                    id: id.to_string(),
                    workload: hundredths(*h),
                    raises: raises.to_vec(),
                    prerequisites: pre.iter().map(|p| index(p)).collect(),
                })
                .collect(),
        }
    }

    fn ids(c: &Catalog, plan: &Plan) -> Vec<String> {
        plan.path.iter().map(|u| c.units[*u].id.clone()).collect()
    }

    fn request(targets: &[u8], ratings: &[u8]) -> Request {
        Request {
            targets: targets.to_vec(),
            ratings: ratings.to_vec(),
            preferred: Vec::new(),
        }
    }

    fn closes_all(c: &Catalog, r: &Request, p: &Plan) -> bool {
        let set: BTreeSet<usize> = p.path.iter().copied().collect();
        let levels = levels_after(c, &r.ratings, &set);
        (0..c.area_count).all(|a| levels[a] >= r.targets.get(a).copied().unwrap_or(0))
    }

    #[test]
    fn gaps_are_closed_and_nothing_is_taken_without_a_gap() {
        let c = catalog(
            2,
            &[
                ("a1", 2.0, &[(0, 1)], &[]),
                ("a2", 3.0, &[(0, 2)], &[]),
                ("b2", 4.0, &[(1, 2)], &[]),
            ],
        );
        let r = request(&[2, 2], &[0, 2]);
        let p = plan(&c, &r);
        assert_eq!(ids(&c, &p), ["a2"]);
        assert!(closes_all(&c, &r, &p));
        assert_eq!(p.gaps[0].size(), 2);
        assert_eq!(p.gaps[1].size(), 0);
        assert!(p.unreachable.is_empty() && p.exact);
        // No gap at all: an empty path.
        let none = plan(&c, &request(&[1, 1], &[3, 3]));
        assert!(none.path.is_empty());
        assert_eq!(none.workload, 0);
    }

    #[test]
    fn least_total_workload_beats_greedy() {
        // Greedy takes "z" first (0.9 h per area) and then needs "y":
        // 4.7 h. The optimum is x + y: 4 h.
        let c = catalog(
            4,
            &[
                ("x", 2.0, &[(0, 1), (1, 1)], &[]),
                ("y", 2.0, &[(2, 1), (3, 1)], &[]),
                ("z", 2.7, &[(0, 1), (1, 1), (2, 1)], &[]),
            ],
        );
        let r = request(&[1, 1, 1, 1], &[0, 0, 0, 0]);
        let p = plan(&c, &r);
        assert!(closes_all(&c, &r, &p));
        assert_eq!(p.workload, 400);
        assert_eq!(ids(&c, &p), ["x", "y"]);
        assert!(p.exact);
    }

    #[test]
    fn prerequisites_come_first_and_count_towards_the_workload() {
        // "adv" alone is 5 h but needs "basic" (3 h): 8 h. "direct" is 7 h.
        let c = catalog(
            1,
            &[
                ("adv", 5.0, &[(0, 3)], &["basic"]),
                ("basic", 3.0, &[(0, 1)], &["intro"]),
                ("direct", 7.5, &[(0, 3)], &[]),
                ("intro", 1.0, &[(0, 1)], &[]),
            ],
        );
        let p = plan(&c, &request(&[3], &[0]));
        assert_eq!(ids(&c, &p), ["direct"]);
        // Cheaper prerequisites: the chain wins and is ordered.
        let c = catalog(
            1,
            &[
                ("adv", 4.0, &[(0, 3)], &["basic"]),
                ("basic", 2.0, &[(0, 2)], &["intro"]),
                ("direct", 7.5, &[(0, 3)], &[]),
                ("intro", 1.0, &[(0, 1)], &[]),
            ],
        );
        let p = plan(&c, &request(&[3], &[0]));
        assert_eq!(ids(&c, &p), ["intro", "basic", "adv"]);
        assert_eq!(p.workload, 700);
        // A prerequisite the person masters already is left out.
        let p = plan(&c, &request(&[3], &[2]));
        assert_eq!(ids(&c, &p), ["adv"]);
    }

    #[test]
    fn prerequisite_order_even_when_ids_sort_the_other_way() {
        let c = catalog(
            2,
            &[
                ("a-expert", 1.0, &[(0, 1)], &["z-basics"]),
                ("z-basics", 1.0, &[(1, 3)], &[]),
            ],
        );
        let p = plan(&c, &request(&[1, 0], &[0, 0]));
        assert_eq!(ids(&c, &p), ["z-basics", "a-expert"]);
    }

    #[test]
    fn ties_are_broken_by_id_whatever_the_input_order() {
        let specs: [Spec; 3] = [
            ("mitte", 4.0, &[(0, 2)], &[]),
            ("anfang", 4.0, &[(0, 2)], &[]),
            ("ende", 4.0, &[(0, 2)], &[]),
        ];
        let r = request(&[2], &[0]);
        let mut rotated = specs;
        for _ in 0..3 {
            let c = catalog(1, &rotated);
            assert_eq!(ids(&c, &plan(&c, &r)), ["anfang"]);
            rotated.rotate_left(1);
        }
    }

    #[test]
    fn the_authority_choice_wins_at_equal_workload_only() {
        let c = catalog(
            1,
            &[
                ("a", 4.0, &[(0, 2)], &[]),
                ("b", 4.0, &[(0, 2)], &[]),
                ("c", 3.5, &[(0, 2)], &[]),
            ],
        );
        let mut r = request(&[2], &[0]);
        assert_eq!(ids(&c, &plan(&c, &r)), ["c"]);
        r.preferred = vec![1];
        // "b" is preferred but costs more than "c".
        assert_eq!(ids(&c, &plan(&c, &r)), ["c"]);
        let c = catalog(1, &[("a", 4.0, &[(0, 2)], &[]), ("b", 4.0, &[(0, 2)], &[])]);
        assert_eq!(ids(&c, &plan(&c, &request(&[2], &[0]))), ["a"]);
        assert_eq!(ids(&c, &plan(&c, &r)), ["b"]);
    }

    #[test]
    fn an_impossible_gap_is_reported_and_the_rest_still_planned() {
        let c = catalog(
            3,
            &[("a1", 2.0, &[(0, 1)], &[]), ("b3", 5.0, &[(1, 3)], &[])],
        );
        let r = request(&[3, 3, 2], &[0, 0, 0]);
        let p = plan(&c, &r);
        assert_eq!(
            p.unreachable,
            [
                Unreachable {
                    area: 0,
                    target: 3,
                    reachable: 1
                },
                Unreachable {
                    area: 2,
                    target: 2,
                    reachable: 0
                },
            ]
        );
        // Area 0 goes as far as the catalogue allows; area 1 is closed.
        let mut got = ids(&c, &p);
        got.sort();
        assert_eq!(got, ["a1", "b3"]);
        assert!(p.exact);
    }

    #[test]
    fn a_larger_catalogue_still_gets_a_complete_path() {
        // 14 areas with 4 equal candidates each: exact search is large but
        // the answer must still close every gap.
        type Owned = (String, f64, Vec<(usize, u8)>);
        let mut specs: Vec<Owned> = Vec::new();
        for a in 0..14 {
            for k in 0..4 {
                specs.push((
                    format!("u{a:02}-{k}"),
                    1.0 + k as f64,
                    vec![(a, 1), ((a + k + 1) % 14, 1)],
                ));
            }
        }
        let c = Catalog {
            area_count: 14,
            units: specs
                .iter()
                .map(|(id, h, r)| PlanUnit {
                    id: id.clone(),
                    workload: hundredths(*h),
                    raises: r.clone(),
                    prerequisites: vec![],
                })
                .collect(),
        };
        let r = request(&[1; 14], &[0; 14]);
        let p = plan(&c, &r);
        assert!(closes_all(&c, &r, &p));
    }
}
