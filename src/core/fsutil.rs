//! File helpers every module may use (it imports nothing of the crate): atomic file writes and
//! whole-folder replacement, so a crash at any point leaves the old version or the new one,
//! never a mix.
//!
//! A folder (a model bundle, an export) is written into a staging folder beside its target and
//! then swapped into place in one step: `renameat2(RENAME_EXCHANGE)` on Linux, two renames
//! elsewhere. Entries of the old folder that the writer does not own (a user's notes, a
//! training checkpoint) are moved into the new one after the swap; until then they stay in the
//! old folder, under the staging name, so nothing of the user's is ever lost.

use std::io::Write as _;
use std::path::{Path, PathBuf};

#[allow(clippy::needless_pass_by_value)] // used as `map_err(|e| ctx(e, p))`
fn ctx(e: std::io::Error, p: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// Flushes a folder's entries (new names, renames) to disk. A no-op where folders cannot be
/// opened as files (Windows).
///
/// # Errors
/// The folder cannot be opened or synced.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(|e| ctx(e, dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to disk,
/// renamed over the target, and the folder synced, so a crash never leaves a half-written file.
///
/// # Errors
/// I/O failures, with the path in the message.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = parent_of(path);
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| ctx(e, &tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| ctx(e, &tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ctx(e, path)
    })?;
    sync_dir(dir)
}

/// The absolute path of a folder a writer will replace as a whole: `.` and `..` resolved, so
/// its staging folder lands beside it (not inside).
///
/// # Errors
/// The current folder itself (replacing it would leave this process in a deleted folder), or
/// a path whose parent cannot be resolved.
pub fn resolve_target(target: &Path) -> std::io::Result<PathBuf> {
    let abs = if target.exists() {
        std::fs::canonicalize(target).map_err(|e| ctx(e, target))?
    } else {
        let name = target.file_name().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{}: not a folder name", target.display()),
            )
        })?;
        let parent = parent_of(target);
        std::fs::create_dir_all(parent).map_err(|e| ctx(e, parent))?;
        std::fs::canonicalize(parent)
            .map_err(|e| ctx(e, parent))?
            .join(name)
    };
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize);
    if cwd.is_ok_and(|c| c == abs) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{}: is the current folder, which is replaced as a whole on writing; name a \
                 subfolder (e.g. ./export)",
                target.display()
            ),
        ));
    }
    Ok(abs)
}

/// A fresh, empty staging folder beside `target` (`.<name>.staging-<pid>`), for a writer that
/// then calls [`commit_dir`].
///
/// # Errors
/// The folder cannot be made (or a stale one of the same name removed).
pub fn staging_dir(target: &Path) -> std::io::Result<PathBuf> {
    let name = target
        .file_name()
        .map_or_else(|| "out".to_string(), |n| n.to_string_lossy().into_owned());
    let dir = parent_of(target);
    std::fs::create_dir_all(dir).map_err(|e| ctx(e, dir))?;
    let staged = dir.join(format!(".{name}.staging-{}", std::process::id()));
    if staged.exists() {
        std::fs::remove_dir_all(&staged).map_err(|e| ctx(e, &staged))?;
    }
    std::fs::create_dir(&staged).map_err(|e| ctx(e, &staged))?;
    Ok(staged)
}

/// Syncs every file under `dir` (writers such as burn's do not) and the folders themselves.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir).map_err(|e| ctx(e, dir))? {
        let p = e.map_err(|e| ctx(e, dir))?.path();
        if p.is_dir() {
            sync_tree(&p)?;
        } else {
            std::fs::File::open(&p)
                .and_then(|f| f.sync_all())
                .map_err(|e| ctx(e, &p))?;
        }
    }
    sync_dir(dir)
}

/// Swaps two paths in one step where the system can (Linux); `Ok(false)` where it cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        // Filesystems without RENAME_EXCHANGE (some network mounts): fall back.
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => Ok(false),
        Err(e) => Err(ctx(e.into(), b)),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// Puts the finished folder `staged` (from [`staging_dir`]) in place of `target`: synced, then
/// swapped in. Top-level entries of the old `target` whose names are not in `owned` (what the
/// writer produces) and not in the new folder are moved over; the rest of the old folder is
/// removed.
///
/// # Errors
/// A failed sync, rename or removal, naming the path. Before the swap the old folder is
/// untouched; after it, the new folder is complete.
pub fn commit_dir(staged: &Path, target: &Path, owned: &[&str]) -> std::io::Result<()> {
    sync_tree(staged)?;
    let parent = parent_of(target);
    if !target.exists() {
        std::fs::rename(staged, target).map_err(|e| ctx(e, target))?;
        return sync_dir(parent);
    }
    // `old` ends up holding the previous folder: the staging path itself after an exchange.
    let old = if exchange(staged, target)? {
        staged.to_path_buf()
    } else {
        let old = parent.join(format!(
            ".{}.old-{}",
            target
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            std::process::id()
        ));
        std::fs::rename(target, &old).map_err(|e| ctx(e, target))?;
        std::fs::rename(staged, target).map_err(|e| ctx(e, target))?;
        old
    };
    sync_dir(parent)?;
    for e in std::fs::read_dir(&old).map_err(|e| ctx(e, &old))? {
        let e = e.map_err(|e| ctx(e, &old))?;
        let name = e.file_name();
        let keep =
            !owned.iter().any(|o| name.to_string_lossy() == *o) && !target.join(&name).exists();
        if keep {
            let to = target.join(&name);
            std::fs::rename(e.path(), &to).map_err(|err| ctx(err, &to))?;
        }
    }
    sync_dir(target)?;
    std::fs::remove_dir_all(&old).map_err(|e| ctx(e, &old))?;
    sync_dir(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_replaced_whole_and_foreign_entries_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        // First commit: nothing there yet.
        let s = staging_dir(&target).unwrap();
        write_atomic(&s.join("manifest.ron"), b"one").unwrap();
        std::fs::create_dir(s.join("c3d")).unwrap();
        write_atomic(&s.join("c3d/a.c3d"), b"a").unwrap();
        commit_dir(&s, &target, &["manifest.ron", "c3d", "trc"]).unwrap();
        assert_eq!(std::fs::read(target.join("manifest.ron")).unwrap(), b"one");
        // The user adds notes; the second export writes other formats.
        std::fs::write(target.join("notes.txt"), "mine").unwrap();
        let s = staging_dir(&target).unwrap();
        write_atomic(&s.join("manifest.ron"), b"two").unwrap();
        std::fs::create_dir(s.join("trc")).unwrap();
        write_atomic(&s.join("trc/a.trc"), b"t").unwrap();
        commit_dir(&s, &target, &["manifest.ron", "c3d", "trc"]).unwrap();
        assert_eq!(std::fs::read(target.join("manifest.ron")).unwrap(), b"two");
        assert!(target.join("trc/a.trc").is_file());
        assert!(!target.join("c3d").exists(), "the old export's files go");
        assert_eq!(std::fs::read(target.join("notes.txt")).unwrap(), b"mine");
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no staging or old folder is left behind");
    }
}
