//! Keeping the user's work: saving to the project file (atomic, previous version kept),
//! the rescue file when that fails or the project was never saved, autosave every
//! [`AUTOSAVE`], and the last save when the window or the studio closes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::studio::Studio;

/// Seconds between autosaves of a changed project.
pub const AUTOSAVE: Duration = Duration::from_secs(30);

impl Studio {
    /// Saves to `path` (atomic; the previous version kept as `.ron.bak`).
    pub fn save_to(&mut self, path: &Path) -> bool {
        match self.ws.project.save(path) {
            Ok(()) => {
                let moved = self.ws.path.as_deref() != Some(path);
                self.ws.path = Some(path.to_path_buf());
                self.ws.dirty = false;
                self.recent.add(path);
                if moved {
                    self.notes.info(format!("Saved as {}", path.display()));
                }
                true
            }
            Err(e) => {
                let msg = format!("Project not saved to {}: {e}", path.display());
                let rescue = self.rescue();
                self.notes.error(match rescue {
                    Ok(r) => format!(
                        "{msg}. Your work is kept in {}; use Save as to put it somewhere \
                         writable.",
                        r.display()
                    ),
                    Err(e2) => {
                        format!("{msg}. Keeping it elsewhere failed too ({e2}): use Save as.")
                    }
                });
                false
            }
        }
    }

    /// Writes the project to its rescue file (see [`crate::app::recent::Recent::rescue_path`]) without changing
    /// where it belongs. Returns the file written.
    ///
    /// # Errors
    /// No config folder, or the write failed (the message names the file).
    pub fn rescue(&self) -> Result<PathBuf, String> {
        let r = self
            .recent
            .rescue_path(self.ws.path.as_deref())
            .ok_or_else(|| "no config folder for an autosave file".to_string())?;
        self.ws
            .project
            .save(&r)
            .map(|()| r.clone())
            .map_err(|e| format!("{}: {e}", r.display()))
    }

    /// Saves changed work before the window closes: to the project's file, else (an unsaved
    /// project, or a file that cannot be written) to the rescue file. Returns whether the
    /// window may close: not when the project's own file could not be written, the first time,
    /// so the user sees why and can Save as.
    pub fn save_before_close(&mut self) -> bool {
        if !self.ws.dirty || self.close_warned {
            return true;
        }
        match self.ws.path.clone() {
            Some(p) if self.save_to(&p) => true,
            Some(_) => {
                self.close_warned = true;
                self.notes.error(
                    "The window stays open because the project could not be saved; close again \
                     to quit anyway (the work stays in the autosave file named above)."
                        .to_string(),
                );
                false
            }
            None => match self.rescue() {
                Ok(r) => {
                    self.ws.dirty = false;
                    self.notes
                        .info(format!("Unsaved project kept in {}", r.display()));
                    true
                }
                Err(e) => {
                    self.close_warned = true;
                    self.notes.error(format!(
                        "The unsaved project could not be kept ({e}); the window stays open: \
                         use Save as, or close again to quit without it."
                    ));
                    false
                }
            },
        }
    }

    /// Saves a changed project every [`AUTOSAVE`] (to its file, or to the autosave file of an
    /// unsaved project), so a crash loses at most that much.
    pub fn autosave(&mut self) {
        if !self.ws.dirty || self.last_autosave.elapsed() < AUTOSAVE {
            return;
        }
        self.last_autosave = Instant::now();
        match self.ws.path.clone() {
            Some(p) => {
                self.save_to(&p);
            }
            None => {
                if let Err(e) = self.rescue() {
                    self.notes.warn(format!("Autosave failed: {e}"));
                }
            }
        }
    }
}

impl Drop for Studio {
    fn drop(&mut self) {
        // Closing with unsaved changes (a close the window did not see, e.g. a test or a
        // signal): keep them, in the file itself when it has one, else the rescue file. Nothing
        // can be shown any more, so a failure goes to stderr.
        if self.ws.dirty {
            let saved = match self.ws.path.clone() {
                Some(p) => self
                    .ws
                    .project
                    .save(&p)
                    .map_err(|e| format!("{}: {e}", p.display())),
                None => Err("no project file".to_string()),
            };
            if let Err(e) = saved {
                match self.rescue() {
                    Ok(r) => eprintln!("project not saved ({e}); kept in {}", r.display()),
                    Err(e2) => eprintln!("project not saved ({e}), nor kept elsewhere ({e2})"),
                }
            }
        }
        for j in &self.jobs {
            j.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::recent::Recent;
    use crate::core::project::Project;

    fn studio(dir: &Path, project: Option<PathBuf>) -> Studio {
        Studio::with_renderer(
            false,
            "test".into(),
            project,
            Recent::at(Some(dir.to_path_buf())),
        )
    }

    #[test]
    fn a_changed_project_is_autosaved_and_an_unsaved_one_goes_to_the_config_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("p.ron");
        Project::default().save(&file).unwrap();
        let mut s = studio(tmp.path(), Some(file.clone()));
        s.ws.project.notes = "changed".into();
        s.ws.dirty = true;
        s.autosave();
        assert_ne!(
            Project::load(&file).unwrap().notes,
            "changed",
            "not before the interval"
        );
        s.last_autosave = Instant::now().checked_sub(AUTOSAVE).unwrap();
        s.autosave();
        assert_eq!(Project::load(&file).unwrap().notes, "changed");
        assert!(!s.ws.dirty);
        assert!(
            file.with_extension("ron.bak").exists(),
            "the previous version is kept"
        );

        // A fresh config folder: no recent project to reopen, so the studio starts unsaved.
        let cfg = tmp.path().join("config");
        let mut u = studio(&cfg, None);
        assert!(u.ws.path.is_none());
        u.ws.project.notes = "unsaved work".into();
        u.ws.dirty = true;
        u.last_autosave = Instant::now().checked_sub(AUTOSAVE).unwrap();
        u.autosave();
        let auto = cfg.join("untitled-autosave.ron");
        assert_eq!(Project::load(&auto).unwrap().notes, "unsaved work");
    }

    #[test]
    fn closing_with_unsaved_changes_saves_them() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("q.ron");
        Project::default().save(&file).unwrap();
        let mut s = studio(tmp.path(), Some(file.clone()));
        s.ws.project.notes = "last edit".into();
        s.ws.dirty = true;
        drop(s);
        assert_eq!(Project::load(&file).unwrap().notes, "last edit");
    }
}
