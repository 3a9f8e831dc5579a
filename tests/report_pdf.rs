//! The printed gait report as a user makes it with the CLI on the embedded demo data: a twin
//! saved once, then a PDF comparing two walks with the twin's flags, read back with poppler
//! (`pdftotext`: the walk ids, a finding's number, every section title; `pdfinfo`: the paper;
//! `pdftoppm`: every page drawn, none blank). Poppler is required in CI
//! (`PATHOGAIT_REQUIRE_POPPLER=1`) and the checks skip elsewhere with a printed reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use pathogait::core::report::pages::SECTIONS;

use common::pathogait;

/// Runs a poppler tool; `None` (with a printed reason) when poppler is not installed and not
/// required.
fn poppler(tool: &str, args: &[&str]) -> Option<String> {
    match Command::new(tool).args(args).output() {
        Ok(o) => {
            assert!(
                o.status.success(),
                "{tool}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            Some(String::from_utf8_lossy(&o.stdout).into_owned())
        }
        Err(e) => {
            assert!(
                std::env::var_os("PATHOGAIT_REQUIRE_POPPLER").is_none(),
                "{tool} is required (PATHOGAIT_REQUIRE_POPPLER): {e}"
            );
            println!("SKIPPED: {tool} not found ({e}); install poppler-utils");
            None
        }
    }
}

/// Share of non-white pixels in a binary PPM (P6) image.
fn ink(ppm: &Path) -> f64 {
    let b = std::fs::read(ppm).unwrap();
    // Header: "P6\n<w> <h>\n255\n" (pdftoppm writes no comments).
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while b[i].is_ascii_whitespace() {
            i += 1;
        }
        let s = i;
        while !b[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&b[s..i]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let px = &b[i + 1..];
    let dark = px.chunks(3).filter(|p| p.iter().any(|&c| c < 200)).count();
    dark as f64 / (px.len() / 3) as f64
}

#[test]
fn a_pdf_report_with_comparison_and_twin_reads_back_in_poppler() {
    let dir = tempfile::tempdir().unwrap();
    let twin = dir.path().join("twin");
    let (ok, text, err) = pathogait(&[
        "twin",
        "--walk",
        "human1_stiff_legged1",
        "--steps",
        "30",
        "--backend",
        "cpu",
        "--save-model",
        twin.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(text.contains("Saved the twin"), "{text}");
    let pdf = dir.path().join("r.pdf");
    let (ok, text, err) = pathogait(&[
        "report",
        "--walk",
        "human1_stiff_legged1",
        "--compare",
        "human1_normal1",
        "--twin",
        twin.to_str().unwrap(),
        "--backend",
        "cpu",
        "--paper",
        "letter",
        "--out",
        pdf.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(text.contains("pages, Letter"), "{text}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    // The same report as Markdown names the finding numbers to look for in the PDF.
    let (ok, md, err) = pathogait(&[
        "report",
        "--walk",
        "human1_stiff_legged1",
        "--compare",
        "human1_normal1",
    ]);
    assert!(ok, "{err}");
    let finding = md
        .lines()
        .find(|l| l.starts_with("- Knee flexion range of motion is reduced"))
        .unwrap_or_else(|| panic!("no knee finding:\n{md}"));
    let number = finding
        .split([' ', '(', ')', ','])
        .find(|w| w.contains('.') && w.trim_end_matches('.').parse::<f64>().is_ok())
        .unwrap()
        .trim_end_matches('.')
        .to_string();

    let Some(info) = poppler("pdfinfo", &[pdf.to_str().unwrap()]) else {
        return;
    };
    assert!(info.contains("612 x 792 pts (letter)"), "{info}");
    assert!(info.contains("Title:") && info.contains("Gait report: walk human1_stiff_legged1"));
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages >= 3, "{pages} pages");
    let Some(text) = poppler("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]) else {
        return;
    };
    for needle in SECTIONS
        .iter()
        .copied()
        .chain([
            "human1_stiff_legged1",
            "human1_normal1",
            "SYNTHETIC DATA",
            "closer to normal",
        ])
        .chain([number.as_str()])
    {
        assert!(
            text.contains(needle),
            "'{needle}' not in the PDF's text:\n{text}"
        );
    }
    let fonts = poppler("pdffonts", &[pdf.to_str().unwrap()]).unwrap();
    assert!(fonts.contains("DejaVuSans"), "{fonts}");
    assert!(
        fonts.lines().skip(2).all(|l| l.contains(" yes ")),
        "every font embedded:\n{fonts}"
    );
    let prefix = dir.path().join("page");
    poppler(
        "pdftoppm",
        &["-r", "20", pdf.to_str().unwrap(), prefix.to_str().unwrap()],
    )
    .unwrap();
    let mut drawn = 0;
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "ppm") {
            let share = ink(&p);
            assert!(share > 0.01, "{} is blank ({share})", p.display());
            drawn += 1;
        }
    }
    assert_eq!(drawn, pages);
}

#[test]
fn a4_is_the_default_and_unknown_formats_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("class.pdf");
    let (ok, text, err) = pathogait(&[
        "report",
        "--class",
        "antalgic",
        "--out",
        pdf.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(text.contains("pages, A4"), "{text}");
    if let Some(info) = poppler("pdfinfo", &[pdf.to_str().unwrap()]) {
        assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
    }
    let bad = dir.path().join("r.docx");
    let (ok, _, err) = pathogait(&[
        "report",
        "--walk",
        "human1_normal1",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert!(
        !ok && err.contains("r.docx") && err.contains("unknown report format"),
        "{err}"
    );
    let (ok, _, err) = pathogait(&["report", "--walk", "human1_normal1", "--paper", "a3"]);
    assert!(!ok && err.contains("unknown paper 'a3'"), "{err}");
}
