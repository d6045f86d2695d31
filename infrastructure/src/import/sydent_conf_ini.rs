//! The subset of Python's `configparser` that Sydent 2.6.1 uses to read `sydent.conf`: a
//! `ConfigParser()` with its defaults (delimiters `=` and `:`, whole-line comments `#` and `;`,
//! indented continuation lines, option names lower-cased, duplicates refused, a `[DEFAULT]`
//! section) and `BasicInterpolation` (`%(name)s`, `%%`).
use std::collections::BTreeMap;

/// Python's `DEFAULTSECT`.
const DEFAULT_SECTION: &str = "DEFAULT";

/// Why the INI text cannot be read (Python's `configparser` errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IniError {
    /// An option before any `[section]` line (`MissingSectionHeaderError`).
    #[error("line {line}: `{text}` comes before any [section] header")]
    MissingSection {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// A line that is neither a section, an option nor a comment (`ParsingError`).
    #[error("line {line}: `{text}` is not `key = value`, a [section] or a comment")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// A section written twice (`DuplicateSectionError`).
    #[error("line {line}: section [{section}] appears twice")]
    DuplicateSection {
        /// 1-based line number.
        line: usize,
        /// The section.
        section: String,
    },
    /// An option written twice in one section (`DuplicateOptionError`).
    #[error("line {line}: `{option}` appears twice in [{section}]")]
    DuplicateOption {
        /// 1-based line number.
        line: usize,
        /// The section.
        section: String,
        /// The option.
        option: String,
    },
    /// A `%` that is not `%%` or `%(name)s` (`InterpolationSyntaxError`).
    #[error("[{section}] {option}: '%' must be followed by '%' or '(name)s' (write %% for a %)")]
    Interpolation {
        /// The section.
        section: String,
        /// The option.
        option: String,
    },
    /// `%(name)s` naming an option that does not exist (`InterpolationMissingOptionError`).
    #[error("[{section}] {option}: %({name})s names no option of [{section}] or [DEFAULT]")]
    MissingReference {
        /// The section.
        section: String,
        /// The option.
        option: String,
        /// The missing name.
        name: String,
    },
    /// References that loop (`InterpolationDepthError`, more than 10 levels).
    #[error("[{section}] {option}: %(...)s references nest more than 10 levels deep")]
    TooDeep {
        /// The section.
        section: String,
        /// The option.
        option: String,
    },
}

/// The sections of an INI file, in file order, with `[DEFAULT]` kept apart.
#[derive(Clone, Default)]
pub(super) struct Ini {
    /// `[DEFAULT]`: seen by every section.
    pub defaults: BTreeMap<String, String>,
    /// The other sections: name (case-sensitive, as Python) -> option (lower-cased) -> raw value.
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl Ini {
    /// Reads the text as `ConfigParser.read_string` does.
    pub fn parse(text: &str) -> Result<Self, IniError> {
        let mut ini = Self::default();
        // (section, option, indent of the option's line) of the value being continued.
        let mut current: Option<(String, Option<(String, usize)>)> = None;
        let mut seen_sections: Vec<String> = Vec::new();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw_line) in text.lines().enumerate() {
            let line_no = index + 1;
            let stripped = raw_line.trim();
            if stripped.starts_with('#') || stripped.starts_with(';') {
                continue;
            }
            let indent = raw_line.len() - raw_line.trim_start().len();
            if stripped.is_empty() {
                // An empty line inside a value is kept (empty_lines_in_values); trailing ones are
                // removed when the value ends.
                if let Some((section, Some((option, _)))) = &current
                    && let Some(value) = ini.value_mut(section, option)
                {
                    value.push('\n');
                }
                continue;
            }
            if let Some((section, Some((option, option_indent)))) = &current
                && indent > *option_indent
            {
                if let Some(value) = ini.value_mut(section, option) {
                    value.push('\n');
                    value.push_str(stripped);
                }
                continue;
            }
            if let Some(name) = section_header(stripped) {
                if seen_sections.iter().any(|seen| seen == name) {
                    return Err(IniError::DuplicateSection {
                        line: line_no,
                        section: name.to_owned(),
                    });
                }
                seen_sections.push(name.to_owned());
                if name != DEFAULT_SECTION {
                    ini.sections.entry(name.to_owned()).or_default();
                }
                current = Some((name.to_owned(), None));
                continue;
            }
            let Some((section, _)) = &current else {
                return Err(IniError::MissingSection {
                    line: line_no,
                    text: stripped.to_owned(),
                });
            };
            let section = section.clone();
            let Some(split) = stripped.find(['=', ':']) else {
                return Err(IniError::Syntax {
                    line: line_no,
                    text: stripped.to_owned(),
                });
            };
            let option = stripped[..split].trim().to_lowercase();
            let value = stripped[split + 1..].trim().to_owned();
            if option.is_empty() {
                return Err(IniError::Syntax {
                    line: line_no,
                    text: stripped.to_owned(),
                });
            }
            let table = ini.table_mut(&section);
            if table.contains_key(&option) {
                return Err(IniError::DuplicateOption {
                    line: line_no,
                    section,
                    option,
                });
            }
            table.insert(option.clone(), value);
            current = Some((section, Some((option, indent))));
        }
        for value in ini
            .sections
            .values_mut()
            .flat_map(BTreeMap::values_mut)
            .chain(ini.defaults.values_mut())
        {
            let trimmed = value.trim_end().len();
            value.truncate(trimmed);
        }
        Ok(ini)
    }

    fn table_mut(&mut self, section: &str) -> &mut BTreeMap<String, String> {
        if section == DEFAULT_SECTION {
            &mut self.defaults
        } else {
            self.sections.entry(section.to_owned()).or_default()
        }
    }

    fn value_mut(&mut self, section: &str, option: &str) -> Option<&mut String> {
        self.table_mut(section).get_mut(option)
    }

    /// The raw value as Python's `get(section, option, raw=True)`: the section's own value, else
    /// `[DEFAULT]`'s.
    pub fn raw(&self, section: &str, option: &str) -> Option<&str> {
        let option = option.to_lowercase();
        self.sections
            .get(section)
            .and_then(|table| table.get(&option))
            .or_else(|| self.defaults.get(&option))
            .map(String::as_str)
    }

    /// The value with `%(name)s` and `%%` resolved, as Python's `get(section, option)`.
    pub fn get(&self, section: &str, option: &str) -> Result<Option<String>, IniError> {
        match self.raw(section, option) {
            None => Ok(None),
            Some(raw) => self.interpolate(section, option, raw, 1).map(Some),
        }
    }

    fn interpolate(
        &self,
        section: &str,
        option: &str,
        raw: &str,
        depth: usize,
    ) -> Result<String, IniError> {
        if depth > 10 {
            return Err(IniError::TooDeep {
                section: section.to_owned(),
                option: option.to_owned(),
            });
        }
        let syntax = || IniError::Interpolation {
            section: section.to_owned(),
            option: option.to_owned(),
        };
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                out.push('%');
                rest = tail;
            } else if let Some(inner) = after.strip_prefix('(') {
                let close = inner.find(")s").ok_or_else(syntax)?;
                let name = inner[..close].to_lowercase();
                let referenced =
                    self.raw(section, &name)
                        .ok_or_else(|| IniError::MissingReference {
                            section: section.to_owned(),
                            option: option.to_owned(),
                            name: name.clone(),
                        })?;
                out.push_str(&self.interpolate(section, option, referenced, depth + 1)?);
                rest = &inner[close + 2..];
            } else {
                return Err(syntax());
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `[name]` (Python's `SECTCRE`, `\[(?P<header>.+)\]` on the stripped line).
fn section_header(line: &str) -> Option<&str> {
    let inner = line.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    let name = &inner[..close];
    (!name.is_empty()).then_some(name)
}
