//! Evaluation protocol on small demo data: no leakage of test subjects (or copies of their
//! walks) into anything that trains, well-formed results, resume, and classifiers that learn.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;

use std::collections::BTreeSet;

use burn::tensor::Device;
use pathogait::core::data::{Dataset, GaitSequence};
use pathogait::core::eval::classifier::{
    ClassifierConfig, ClassifierKind, LabelledWindow, fine_tune, train_classifier,
};
use pathogait::core::eval::conditions::accuracy;
use pathogait::core::eval::scarcity::EvalRun;
use pathogait::core::eval::significance::{PAIRS, mcnemar_exact, p_above_rate, p_balanced};
use pathogait::core::eval::{
    Condition, EvalConfig, EvalReport, FoldResult, FoldRun, Protocol, evaluate, evaluate_folds,
    size_normalise,
};
use pathogait::core::jobs::{CancelToken, NoProgress};
use pathogait::core::model::ModelError;
use pathogait::core::model::bundle::TrainPlan;
use pathogait::core::model::features::{
    Normalizer, WindowConfig, sequence_features, window_starts,
};

/// burn's generator seed is process-wide: tests that train take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn demo(subjects: usize) -> Dataset {
    common::small_demo(subjects)
}

fn tiny_config(protocol: Protocol) -> EvalConfig {
    EvalConfig {
        protocol,
        classifier: ClassifierConfig::tiny(),
        synthetic_per_class: 4,
        generator: TrainPlan::tiny(),
        ..EvalConfig::default()
    }
}

fn run(
    ds: &Dataset,
    cfg: &EvalConfig,
    out: Option<&std::path::Path>,
) -> (Result<EvalReport, ModelError>, Vec<bool>) {
    let mut resumed = Vec::new();
    let r = evaluate(
        ds,
        cfg,
        &Device::flex(),
        "CPU (Flex)",
        out,
        &NoProgress,
        &CancelToken::new(),
        &mut |_: &FoldResult, _, _, was| resumed.push(was),
    );
    (r, resumed)
}

#[test]
fn folds_never_train_on_test_subjects_or_copies_of_their_walks() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut ds = demo(4);
    // A copy of the first subject's first walk filed under another (new) subject: it must not
    // train anything while the first subject is tested.
    let first = ds.subjects()[0].clone();
    let orig = ds
        .sequences
        .iter()
        .find(|s| s.subject == first)
        .unwrap()
        .clone();
    let mut copy: GaitSequence = orig.clone();
    copy.id = "copy_of_first".into();
    copy.subject = "zz_copycat".into();
    ds.sequences.push(copy);
    let cfg = EvalConfig {
        max_folds: Some(2),
        ..tiny_config(Protocol::Loso)
    };
    let (report, resumed) = run(&ds, &cfg, None);
    let report = report.unwrap();
    assert_eq!(resumed, vec![false, false]);
    assert_eq!(report.folds.len(), 2);
    let all: BTreeSet<String> = ds.subjects().into_iter().collect();
    for f in &report.folds {
        let test: BTreeSet<&String> = f.test_subjects.iter().collect();
        let fit: BTreeSet<&String> = f.fit_subjects.iter().collect();
        let val: BTreeSet<&String> = f.val_subjects.iter().collect();
        assert!(test.is_disjoint(&fit) && test.is_disjoint(&val) && fit.is_disjoint(&val));
        let mut union: BTreeSet<String> = test
            .iter()
            .chain(&fit)
            .chain(&val)
            .map(|s| (*s).clone())
            .collect();
        if !f.dropped_duplicates.is_empty() {
            union.insert("zz_copycat".into()); // its only walk was the dropped copy
        }
        assert_eq!(union, all, "every subject is test, fit or validation");
        assert!(
            !f.val_subjects.is_empty(),
            "early stopping needs a validation subject"
        );
        let walks = ds
            .sequences
            .iter()
            .filter(|s| f.test_subjects.contains(&s.subject))
            .count();
        assert_eq!(f.test_walks, walks);
        assert_eq!(f.results.len(), 3 * Condition::ALL.len());
        for r in &f.results {
            let tested: usize = r.confusion.iter().flatten().sum();
            assert_eq!(tested, walks, "{:?} {:?}", r.classifier, r.condition);
            assert_eq!(r.accuracy, accuracy(&r.confusion));
            assert!((0.0..=1.0).contains(&r.accuracy));
            assert!(r.fit.best_epoch >= 1 && r.fit.best_epoch <= r.fit.epochs);
        }
        assert!(
            f.synthetic_windows.values().all(|&n| n == 4),
            "{:?}",
            f.synthetic_windows
        );
        assert_eq!(f.generative.per_class.len(), 6);
        for d in &f.generative.per_class {
            // Every class got 4 model and 4 baseline windows: recognition is a share of them.
            let r = d.recognised;
            for v in [r.model, r.baseline] {
                assert!((0.0..=1.0).contains(&v), "{d:?}");
                assert!(((v * 4.0).round() - v * 4.0).abs() < 1e-9, "{d:?}");
            }
            assert!(r.real.is_nan() || (0.0..=1.0).contains(&r.real));
        }
        assert!(f.generative.model_all.is_finite() && f.generative.baseline_all.is_finite());
        assert!(f.generative.real.walks > 0 && f.generative.model.walks > 0);
    }
    // Fold 1 tests the first subject: the copy must have been dropped from its training side.
    assert_eq!(report.folds[0].test_subjects, vec![first]);
    assert_eq!(
        report.folds[0].dropped_duplicates,
        vec!["copy_of_first".to_string()]
    );
    assert!(report.folds[1].dropped_duplicates.is_empty());
    // Table rows: every classifier x condition, pooled over both folds.
    assert_eq!(report.summary.len(), 3 * Condition::ALL.len());
    // The fine-tuned condition records its pretraining and its learning rate.
    for r in report.folds.iter().flat_map(|f| &f.results) {
        let tuned = r.condition == Condition::PretrainFinetune;
        assert_eq!(r.pretrain.is_some(), tuned, "{:?}", r.condition);
        let lr = cfg.classifier.lr * cfg.finetune_lr_scale;
        assert_eq!(r.lr.map(|x| (x - lr).abs() < 1e-12), tuned.then_some(true));
    }
    let row = report
        .row(ClassifierKind::Gru, Condition::RealSynthetic)
        .unwrap();
    assert_eq!(row.folds, 2);
    let pooled: usize = row.confusion.iter().flatten().sum();
    assert_eq!(
        pooled,
        report.folds.iter().map(|f| f.test_walks).sum::<usize>()
    );
    let csv = report.summary_csv().unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * Condition::ALL.len());
    assert!(csv.contains("GRU,Real+Synthetic,2,"));
    // Significance: every row against always naming the largest class (computed here from the
    // walks' own labels), its balanced accuracy against shuffled labels, and every pair of
    // conditions walk by walk.
    assert!((report.chance - 1.0 / 6.0).abs() < 1e-12);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",no_information_rate,p_vs_no_information,balanced_accuracy,p_balanced")
    );
    let tested: Vec<&GaitSequence> = report
        .folds
        .iter()
        .flat_map(|f| {
            ds.sequences
                .iter()
                .filter(|s| f.test_subjects.contains(&s.subject))
        })
        .collect();
    let mut per_class = std::collections::BTreeMap::<&str, usize>::new();
    for s in &tested {
        *per_class.entry(s.label.as_deref().unwrap()).or_default() += 1;
    }
    let largest = *per_class.values().max().unwrap() as f64 / tested.len() as f64;
    assert!((report.no_information_rate() - largest).abs() < 1e-12);
    for f in &report.folds {
        for r in &f.results {
            assert_eq!(r.walks.len(), f.test_walks, "{:?}", r.condition);
            let right = r.walks.iter().filter(|w| w.right()).count();
            assert_eq!(right, (0..6).map(|i| r.confusion[i][i]).sum::<usize>());
        }
    }
    for s in &report.summary {
        let right: usize = (0..6).map(|i| s.confusion[i][i]).sum();
        let walks: usize = s.confusion.iter().flatten().sum();
        assert_eq!(s.no_information_rate, largest);
        assert_eq!(s.p_vs_no_information, p_above_rate(right, walks, largest));
        assert!((0.0..=1.0).contains(&s.p_vs_no_information));
        // Mean recall over the classes, from the rows of the pooled matrix.
        let recalls: Vec<f64> = s
            .confusion
            .iter()
            .enumerate()
            .filter(|(_, r)| r.iter().sum::<usize>() > 0)
            .map(|(i, r)| r[i] as f64 / r.iter().sum::<usize>() as f64)
            .collect();
        let bal = recalls.iter().sum::<f64>() / recalls.len() as f64;
        assert!((s.balanced_accuracy - bal).abs() < 1e-12, "{s:?}");
        assert_eq!(s.p_balanced, p_balanced(&s.confusion));
        assert!(s.p_balanced > 0.0 && s.p_balanced <= 1.0);
    }
    // Read back, a report is re-tested: a report from a build that judged against 1 / classes
    // shows the figures of today's.
    let mut old = report.clone();
    for s in &mut old.summary {
        s.p_vs_no_information = 0.5;
        s.balanced_accuracy = f64::NAN;
    }
    let dir = tempfile::tempdir().unwrap();
    old.comparisons.clear();
    old.write(dir.path()).unwrap();
    let back = EvalRun::load(dir.path()).unwrap();
    assert_eq!(back.runs[0].1.summary, report.summary);
    assert_eq!(back.runs[0].1.comparisons, report.comparisons);
    assert_eq!(report.comparisons.len(), 3 * PAIRS.len());
    for c in &report.comparisons {
        let total: usize = report.folds.iter().map(|f| f.test_walks).sum();
        assert_eq!(c.walks, total, "{c:?}");
        let acc = |cond| report.row(c.classifier, cond).unwrap().pooled_accuracy;
        // a_only - b_only is the difference of the two conditions' right walks.
        let diff = (acc(c.a) - acc(c.b)) * total as f64;
        assert!(
            (diff - (c.a_only as f64 - c.b_only as f64)).abs() < 1e-6,
            "{c:?}"
        );
        assert_eq!(c.p, mcnemar_exact(c.a_only as u64, c.b_only as u64));
        // Every walk paired: the balanced accuracies are the rows' own.
        let bal = |cond| report.row(c.classifier, cond).unwrap().balanced_accuracy;
        assert!((c.balanced_a - bal(c.a)).abs() < 1e-12, "{c:?}");
        assert!((c.balanced_b - bal(c.b)).abs() < 1e-12, "{c:?}");
        assert!(c.p_balanced > 0.0 && c.p_balanced <= 1.0, "{c:?}");
        if c.a_only + c.b_only == 0 {
            assert_eq!(c.p_balanced, 1.0);
        }
    }
}

#[test]
fn a_rerun_reuses_saved_folds_and_new_settings_do_not() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = demo(3);
    let dir = tempfile::tempdir().unwrap();
    let cfg = EvalConfig {
        classifiers: vec![ClassifierKind::Cnn],
        max_folds: Some(2),
        ..tiny_config(Protocol::KFold(3))
    };
    let (a, resumed) = run(&ds, &cfg, Some(dir.path()));
    let a = a.unwrap();
    assert_eq!(resumed, vec![false, false]);
    assert!(dir.path().join("folds/fold_001.ron").exists());
    let (b, resumed) = run(&ds, &cfg, Some(dir.path()));
    assert_eq!(resumed, vec![true, true]);
    // (NaN-aware equality: the text of both reports.)
    assert_eq!(
        ron::to_string(&a).unwrap(),
        ron::to_string(&b.unwrap()).unwrap()
    );
    // Another seed is another experiment: nothing reused.
    let other = EvalConfig {
        seed: 2,
        max_folds: Some(1),
        ..cfg
    };
    let (_, resumed) = run(&ds, &other, Some(dir.path()));
    assert_eq!(resumed, vec![false]);
    a.write(dir.path()).unwrap();
    for f in [
        "report.json",
        "summary.csv",
        "per_fold.csv",
        "confusion.csv",
        "generative.csv",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let settings: EvalConfig = serde_json::from_value(back["settings"].clone()).unwrap();
    assert_eq!(settings, a.settings);
    assert_eq!(back["classes"].as_array().unwrap().len(), 6);
    assert_eq!(back["folds"].as_array().unwrap().len(), 2);
}

#[test]
fn unusable_datasets_are_refused_with_the_reason() {
    let ds = demo(3);
    let mut one_class = ds.clone();
    one_class
        .sequences
        .retain(|s| s.label.as_deref() == Some("normal"));
    let err = run(&one_class, &tiny_config(Protocol::Loso), None)
        .0
        .unwrap_err();
    assert!(err.to_string().contains("two labelled classes"), "{err}");
    let mut one_subject = ds;
    let s0 = one_subject.subjects()[0].clone();
    one_subject.sequences.retain(|s| s.subject == s0);
    let err = run(&one_subject, &tiny_config(Protocol::Loso), None)
        .0
        .unwrap_err();
    assert!(err.to_string().contains("at least two"), "{err}");
}

/// Standardised windows of some subjects' walks.
fn windows(
    ds: &Dataset,
    subjects: &[String],
    norm: Option<&Normalizer>,
) -> (Vec<LabelledWindow>, Normalizer) {
    let classes = ds.labels();
    let cfg = WindowConfig {
        hop: 32,
        ..WindowConfig::default()
    };
    let mut raw = Vec::new();
    for (i, s) in ds.sequences.iter().enumerate() {
        if !subjects.contains(&s.subject) {
            continue;
        }
        let f = sequence_features(s, cfg.fps).unwrap();
        let c = classes
            .iter()
            .position(|c| Some(c) == s.label.as_ref())
            .unwrap();
        for st in window_starts(f.len(), &cfg) {
            let mut w = f[st..st + cfg.frames].to_vec();
            size_normalise(&mut w);
            raw.push((i, c, w));
        }
    }
    let n = norm.cloned().unwrap_or_else(|| {
        Normalizer::fit(
            &raw.iter()
                .flat_map(|(_, _, w)| w.iter().copied())
                .collect::<Vec<_>>(),
        )
    });
    let w = raw
        .into_iter()
        .map(|(i, c, w)| LabelledWindow {
            frames: w.iter().map(|f| n.apply(f)).collect(),
            class: c,
            sequence: i,
        })
        .collect();
    (w, n)
}

#[test]
fn classifiers_learn_demo_classes_on_unseen_subjects() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = demo(5);
    let subjects = ds.subjects();
    let (train, norm) = windows(&ds, &subjects[1..], None);
    let (test, _) = windows(&ds, &subjects[..1], Some(&norm));
    let tr: Vec<&LabelledWindow> = train.iter().collect();
    let te: Vec<&LabelledWindow> = test.iter().collect();
    let cfg = ClassifierConfig {
        hidden: 32,
        max_epochs: 60,
        patience: 60,
        batch: 16,
        lr: 3e-3,
        dropout: 0.2,
        subsample: 2,
        ..ClassifierConfig::default()
    };
    for kind in [ClassifierKind::Gru, ClassifierKind::Cnn] {
        let (clf, log) = train_classifier(
            kind,
            &cfg,
            6,
            &tr,
            &[],
            &Device::flex(),
            3,
            &NoProgress,
            &CancelToken::new(),
        )
        .unwrap();
        assert_eq!(log.epochs, 60);
        assert!(
            log.val_loss[59] < log.val_loss[0],
            "{kind:?} {:?}",
            log.val_loss
        );
        let preds = clf.predict_sequences(&te).unwrap();
        assert_eq!(preds.len(), 6, "one prediction per held-out walk");
        let right = preds.iter().filter(|(_, t, p)| t == p).count();

        // Chance is 1 in 6 (measured: 5 of 6 for both).
        assert!(right >= 4, "{kind:?}: {right}/6 held-out walks right");
        let emb = clf.embeddings(&te[..3]).unwrap();
        assert_eq!(emb.len(), 3);
        assert_eq!(emb[0].len(), 32);
    }
}

/// Fine-tuning continues from the pretrained weights: at learning rate 0 it returns the same
/// classifier (a fresh one would answer differently), and at a real rate it fits the new
/// windows.
#[test]
fn fine_tuning_starts_from_the_pretrained_weights() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = demo(4);
    let subjects = ds.subjects();
    let (pre, norm) = windows(&ds, &subjects[1..], None);
    let (new, _) = windows(&ds, &subjects[..1], Some(&norm));
    let pre: Vec<&LabelledWindow> = pre.iter().collect();
    let new: Vec<&LabelledWindow> = new.iter().collect();
    let cfg = ClassifierConfig {
        hidden: 16,
        max_epochs: 8,
        patience: 8,
        batch: 16,
        lr: 3e-3,
        subsample: 2,
        ..ClassifierConfig::default()
    };
    let (start, _) = train_classifier(
        ClassifierKind::Gru,
        &cfg,
        6,
        &pre,
        &[],
        &Device::flex(),
        3,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let frozen = ClassifierConfig {
        lr: 0.0,
        max_epochs: 2,
        ..cfg
    };
    let (same, _) = fine_tune(
        &start,
        &frozen,
        &new,
        &[],
        5,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    let (a, b) = (
        start.probabilities(&new).unwrap(),
        same.probabilities(&new).unwrap(),
    );
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((x - y).abs() < 1e-5, "weights carried over: {x} vs {y}");
    }
    let tuned_cfg = ClassifierConfig {
        max_epochs: 20,
        patience: 20,
        ..cfg
    };
    let (_, log) = fine_tune(
        &start,
        &tuned_cfg,
        &new,
        &[],
        5,
        &NoProgress,
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(log.epochs, 20);
    assert!(
        log.val_loss[19] < log.val_loss[0],
        "fine-tuning fits the new windows: {:?}",
        log.val_loss
    );
}

fn run_folds(
    ds: &Dataset,
    cfg: &EvalConfig,
    which: &FoldRun,
    out: &std::path::Path,
) -> (Result<EvalReport, ModelError>, Vec<(usize, bool)>) {
    let mut seen = Vec::new();
    let r = evaluate_folds(
        ds,
        cfg,
        which,
        &Device::flex(),
        "CPU (Flex)",
        Some(out),
        &NoProgress,
        &CancelToken::new(),
        &mut |f: &FoldResult, _, _, was| seen.push((f.fold, was)),
    );
    (r, seen)
}

#[test]
fn more_folds_single_folds_and_merge_reuse_every_finished_fold() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = demo(3);
    let dir = tempfile::tempdir().unwrap();
    let one = EvalConfig {
        classifiers: vec![ClassifierKind::Cnn],
        max_folds: Some(1),
        ..tiny_config(Protocol::KFold(3))
    };
    let (_, seen) = run_folds(&ds, &one, &FoldRun::All, dir.path());
    assert_eq!(seen, vec![(0, false)]);
    // Asking for more folds is not another experiment: the finished fold is reused.
    let two = EvalConfig {
        max_folds: Some(2),
        ..one.clone()
    };
    let (_, seen) = run_folds(&ds, &two, &FoldRun::All, dir.path());
    assert_eq!(seen, vec![(0, true), (1, false)]);
    // One fold as a job (a cluster array task): only fold 3 runs, the report covers all three.
    let all = EvalConfig {
        max_folds: None,
        ..one.clone()
    };
    let (r, seen) = run_folds(&ds, &all, &FoldRun::Only(vec![2]), dir.path());
    assert_eq!(seen, vec![(0, true), (1, true), (2, false)]);
    let only = r.unwrap();
    let (merged, seen) = run_folds(&ds, &all, &FoldRun::Merge, dir.path());
    assert_eq!(seen, vec![(0, true), (1, true), (2, true)]);
    let merged = merged.unwrap();
    assert_eq!(merged.folds.len(), 3);
    assert_eq!(
        ron::to_string(&only).unwrap(),
        ron::to_string(&merged).unwrap()
    );
    // Nothing saved under other settings: merging says so; a fold past the last is refused.
    let empty = tempfile::tempdir().unwrap();
    let (r, _) = run_folds(&ds, &all, &FoldRun::Merge, empty.path());
    assert!(matches!(r, Err(ModelError::Data(m)) if m.contains("no fold")));
    let (r, _) = run_folds(&ds, &all, &FoldRun::Only(vec![3]), empty.path());
    assert!(matches!(r, Err(ModelError::Data(m)) if m.contains("fold 4 does not exist")));
}

#[test]
fn classifiers_trained_in_parallel_give_the_same_report_twice() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = demo(3);
    let cfg = EvalConfig {
        classifiers: vec![ClassifierKind::Gru, ClassifierKind::Cnn],
        max_folds: Some(1),
        classifier: ClassifierConfig {
            dropout: 0.3,
            ..ClassifierConfig::tiny()
        },
        ..tiny_config(Protocol::KFold(3))
    };
    let (a, _) = run(&ds, &cfg, None);
    let (b, _) = run(&ds, &cfg, None);
    let (a, b) = (a.unwrap(), b.unwrap());
    // Ten classifiers trained on parallel workers; the wall time differs, nothing else.
    let text = |r: &EvalReport| {
        let mut r = r.clone();
        for f in &mut r.folds {
            f.seconds = 0.0;
        }
        ron::to_string(&r).unwrap()
    };
    assert_eq!(text(&a), text(&b));
    assert_eq!(a.folds[0].results.len(), 2 * Condition::ALL.len());
}

/// `real_subjects` cuts each fold's real training subjects to a seeded few of the full set,
/// keeps the validation and test subjects, and every condition still trains and tests.
#[test]
fn scarcity_cuts_the_real_training_subjects_only() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ds = demo(5);
    let full = EvalConfig {
        classifiers: vec![ClassifierKind::Cnn],
        max_folds: Some(2),
        ..tiny_config(Protocol::Loso)
    };
    let cut = EvalConfig {
        real_subjects: Some(1),
        ..full.clone()
    };
    let (a, _) = run(&ds, &full, None);
    let (b, _) = run(&ds, &cut, None);
    let (a, b) = (a.unwrap(), b.unwrap());
    for (fa, fb) in a.folds.iter().zip(&b.folds) {
        assert_eq!(fb.fit_subjects.len(), 1);
        assert!(fa.fit_subjects.len() > 1);
        assert!(fa.fit_subjects.contains(&fb.fit_subjects[0]), "a subset");
        assert_eq!(fa.val_subjects, fb.val_subjects);
        assert_eq!(fa.test_subjects, fb.test_subjects);
        assert_eq!(fa.test_walks, fb.test_walks);
        assert!(fb.real_windows.0 < fa.real_windows.0);
        assert_eq!(fb.results.len(), Condition::ALL.len());
    }
}
