//! Finds the files named by `use` on the file system: `use shapes::{area}` in
//! `dir/app.weft` reads `dir/shapes.weft`, `use geo::shapes` reads `dir/geo/shapes.weft`.
//! `std::...` is resolved by `weft-lang` itself and never read from disk.

use std::path::{Path, PathBuf};
use weft_lang::Loader;

/// Reads modules beside the importing file.
#[derive(Clone, Copy, Debug, Default)]
pub struct FsLoader;

impl FsLoader {
    /// The file a module path names, relative to the file that uses it.
    pub fn module_file(path: &[String], from: &str) -> PathBuf {
        let dir = Path::new(from).parent().unwrap_or(Path::new(""));
        let mut file = dir.to_path_buf();
        for part in path {
            file.push(part);
        }
        file.set_extension("weft");
        file
    }
}

impl Loader for FsLoader {
    fn load(&self, path: &[String], from: &str) -> Result<(String, String), String> {
        if path.is_empty() {
            return Err("an empty module path".to_string());
        }
        if path[0] == "std" {
            return Err(format!(
                "`{}` is part of the standard library, not a file",
                path.join("::")
            ));
        }
        if path
            .iter()
            .any(|p| p.is_empty() || p == "." || p == ".." || p.contains(['/', '\\']))
        {
            return Err(format!("`{}` is not a module path", path.join("::")));
        }
        let file = FsLoader::module_file(path, from);
        let name = file.to_string_lossy().replace('\\', "/");
        match std::fs::read_to_string(&file) {
            Ok(text) => Ok((name, text)),
            Err(e) => Err(format!("cannot read {name}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn modules_sit_beside_the_importing_file() {
        let f = |p: &[&str], from| FsLoader::module_file(&names(p), from);
        assert_eq!(
            f(&["shapes"], "examples/app.weft"),
            PathBuf::from("examples/shapes.weft")
        );
        assert_eq!(f(&["shapes"], "app.weft"), PathBuf::from("shapes.weft"));
        assert_eq!(
            f(&["geo", "shapes"], "a/app.weft"),
            PathBuf::from("a/geo/shapes.weft")
        );
    }

    #[test]
    fn std_and_odd_paths_are_not_read() {
        assert!(FsLoader.load(&names(&["std", "http"]), "app.weft").is_err());
        assert!(FsLoader.load(&names(&[".."]), "app.weft").is_err());
        assert!(FsLoader.load(&names(&[]), "app.weft").is_err());
    }
}
