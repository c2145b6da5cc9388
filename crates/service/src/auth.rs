//! Bearer-token authentication and roles (`gridtrade serve --auth-tokens FILE`).
//!
//! The file has one token per line: `ROLE TOKEN [NAME]`, where ROLE is `viewer` (may list,
//! read, solve and run trade studies), `planner` (may also upload and edit networks) or
//! `admin` (may also delete them); NAME (default `ROLE-LINE`) is what the logs show for
//! the caller. Blank lines and lines starting with `#` are ignored. Clients send
//! `authorization: Bearer TOKEN`. Tokens are never logged or echoed in errors.
//!
//! Health and reflection stay open: they reveal no network data.

use gridtrade_engine::error::{Error, Findings};
use gridtrade_engine::network::Origin;
use std::collections::HashMap;
use std::path::Path;
use tonic::metadata::MetadataMap;
use tonic::Status;

/// What a caller may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Planner,
    Admin,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Planner => "planner",
            Role::Admin => "admin",
        }
    }
}

/// A known caller: its role and the name logs show.
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    pub name: String,
}

/// The tokens a server accepts.
#[derive(Clone, Default)]
pub struct Tokens {
    by_token: HashMap<String, Caller>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the tokens themselves.
        write!(f, "Tokens({} callers)", self.by_token.len())
    }
}

impl Tokens {
    /// Read a tokens file; every bad line is reported with its number.
    pub fn read(path: &Path) -> Result<Tokens, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Tokens::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, file: &str) -> Result<Tokens, Error> {
        let mut tokens = Tokens::default();
        let mut f = Findings::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let origin = Origin::new(file, i + 1);
            let parts: Vec<&str> = line.split_whitespace().collect();
            let (role, token, name) = match parts.as_slice() {
                [role, token] => (*role, *token, None),
                [role, token, name] => (*role, *token, Some(*name)),
                _ => {
                    f.error(
                        origin,
                        None,
                        None,
                        "expected `ROLE TOKEN [NAME]`".to_string(),
                    );
                    continue;
                }
            };
            let role = match role {
                "viewer" => Role::Viewer,
                "planner" => Role::Planner,
                "admin" => Role::Admin,
                other => {
                    f.error(
                        origin,
                        None,
                        Some("role"),
                        format!("`{other}`: use viewer, planner or admin"),
                    );
                    continue;
                }
            };
            if token.len() < 16 {
                f.error(
                    origin,
                    None,
                    Some("token"),
                    "shorter than 16 characters".to_string(),
                );
                continue;
            }
            let caller = Caller {
                role,
                name: name
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{}-{}", role.as_str(), i + 1)),
            };
            if tokens.by_token.insert(token.to_string(), caller).is_some() {
                f.error(
                    origin,
                    None,
                    Some("token"),
                    "the same token is on an earlier line".to_string(),
                );
            }
        }
        if f.has_errors() {
            return Err(Error::Invalid(f));
        }
        if tokens.by_token.is_empty() {
            return Err(Error::Format(format!("{file}: no tokens")));
        }
        Ok(tokens)
    }

    fn token(metadata: &MetadataMap) -> Option<&str> {
        metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
    }

    /// The caller presenting `metadata`'s bearer token, whatever its role.
    pub fn identify(&self, metadata: &MetadataMap) -> Option<&Caller> {
        self.by_token.get(Self::token(metadata)?)
    }

    /// The caller presenting `metadata`'s bearer token, if it may act as `needed`.
    pub fn check(&self, metadata: &MetadataMap, needed: Role) -> Result<Caller, Status> {
        let token = Self::token(metadata).ok_or_else(|| {
            Status::unauthenticated("send `authorization: Bearer TOKEN` metadata")
        })?;
        let caller = self
            .by_token
            .get(token)
            .ok_or_else(|| Status::unauthenticated("unknown token"))?;
        if caller.role < needed {
            return Err(Status::permission_denied(format!(
                "role {} may not do this; it needs {} or above",
                caller.role.as_str(),
                needed.as_str()
            )));
        }
        Ok(caller.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(token: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("authorization", format!("Bearer {token}").parse().unwrap());
        m
    }

    #[test]
    fn roles_include_the_ones_below_and_bad_lines_are_named() {
        let t = Tokens::parse(
            "# role token name\nviewer vvvvvvvvvvvvvvvv ana\nplanner pppppppppppppppp\n",
            "tokens.txt",
        )
        .unwrap();
        assert_eq!(
            t.check(&meta("vvvvvvvvvvvvvvvv"), Role::Viewer)
                .unwrap()
                .name,
            "ana"
        );
        let denied = t
            .check(&meta("vvvvvvvvvvvvvvvv"), Role::Planner)
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        let p = t.check(&meta("pppppppppppppppp"), Role::Planner).unwrap();
        assert_eq!(p.name, "planner-3");
        assert_eq!(
            t.check(&meta("pppppppppppppppp"), Role::Admin)
                .unwrap_err()
                .code(),
            tonic::Code::PermissionDenied
        );
        let unknown = t
            .check(&meta("xxxxxxxxxxxxxxxx"), Role::Viewer)
            .unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::Unauthenticated);
        assert!(!unknown.message().contains("xxxx"));
        assert_eq!(
            t.check(&MetadataMap::new(), Role::Viewer)
                .unwrap_err()
                .code(),
            tonic::Code::Unauthenticated
        );

        let e = Tokens::parse("boss aaaaaaaaaaaaaaaa\nviewer short\n", "tokens.txt")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("tokens.txt line 1") && e.contains("`boss`"),
            "{e}"
        );
        assert!(e.contains("tokens.txt line 2") && e.contains("16"), "{e}");
        assert!(
            !e.contains("aaaaaaaaaaaaaaaa"),
            "tokens are not echoed: {e}"
        );
    }
}
