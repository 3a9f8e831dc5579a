//! Recent projects and the autosave file of unsaved projects, kept in the user's config folder
//! (`$PATHOGAIT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/pathogait`, else `~/.config/pathogait`).

use std::path::{Path, PathBuf};

use crate::core::fsutil::write_atomic;

/// Most recent first.
#[derive(Debug, Default)]
pub struct Recent {
    /// Project files, most recent first (at most 10).
    pub paths: Vec<PathBuf>,
    dir: Option<PathBuf>,
}

fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PATHOGAIT_CONFIG_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("pathogait"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config").join("pathogait"))
}

impl Recent {
    /// Reads the list from the user's config folder (empty when there is none or it cannot be
    /// read).
    #[must_use]
    pub fn load() -> Self {
        Self::at(config_dir())
    }

    /// Reads the list kept in `dir` (tests use a temporary folder); `None` keeps nothing.
    #[must_use]
    pub fn at(dir: Option<PathBuf>) -> Self {
        // No list, or one this build cannot read, is an empty list: the menu is a convenience
        // and the projects themselves are untouched.
        let paths = dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join("recent.ron")).ok())
            .and_then(|t| ron::from_str::<Vec<PathBuf>>(&t).ok())
            .unwrap_or_default();
        Self { paths, dir }
    }

    /// Puts `path` first and writes the list (failures are not worth interrupting anyone).
    pub fn add(&mut self, path: &Path) {
        let p = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.paths.retain(|x| *x != p);
        self.paths.insert(0, p);
        self.paths.truncate(10);
        if let Some(d) = &self.dir
            && std::fs::create_dir_all(d).is_ok()
            && let Ok(t) = ron::ser::to_string_pretty(&self.paths, ron::ser::PrettyConfig::new())
        {
            let _ = write_atomic(&d.join("recent.ron"), t.as_bytes());
        }
    }

    /// Where an unsaved project is autosaved.
    #[must_use]
    pub fn autosave_path(&self) -> Option<PathBuf> {
        self.rescue_path(None)
    }

    /// Where a project goes when it cannot be saved where it belongs: beside the recent list,
    /// named after its file (`<stem>-autosave.ron`), or `untitled-autosave.ron` for a project
    /// without one. `None` when there is no config folder or it cannot be made.
    #[must_use]
    pub fn rescue_path(&self, project: Option<&Path>) -> Option<PathBuf> {
        let d = self.dir.as_ref()?;
        std::fs::create_dir_all(d).ok()?;
        let stem = project.and_then(Path::file_stem).map_or_else(
            || "untitled".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        Some(d.join(format!("{stem}-autosave.ron")))
    }
}
