//! What keeps the studio safe: every path the page names stays inside the folder (no `..`, no
//! absolute path, no link out), and every request carries the token and comes to the address
//! the studio was started on, from its own page (against DNS rebinding and cross-site requests).
use crate::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// The studio's own files (previews, each render's progress and log), inside the folder.
pub const WORK_FOLDER: &str = ".dreamreel-studio";

/// The folder the studio serves: its canonical path, and the checks of every path in it.
#[derive(Clone, Debug)]
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    pub fn open(path: &Path) -> Result<Folder> {
        let root =
            path.canonicalize().map_err(|e| Error::input(path, format!("cannot open the studio's folder: {e}")))?;
        if !root.is_dir() {
            return Err(Error::input(path, "is not a folder: name the folder of your media"));
        }
        Ok(Folder { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The studio's own folder, made when first needed.
    pub fn work(&self, under: &str) -> Result<PathBuf> {
        let path = self.root.join(WORK_FOLDER).join(under);
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }

    /// `name` as a path under the folder, by its words alone: relative, without `..`.
    fn lexical(&self, name: &str) -> Result<PathBuf> {
        let relative = Path::new(name.trim());
        if name.trim().is_empty() {
            return Err(Error::input(name, "name a file in the studio's folder"));
        }
        if relative.is_absolute()
            || relative.components().any(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
        {
            return Err(Error::input(name, "an absolute path: name a file inside the studio's folder"));
        }
        if relative.components().any(|c| c == Component::ParentDir) {
            return Err(Error::input(name, "'..' leaves the studio's folder: name a file inside it"));
        }
        Ok(self.root.join(relative))
    }

    /// An existing file or folder under the folder, its links resolved and still inside it.
    pub fn existing(&self, name: &str) -> Result<PathBuf> {
        let path = self.lexical(name)?;
        let real = path.canonicalize().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::input(name, "no such file in the studio's folder"),
            _ => Error::io(name, e),
        })?;
        if !real.starts_with(&self.root) {
            return Err(Error::input(name, "a link out of the studio's folder: only files inside it are served"));
        }
        Ok(real)
    }

    /// A path to write under the folder: relative, without `..`, and the nearest folder of it
    /// that exists (links resolved) inside the folder; the name itself, if it exists, no link.
    pub fn writable(&self, name: &str) -> Result<PathBuf> {
        let path = self.lexical(name)?;
        let mut existing = path.parent();
        while let Some(folder) = existing
            && !folder.exists()
        {
            existing = folder.parent();
        }
        let inside = match existing.map(Path::canonicalize) {
            Some(Ok(real)) => real.starts_with(&self.root),
            _ => false,
        };
        let link = path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink());
        if !inside || link {
            return Err(Error::output(name, "a link out of the studio's folder: write inside it"));
        }
        Ok(path)
    }

    /// `path` (under the folder) as the folder names it.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).to_string_lossy().into_owned()
    }
}

/// Who may talk to the studio: the token, and the host names its address is reached by.
#[derive(Clone, Debug)]
pub struct Access {
    token: String,
    /// `host:port` values a request's Host may hold.
    hosts: Vec<String>,
}

/// Why a request is refused.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// 403: another Host (DNS rebinding) or another page's Origin (a cross-site request).
    Forbidden(String),
    /// 401: no token, or a wrong one.
    Unauthorized,
}

/// The token's name in the URL, the cookie and the header (`X-Studio-Token`).
pub const TOKEN_NAME: &str = "token";
pub const TOKEN_COOKIE: &str = "dreamreel_studio_token";

impl Access {
    /// The access of a studio listening on `ip:port` with `token`: loopback names, and the
    /// address itself.
    pub fn new(token: String, ip: std::net::IpAddr, port: u16) -> Access {
        let mut names = vec!["127.0.0.1".to_string(), "localhost".to_string(), "[::1]".to_string()];
        let own = match ip {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        if !names.contains(&own) && !ip.is_unspecified() {
            names.push(own);
        }
        Access { token, hosts: names.into_iter().map(|name| format!("{name}:{port}")).collect() }
    }

    /// A random token of 128 bits, as hex.
    pub fn random_token() -> String {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Checks a request by its headers (lower-case names) and the token in its URL: Host and
    /// Origin first (403), then the token (401).
    pub fn check(
        &self,
        host: Option<&str>,
        origin: Option<&str>,
        cookie: Option<&str>,
        header: Option<&str>,
        query: Option<&str>,
    ) -> Result<(), Refusal> {
        let host = host.map(str::trim).unwrap_or_default();
        if !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return Err(Refusal::Forbidden(format!("Host '{host}' is not this studio's address")));
        }
        if let Some(origin) = origin.map(str::trim) {
            let same = origin
                .strip_prefix("http://")
                .is_some_and(|rest| self.hosts.iter().any(|h| h.eq_ignore_ascii_case(rest)));
            if !same {
                return Err(Refusal::Forbidden(format!("Origin '{origin}' is not this studio's page")));
            }
        }
        let from_cookie = cookie.into_iter().flat_map(|c| c.split(';')).find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == TOKEN_COOKIE).then_some(value)
        });
        let from_query = query.into_iter().flat_map(|q| q.split('&')).find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == TOKEN_NAME).then_some(value)
        });
        let given = [from_cookie, header, from_query];
        match given.into_iter().flatten().any(|token| same_token(token.trim(), &self.token)) {
            true => Ok(()),
            false => Err(Refusal::Unauthorized),
        }
    }
}

/// Compares in time that does not depend on where the first difference is.
fn same_token(given: &str, token: &str) -> bool {
    given.len() == token.len() && given.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), b"x").unwrap();
        let folder = Folder::open(dir.path()).unwrap();
        assert!(folder.existing("a.png").is_ok());
        assert!(folder.existing("../a.png").unwrap_err().to_string().contains("'..'"));
        assert!(folder.existing("/etc/passwd").unwrap_err().to_string().contains("absolute"));
        assert!(folder.writable("out/new.mp4").is_ok());
        assert!(folder.writable("out/../../x.mp4").is_err());
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            std::fs::write(outside.path().join("secret.png"), b"x").unwrap();
            std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
            assert!(folder.existing("out/secret.png").unwrap_err().to_string().contains("link out"));
            assert!(folder.writable("out/x.mp4").unwrap_err().to_string().contains("link out"));
        }
    }

    #[test]
    fn a_request_needs_the_address_the_page_and_the_token() {
        let access = Access::new("abc123".into(), "127.0.0.1".parse().unwrap(), 8787);
        let ok = access.check(Some("127.0.0.1:8787"), None, None, None, Some("token=abc123"));
        assert_eq!(ok, Ok(()));
        let cookie = format!("x=1; {TOKEN_COOKIE}=abc123");
        assert_eq!(
            access.check(Some("localhost:8787"), Some("http://localhost:8787"), Some(&cookie), None, None),
            Ok(())
        );
        assert_eq!(access.check(Some("127.0.0.1:8787"), None, None, None, None), Err(Refusal::Unauthorized));
        assert_eq!(access.check(Some("127.0.0.1:8787"), None, None, Some("abc124"), None), Err(Refusal::Unauthorized));
        assert!(matches!(
            access.check(Some("evil.com:8787"), None, None, Some("abc123"), None),
            Err(Refusal::Forbidden(_))
        ));
        let cross = access.check(Some("127.0.0.1:8787"), Some("http://evil.com"), None, Some("abc123"), None);
        assert!(matches!(cross, Err(Refusal::Forbidden(_))));
        assert_eq!(Access::random_token().len(), 32);
    }
}
