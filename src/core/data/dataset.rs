//! A labelled set of sequences with duplicate detection and subject-wise splits.

use std::collections::{BTreeMap, BTreeSet};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::sequence::GaitSequence;

/// Sequences whose positions are bit-identical: `kept` is the first, `copies` the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateGroup {
    /// Id of the sequence that stays in the dataset.
    pub kept: String,
    /// Ids of its exact copies.
    pub copies: Vec<String>,
}

/// One train/test split by subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Subjects held out.
    pub test_subjects: Vec<String>,
    /// Indices (into [`Dataset::sequences`]) used for training.
    pub train: Vec<usize>,
    /// Indices used for testing.
    pub test: Vec<usize>,
}

/// A set of gait sequences plus what went wrong while building it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Dataset name (directory name, "demo", ...).
    pub name: String,
    /// The sequences.
    pub sequences: Vec<GaitSequence>,
    /// Exact duplicates removed by [`Dataset::remove_duplicates`].
    pub duplicates: Vec<DuplicateGroup>,
}

impl Dataset {
    /// A dataset from sequences.
    #[must_use]
    pub fn new(name: impl Into<String>, sequences: Vec<GaitSequence>) -> Self {
        Self {
            name: name.into(),
            sequences,
            duplicates: Vec::new(),
        }
    }

    /// Distinct subjects, sorted.
    #[must_use]
    pub fn subjects(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self.sequences.iter().map(|s| s.subject.as_str()).collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// Distinct class labels, sorted ("unlabelled" sequences are not counted).
    #[must_use]
    pub fn labels(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .sequences
            .iter()
            .filter_map(|s| s.label.as_deref())
            .collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// Sequence count per label (unlabelled under "(unlabelled)").
    #[must_use]
    pub fn label_counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for s in &self.sequences {
            *m.entry(s.label.clone().unwrap_or_else(|| "(unlabelled)".into()))
                .or_insert(0) += 1;
        }
        m
    }

    /// Groups of bit-identical sequences (by [`GaitSequence::content_hash`]).
    #[must_use]
    pub fn find_duplicates(&self) -> Vec<DuplicateGroup> {
        let mut by_hash: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, s) in self.sequences.iter().enumerate() {
            by_hash.entry(s.content_hash()).or_default().push(i);
        }
        let mut groups: Vec<DuplicateGroup> = by_hash
            .into_values()
            .filter(|v| v.len() > 1)
            .map(|v| DuplicateGroup {
                kept: self.sequences[v[0]].id.clone(),
                copies: v[1..]
                    .iter()
                    .map(|&i| self.sequences[i].id.clone())
                    .collect(),
            })
            .collect();
        groups.sort_by(|a, b| a.kept.cmp(&b.kept));
        groups
    }

    /// Removes exact duplicates (keeping the first of each group) and records them, so no copy
    /// of a test subject's walk can leak into training. Returns the number removed.
    pub fn remove_duplicates(&mut self) -> usize {
        let groups = self.find_duplicates();
        let drop: BTreeSet<&str> = groups
            .iter()
            .flat_map(|g| g.copies.iter().map(String::as_str))
            .collect();
        let before = self.sequences.len();
        self.sequences.retain(|s| !drop.contains(s.id.as_str()));
        let removed = before - self.sequences.len();
        self.duplicates.extend(groups);
        removed
    }

    /// Leave-one-subject-out folds: one per subject, in sorted subject order.
    #[must_use]
    pub fn loso_folds(&self) -> Vec<Fold> {
        self.subjects()
            .into_iter()
            .map(|s| self.fold_for(vec![s]))
            .collect()
    }

    /// `k` folds by subject: subjects shuffled with `seed`, then dealt round-robin, so each
    /// subject is in exactly one test fold. `k` is clamped to the number of subjects.
    #[must_use]
    pub fn kfold_by_subject(&self, k: usize, seed: u64) -> Vec<Fold> {
        let mut subjects = self.subjects();
        if subjects.is_empty() || k == 0 {
            return Vec::new();
        }
        subjects.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let k = k.min(subjects.len());
        let mut buckets = vec![Vec::new(); k];
        for (i, s) in subjects.into_iter().enumerate() {
            buckets[i % k].push(s);
        }
        buckets
            .into_iter()
            .map(|mut b| {
                b.sort();
                self.fold_for(b)
            })
            .collect()
    }

    fn fold_for(&self, test_subjects: Vec<String>) -> Fold {
        let (test, train): (Vec<usize>, Vec<usize>) = (0..self.sequences.len())
            .partition(|&i| test_subjects.contains(&self.sequences[i].subject));
        Fold {
            test_subjects,
            train,
            test,
        }
    }
}
