//! The quiz and action catalogue: the in-memory index that every draw reads, and the
//! database rows behind it.
//!
//! A draw must not touch the database nor grow in cost with the catalogue (the seed's
//! `ORDER BY RAND()` did both), so the ids are kept in memory, grouped by difficulty.
//! Drawing 3 distinct quizzes is Floyd's sampling over one difficulty's id list:
//! O(1) in the size of the catalogue.
//!
//! A write through the content API changes one row; [`SharedCatalog::apply`] swaps in a
//! catalogue that differs in that row only. The per-difficulty lists are shared between
//! the old and the new catalogue, so a change copies one difficulty's list, not all.

pub mod csv;
pub mod export;
pub mod import;
pub mod rows;
pub mod store;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rand::Rng;

use crate::protocol::pairing::Draw;

/// How many quizzes a draw asks for (fewer when fewer exist).
pub const QUIZZES_PER_DRAW: usize = 3;

/// The catalogue's two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    Quizzes,
    Actions,
}

impl Table {
    /// The table's name, also its URL segment under `/api` and its section in files.
    pub fn name(self) -> &'static str {
        match self {
            Table::Quizzes => "quizzes",
            Table::Actions => "actions",
        }
    }

    /// One row of the table, in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Table::Quizzes => "quiz",
            Table::Actions => "action",
        }
    }

    /// One row of the table with its article, in messages: "a quiz", "an action".
    pub fn with_article(self) -> &'static str {
        match self {
            Table::Quizzes => "a quiz",
            Table::Actions => "an action",
        }
    }
}

/// Ids by difficulty. Each list sits behind an `Arc` so that cloning a catalogue to
/// change one row copies only the list that changes. A B-tree: with a handful of
/// difficulties, a lookup is a few comparisons, cheaper than hashing the key.
type ByDifficulty = BTreeMap<i32, Arc<Vec<i32>>>;

/// Quiz and action ids grouped by difficulty; immutable once built.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    quizzes: ByDifficulty,
    actions: ByDifficulty,
}

impl Catalog {
    /// Builds the index from `(id, difficulty)` pairs.
    pub fn from_ids(
        quizzes: impl IntoIterator<Item = (i32, i32)>,
        actions: impl IntoIterator<Item = (i32, i32)>,
    ) -> Self {
        fn group(rows: impl IntoIterator<Item = (i32, i32)>) -> ByDifficulty {
            let mut by_difficulty: HashMap<i32, Vec<i32>> = HashMap::new();
            for (id, difficulty) in rows {
                by_difficulty.entry(difficulty).or_default().push(id);
            }
            by_difficulty.into_iter().map(|(d, ids)| (d, Arc::new(ids))).collect()
        }
        Self {
            quizzes: group(quizzes),
            actions: group(actions),
        }
    }

    /// Draws up to 3 distinct quizzes and 1 action of `difficulty`, each uniformly.
    /// `None` when that difficulty has no quiz or no action.
    pub fn draw(&self, difficulty: i64, rng: &mut impl Rng) -> Option<Draw> {
        let difficulty = i32::try_from(difficulty).ok()?;
        let quizzes = self.quizzes.get(&difficulty).filter(|ids| !ids.is_empty())?;
        let actions = self.actions.get(&difficulty).filter(|ids| !ids.is_empty())?;
        let amount = QUIZZES_PER_DRAW.min(quizzes.len());
        // Floyd's sampling, as `rand::seq::index::sample` does it for few indices (the
        // order comes out random too), on the stack instead of in a list of its own.
        let mut picked = [0usize; QUIZZES_PER_DRAW];
        let length = quizzes.len();
        for (n, j) in (length - amount..length).enumerate() {
            let t = rng.random_range(..=j);
            if let Some(slot) = picked[..n].iter_mut().find(|slot| **slot == t) {
                *slot = j;
            }
            picked[n] = t;
        }
        let quiz_id = picked[..amount].iter().map(|&i| quizzes[i]).collect();
        let action_id = actions[rng.random_range(0..actions.len())];
        Some(Draw { quiz_id, action_id })
    }

    /// A copy in which row `id` of `table` has moved from difficulty `from` to `to`
    /// (`None`: absent, or not drawable because its difficulty is NULL). Costs one pass
    /// over each of the two difficulties' lists.
    pub fn with_move(&self, table: Table, id: i32, from: Option<i32>, to: Option<i32>) -> Self {
        let mut next = self.clone();
        let lists = match table {
            Table::Quizzes => &mut next.quizzes,
            Table::Actions => &mut next.actions,
        };
        // Removing from both is what makes this idempotent: whatever `from` claims, the
        // id ends up listed once, under `to`.
        for difficulty in from.into_iter().chain(to) {
            if let Some(ids) = lists.get_mut(&difficulty) {
                if let Some(at) = ids.iter().position(|&listed| listed == id) {
                    Arc::make_mut(ids).swap_remove(at);
                }
            }
        }
        if let Some(difficulty) = to {
            Arc::make_mut(lists.entry(difficulty).or_default()).push(id);
        }
        lists.retain(|_, ids| !ids.is_empty());
        next
    }

    pub fn quiz_count(&self) -> usize {
        self.quizzes.values().map(|ids| ids.len()).sum()
    }

    pub fn action_count(&self) -> usize {
        self.actions.values().map(|ids| ids.len()).sum()
    }
}

/// The catalogue shared by every connection. Readers never block: a reload swaps in a
/// whole new [`Catalog`] while draws in progress finish on the old one.
#[derive(Debug, Clone, Default)]
pub struct SharedCatalog(Arc<ArcSwap<Catalog>>);

impl SharedCatalog {
    pub fn new(catalog: Catalog) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(catalog)))
    }

    pub fn draw(&self, difficulty: i64) -> Option<Draw> {
        self.0.load().draw(difficulty, &mut rand::rng())
    }

    pub fn replace(&self, catalog: Catalog) {
        self.0.store(Arc::new(catalog));
    }

    /// Moves one row (see [`Catalog::with_move`]); draws that start afterwards see it.
    /// Callers that must apply changes in the order their database writes happened
    /// serialise the two themselves (the content API holds a writer lock).
    pub fn apply(&self, table: Table, id: i32, from: Option<i32>, to: Option<i32>) {
        self.0.rcu(|current| current.with_move(table, id, from, to));
    }

    /// A snapshot of the current catalogue.
    pub fn current(&self) -> Arc<Catalog> {
        self.0.load_full()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn catalog(quizzes: &[(i32, i32)], actions: &[(i32, i32)]) -> Catalog {
        Catalog::from_ids(quizzes.iter().copied(), actions.iter().copied())
    }

    #[test]
    fn draws_three_distinct_quizzes_of_the_asked_difficulty() {
        let cat = catalog(
            &[(1, 1), (2, 1), (3, 1), (4, 1), (5, 2), (6, 2), (7, 2)],
            &[(10, 1), (20, 2)],
        );
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let draw = cat.draw(1, &mut rng).unwrap();
            let ids: HashSet<_> = draw.quiz_id.iter().copied().collect();
            assert_eq!(ids.len(), 3, "{draw:?}");
            assert!(ids.is_subset(&HashSet::from([1, 2, 3, 4])), "{draw:?}");
            assert_eq!(draw.action_id, 10);
        }
    }

    #[test]
    fn draws_fewer_quizzes_when_fewer_exist() {
        let cat = catalog(&[(1, 3), (2, 3)], &[(9, 3)]);
        let mut draw = cat.draw(3, &mut StdRng::seed_from_u64(1)).unwrap();
        draw.quiz_id.sort();
        assert_eq!(draw.quiz_id, vec![1, 2]);
    }

    #[test]
    fn no_draw_without_a_quiz_or_an_action() {
        let cat = catalog(&[(1, 1)], &[(2, 2)]);
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(cat.draw(1, &mut rng), None, "no action at 1");
        assert_eq!(cat.draw(2, &mut rng), None, "no quiz at 2");
        assert_eq!(cat.draw(4, &mut rng), None, "nothing at 4");
        assert_eq!(cat.draw(i64::MAX, &mut rng), None, "beyond any stored difficulty");
    }

    #[test]
    fn every_quiz_and_action_can_be_drawn_with_similar_frequency() {
        let quizzes: Vec<_> = (1..=10).map(|id| (id, 1)).collect();
        let actions: Vec<_> = (100..105).map(|id| (id, 1)).collect();
        let cat = catalog(&quizzes, &actions);
        let mut rng = StdRng::seed_from_u64(42);
        let mut quiz_hits: HashMap<i32, u32> = HashMap::new();
        let mut action_hits: HashMap<i32, u32> = HashMap::new();
        let rounds = 30_000;
        for _ in 0..rounds {
            let draw = cat.draw(1, &mut rng).unwrap();
            for id in draw.quiz_id {
                *quiz_hits.entry(id).or_default() += 1;
            }
            *action_hits.entry(draw.action_id).or_default() += 1;
        }
        // Each quiz is expected in 3/10 of the draws, each action in 1/5.
        for id in 1..=10 {
            let share = f64::from(quiz_hits[&id]) / f64::from(rounds);
            assert!((share - 0.3).abs() < 0.02, "quiz {id}: {share}");
        }
        for id in 100..105 {
            let share = f64::from(action_hits[&id]) / f64::from(rounds);
            assert!((share - 0.2).abs() < 0.02, "action {id}: {share}");
        }
    }

    #[test]
    fn a_moved_row_is_drawn_at_its_new_difficulty_only() {
        let shared = SharedCatalog::new(catalog(&[(1, 1), (2, 1)], &[(9, 1), (8, 2)]));
        shared.apply(Table::Quizzes, 3, None, Some(2));
        assert_eq!(shared.draw(2).unwrap().quiz_id, vec![3], "created");
        shared.apply(Table::Quizzes, 3, Some(2), Some(1));
        assert_eq!(shared.draw(2), None, "moved away");
        let mut ids = shared.draw(1).unwrap().quiz_id;
        ids.sort();
        assert_eq!(ids, vec![1, 2, 3], "moved here");
        shared.apply(Table::Quizzes, 3, Some(1), None);
        shared.apply(Table::Actions, 9, Some(1), None);
        assert_eq!(shared.draw(1), None, "the only action at 1 is gone");
        let current = shared.current();
        assert_eq!((current.quiz_count(), current.action_count()), (2, 1));
    }

    #[test]
    fn a_move_copies_only_the_lists_it_changes() {
        let before = catalog(&[(1, 1), (2, 2)], &[(9, 1)]);
        let after = before.with_move(Table::Quizzes, 3, None, Some(2));
        assert!(Arc::ptr_eq(&before.quizzes[&1], &after.quizzes[&1]));
        assert!(!Arc::ptr_eq(&before.quizzes[&2], &after.quizzes[&2]));
        assert_eq!(before.quizzes[&2].as_slice(), [2], "the old catalogue is unchanged");
    }

    #[test]
    fn a_move_lists_an_id_once_whatever_it_is_told() {
        let cat = catalog(&[(1, 1)], &[]);
        let twice = cat.with_move(Table::Quizzes, 1, None, Some(1));
        assert_eq!(twice.quizzes[&1].as_slice(), [1]);
        let wrong_from = cat.with_move(Table::Quizzes, 1, Some(5), Some(1));
        assert_eq!(wrong_from.quiz_count(), 1);
    }

    #[test]
    fn a_replaced_catalogue_is_used_by_the_next_draw() {
        let shared = SharedCatalog::new(catalog(&[(1, 1)], &[(2, 1)]));
        assert_eq!(shared.draw(1).unwrap().quiz_id, vec![1]);
        shared.replace(catalog(&[(5, 1)], &[(6, 1)]));
        assert_eq!(
            shared.draw(1).unwrap(),
            Draw {
                quiz_id: vec![5],
                action_id: 6
            }
        );
    }
}
