//! Sydent 2.6.1's `sydent.conf` (INI) read into a typed [`SydentConf`], and the equivalent Verity YAML.
