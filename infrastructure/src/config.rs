//! Loading the YAML configuration (mxisd/ma1sd key names) into [`crate::settings::Settings`].
